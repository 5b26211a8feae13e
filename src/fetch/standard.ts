/**
 * The standard pipeline of `resilientFetch`: total timeout → retry → one circuit breaker per
 * origin → attempt timeout → bulkhead, every number an option.
 *
 * @module
 */
import { type Backoff, backoff, isBackoff } from '../backoff.js';
import { circuitBreaker, type CircuitBreakerOptions, type CircuitBreakerPolicy } from '../circuit-breaker/index.js';
import { policyPool, type PolicyPool } from '../policy-pool.js';
import { bulkhead } from '../bulkhead.js';
import { isBreakwaterError } from '../errors.js';
import { pipeline, type Pipeline } from '../pipeline.js';
import type { Clock } from '../clock.js';
import type { MetricsOption, Policy, RegistryLike } from '../contract.js';
import { retry, type RetryPolicy } from '../retry.js';
import { RetryBudget, retryBudget } from '../retry-budget.js';
import { timeout } from '../timeout.js';
import { num, optionsObject, typeError } from '../validate.js';
import { HttpStatusError } from './errors.js';
import { refuseUnknown } from './options.js';

/**
 * Options of the standard pipeline, `resilientFetch({ standard: { … } })`.
 *
 * @example
 * ```ts
 * import { resilientFetch, type StandardPipelineOptions } from 'breakwater/fetch';
 * const standard: StandardPipelineOptions = { maxAttempts: 5, attemptTimeoutMs: 2_000, breaker: { minimumCalls: 50 } };
 * const http = resilientFetch({ standard });
 * ```
 */
export interface StandardPipelineOptions {
  /** Limit on the whole call, retries and waits included (ms; `Infinity`: none). @defaultValue `30000` */
  readonly totalTimeoutMs?: number;
  /** Attempts in total, the first included. @defaultValue `3` */
  readonly maxAttempts?: number;
  /** Delays between attempts. @defaultValue `backoff.exponential({ initialMs: 300, maxMs: 10000 })` (full jitter) */
  readonly backoff?: Backoff;
  /** A retry budget shared with other clients, or `false` for none. @defaultValue a `retryBudget()` of this client's own */
  readonly budget?: RetryBudget | false;
  /** The longest `Retry-After` (or open-breaker hint) a retry waits for; a longer one ends the retrying. @defaultValue `10000` */
  readonly maxRetryAfterMs?: number;
  /**
   * Options of each origin's circuit breaker (not `name`, `registry` or `clock`, which the
   * client sets).
   * @defaultValue `{ window: { type: 'time', durationMs: 30000, buckets: 10 }, failureRateThreshold: 0.5, minimumCalls: 20, openDurationMs: backoff.exponential({ initialMs: 5000, maxMs: 60000, jitter: 'none' }) }`
   */
  readonly breaker?: Omit<CircuitBreakerOptions, 'name' | 'registry' | 'clock'>;
  /** Limit on each attempt (ms; `Infinity`: none). @defaultValue `10000` */
  readonly attemptTimeoutMs?: number;
  /** Requests in flight at most, for this client. @defaultValue `1000` */
  readonly maxConcurrent?: number;
}

const STANDARD_OPTIONS = [
  'totalTimeoutMs',
  'maxAttempts',
  'backoff',
  'budget',
  'maxRetryAfterMs',
  'breaker',
  'attemptTimeoutMs',
  'maxConcurrent',
] as const;

/** What the standard pipeline retries: what the server or the network did, never local rejections. */
export function retryable(error: unknown): boolean {
  return error instanceof HttpStatusError || error instanceof TypeError || isBreakwaterError(error, 'ETIMEDOUT');
}

/** The standard pipeline of one client; calls carry their origin as the key. */
export interface Standard {
  readonly policy: Pipeline;
  /** The per-origin breakers. */
  readonly breakers: PolicyPool<CircuitBreakerPolicy>;
  /** The retry of the pipeline (its `retry` event cancels a failed body before the backoff). */
  readonly retry: RetryPolicy;
  dispose(): void;
}

/** Checks `standard` and builds the shared policies; breakers come per origin. */
export function standardPipeline(
  value: unknown,
  common: {
    readonly name: string;
    readonly clock: Clock | undefined;
    readonly registry: RegistryLike | undefined;
    readonly metrics: MetricsOption | undefined;
  },
): Standard {
  const p = 'resilientFetch';
  const o = optionsObject(p, value, 'standard');
  refuseUnknown(p, o, STANDARD_OPTIONS, 'standard option');
  const ms = (key: string, fallback: number): number =>
    o[key] === undefined ? fallback : num(p, `standard.${key}`, o[key], { min: 0, minExclusive: true, infinity: true });
  const totalTimeoutMs = ms('totalTimeoutMs', 30000);
  const attemptTimeoutMs = ms('attemptTimeoutMs', 10000);
  const maxAttempts = o['maxAttempts'] === undefined ? 3 : num(p, 'standard.maxAttempts', o['maxAttempts'], { min: 1, integer: true });
  const maxConcurrent = o['maxConcurrent'] === undefined ? 1000 : num(p, 'standard.maxConcurrent', o['maxConcurrent'], { min: 1, integer: true });
  const maxRetryAfterMs = o['maxRetryAfterMs'] === undefined ? 10000 : num(p, 'standard.maxRetryAfterMs', o['maxRetryAfterMs'], { min: 0, infinity: true });
  const b = o['backoff'];
  if (b !== undefined && !isBackoff(b)) typeError(p, 'standard.backoff', 'a Backoff (from backoff.*)', b);
  const budgetOption = o['budget'];
  if (budgetOption !== undefined && budgetOption !== false && !(budgetOption instanceof RetryBudget)) {
    typeError(p, 'standard.budget', 'a RetryBudget (from retryBudget()) or false', budgetOption);
  }
  const breakerOptions = optionsObject(p, o['breaker'], 'standard.breaker');
  for (const own of ['name', 'registry', 'clock'] as const) {
    if (breakerOptions[own] !== undefined) typeError(p, `standard.breaker.${own}`, 'left out (the client sets it)', breakerOptions[own]);
  }
  const { name, clock, registry, metrics } = common;
  // The clock and metrics settings of every policy of the pipeline.
  const withClock = { ...(clock === undefined ? {} : { clock }), ...(metrics === undefined ? {} : { metrics }) };
  const breakerFor = (origin: string): CircuitBreakerPolicy =>
    circuitBreaker({
      window: { type: 'time', durationMs: 30000, buckets: 10 },
      failureRateThreshold: 0.5,
      minimumCalls: 20,
      openDurationMs: backoff.exponential({ initialMs: 5000, maxMs: 60000, jitter: 'none' }),
      ...breakerOptions,
      name: `${name}:${origin}`,
      ...withClock,
    });
  // Validates the breaker options now, not at the first request.
  breakerFor('validation').dispose();

  const budget = budgetOption === false ? undefined : (budgetOption ?? retryBudget(clock === undefined ? {} : { clock }));
  const total = totalTimeoutMs === Infinity ? undefined : timeout({ durationMs: totalTimeoutMs, name: `${name}:total`, ...withClock });
  const r = retry({
    maxAttempts,
    backoff: b ?? backoff.exponential({ initialMs: 300, maxMs: 10000 }),
    // What the server or the network did, never local rejections.
    handle: retryable,
    ...(budget === undefined ? {} : { budget }),
    // A hint longer than this ends the retrying at once with that failure (`giveUp`).
    maxRetryAfterMs,
    name: `${name}:retry`,
    ...withClock,
  });
  // One breaker per origin (the call key), named `${name}:${origin}`; idle ones are dropped.
  const breakers = policyPool((origin) => breakerFor(origin), {
    name: `${name}:breakers`,
    ...(clock === undefined ? {} : { clock }),
    ...(registry === undefined ? {} : { registry }),
  });
  const attempt = attemptTimeoutMs === Infinity ? undefined : timeout({ durationMs: attemptTimeoutMs, name: `${name}:attempt`, ...withClock });
  const limit = bulkhead({ maxConcurrent, name: `${name}:bulkhead`, ...withClock });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- members that answer only what fetch answers
  const members: Array<Policy<any, never>> = [];
  if (total !== undefined) members.push(total);
  members.push(r, breakers);
  if (attempt !== undefined) members.push(attempt);
  members.push(limit);
  const policy = pipeline(...members, { name, ...(metrics === undefined ? {} : { metrics }), ...(registry === undefined ? {} : { registry }) });
  return {
    policy,
    breakers,
    retry: r,
    dispose() {
      policy.dispose();
      for (const m of members) m.dispose();
    },
  };
}
