// From Polly (v8) and resilience4j: the standard pipeline of each, written with breakwater, and
// the semantic points docs/concepts-map.md makes, checked on a ManualClock (no real waiting).
// Run: npx tsx --tsconfig tsconfig.check.json examples/migrate/polly-resilience4j.ts
import assert from 'node:assert/strict';
import { backoff, bulkhead, circuitBreaker, fallback, hedge, pipeline, rateLimiter, retry, timeout } from 'breakwater';
import { ManualClock } from 'breakwater/testing';

const clock = new ManualClock();

// Polly v8:
//   new ResiliencePipelineBuilder<string>()
//     .AddFallback(new() { FallbackAction = _ => Outcome.FromResultAsValueTask("cached") })
//     .AddRetry(new() { MaxRetryAttempts = 3, BackoffType = DelayBackoffType.Exponential,
//                       UseJitter = true, Delay = TimeSpan.FromMilliseconds(200) })
//     .AddCircuitBreaker(new() { FailureRatio = 0.5, SamplingDuration = TimeSpan.FromSeconds(30),
//                                MinimumThroughput = 20, BreakDuration = TimeSpan.FromSeconds(5) })
//     .AddTimeout(TimeSpan.FromSeconds(2))
//     .AddConcurrencyLimiter(permitLimit: 10, queueLimit: 20)
//     .Build();
const polly = pipeline(
  fallback(() => 'cached'),
  retry({ maxAttempts: 4, backoff: backoff.exponential({ initialMs: 200, jitter: 'full' }), clock }), // 1 + MaxRetryAttempts
  circuitBreaker({ failureRateThreshold: 0.5, window: { type: 'time', durationMs: 30_000, buckets: 30 }, minimumCalls: 20, openDurationMs: 5_000, clock }),
  timeout({ durationMs: 2_000, clock }),
  bulkhead({ maxConcurrent: 10, maxQueue: 20 }),
);

// resilience4j:
//   Decorators.ofSupplier(supplier)
//     .withBulkhead(Bulkhead.of("db", BulkheadConfig.custom().maxConcurrentCalls(10).build()))
//     .withTimeLimiter(TimeLimiter.of(Duration.ofSeconds(2)), scheduler)
//     .withCircuitBreaker(CircuitBreaker.of("db", CircuitBreakerConfig.custom()
//         .slidingWindowType(COUNT_BASED).slidingWindowSize(100).minimumNumberOfCalls(100)
//         .failureRateThreshold(50).waitDurationInOpenState(Duration.ofSeconds(60))
//         .permittedNumberOfCallsInHalfOpenState(10).slowCallDurationThreshold(Duration.ofSeconds(1))
//         .slowCallRateThreshold(80).build()))
//     .withRetry(Retry.of("db", RetryConfig.custom().maxAttempts(3).waitDuration(Duration.ofMillis(500)).build()))
//     .withFallback(List.of(Exception.class), e -> "cached")
//   (resilience4j's Decorators apply innermost first: the last `with` is outermost.)
const r4j = pipeline(
  fallback(() => 'cached'),
  retry({ maxAttempts: 3, backoff: backoff.constant(500), clock }), // maxAttempts includes the first call, as here
  circuitBreaker({
    window: { type: 'count', size: 100 },
    minimumCalls: 100,
    failureRateThreshold: 0.5, // 50 %
    openDurationMs: 60_000,
    halfOpenCalls: 10,
    slowCallDurationMs: 1_000,
    slowCallRateThreshold: 0.8,
    clock,
  }),
  timeout({ durationMs: 2_000, clock }),
  bulkhead({ maxConcurrent: 10 }),
);

// Hedging (Polly's AddHedging: MaxHedgedAttempts, Delay) and rate limiting (Polly's
// AddRateLimiter / resilience4j's RateLimiter: limitForPeriod per limitRefreshPeriod).
const hedged = hedge({ delayMs: 100, maxHedges: 1, clock });
const limited = rateLimiter({ algorithm: 'slidingWindow', limit: 50, windowMs: 1_000, clock });

// 1. Retry counts: Polly's MaxRetryAttempts = 3 is 4 attempts; resilience4j's maxAttempts = 3 is 3.
let attempts = 0;
const failing = (): Promise<never> => (attempts++, Promise.reject(new Error('503')));
const pollyCall = polly.execute(failing);
await clock.advance(60_000); // every backoff sleep passes on the virtual clock
assert.equal(await pollyCall, 'cached');
assert.equal(attempts, 4);
attempts = 0;
const r4jCall = r4j.execute(failing);
await clock.advance(60_000);
assert.equal(await r4jCall, 'cached');
assert.equal(attempts, 3);

// 2. Half-open by timer: like resilience4j with automaticTransitionFromOpenToHalfOpenEnabled,
// unlike Polly, which half-opens when the next call arrives.
const breaker = circuitBreaker({ window: { type: 'consecutive', failures: 1 }, openDurationMs: 5_000, clock });
await breaker.execute(failing).catch(() => {});
assert.equal(breaker.state, 'open');
await clock.advance(5_000);
assert.equal(breaker.state, 'halfOpen'); // no call was made

// 3. Thresholds are reached at >= (as in both): 1 failure in 2 calls at 0.5 opens.
const ratio = circuitBreaker({ window: { type: 'count', size: 2 }, minimumCalls: 2, failureRateThreshold: 0.5, clock });
await ratio.execute(() => 'ok');
await ratio.execute(failing).catch(() => {});
assert.equal(ratio.state, 'open');

// 4. Hedging: the second attempt starts after Delay; the first success wins, the loser is aborted.
let loserAborted = false;
const race = hedged.execute(({ attempt, signal }) =>
  attempt === 1
    ? new Promise<string>((_resolve, reject) => signal.addEventListener('abort', () => ((loserAborted = true), reject(signal.reason as Error))))
    : 'second',
);
await clock.advance(100);
assert.equal(await race, 'second');
assert.equal(loserAborted, true);

// 5. Rate limiting: at most `limit` starts per sliding window.
let admitted = 0;
for (let i = 0; i < 60; i++) await limited.execute(() => admitted++).catch(() => {});
assert.equal(admitted, 50);

for (const p of [polly, r4j, breaker, ratio, hedged, limited]) p.dispose();
assert.equal(clock.pendingTimers, 0);
console.log('Polly and resilience4j translations: all checks passed');
