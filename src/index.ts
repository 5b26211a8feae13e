/**
 * breakwater: in-process resilience for TypeScript. Composable policies (circuit breaker,
 * retry, timeout, bulkhead, fallback, rate limiter, hedging, adaptive limit, chaos) wrap any
 * async function; every policy emits typed events and keeps rolling metrics.
 *
 * @example
 * ```ts
 * import { pipeline, fallback, retry, timeout } from 'breakwater';
 * const policy = pipeline(fallback([]), retry({ maxAttempts: 3 }), timeout(2000));
 * const items = await policy.execute(({ signal }) => fetch('/items', { signal }).then((r) => r.json()));
 * ```
 *
 * @module
 */

// The contract
export type {
  AttemptContext,
  ExecuteOptions,
  Policy,
  PolicyKind,
  PolicyMetrics,
  CommonOptions,
  MetricsOption,
  RegistryLike,
} from './policy.js';
export type { LatencySummary } from './metrics/histogram.js';
export { PolicyEmitter } from './events.js';
export type { CommonEvents, ListenerErrorEvent, ListenerMap } from './events.js';

// Time
export { systemClock } from './clock.js';
export type { Clock } from './clock.js';

// Failure classification
export { handleAll, handleErrors } from './handle.js';
export type { ErrorPredicate, ResultPredicate, HandleOptions } from './handle.js';

// Errors
export {
  BreakwaterError,
  BrokenCircuitError,
  IsolatedCircuitError,
  TimeoutError,
  BulkheadRejectedError,
  RateLimitedError,
  isBreakwaterError,
} from './errors.js';
export type { BreakwaterErrorCode, ErrorForCode } from './errors.js';

// Policies
export { timeout, TimeoutPolicy } from './timeout.js';
export type { TimeoutOptions, TimeoutStrategy, TimeoutEvents } from './timeout.js';
export { fallback, FallbackPolicy } from './fallback.js';
export type { FallbackOptions, FallbackHandler, FallbackContext, FallbackEvents } from './fallback.js';
export { pipeline, Pipeline } from './pipeline.js';
export type { PipelineOptions, PipelineEvents } from './pipeline.js';

// Schedules
export { backoff, isBackoff } from './backoff.js';
export type { Backoff, BackoffIterator, Jitter, ExponentialBackoffOptions, LinearBackoffOptions } from './backoff.js';

// --- retry, retryBudget, hedge (issue #3) ---

// --- circuitBreaker (issue #4) ---

// --- bulkhead, rateLimiter, adaptiveLimit, chaos (issue #5) ---

// --- createRegistry (issue #6) ---
