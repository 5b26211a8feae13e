// Fuzzed options for every factory: each either throws a TypeError or RangeError at construction,
// or builds a policy whose calls all settle (value, error, abort) — never another error, never a
// hang, never an unhandled rejection.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  adaptiveLimit,
  backoff,
  bulkhead,
  chaos,
  circuitBreaker,
  fallback,
  hedge,
  rateLimiter,
  retry,
  timeout,
  type Policy,
} from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';

const MAX = 2 ** 31 - 1;
const anyValue = fc.oneof(
  fc.constantFrom(undefined, null, true, false, '', 'x', NaN, Infinity, -Infinity, -1, 0, 0.5, 1, 2, 3, 10, 100, 1e6, MAX, 2 ** 31, -0, 1.5),
  fc.double({ noNaN: false }),
  fc.integer({ min: -5, max: 1000 }),
  fc.constant(() => 1),
  fc.constant({}),
  fc.constant([]),
  fc.constant(new Error('fault')),
  fc.constant(() => new Error('fault')),
  fc.constant(backoff.constant(5)),
  fc.constantFrom('tokenBucket', 'slidingWindow', 'aimd', 'gradient2', 'vegas', 'aggressive', 'cooperative', 'count', 'time', 'consecutive'),
);

/** Mostly plausible values, sometimes anything: enough options build a policy to exercise it. */
const valueFor = fc.oneof(
  { arbitrary: fc.constant(undefined), weight: 4 },
  { arbitrary: fc.integer({ min: 1, max: 100 }), weight: 3 },
  { arbitrary: fc.double({ min: 0, max: 1, noNaN: true }), weight: 1 },
  { arbitrary: anyValue, weight: 2 },
);

/** An options record over the factory's real keys, on top of `base`, with a stray key now and then. */
function optionsOf(keys: readonly string[], base: Record<string, unknown>): fc.Arbitrary<Record<string, unknown>> {
  const nested = fc.record({ type: anyValue, size: valueFor, failures: valueFor, durationMs: valueFor, buckets: valueFor, minMs: valueFor, maxMs: valueFor, minSamples: valueFor }, { requiredKeys: [] });
  const entries = Object.fromEntries(keys.map((k) => [k, k === 'window' ? fc.oneof(nested, valueFor) : valueFor]));
  return fc
    .tuple(fc.record(entries, { requiredKeys: [] }), fc.option(anyValue, { freq: 10 }))
    .map(([o, stray]) => ({ ...base, ...o, ...(stray === null ? {} : { stray }) }));
}

const factories: Array<[string, readonly string[], (o: Record<string, unknown>) => Policy, Record<string, unknown>?]> = [
  ['circuitBreaker', ['window', 'failureRateThreshold', 'minimumCalls', 'slowCallDurationMs', 'slowCallRateThreshold', 'openDurationMs', 'halfOpenCalls', 'halfOpenMaxDurationMs'], (o) => circuitBreaker(o)],
  ['retry', ['maxAttempts', 'backoff', 'maxElapsedMs', 'maxRetryAfterMs'], (o) => retry(o)],
  ['timeout', ['durationMs', 'strategy'], (o) => timeout(o as never), { durationMs: 100 }],
  ['bulkhead', ['maxConcurrent', 'maxQueue', 'queueTimeoutMs'], (o) => bulkhead(o as never), { maxConcurrent: 2 }],
  ['fallback', ['handle'], (o) => fallback('fallback', o as never)],
  // Each algorithm has its own keys (another algorithm's key is an unknown option, a TypeError).
  ['rateLimiter', ['capacity', 'refillPerSecond', 'maxWaitMs'], (o) => rateLimiter(o as never), { algorithm: 'tokenBucket', capacity: 5, refillPerSecond: 5 }],
  ['rateLimiter', ['limit', 'windowMs', 'maxWaitMs'], (o) => rateLimiter(o as never), { algorithm: 'slidingWindow', limit: 5, windowMs: 100 }],
  ['hedge', ['delayMs', 'maxHedges'], (o) => hedge(o as never), { delayMs: 10 }],
  ['adaptiveLimit', ['algorithm', 'initialLimit', 'minLimit', 'maxLimit', 'maxQueue', 'queueTimeoutMs', 'window'], (o) => adaptiveLimit(o)],
  ['chaos', ['faultRate', 'fault', 'latencyRate', 'latencyMs', 'enabled'], (o) => chaos(o)],
];

describe('fuzzed options', () => {
  for (const [kind, keys, make, base = {}] of factories) {
    it(`${kind}${typeof base['algorithm'] === 'string' ? ` (${base['algorithm']})` : ''}: a TypeError or RangeError at construction, or a policy whose calls all settle`, async () => {
      let built = 0;
      await fc.assert(
        fc.asyncProperty(optionsOf(keys, base), fc.integer({ min: 0, max: 2 ** 30 }), async (options, seed) => {
          const clock = new ManualClock();
          const frozen = Object.freeze({ ...options, clock });
          let policy: Policy;
          try {
            policy = make(frozen);
          } catch (error) {
            expect(error instanceof TypeError || error instanceof RangeError, String(error)).toBe(true);
            expect((error as Error).message.startsWith(`${kind}: `), (error as Error).message).toBe(true);
            return;
          }
          built++;
          let s = seed;
          const outcomes = Array.from({ length: 6 }, (_, i) => ((s = (s * 1103515245 + 12345) % 2 ** 31) + i) % 3);
          const controller = new AbortController();
          const calls = outcomes.map((o, i) =>
            policy.execute(
              () => (o === 0 ? i : o === 1 ? Promise.reject(new Error(`e${i}`)) : new Promise((resolve) => clock.setTimeout(() => resolve(i), 50))),
              i === 5 ? { signal: controller.signal } : undefined,
            ),
          );
          let settled = 0;
          const all = Promise.allSettled(calls.map((c) => c.finally(() => settled++)));
          // Long enough for any duration the options allow to have elapsed or to be cut short.
          await clock.advance(1);
          controller.abort(new Error('caller gone'));
          await clock.advance(1000);
          policy.dispose();
          await clock.advance(MAX);
          await all;
          expect(settled).toBe(calls.length);
        }),
        { numRuns: 150, seed: 11 },
      );
      expect(built).toBeGreaterThan(0);
    });
  }
});
