// The Hystrix stream's messages against known traffic on a ManualClock: every field the Hystrix
// dashboard reads is present with the right type, and the counts and latencies are the ones the
// traffic produced.
import { describe, expect, it } from 'vitest';
import {
  adaptiveLimit,
  bulkhead,
  circuitBreaker,
  createRegistry,
  fallback,
  pipeline,
  timeout,
  type Registry,
} from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';
import { hystrixMessages } from '../../src/dashboard/hystrix.js';

type Message = Record<string, unknown> & { type: string; name: string };

// The keys hystrix-dashboard's monitor asserts on each message (hystrixCommand.js and
// hystrixThreadPool.js `validateData`), plus the rest its stream serializer writes.
const COMMAND_NUMBERS = [
  'errorPercentage', 'errorCount', 'requestCount', 'currentTime',
  'rollingCountBadRequests', 'rollingCountCollapsedRequests', 'rollingCountEmit', 'rollingCountExceptionsThrown',
  'rollingCountFailure', 'rollingCountFallbackEmit', 'rollingCountFallbackFailure', 'rollingCountFallbackMissing',
  'rollingCountFallbackRejection', 'rollingCountFallbackSuccess', 'rollingCountResponsesFromCache',
  'rollingCountSemaphoreRejected', 'rollingCountShortCircuited', 'rollingCountSuccess', 'rollingCountThreadPoolRejected',
  'rollingCountTimeout', 'currentConcurrentExecutionCount', 'rollingMaxConcurrentExecutionCount',
  'latencyExecute_mean', 'latencyTotal_mean',
  'propertyValue_circuitBreakerRequestVolumeThreshold', 'propertyValue_circuitBreakerSleepWindowInMilliseconds',
  'propertyValue_circuitBreakerErrorThresholdPercentage', 'propertyValue_executionIsolationThreadTimeoutInMilliseconds',
  'propertyValue_executionTimeoutInMilliseconds', 'propertyValue_executionIsolationSemaphoreMaxConcurrentRequests',
  'propertyValue_fallbackIsolationSemaphoreMaxConcurrentRequests', 'propertyValue_metricsRollingStatisticalWindowInMilliseconds',
  'reportingHosts',
];
const COMMAND_BOOLEANS = [
  'isCircuitBreakerOpen', 'propertyValue_circuitBreakerForceOpen', 'propertyValue_circuitBreakerForceClosed',
  'propertyValue_circuitBreakerEnabled', 'propertyValue_executionIsolationThreadInterruptOnTimeout',
  'propertyValue_requestCacheEnabled', 'propertyValue_requestLogEnabled',
];
const POOL_NUMBERS = [
  'currentTime', 'currentActiveCount', 'currentCompletedTaskCount', 'currentCorePoolSize', 'currentLargestPoolSize',
  'currentMaximumPoolSize', 'currentPoolSize', 'currentQueueSize', 'currentTaskCount', 'rollingCountThreadsExecuted',
  'rollingMaxActiveThreads', 'rollingCountCommandRejections', 'propertyValue_queueSizeRejectionThreshold',
  'propertyValue_metricsRollingStatisticalWindowInMilliseconds', 'reportingHosts',
];
const PERCENTILE_KEYS = ['0', '25', '50', '75', '90', '95', '99', '99.5', '100'];

/**
 * One batch, as the stream sends it (the stream itself is tested over HTTP in the smoke tier):
 * each message round-tripped through JSON, as the Hystrix dashboard parses it.
 */
function batch(registry: Registry, expected: number): Map<string, Message> {
  const messages = hystrixMessages(registry).map((m) => JSON.parse(JSON.stringify(m)) as Message);
  expect(messages).toHaveLength(expected);
  return new Map(messages.map((m) => [`${m.type}:${m.name}`, m]));
}

function expectShape(m: Message): void {
  if (m.type === 'HystrixCommand') {
    for (const k of COMMAND_NUMBERS) expect(Number.isInteger(m[k]), k).toBe(true);
    for (const k of COMMAND_BOOLEANS) expect(typeof m[k], k).toBe('boolean');
    for (const k of ['name', 'group', 'threadPool', 'propertyValue_executionIsolationStrategy']) expect(typeof m[k], k).toBe('string');
    expect(m['propertyValue_executionIsolationStrategy']).toBe('SEMAPHORE');
    for (const k of ['latencyExecute', 'latencyTotal']) {
      const l = m[k] as Record<string, number>;
      expect(Object.keys(l).sort(), k).toEqual([...PERCENTILE_KEYS].sort());
      for (const p of PERCENTILE_KEYS) expect(Number.isInteger(l[p]), `${k}.${p}`).toBe(true);
    }
  } else {
    expect(m.type).toBe('HystrixThreadPool');
    for (const k of POOL_NUMBERS) expect(Number.isInteger(m[k]), k).toBe(true);
  }
  expect(m['reportingHosts']).toBe(1);
  expect(Math.abs((m['currentTime'] as number) - Date.now())).toBeLessThan(60_000);
}

const after = (clock: ManualClock, ms: number, value: unknown = 'ok'): Promise<unknown> =>
  new Promise((resolve) => clock.setTimeout(() => resolve(value), ms));
const failAfter = (clock: ManualClock, ms: number): Promise<never> =>
  new Promise((_, reject) => clock.setTimeout(() => reject(new Error('boom')), ms));

describe('HystrixCommand', () => {
  it('maps a pipeline\'s traffic: successes, failures, timeouts, bulkhead rejections, short-circuits, latency', async () => {
    const clock = new ManualClock();
    const registry = createRegistry();
    const cb = circuitBreaker({ name: 'cb', clock, minimumCalls: 1000 });
    const api = pipeline(
      fallback('fallback value', { name: 'fb' }),
      cb,
      timeout({ name: 'to', durationMs: 100, clock }),
      bulkhead({ name: 'bh', maxConcurrent: 2 }),
      { name: 'api', registry, clock },
    );
    const call = async (fn: () => Promise<unknown>, ms: number): Promise<unknown> => {
      const p = api.execute(fn);
      await clock.advance(ms);
      return p;
    };
    // Six successes of 10…60 ms, two failures after 5 ms, one timeout (the work takes 200 ms).
    for (const ms of [10, 20, 30, 40, 50, 60]) expect(await call(() => after(clock, ms), ms)).toBe('ok');
    for (let i = 0; i < 2; i++) expect(await call(() => failAfter(clock, 5), 5)).toBe('fallback value');
    expect(await call(() => after(clock, 200), 200)).toBe('fallback value');
    // Two 80 ms calls fill the bulkhead; a third is rejected at once.
    const long = [api.execute(() => after(clock, 80)), api.execute(() => after(clock, 80))];
    expect(await api.execute(() => after(clock, 1))).toBe('fallback value');
    await clock.advance(80);
    expect(await Promise.all(long)).toEqual(['ok', 'ok']);
    // Isolated: two calls short-circuited.
    cb.isolate();
    for (let i = 0; i < 2; i++) expect(await api.execute(() => 'never')).toBe('fallback value');

    const messages = batch(registry, 3);
    // Commands first (in list order), then thread pools, as Hystrix's own stream orders them.
    expect([...messages.keys()]).toEqual(['HystrixCommand:api', 'HystrixCommand:cb', 'HystrixThreadPool:bh']);
    for (const m of messages.values()) expectShape(m);

    const c = messages.get('HystrixCommand:cb') as Message;
    // Ran through the breaker: 8 successes; 2 failures + 1 timeout + 1 bulkhead rejection.
    expect(c).toMatchObject({
      name: 'cb',
      group: 'api',
      threadPool: 'bh',
      requestCount: 12,
      errorCount: 4,
      errorPercentage: 33, // floor(100 * 4 / 12)
      rollingCountSuccess: 8,
      rollingCountFailure: 2,
      rollingCountTimeout: 1,
      rollingCountSemaphoreRejected: 1,
      rollingCountThreadPoolRejected: 0,
      rollingCountShortCircuited: 2,
      rollingCountExceptionsThrown: 6, // every error the breaker passed on
      rollingCountFallbackSuccess: 0,
      isCircuitBreakerOpen: true,
      propertyValue_circuitBreakerForceOpen: true,
      propertyValue_executionTimeoutInMilliseconds: 100,
      propertyValue_executionIsolationThreadTimeoutInMilliseconds: 100,
      propertyValue_executionIsolationSemaphoreMaxConcurrentRequests: 2,
      propertyValue_metricsRollingStatisticalWindowInMilliseconds: 10000,
      currentConcurrentExecutionCount: 0,
      reportingHosts: 1,
    });
    // The breaker's latencies: 0 5 5 10 20 30 40 50 60 80 80 100 (mean 40).
    const exact: Record<string, number> = { '0': 0, '25': 5, '50': 30, '75': 60, '90': 80, '95': 100, '99': 100, '99.5': 100, '100': 100 };
    const lat = c['latencyExecute'] as Record<string, number>;
    for (const k of PERCENTILE_KEYS) expect(Math.abs((lat[k] as number) - (exact[k] as number)), k).toBeLessThanOrEqual(Math.max(1, 0.02 * (exact[k] as number) + 0.5));
    const summary = cb.metrics().latencyMs;
    expect(lat['50']).toBe(Math.round(summary.p50));
    expect(lat['90']).toBe(Math.round(summary.p90));
    expect(lat['99']).toBe(Math.round(summary.p99));
    expect(lat['0']).toBe(0);
    expect(lat['100']).toBe(100);
    expect(c['latencyExecute_mean']).toBe(40);
    expect(c['latencyTotal']).toEqual(lat);

    // The pipeline: the same execution counts, with the caller's view (fallbacks, total latency).
    const p = messages.get('HystrixCommand:api') as Message;
    expect(p).toMatchObject({
      name: 'api',
      group: 'api',
      threadPool: 'bh',
      requestCount: 12,
      errorCount: 4,
      errorPercentage: 33,
      rollingCountShortCircuited: 2,
      rollingCountFallbackSuccess: 6,
      rollingCountExceptionsThrown: 0, // the fallback answered every one
      isCircuitBreakerOpen: true,
    });
    const total = api.metrics().latencyMs;
    expect((p['latencyTotal'] as Record<string, number>)['50']).toBe(Math.round(total.p50));
    expect(p['latencyTotal_mean']).toBe(Math.round(total.mean));
    expect(p['latencyExecute']).toEqual(lat);

    const pool = messages.get('HystrixThreadPool:bh') as Message;
    // It ran 6 + 2 + 1 (the timed-out work, until it settled) + 2 calls, and refused one.
    expect(pool).toMatchObject({
      name: 'bh',
      currentActiveCount: 0,
      currentQueueSize: 0,
      currentCorePoolSize: 2,
      currentMaximumPoolSize: 2,
      rollingCountThreadsExecuted: 11,
      rollingCountCommandRejections: 1,
      propertyValue_metricsRollingStatisticalWindowInMilliseconds: 10000,
    });
  });

  it('a breaker outside any pipeline is its own group and thread pool; errorPercentage is 0 without calls', async () => {
    const clock = new ManualClock();
    const registry = createRegistry();
    circuitBreaker({ name: 'lonely', registry, clock });
    const m = batch(registry, 1).get('HystrixCommand:lonely') as Message;
    expectShape(m);
    expect(m).toMatchObject({
      group: 'lonely',
      threadPool: 'lonely',
      requestCount: 0,
      errorCount: 0,
      errorPercentage: 0,
      isCircuitBreakerOpen: false,
      propertyValue_executionTimeoutInMilliseconds: 0,
      propertyValue_executionIsolationThreadInterruptOnTimeout: false,
      latencyExecute: Object.fromEntries(PERCENTILE_KEYS.map((k) => [k, 0])),
    });
  });

  it('isCircuitBreakerOpen follows the state: open yes, half-open and closed no', async () => {
    const clock = new ManualClock();
    const registry = createRegistry();
    const cb = circuitBreaker({ name: 'cb', registry, clock, window: { type: 'consecutive', failures: 1 }, openDurationMs: 1000 });
    await cb.execute(() => Promise.reject(new Error('x'))).catch(() => undefined);
    expect(cb.state).toBe('open');
    let m = batch(registry, 1).get('HystrixCommand:cb') as Message;
    expect(m).toMatchObject({ isCircuitBreakerOpen: true, propertyValue_circuitBreakerForceOpen: false, requestCount: 1, errorPercentage: 100, rollingCountFailure: 1 });
    await clock.advance(1000);
    expect(cb.state).toBe('halfOpen');
    m = batch(registry, 1).get('HystrixCommand:cb') as Message;
    expect(m['isCircuitBreakerOpen']).toBe(false);
  });
});

describe('HystrixThreadPool', () => {
  it('one per bulkhead and adaptive limit, with live executing and queued counts', async () => {
    const clock = new ManualClock();
    const registry = createRegistry();
    const bh = bulkhead({ name: 'bh', maxConcurrent: 1, maxQueue: 5, registry, clock });
    const al = adaptiveLimit({ name: 'al', initialLimit: 4, minLimit: 1, maxLimit: 8, registry, clock });
    const running = [bh.execute(() => after(clock, 50)), bh.execute(() => after(clock, 50)), bh.execute(() => after(clock, 50))];
    const adaptive = al.execute(() => after(clock, 50));
    const messages = batch(registry, 2);
    for (const m of messages.values()) expectShape(m);
    expect(messages.get('HystrixThreadPool:bh')).toMatchObject({ currentActiveCount: 1, currentQueueSize: 2, currentPoolSize: 1, rollingCountThreadsExecuted: 0 });
    expect(messages.get('HystrixThreadPool:al')).toMatchObject({ currentActiveCount: 1, currentQueueSize: 0, currentPoolSize: 4, currentMaximumPoolSize: 4 });
    await clock.advance(150);
    await Promise.all([...running, adaptive]);
  });
});
