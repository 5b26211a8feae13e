// Every factory refuses an option name it does not know, naming the policy, the name and the
// nearest known one; names from opossum, cockatiel, Polly and p-retry get a hint naming ours.
import { describe, expect, it } from 'vitest';
import {
  adaptiveLimit,
  backoff,
  bulkhead,
  cache,
  chaos,
  circuitBreaker,
  coalesce,
  createRegistry,
  fallback,
  hedge,
  pipeline,
  policyPool,
  rateLimiter,
  retry,
  retryBudget,
  timeout,
  usePolicy,
} from '../src/index.js';

type Make = (extra: Record<string, unknown>) => unknown;
/** Each factory with the smallest valid options, and a typo of one of its own names. */
const FACTORIES: Array<[string, Make, string, string]> = [
  ['circuitBreaker', (x) => circuitBreaker({ ...x }), 'minimumCall', 'minimumCalls'],
  ['retry', (x) => retry({ ...x }), 'maxAttempt', 'maxAttempts'],
  ['timeout', (x) => timeout({ durationMs: 10, ...x }), 'durationMS', 'durationMs'],
  ['bulkhead', (x) => bulkhead({ maxConcurrent: 1, ...x }), 'maxQueu', 'maxQueue'],
  ['fallback', (x) => fallback(0, { ...x }), 'handel', 'handle'],
  ['rateLimiter', (x) => rateLimiter({ algorithm: 'tokenBucket', capacity: 1, refillPerSecond: 1, ...x }), 'maxWait', 'maxWaitMs'],
  ['rateLimiter', (x) => rateLimiter({ algorithm: 'slidingWindow', limit: 1, windowMs: 10, ...x }), 'windowMS', 'windowMs'],
  ['hedge', (x) => hedge({ delayMs: 10, ...x }), 'maxHedge', 'maxHedges'],
  ['adaptiveLimit', (x) => adaptiveLimit({ ...x }), 'maxLimt', 'maxLimit'],
  ['chaos', (x) => chaos({ ...x }), 'faultrate', 'faultRate'],
  ['pipeline', (x) => pipeline(timeout(1), { ...x }), 'nam', 'name'],
  ['retryBudget', (x) => retryBudget({ ...x }), 'ration', 'ratio'],
  ['backoff.exponential', (x) => backoff.exponential({ ...x }), 'maxMS', 'maxMs'],
  ['backoff.linear', (x) => backoff.linear({ ...x }), 'stepMS', 'stepMs'],
  ['createRegistry', (x) => createRegistry({ ...x }), 'clok', 'clock'],
  ['policyPool', (x) => policyPool(() => retry(), { ...x }), 'idleMS', 'idleMs'],
  ['coalesce', (x) => coalesce({ ...x }), 'registy', 'registry'],
  ['cache', (x) => cache({ ttlMs: 1, ...x }), 'maxEntry', 'maxEntries'],
  ['usePolicy', (x) => usePolicy(retry(), { ...x }), 'keys', 'key'],
];

function message(make: () => unknown): string {
  try {
    make();
  } catch (e) {
    expect(e).toBeInstanceOf(TypeError);
    return (e as Error).message;
  }
  throw new Error('accepted');
}

describe('unknown options', () => {
  it.each(FACTORIES)('%s: a typo names the nearest known option', (name, make, typo, known) => {
    expect(() => make({})).not.toThrow();
    expect(message(() => make({ [typo]: 1 }))).toBe(`${name}: unknown option "${typo}" (did you mean "${known}"?)`);
  });

  it.each(FACTORIES)('%s: a name with nothing near lists the known options', (name, make) => {
    const m = message(() => make({ zzzzzzzzzz: 1 }));
    expect(m).toMatch(new RegExp(`^${name.replace('.', '\\.')}: unknown option "zzzzzzzzzz" \\(known options: `));
  });

  it('names from opossum, cockatiel, Polly and p-retry get a hint naming ours', () => {
    const cases: Array<[() => unknown, string]> = [
      [() => circuitBreaker({ errorThresholdPercentage: 50 } as never), 'circuitBreaker: unknown option "errorThresholdPercentage" (did you mean "failureRateThreshold"? a fraction in (0, 1], not a percentage)'],
      [() => circuitBreaker({ resetTimeout: 30000 } as never), 'circuitBreaker: unknown option "resetTimeout" (did you mean "openDurationMs"?)'],
      [() => circuitBreaker({ volumeThreshold: 10 } as never), 'circuitBreaker: unknown option "volumeThreshold" (did you mean "minimumCalls"?)'],
      [() => circuitBreaker({ timeout: 3000 } as never), 'circuitBreaker: unknown option "timeout" (a timeout is its own policy: put timeout(ms) inside it in a pipeline)'],
      [() => circuitBreaker({ halfOpenAfter: 10000 } as never), 'circuitBreaker: unknown option "halfOpenAfter" (did you mean "openDurationMs"?)'],
      [() => circuitBreaker({ breaker: {} } as never), 'circuitBreaker: unknown option "breaker" (did you mean "window"?'],
      [() => circuitBreaker({ FailureRatio: 0.5 } as never), 'circuitBreaker: unknown option "FailureRatio" (did you mean "failureRateThreshold"?)'],
      [() => circuitBreaker({ BreakDuration: 1 } as never), 'circuitBreaker: unknown option "BreakDuration" (did you mean "openDurationMs"?)'],
      [() => retry({ retries: 3 } as never), 'retry: unknown option "retries" (did you mean "maxAttempts"? maxAttempts counts the first attempt too: retries + 1)'],
      [() => retry({ MaxRetryAttempts: 3 } as never), 'retry: unknown option "MaxRetryAttempts" (did you mean "maxAttempts"? maxAttempts counts the first attempt too: MaxRetryAttempts + 1)'],
      [() => retry({ minTimeout: 100 } as never), 'retry: unknown option "minTimeout" (did you mean "backoff"? backoff.exponential({ initialMs }))'],
      [() => retry({ onRetry: () => {} } as never), "retry: unknown option \"onRetry\" (subscribe to the policy's events instead: policy.events.on(…))"],
      [() => retry({ timeout: 10 } as never), 'retry: unknown option "timeout" (a timeout is its own policy: put timeout(ms) inside it in a pipeline)'],
      [() => timeout({ timeout: 10 } as never), 'timeout: unknown option "timeout" (did you mean "durationMs"? a timeout is its own policy: put timeout(ms) inside it in a pipeline)'],
      [() => timeout({ milliseconds: 10 } as never), 'timeout: unknown option "milliseconds" (did you mean "durationMs"?)'],
      [() => bulkhead({ maxConcurrent: 1, MaxParallelization: 2 } as never), 'bulkhead: unknown option "MaxParallelization" (did you mean "maxConcurrent"?)'],
      [() => bulkhead({ maxConcurrent: 1, QueueLimit: 2 } as never), 'bulkhead: unknown option "QueueLimit" (did you mean "maxQueue"?)'],
      [() => cache({ ttlMs: 1, ttl: 5 } as never), 'cache: unknown option "ttl" (did you mean "ttlMs"?)'],
    ];
    for (const [make, expected] of cases) expect(message(make)).toContain(expected);
  });

  it('fallback() with nothing to answer is refused; fallback(undefined) is explicit', () => {
    expect(() => (fallback as (...a: unknown[]) => unknown)()).toThrow(
      new TypeError('fallback: expects the value or handler that answers a failure, got nothing (did you mean fallback(null)?)'),
    );
    expect(() => fallback(undefined)).not.toThrow();
  });

  it('nested option objects are checked too', () => {
    expect(message(() => circuitBreaker({ window: { type: 'time', durationMS: 1000 } } as never))).toBe(
      'circuitBreaker: unknown window option "durationMS" (did you mean "durationMs"?)',
    );
    expect(message(() => retry({ metrics: { window: 5 } } as never))).toMatch(/^retry: unknown metrics option "window" \(did you mean "windowMs"\?\)$/);
    expect(message(() => adaptiveLimit({ window: { minSample: 3 } } as never))).toBe('adaptiveLimit: unknown window option "minSample" (did you mean "minSamples"?)');
  });

  it('options objects are never mutated, and an inherited property is not an option', () => {
    const proto = { retries: 3 };
    const o = Object.freeze(Object.assign(Object.create(proto) as object, { maxAttempts: 2 }));
    expect(() => retry(o)).not.toThrow();
  });
});
