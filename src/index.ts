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
  PolicyAnswer,
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
export { timeout } from './timeout.js';
export type { TimeoutPolicy } from './timeout.js';
export type { TimeoutOptions, TimeoutStrategy, TimeoutEvents } from './timeout.js';
export { fallback } from './fallback.js';
export type { FallbackPolicy } from './fallback.js';
export type { FallbackOptions, FallbackHandler, FallbackContext, FallbackEvents } from './fallback.js';
export { pipeline } from './pipeline.js';
export type { Pipeline } from './pipeline.js';
export type { PipelineOptions, PipelineEvents, PipelineMemberEvent } from './pipeline.js';

// Schedules
export { backoff, isBackoff } from './backoff.js';
export type { Backoff, BackoffIterator, Jitter, ExponentialBackoffOptions, LinearBackoffOptions } from './backoff.js';

// Retry and hedging
export { retry } from './retry.js';
export type { RetryPolicy } from './retry.js';
export type { RetryOptions, RetryEvents } from './retry.js';
export { retryBudget } from './retry-budget.js';
export type { RetryBudget } from './retry-budget.js';
export type { RetryBudgetOptions } from './retry-budget.js';
export { hedge } from './hedge.js';
export type { HedgePolicy } from './hedge.js';
export type { HedgeOptions, HedgeEvents } from './hedge.js';
export { markNonIdempotent } from './idempotency.js';

// Circuit breaker
export { circuitBreaker } from './circuit-breaker/index.js';
export type { CircuitBreakerPolicy } from './circuit-breaker/index.js';
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
export { bulkhead } from './bulkhead.js';
export type { BulkheadPolicy } from './bulkhead.js';
export type { BulkheadOptions, BulkheadEvents, BulkheadRejectedEvent } from './bulkhead.js';
export { rateLimiter } from './rate-limiter.js';
export type { RateLimiterPolicy } from './rate-limiter.js';
export type { RateLimiterOptions, TokenBucketOptions, SlidingWindowOptions, RateLimiterEvents } from './rate-limiter.js';
export { adaptiveLimit } from './adaptive-limit.js';
export type { AdaptiveLimitPolicy } from './adaptive-limit.js';
export type { AdaptiveLimitOptions, AdaptiveAlgorithm, AdaptiveWindowOptions, AdaptiveLimitEvents } from './adaptive-limit.js';
export { chaos } from './chaos.js';
export type { ChaosPolicy } from './chaos.js';
export type { ChaosOptions, ChaosFault, ChaosEvents } from './chaos.js';

// Service clients
export { policyPool } from './policy-pool.js';
export type { PolicyPool } from './policy-pool.js';
export type { PolicyPoolOptions, PolicyPoolEvents } from './policy-pool.js';
export { coalesce } from './coalesce.js';
export type { CoalescePolicy } from './coalesce.js';
export type { CoalesceOptions, CoalesceEvents } from './coalesce.js';
export { cache } from './cache.js';
export type { CachePolicy } from './cache.js';
export type { CacheOptions, CacheEvents, CacheMetrics } from './cache.js';
export { usePolicy } from './decorators.js';
export type { UsePolicyOptions, PolicyDecorator } from './decorators.js';

// Registry and event bus
export { createRegistry, RegistryEmitter } from './registry/index.js';
export type { Registry, RegistryOptions, RegistryEvents, BusEvent, BusFields } from './registry/index.js';
