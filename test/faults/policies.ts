// Every factory, built with small valid options on a given clock: the fault tests run their
// attacks over all of them.
import {
  adaptiveLimit,
  bulkhead,
  chaos,
  circuitBreaker,
  fallback,
  hedge,
  pipeline,
  rateLimiter,
  retry,
  timeout,
  type Clock,
  type Policy,
} from '../../src/index.js';

export const factories: Record<string, (clock: Clock) => Policy> = {
  circuitBreaker: (clock) => circuitBreaker({ clock }),
  retry: (clock) => retry({ clock, maxAttempts: 2 }),
  timeout: (clock) => timeout({ durationMs: 1000, clock }),
  bulkhead: (clock) => bulkhead({ maxConcurrent: 2, maxQueue: 2, clock }),
  fallback: (clock) => fallback('fallback', { clock }),
  rateLimiter: (clock) => rateLimiter({ algorithm: 'tokenBucket', capacity: 5, refillPerSecond: 5, clock }),
  hedge: (clock) => hedge({ delayMs: 10, clock }),
  adaptiveLimit: (clock) => adaptiveLimit({ clock }),
  chaos: (clock) => chaos({ clock }),
  pipeline: (clock) =>
    pipeline(fallback('fallback'), retry({ clock }), circuitBreaker({ clock }), timeout({ durationMs: 1000, clock }), bulkhead({ maxConcurrent: 2, clock })),
};
