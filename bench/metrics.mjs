// Metrics, registry and exporters: what observability costs per call, and what reading it costs.
import { Registry } from 'prom-client';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { circuitBreaker, timeout, createRegistry } from '../dist/esm/index.js';
import { collectPrometheus } from '../dist/esm/prometheus/index.js';
import { instrumentOpenTelemetry } from '../dist/esm/opentelemetry/index.js';
import { sequential } from './harness.mjs';

const work = async () => 1;

// Recording cost: the same breaker with metrics on (the default) and off.
const cbOn = circuitBreaker();
const cbOff = circuitBreaker({ metrics: false });
const toOn = timeout(1000);
const toOff = timeout({ durationMs: 1000, metrics: false });

// The registry: listed but unobserved must cost nothing; a bus listener for a rare event
// (stateChange) nothing per call; a catch-all listener or an exporter costs what it reads.
const quiet = createRegistry();
const cbListed = circuitBreaker({ registry: quiet });
const watched = createRegistry();
watched.events.on('stateChange', () => {});
const cbWatched = circuitBreaker({ registry: watched });
const firehose = createRegistry();
firehose.events.on('event', () => {});
const cbFirehose = circuitBreaker({ registry: firehose });
const promRegistry = createRegistry();
const stopProm = collectPrometheus(promRegistry, { register: new Registry() }).stop;
const cbProm = circuitBreaker({ registry: promRegistry });
const otelRegistry = createRegistry();
const provider = new MeterProvider();
const stopOtel = instrumentOpenTelemetry(otelRegistry, { meter: provider.getMeter('bench') }).stop;
const cbOtel = circuitBreaker({ registry: otelRegistry });

// metrics() after 1,000 and after 1,000,000 calls, spread over the whole 10 s window by a clock
// the benchmark moves by hand (and then holds, so every read sees the full window).
function filledBreaker(calls) {
  let t = 0;
  const clock = { now: () => t, setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => globalThis.clearTimeout(h) };
  const cb = circuitBreaker({ clock });
  return {
    cb,
    async fill() {
      for (let i = 0; i < calls; i++) {
        t = (i / calls) * 9_900;
        const started = cb.execute(work);
        t += 0.5 + (i % 97) / 10; // latencies from 0.5 to 10 ms
        await started;
      }
      t = 9_950;
    },
  };
}
const small = filledBreaker(1_000);
const large = filledBreaker(1_000_000);
// Filled on first use (the harness's warm-up run), not at import: a million calls through a
// breaker on a hand-moved clock would otherwise train the JIT on that clock before the recording
// benchmarks run, and make their shared call sites look slower than they are.
let filled;
function fillOnce() {
  filled ??= (async () => {
    await small.fill();
    await large.fill();
    if (small.cb.metrics().calls !== 1_000 || large.cb.metrics().calls !== 1_000_000) {
      throw new Error('bench/metrics: the window does not hold the calls it should');
    }
  })();
  return filled;
}

export const groups = [
  {
    title: 'metrics: recording cost on the circuit breaker success path',
    // A difference of ~10-20 ns on a ~120 ns path: more rounds, so the medians settle.
    batch: 20000,
    rounds: 41,
    cases: [
      { name: 'breaker, metrics on', run: sequential(() => cbOn.execute(work)) },
      { name: 'breaker, metrics: false', run: sequential(() => cbOff.execute(work)) },
      { name: 'timeout, metrics on', run: sequential(() => toOn.execute(work)) },
      { name: 'timeout, metrics: false', run: sequential(() => toOff.execute(work)) },
    ],
    checks: [
      { faster: 'breaker, metrics on', slower: 'breaker, metrics: false', atMost: 1.15, label: 'metrics add at most 15% to the breaker success path (issue #6)' },
      { faster: 'timeout, metrics on', slower: 'timeout, metrics: false', atMost: 1.15, label: 'metrics add at most 15% to the timeout success path' },
    ],
  },
  {
    title: 'metrics: registry and exporters on the circuit breaker success path',
    // Differences of a few ns on a ~120 ns path, as for the recording cost: more rounds.
    batch: 20000,
    rounds: 41,
    cases: [
      { name: 'unlisted breaker', run: sequential(() => cbOn.execute(work)) },
      { name: 'listed, bus unobserved', run: sequential(() => cbListed.execute(work)) },
      { name: 'listed, stateChange listener', run: sequential(() => cbWatched.execute(work)) },
      { name: 'listed, catch-all listener', run: sequential(() => cbFirehose.execute(work)) },
      { name: 'listed, Prometheus exporter', run: sequential(() => cbProm.execute(work)) },
      { name: 'listed, OpenTelemetry exporter', run: sequential(() => cbOtel.execute(work)) },
    ],
    checks: [
      { faster: 'listed, bus unobserved', slower: 'unlisted breaker', atMost: 1.1, label: 'an unobserved registry costs nothing per call (issue #6)' },
      { faster: 'listed, stateChange listener', slower: 'unlisted breaker', atMost: 1.1, label: 'a stateChange bus listener costs nothing per call' },
    ],
    teardown() {
      stopProm();
      stopOtel();
      return provider.shutdown();
    },
  },
  {
    title: 'metrics: metrics() after 1,000 and 1,000,000 calls in the window',
    batch: 500,
    cases: [
      { name: 'metrics() after 1,000 calls', run: async (n) => (await fillOnce(), repeat(n, () => small.cb.metrics())) },
      { name: 'metrics() after 1,000,000 calls', run: async (n) => (await fillOnce(), repeat(n, () => large.cb.metrics())) },
    ],
    checks: [
      { faster: 'metrics() after 1,000,000 calls', slower: 'metrics() after 1,000 calls', atMost: 2, label: 'metrics() costs the same after 1,000,000 calls as after 1,000 (within 2x, issue #6)' },
    ],
  },
];

function repeat(n, fn) {
  for (let i = 0; i < n; i++) fn();
}
