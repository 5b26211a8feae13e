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
  WrapOptions,
  Policy,
  PolicyKind,
  PolicyMetrics,
  CommonOptions,
  MetricsOption,
  RegistryLike,
} from './contract.js';
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
  DisposedError,
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

// Retry and hedging
export { retry, RetryPolicy } from './retry.js';
export type { RetryOptions, RetryEvents } from './retry.js';
export { retryBudget, RetryBudget } from './retry-budget.js';
export type { RetryBudgetOptions } from './retry-budget.js';
export { hedge, HedgePolicy } from './hedge.js';
export type { HedgeOptions, HedgeEvents } from './hedge.js';

// Circuit breaker
export { circuitBreaker, CircuitBreakerPolicy } from './circuit-breaker/index.js';
export type {
  CircuitBreakerOptions,
  CircuitBreakerEvents,
  CircuitBreakerSnapshot,
  CircuitBreakerInitialState,
  CircuitState,
  IsolationHandle,
  TimeBucketSnapshot,
  WindowOption,
  WindowSnapshot,
} from './circuit-breaker/index.js';
export type { CircuitStore, CircuitStoreBreaker, CircuitStoreSession, SharedBreakerConfig } from './circuit-breaker/store.js';

// Limits and chaos
export { bulkhead, BulkheadPolicy } from './bulkhead.js';
export type { BulkheadOptions, BulkheadEvents, BulkheadRejectedEvent } from './bulkhead.js';
export { rateLimiter, RateLimiterPolicy } from './rate-limiter.js';
export type { RateLimiterOptions, TokenBucketOptions, SlidingWindowOptions, RateLimiterEvents } from './rate-limiter.js';
export { adaptiveLimit, AdaptiveLimitPolicy } from './adaptive-limit.js';
export type { AdaptiveLimitOptions, AdaptiveAlgorithm, AdaptiveWindowOptions, AdaptiveLimitEvents } from './adaptive-limit.js';
export { chaos, ChaosPolicy } from './chaos.js';
export type { ChaosOptions, ChaosFault, ChaosEvents } from './chaos.js';

// Service clients
export { policyPool, PolicyPool } from './policy-pool.js';
export type { PolicyPoolOptions, PolicyPoolEvents } from './policy-pool.js';

// Registry and event bus
export { createRegistry, RegistryEmitter } from './registry/index.js';
export type { Registry, RegistryOptions, RegistryEvents, BusEvent, BusFields } from './registry/index.js';
