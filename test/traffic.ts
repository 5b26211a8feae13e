// The traffic fixture of the exporter tests: a service on a ManualClock, the full pipeline in
// front of it, and a way to drive one call to its end.
import { backoff } from '../src/backoff.js';
import { bulkhead } from '../src/bulkhead.js';
import { circuitBreaker } from '../src/circuit-breaker/index.js';
import { fallback } from '../src/fallback.js';
import { pipeline } from '../src/pipeline.js';
import type { Policy } from '../src/contract.js';
import { retry } from '../src/retry.js';
import { timeout } from '../src/timeout.js';
import type { Registry } from '../src/registry/index.js';
import type { ManualClock } from '../src/testing/index.js';

/** A dependency that answers after `ms` on the clock, or fails while `fail` is set. */
export function service(clock: ManualClock): { fail: boolean; ms: number; calls: number; call: () => Promise<string> } {
  const s = {
    fail: false,
    ms: 20,
    calls: 0,
    call: async (): Promise<string> => {
      s.calls++;
      const fail = s.fail;
      await new Promise<void>((resolve) => clock.setTimeout(resolve, s.ms));
      if (fail) throw new Error('boom');
      return 'ok';
    },
  };
  return s;
}

/** fallback 'fb', retry 'rt', circuitBreaker 'cb', timeout 'to', bulkhead 'bh', as pipeline 'api'. */
export function fullPipeline(clock: ManualClock, registry: Registry): Policy {
  return pipeline(
    fallback('fallback', { name: 'fb', clock }),
    retry({ name: 'rt', maxAttempts: 2, backoff: backoff.constant(5), clock }),
    circuitBreaker({ name: 'cb', window: { type: 'consecutive', failures: 3 }, openDurationMs: 100, clock }),
    timeout({ name: 'to', durationMs: 50, clock }),
    bulkhead({ name: 'bh', maxConcurrent: 2, maxQueue: 1, clock }),
    { name: 'api', registry, clock },
  );
}

/** Runs one call to its end, moving the clock 5 ms at a time until it settles. */
export async function run<T>(clock: ManualClock, p: Promise<T>): Promise<T> {
  let done = false;
  const settled = p.finally(() => {
    done = true;
  });
  while (!done) await clock.advance(5);
  return settled;
}
