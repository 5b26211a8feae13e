// Circuit breaker: the closed-state success path against cockatiel's ConsecutiveBreaker, each
// window type, the open-state rejection path, and a breaker + timeout pipeline against opossum's
// fire() with its timeout and rolling stats (its defaults).
//
// Metrics are on by default in breakwater: "default" rows pay for recording (a turn-clock read at
// each end of the call, a few counter increments, a histogram bucket); "metrics off" rows show
// the policy alone. Both are reported, and the ratios are checked on both.
import { createRequire } from 'node:module';
import * as cockatiel from 'cockatiel';
import { circuitBreaker, timeout, pipeline } from '../dist/esm/index.js';
import { sequential } from './harness.mjs';

const require = createRequire(import.meta.url);
const OpossumBreaker = require('opossum');

const work = async () => 1;
const failing = async () => {
  throw new Error('down');
};
const noop = () => {};

const consecutive = { type: 'consecutive', failures: 5 };
const bwConsecutive = circuitBreaker({ window: consecutive });
const bwConsecutiveOff = circuitBreaker({ window: consecutive, metrics: false });
const ckConsecutive = cockatiel.circuitBreaker(cockatiel.handleAll, {
  halfOpenAfter: 30_000,
  breaker: new cockatiel.ConsecutiveBreaker(5),
});

const bwDefault = circuitBreaker();
const bwDefaultOff = circuitBreaker({ metrics: false });
const bwCount = circuitBreaker({ window: { type: 'count', size: 100 } });
const bwCountOff = circuitBreaker({ window: { type: 'count', size: 100 }, metrics: false });
const bwSlow = circuitBreaker({ window: { type: 'count', size: 100 }, slowCallDurationMs: 1000 });

// The pipeline pays for its own metrics too, so "metrics off" turns them off on every member.
const bwPipe = pipeline(circuitBreaker(), timeout(1000));
const bwPipeOff = pipeline(circuitBreaker({ metrics: false }), timeout({ durationMs: 1000, metrics: false }), { metrics: false });
const opossum = new OpossumBreaker(work, { timeout: 1000 }); // rolling stats on: its default

// Open breakers, for the rejection path.
const bwOpen = circuitBreaker({ window: { type: 'consecutive', failures: 1 }, openDurationMs: 3_600_000 });
const ckOpen = cockatiel.circuitBreaker(cockatiel.handleAll, {
  halfOpenAfter: 3_600_000,
  breaker: new cockatiel.ConsecutiveBreaker(1),
});
const opossumOpen = new OpossumBreaker(work, { timeout: 1000, resetTimeout: 3_600_000 });
await bwOpen.execute(failing).catch(noop);
await ckOpen.execute(failing).catch(noop);
opossumOpen.open();

export const groups = [
  {
    title: 'circuitBreaker: closed-state success path vs cockatiel ConsecutiveBreaker',
    cases: [
      { name: 'breakwater consecutive (metrics off)', run: sequential(() => bwConsecutiveOff.execute(work)) },
      { name: 'breakwater consecutive (default, metrics on)', run: sequential(() => bwConsecutive.execute(work)) },
      { name: 'cockatiel ConsecutiveBreaker', run: sequential(() => ckConsecutive.execute(work)) },
      { name: 'bare await', run: sequential(work) },
    ],
    checks: [
      {
        faster: 'breakwater consecutive (metrics off)',
        slower: 'cockatiel ConsecutiveBreaker',
        atLeast: 1.5,
        label: 'breaker closed path vs cockatiel, metrics off (issue #4)',
      },
      {
        faster: 'breakwater consecutive (default, metrics on)',
        slower: 'cockatiel ConsecutiveBreaker',
        atLeast: 1.5,
        label: 'breaker closed path vs cockatiel, metrics on (issue #4)',
      },
    ],
  },
  {
    title: 'circuitBreaker: closed-state success path by window',
    cases: [
      { name: 'cockatiel ConsecutiveBreaker', run: sequential(() => ckConsecutive.execute(work)) },
      { name: 'consecutive (metrics off)', run: sequential(() => bwConsecutiveOff.execute(work)) },
      { name: 'consecutive', run: sequential(() => bwConsecutive.execute(work)) },
      { name: 'count 100 (metrics off)', run: sequential(() => bwCountOff.execute(work)) },
      { name: 'count 100', run: sequential(() => bwCount.execute(work)) },
      { name: 'count 100 + slowCallDurationMs', run: sequential(() => bwSlow.execute(work)) },
      { name: 'time 10 s / 10 (default, metrics off)', run: sequential(() => bwDefaultOff.execute(work)) },
      { name: 'time 10 s / 10 (default)', run: sequential(() => bwDefault.execute(work)) },
    ],
    // No target: the figures show what each window and metrics cost.
  },
  {
    title: 'circuitBreaker: open-state rejection',
    batch: 5000,
    cases: [
      { name: 'breakwater open', run: sequential(() => bwOpen.execute(work).catch(noop)) },
      { name: 'cockatiel open', run: sequential(() => ckOpen.execute(work).catch(noop)) },
      { name: 'opossum open', run: sequential(() => opossumOpen.fire().catch(noop)) },
    ],
    // No target: a rejection's cost is the error's stack capture, as for the others.
  },
  {
    title: 'pipeline(circuitBreaker, timeout) vs opossum fire() with timeout and rolling stats',
    batch: 5000,
    cases: [
      { name: 'breakwater pipeline (default, metrics on)', run: sequential(() => bwPipe.execute(work)) },
      { name: 'breakwater pipeline (metrics off)', run: sequential(() => bwPipeOff.execute(work)) },
      { name: 'opossum fire()', run: sequential(() => opossum.fire()) },
    ],
    checks: [
      {
        faster: 'breakwater pipeline (default, metrics on)',
        slower: 'opossum fire()',
        atLeast: 2,
        label: 'breaker + timeout vs opossum, metrics on (issue #4)',
      },
      {
        faster: 'breakwater pipeline (metrics off)',
        slower: 'opossum fire()',
        atLeast: 2,
        label: 'breaker + timeout vs opossum, metrics off (issue #4)',
      },
      {
        faster: 'breakwater pipeline (default, metrics on)',
        slower: 'opossum fire()',
        atLeast: 2.5,
        label: 'breaker + timeout vs opossum, metrics on (issue #10)',
      },
    ],
    teardown() {
      // Tidy up: opossum's rolling-stats intervals and the open breakers' timers (all unref'd).
      opossum.shutdown();
      opossumOpen.shutdown();
      for (const p of [bwOpen, bwConsecutive, bwConsecutiveOff, bwDefault, bwDefaultOff, bwCount, bwCountOff, bwSlow, bwPipe, bwPipeOff]) {
        p.dispose();
      }
    },
  },
];
