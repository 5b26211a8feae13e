// A long-running process creates and drops policies all day: everything a registry, its bus and
// the exporters attach to a policy must go when the policy is disposed, or the process leaks.
import { it, expect } from 'vitest';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { getEventListeners } from 'node:events';
import { Registry } from 'prom-client';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { createRegistry } from '../src/registry/index.js';
import { collectPrometheus } from '../src/prometheus/index.js';
import { instrumentOpenTelemetry } from '../src/opentelemetry/index.js';
import { pipeline } from '../src/pipeline.js';
import { retry } from '../src/retry.js';
import { backoff } from '../src/backoff.js';
import { circuitBreaker } from '../src/circuit-breaker/index.js';
import { timeout } from '../src/timeout.js';
import { bulkhead } from '../src/bulkhead.js';
import type { Policy } from '../src/contract.js';
import { ManualClock } from '../src/testing/index.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Full collections until the heap stops shrinking; WeakRefs are cleared after the job ends. */
async function settledHeap(): Promise<number> {
  let last = Infinity;
  for (let i = 0; i < 10; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    const used = process.memoryUsage().heapUsed;
    if (used >= last - 64 * 1024) return used;
    last = used;
  }
  return last;
}

it('creating, using and disposing 10,000 registered policies returns heap and listeners to baseline', async () => {
  const registry = createRegistry();
  const prom = new Registry();
  const exporter = collectPrometheus(registry, { register: prom });
  const provider = new MeterProvider();
  const telemetry = instrumentOpenTelemetry(registry, { meter: provider.getMeter('leak') });
  let events = 0;
  registry.events.on('event', () => events++);
  registry.events.on('stateChange', () => {});
  const caller = new AbortController();
  const signal = caller.signal;
  const ok = (): number => 1;
  const boom = (): never => {
    throw new Error('boom');
  };

  // Only the retry's (fired, never cleared) timers use a ManualClock: it keeps cleared timers in
  // its heap until they come due, which would look like a leak here.
  const retryClock = new ManualClock();
  const refs: Array<WeakRef<Policy>> = [];
  /** `n` pipelines of four members each: 5 × n registered policies, used and disposed. */
  async function churn(n: number): Promise<void> {
    for (let i = 0; i < n; i++) {
      // Members are listed through the pipeline; half the breakers are listed by hand as well.
      const members = [
        retry({ maxAttempts: 2, backoff: backoff.constant(0), clock: retryClock }),
        circuitBreaker({ window: { type: 'consecutive', failures: 1 }, openDurationMs: 60_000, ...(i % 2 === 0 ? { registry } : {}) }),
        timeout({ durationMs: 60_000 }),
        bulkhead({ maxConcurrent: 4 }),
      ];
      const p = pipeline(...members, { registry });
      await p.execute(ok, { signal });
      await p.execute(ok);
      // Opens the breaker (its open timer stays armed until dispose); the retry's second attempt
      // is rejected by it.
      // (Not `expect(…).rejects`: vitest keeps those promises, and what they reference, until the test ends.)
      const failed = p.execute(boom, { signal }).catch((e: unknown) => e);
      await retryClock.advance(0); // the retry's 0 ms backoff, without a real timer tick
      if ((await failed) === undefined) throw new Error('expected a rejection');
      if (i % 100 === 0) refs.push(new WeakRef(p), new WeakRef(members[1] as Policy));
      p.dispose();
      for (const m of members) m.dispose();
    }
  }

  await churn(400); // warm-up: JIT, lazily allocated caches, prom-client's and the SDK's own state
  const scrapeBefore = await prom.metrics();
  const heapBefore = await settledHeap();
  const busBefore = registry.events.eventNames().map((n) => [n, registry.events.listenerCount(n)]);

  await churn(2000); // 10,000 registered policies
  expect(events).toBeGreaterThan(10_000);

  expect(registry.list()).toEqual([]);
  expect(getEventListeners(signal, 'abort')).toHaveLength(0);
  expect(registry.events.eventNames().map((n) => [n, registry.events.listenerCount(n)])).toEqual(busBefore);
  expect(await prom.metrics()).toBe(scrapeBefore);
  const heapAfter = await settledHeap();
  for (const r of refs) expect(r.deref()).toBeUndefined();
  // Each retained policy would hold at least its metrics window (several KiB once used):
  // 10,000 of them would be tens of MiB.
  expect(heapAfter - heapBefore).toBeLessThan(2 * 1024 * 1024);

  exporter.stop();
  telemetry.stop();
  await provider.shutdown();
}, 60_000);
