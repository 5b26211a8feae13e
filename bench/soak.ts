// `npm run soak`: a long run that looks for leaks and lost calls, not for speed.
//
// Part 1: ten million calls (`--calls N` to change) through a full pipeline — fallback, retry,
// circuit breaker, timeout, bulkhead — against a dependency with random failures (synchronous
// throws, rejections, failing results) and random latencies (some past the timeout, some ignoring
// the abort, so abandoned work holds bulkhead permits), some callers aborting, all on a
// ManualClock. Checks that every call settles exactly once, that no timer is left on the clock,
// that no unhandled rejection happened, and that the heap after a forced GC is within 2 MiB of
// where it started.
//
// Part 2: 100,000 calls in flight at once through a bulkhead with a large queue (`--inflight N`),
// a tenth of them aborted while queued; the same checks.
//
// Not part of `npm test`: it runs for minutes. Record its figures in docs/soak.md.
import {
  backoff,
  bulkhead,
  circuitBreaker,
  fallback,
  pipeline,
  retry,
  timeout,
} from 'breakwater';
import { ManualClock } from 'breakwater/testing';

const arg = (name: string, fallbackValue: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallbackValue : Number(process.argv[i + 1]);
};
const TOTAL = arg('calls', 10_000_000);
const BATCH = arg('batch', 2_000);
const INFLIGHT = arg('inflight', 100_000);
const HEAP_LIMIT = 2 * 1024 * 1024;

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) {
  console.error('soak: run with node --expose-gc (npm run soak does)');
  process.exit(2);
}
function heapAfterGc(): number {
  for (let i = 0; i < 3; i++) gc?.();
  return process.memoryUsage().heapUsed;
}
const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(2)} MiB`;

let unhandled = 0;
process.on('unhandledRejection', (reason) => {
  unhandled++;
  if (unhandled <= 5) console.error('soak: unhandled rejection', reason);
});

/** mulberry32: the same run every time. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Counts one settlement of call `i`; returns how many it has had. */
const bump = (counts: Uint8Array, i: number): number => (counts[i] = (counts[i] ?? 0) + 1);

const failures: string[] = [];
const fail = (what: string): void => {
  if (failures.length < 20) failures.push(what);
};

async function part1(): Promise<void> {
  const clock = new ManualClock();
  const random = seeded(1);
  const fb = fallback(({ error }) => (error instanceof Error ? `fb:${error.message}` : 'fb:result'), { name: 'soak-fallback' });
  const policy = pipeline(
    fb,
    retry({ maxAttempts: 3, backoff: backoff.exponential({ initialMs: 5, maxMs: 50, random: seeded(2) }), maxElapsedMs: 400, clock, handleResult: (v) => v === 'bad' }),
    circuitBreaker({ window: { type: 'time', durationMs: 2_000, buckets: 10 }, minimumCalls: 50, failureRateThreshold: 0.5, openDurationMs: 300, halfOpenCalls: 2, clock, handleResult: (v) => v === 'bad' }),
    timeout({ durationMs: 40, clock }),
    bulkhead({ maxConcurrent: 400, maxQueue: 4_000, queueTimeoutMs: 200, clock }),
  );
  // The dependency's health drifts: long healthy stretches, short bad ones, so the breaker opens,
  // half-opens and closes again many times.
  let badness = 0.05;
  const work = ({ signal }: { signal: AbortSignal }): string | Promise<string> => {
    const r = random();
    if (r < badness * 0.2) throw new Error('sync');
    if (r < badness * 0.3) return 'bad';
    const latency = random() < 0.1 ? 30 + random() * 40 : random() * 10;
    const fails = r < badness;
    const honoursAbort = random() < 0.5;
    return new Promise<string>((resolve, reject) => {
      const t = clock.setTimeout(() => (fails ? reject(new Error('async')) : resolve('ok')), latency);
      if (honoursAbort) {
        signal.addEventListener(
          'abort',
          () => {
            clock.clearTimeout(t);
            reject(signal.reason as Error);
          },
          { once: true },
        );
      }
    });
  };

  const settledCount = new Uint8Array(BATCH);
  let issued = 0;
  let settled = 0;
  let aborted = 0;
  let fellBack = 0;
  const states = new Map<string, number>();
  const breaker = policy.policies[2] as ReturnType<typeof circuitBreaker>;
  breaker.events.on('stateChange', ({ to }) => states.set(to, (states.get(to) ?? 0) + 1));

  const started = performance.now();
  let heapStart = 0;
  let lastReport = started;
  for (let batch = 0; issued < TOTAL; batch++) {
    if (batch === 1) heapStart = heapAfterGc(); // after one batch has warmed every path up
    badness = Math.floor(batch / 5) % 4 === 3 ? 0.7 : 0.05; // bad for 5 batches in every 20
    const n = Math.min(BATCH, TOTAL - issued);
    settledCount.fill(0, 0, n);
    const calls: Promise<void>[] = new Array(n);
    const controllers: (AbortController | undefined)[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const c = random() < 0.02 ? new AbortController() : undefined;
      controllers[i] = c;
      const p = c === undefined ? policy.execute(work) : policy.execute(work, { signal: c.signal });
      calls[i] = p.then(
        (v) => {
          if (bump(settledCount, i) !== 1) fail(`call ${issued + i} settled twice`);
          if (typeof v === 'string' && v.startsWith('fb:')) fellBack++;
        },
        (e: unknown) => {
          if (bump(settledCount, i) !== 1) fail(`call ${issued + i} settled twice`);
          if (c === undefined || !c.signal.aborted) fail(`call ${issued + i} rejected without an abort: ${String(e)}`);
          aborted++;
        },
      );
    }
    issued += n;
    await clock.advance(5);
    for (const c of controllers) c?.abort(new Error('caller left'));
    await clock.advance(1_000); // past every latency, backoff, queue timeout and open period
    await Promise.all(calls);
    settled += n;
    for (let i = 0; i < n; i++) if (settledCount[i] !== 1) fail(`call ${issued - n + i} settled ${settledCount[i]} times`);
    const now = performance.now();
    if (now - lastReport > 10_000) {
      lastReport = now;
      console.log(`  ${issued.toLocaleString('en')} calls, ${((issued / (now - started)) * 1000).toFixed(0)} calls/s, heap ${mib(process.memoryUsage().heapUsed)}`);
    }
  }
  await clock.advance(10_000); // the breaker's last timers
  const elapsed = performance.now() - started;
  const timersLeft = clock.pendingTimers;
  const heapEnd = heapAfterGc();
  if (settled !== issued) fail(`${issued - settled} calls never settled`);
  if (timersLeft !== 0) fail(`${timersLeft} timers left on the clock`);
  if (heapEnd - heapStart > HEAP_LIMIT) fail(`heap grew by ${mib(heapEnd - heapStart)}`);
  for (const p of [policy, ...policy.policies]) p.dispose();
  const m = (states.get('open') ?? 0);
  console.log(
    `part 1: ${issued.toLocaleString('en')} calls in ${(elapsed / 1000).toFixed(1)} s (${((issued / elapsed) * 1000).toFixed(0)} calls/s), ` +
      `virtual time ${(clock.now() / 1000).toFixed(0)} s\n` +
      `        settled once each: ${settled === issued}; answered by the fallback ${fellBack.toLocaleString('en')}, aborted by the caller ${aborted.toLocaleString('en')}; breaker opened ${m} times\n` +
      `        timers left ${timersLeft}; heap after GC ${mib(heapStart)} -> ${mib(heapEnd)} (${heapEnd >= heapStart ? '+' : ''}${mib(heapEnd - heapStart)})`,
  );
}

async function part2(): Promise<void> {
  const clock = new ManualClock();
  const random = seeded(3);
  const limit = bulkhead({ maxConcurrent: 1_000, maxQueue: INFLIGHT, clock });
  const heapStart = heapAfterGc();
  const started = performance.now();
  let maxExecuting = 0;
  let running = 0;
  const settledCount = new Uint8Array(INFLIGHT);
  const calls: Promise<void>[] = new Array(INFLIGHT);
  const controllers: (AbortController | undefined)[] = new Array(INFLIGHT);
  let ok = 0;
  let aborted = 0;
  for (let i = 0; i < INFLIGHT; i++) {
    const c = random() < 0.1 ? new AbortController() : undefined;
    controllers[i] = c;
    const work = (): Promise<number> => {
      running++;
      maxExecuting = Math.max(maxExecuting, running);
      return new Promise<number>((resolve) => clock.setTimeout(() => (running--, resolve(i)), 1 + random() * 10));
    };
    calls[i] = (c === undefined ? limit.execute(work) : limit.execute(work, { signal: c.signal })).then(
      (v) => {
        if (bump(settledCount, i) !== 1 || v !== i) fail(`bulkhead call ${i} settled twice or with the wrong value`);
        ok++;
      },
      () => {
        if (bump(settledCount, i) !== 1) fail(`bulkhead call ${i} settled twice`);
        if (c === undefined) fail(`bulkhead call ${i} rejected without an abort`);
        aborted++;
      },
    );
  }
  const queuedAtPeak = limit.queued;
  const heapPeak = process.memoryUsage().heapUsed;
  for (const c of controllers) c?.abort(new Error('caller left'));
  await clock.advance(5_000);
  await Promise.all(calls);
  const elapsed = performance.now() - started;
  controllers.fill(undefined);
  calls.length = 0; // let the settled promises go before measuring
  const timersLeft = clock.pendingTimers;
  const heapEnd = heapAfterGc();
  if (ok + aborted !== INFLIGHT) fail(`${INFLIGHT - ok - aborted} bulkhead calls never settled`);
  if (maxExecuting > 1_000) fail(`the bulkhead ran ${maxExecuting} at once`);
  if (limit.executing !== 0 || limit.queued !== 0) fail(`bulkhead not empty: ${limit.executing} executing, ${limit.queued} queued`);
  if (timersLeft !== 0) fail(`${timersLeft} timers left on the clock (bulkhead)`);
  if (heapEnd - heapStart > HEAP_LIMIT) fail(`bulkhead: heap grew by ${mib(heapEnd - heapStart)}`);
  limit.dispose();
  console.log(
    `part 2: ${INFLIGHT.toLocaleString('en')} calls in flight (${queuedAtPeak.toLocaleString('en')} queued at the peak) settled in ${(elapsed / 1000).toFixed(1)} s; ` +
      `${ok.toLocaleString('en')} ran (at most ${maxExecuting} at once), ${aborted.toLocaleString('en')} aborted while queued\n` +
      `        timers left ${timersLeft}; heap ${mib(heapStart)} at the start, ${mib(heapPeak)} with every call queued, ${mib(heapEnd)} after GC`,
  );
}

console.log(`soak: node ${process.version}, ${TOTAL.toLocaleString('en')} calls in batches of ${BATCH}, then ${INFLIGHT.toLocaleString('en')} in flight`);
await part1();
await part2();
if (unhandled > 0) fail(`${unhandled} unhandled rejections`);
if (failures.length > 0) {
  console.error(`soak: FAILED\n  ${failures.join('\n  ')}`);
  process.exit(1);
}
console.log('soak: passed');
