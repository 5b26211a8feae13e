import { describe, it, expect } from 'vitest';
import {
  BrokenCircuitError,
  BulkheadRejectedError,
  IsolatedCircuitError,
  RateLimitedError,
  TimeoutError,
} from '../../src/errors.js';
import { pipeline } from '../../src/pipeline.js';
import { timeout } from '../../src/timeout.js';
import { circuitBreaker, type CircuitBreakerPolicy } from '../../src/circuit-breaker/index.js';
import { deferred, fail, setup, succeed } from './helpers.js';

class HttpError extends Error {
  constructor(readonly status: number) {
    super(`HTTP ${status}`);
  }
}

/**
 * One call the caller aborts (with 'stop') while its work is pending: the call rejects with the
 * reason at once; the work fails afterwards, and its late outcome has been seen by the breaker
 * when this resolves.
 */
async function abortedByCaller(breaker: CircuitBreakerPolicy): Promise<void> {
  const controller = new AbortController();
  const d = deferred<string>();
  const call = breaker.execute(() => d.promise, { signal: controller.signal });
  const r = expect(call).rejects.toBe('stop');
  controller.abort('stop');
  await r;
  d.reject(new Error('aborted work'));
  await d.promise.catch(() => undefined);
  await new Promise((res) => setImmediate(res));
}

const consecutive = (failures: number) => ({ window: { type: 'consecutive', failures } }) as const;

describe('classification', () => {
  it('handle decides which errors are failures; an error it declines is a success', async () => {
    const { breaker } = setup({ ...consecutive(2), handle: (e) => e instanceof HttpError && e.status >= 500 });
    const outcomes: string[] = [];
    breaker.events.on('success', () => outcomes.push('success'));
    breaker.events.on('failure', (e) => outcomes.push(`failure:${(e.error as Error).message}`));
    const call = (status: number) => breaker.execute(() => Promise.reject(new HttpError(status))).catch(() => undefined);
    await call(503);
    await call(404); // a success for health: the run starts over
    await call(503);
    expect(breaker.state).toBe('closed');
    await call(500);
    expect(breaker.state).toBe('open');
    expect(outcomes).toEqual(['failure:HTTP 503', 'success', 'failure:HTTP 503', 'failure:HTTP 500']);
  });

  it('handleResult makes returned values failures, and the failure event carries the result', async () => {
    const { breaker } = setup({ ...consecutive(2), handleResult: (v) => (v as { status: number }).status >= 500 });
    const results: unknown[] = [];
    breaker.events.on('failure', (e) => results.push(e));
    await expect(breaker.execute(() => ({ status: 502 }))).resolves.toEqual({ status: 502 });
    await breaker.execute(() => ({ status: 503 }));
    expect(breaker.state).toBe('open');
    expect(results).toEqual([
      { result: { status: 502 }, durationMs: 0, slow: false },
      { result: { status: 503 }, durationMs: 0, slow: false },
    ]);
    expect('error' in (results[0] as object)).toBe(false);
  });

  it("the caller's own abort counts as neither success nor failure, whatever handle says", async () => {
    const { breaker } = setup({ ...consecutive(2), handle: () => true });
    await fail(breaker);
    await abortedByCaller(breaker);
    expect(breaker.state).toBe('closed'); // neither: the run of one failure is intact
    await fail(breaker);
    expect(breaker.state).toBe('open');
  });

  it('a success after the caller aborted still counts as a success', async () => {
    const { breaker } = setup(consecutive(2));
    await fail(breaker);
    const controller = new AbortController();
    const d = deferred<string>();
    const call = breaker.execute(() => d.promise, { signal: controller.signal });
    const r = expect(call).rejects.toBe('stop');
    controller.abort('stop');
    await r;
    d.resolve('fine');
    await d.promise;
    await new Promise((res) => setImmediate(res));
    await fail(breaker);
    expect(breaker.state).toBe('closed');
  });

  it.each([
    ['a full bulkhead', () => new BulkheadRejectedError(10, 0)],
    ['a rate limit', () => new RateLimitedError(100)],
    ['a nested open breaker', () => new BrokenCircuitError('open', 100)],
    ['a nested isolated breaker', () => new IsolatedCircuitError()],
  ])('a local rejection by %s counts as neither, by default', async (_what, make) => {
    const { breaker } = setup({ ...consecutive(2), handle: () => true });
    const seen: string[] = [];
    breaker.events.on('success', () => seen.push('success'));
    breaker.events.on('failure', () => seen.push('failure'));
    await fail(breaker);
    await expect(breaker.execute(() => Promise.reject(make()))).rejects.toBeInstanceOf(Error);
    await fail(breaker);
    expect(breaker.state).toBe('open'); // the run of failures was not broken
    expect(seen).toEqual(['failure', 'failure']);
  });

  it('a nested breaker that is open does not open the outer one', async () => {
    const inner = circuitBreaker({ ...consecutive(1), metrics: false });
    const outer = circuitBreaker({ ...consecutive(1), metrics: false });
    await inner.execute(() => Promise.reject(new Error('x'))).catch(() => undefined);
    expect(inner.state).toBe('open');
    await expect(outer.execute(() => inner.execute(() => 1))).rejects.toBeInstanceOf(BrokenCircuitError);
    expect(outer.state).toBe('closed');
    inner.dispose();
    outer.dispose();
  });

  it('a TimeoutError is a failure even when handle declines it', async () => {
    const { breaker } = setup({ ...consecutive(1), handle: () => false });
    await breaker.execute(() => Promise.reject(new TimeoutError(100))).catch(() => undefined);
    expect(breaker.state).toBe('open');
  });

  it('timeouts inside the breaker in a pipeline count as failures', async () => {
    const { clock, breaker } = setup(consecutive(2));
    const p = pipeline(breaker, timeout({ durationMs: 50, clock }));
    for (let i = 0; i < 2; i++) {
      const call = p.execute(() => new Promise(() => {}));
      const r = expect(call).rejects.toBeInstanceOf(TimeoutError);
      await clock.advance(50);
      await r;
    }
    expect(breaker.state).toBe('open');
    await expect(p.execute(() => 1)).rejects.toBeInstanceOf(BrokenCircuitError);
  });

  it('a throwing handle rejects the call with its error and counts the call as a failure', async () => {
    const { breaker } = setup({
      ...consecutive(1),
      handle: () => {
        throw new Error('bad predicate');
      },
    });
    await expect(breaker.execute(() => Promise.reject(new Error('x')))).rejects.toThrow('bad predicate');
    expect(breaker.state).toBe('open');
  });

  it('a throwing handleResult rejects the call with its error and counts the call as a failure', async () => {
    const { breaker } = setup({
      ...consecutive(1),
      handleResult: () => {
        throw new Error('bad predicate');
      },
    });
    await expect(breaker.execute(() => 1)).rejects.toThrow('bad predicate');
    expect(breaker.state).toBe('open');
  });

  it('a predicate returning a truthy non-boolean does not count', async () => {
    const { breaker } = setup({ ...consecutive(1), handle: (() => 'yes') as unknown as () => boolean });
    await breaker.execute(() => Promise.reject(new Error('x'))).catch(() => undefined);
    expect(breaker.state).toBe('closed');
    await succeed(breaker);
  });
});

describe('metrics follow what the caller received; events follow the verdict', () => {
  it('an error handle declines is a success event but a failure in metrics', async () => {
    const { breaker } = setup({ ...consecutive(2), handle: () => false });
    const seen: string[] = [];
    breaker.events.on('success', () => seen.push('success'));
    breaker.events.on('failure', () => seen.push('failure'));
    await breaker.execute(() => Promise.reject(new HttpError(404))).catch(() => undefined);
    expect(seen).toEqual(['success']);
    expect(breaker.metrics()).toMatchObject({ calls: 1, successes: 0, failures: 1 });
  });

  it('a local rejection emits no outcome event and is a failure in metrics', async () => {
    const { breaker } = setup(consecutive(2));
    const seen: string[] = [];
    breaker.events.on('success', () => seen.push('success'));
    breaker.events.on('failure', () => seen.push('failure'));
    await breaker.execute(() => Promise.reject(new BulkheadRejectedError(1, 0))).catch(() => undefined);
    expect(seen).toEqual([]);
    expect(breaker.metrics()).toMatchObject({ calls: 1, failures: 1 });
  });

  it("the caller's abort is not recorded at all", async () => {
    const { breaker } = setup(consecutive(2));
    await abortedByCaller(breaker);
    expect(breaker.metrics()).toMatchObject({ calls: 0, successes: 0, failures: 0 });
  });

  it('a result handleResult flags is a failure in both', async () => {
    const { breaker } = setup({ ...consecutive(2), handleResult: (v) => v === 'bad' });
    await breaker.execute(() => 'bad');
    expect(breaker.metrics()).toMatchObject({ calls: 1, successes: 0, failures: 1 });
  });

  it('success and failure listeners added, removed and added again between calls are heard exactly while attached', async () => {
    const { breaker } = setup({ ...consecutive(100), metrics: false }); // untimed unless someone listens
    const seen: string[] = [];
    const onSuccess = ({ durationMs }: { durationMs: number }): void => void seen.push(`success ${durationMs}`);
    await breaker.execute(() => 1);
    breaker.events.on('success', onSuccess);
    await breaker.execute(() => 2);
    breaker.events.off('success', onSuccess);
    await breaker.execute(() => 3);
    breaker.events.once('failure', () => seen.push('failure once'));
    await breaker.execute(() => Promise.reject(new Error('x'))).catch(() => {});
    await breaker.execute(() => Promise.reject(new Error('y'))).catch(() => {});
    breaker.events.addListener('success', onSuccess);
    breaker.events.removeAllListeners();
    await breaker.execute(() => 4);
    expect(seen).toEqual(['success 0', 'failure once']);
  });
});
