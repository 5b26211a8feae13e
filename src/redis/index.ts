/**
 * `breakwater/redis`: one circuit breaker and one rate limit for the whole fleet, on Redis.
 *
 * - {@link redisCircuitStore}: a shared `store` for `circuitBreaker` (state, window, half-open trials);
 * - {@link redisRateLimiter}: a token bucket or sliding window shared through Redis.
 *
 * Takes an ioredis client or a connected node-redis v4+ client (see {@link RedisClient}); no
 * runtime dependency of its own.
 *
 * @example
 * ```ts
 * import Redis from 'ioredis';
 * import { circuitBreaker } from 'breakwater';
 * import { redisCircuitStore, redisRateLimiter } from 'breakwater/redis';
 * const client = new Redis(process.env.REDIS_URL);
 * const cb = circuitBreaker({ name: 'payments', store: redisCircuitStore({ client }) });
 * const rl = redisRateLimiter({ client, name: 'api', algorithm: 'tokenBucket', capacity: 100, refillPerSecond: 50 });
 * ```
 *
 * @module
 */
export { redisCircuitStore, MAX_PENDING_BATCHES } from './circuit-store.js';
export type { RedisCircuitStore, RedisCircuitStoreOptions } from './circuit-store.js';
export { redisRateLimiter, DENIED_WHEN_DOWN_RETRY_MS } from './rate-limiter.js';
export type { RedisRateLimiterPolicy, RedisRateLimiterOptions, RedisRateLimiterEvents } from './rate-limiter.js';
export type { RedisClient, IoRedisLike, NodeRedisLike } from './client.js';
