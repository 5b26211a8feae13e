// What a retry records and reports for each way a call can end: metrics per outcome (the caller's
// abort counted as neither, an outer timeout's abort as a failure), the payloads of its events for
// failing results, a broken backoff, and the timer handles of foreign clocks. Written from the
// mutation report: each case here pins a line that no other test constrained.
import { describe, it, expect } from 'vitest';
import { retry } from '../src/retry.js';
import { retryBudget } from '../src/retry-budget.js';
import { backoff, type Backoff } from '../src/backoff.js';
import { timeout } from '../src/timeout.js';
import { pipeline } from '../src/pipeline.js';
import { ManualClock } from '../src/testing/index.js';
import type { Clock } from '../src/clock.js';

const fail = (): Promise<never> => Promise.reject(new Error('503'));

describe('retry metrics by outcome', () => {
  it('a call that gives up is one failure; an unhandled error is one failure; a success is one success', async () => {
    const clock = new ManualClock();
    const r = retry({ maxAttempts: 2, backoff: backoff.constant(10), clock, handle: (e) => (e as Error).message !== 'fatal' });
    const gaveUp = r.execute(fail).catch((e: unknown) => e);
    await clock.advance(10);
    expect(await gaveUp).toMatchObject({ message: '503' });
    expect(r.metrics()).toMatchObject({ calls: 1, failures: 1, successes: 0, retries: 1 });

    await expect(r.execute(() => Promise.reject(new Error('fatal')))).rejects.toThrow('fatal');
    expect(r.metrics()).toMatchObject({ calls: 2, failures: 2, successes: 0, retries: 1 });

    expect(await r.execute(() => 'ok')).toBe('ok');
    expect(r.metrics()).toMatchObject({ calls: 3, failures: 2, successes: 1 });
    r.dispose();
  });

  it("the caller's abort during an attempt or during the backoff sleep counts as neither", async () => {
    const clock = new ManualClock();
    const r = retry({ maxAttempts: 3, backoff: backoff.constant(1_000), clock });
    const during = new AbortController();
    const hanging = r.execute(
      ({ signal }) => new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error))),
      { signal: during.signal },
    );
    during.abort(new Error('left during the attempt'));
    await expect(hanging).rejects.toThrow('left during the attempt');

    const sleeping = new AbortController();
    const asleep = r.execute(fail, { signal: sleeping.signal });
    await clock.advance(10); // first attempt failed; the 1 s sleep runs
    sleeping.abort(new Error('left during the sleep'));
    await expect(asleep).rejects.toThrow('left during the sleep');
    expect(r.metrics()).toMatchObject({ failures: 0, successes: 0 });
    expect(clock.pendingTimers).toBe(0);
    r.dispose();
  });

  it("an outer timeout's abort during the sleep ends the retrying and counts as a failure", async () => {
    const clock = new ManualClock();
    const r = retry({ maxAttempts: 5, backoff: backoff.constant(1_000), clock });
    const p = pipeline(timeout({ durationMs: 50, clock }), r);
    let attempts = 0;
    const call = p.execute(() => (attempts++, fail())).catch((e: unknown) => e);
    await clock.advance(50);
    expect(await call).toMatchObject({ code: 'ETIMEDOUT' });
    await clock.advance(5_000);
    expect(attempts).toBe(1); // the sleep was cut short: no second attempt
    expect(r.metrics()).toMatchObject({ failures: 1, successes: 0 });
    expect(clock.pendingTimers).toBe(0);
    p.dispose();
  });

  it('a failing result that arrives after an outer timeout aborted the attempt stands, as a failure, without a retry', async () => {
    const clock = new ManualClock();
    const r = retry({ maxAttempts: 3, backoff: backoff.constant(10), clock, handleResult: (v) => v === 'bad' });
    const p = pipeline(timeout({ durationMs: 50, strategy: 'cooperative', clock }), r);
    let attempts = 0;
    const call = p.execute(
      ({ signal }) =>
        new Promise<string>((resolve) => {
          attempts++;
          signal.addEventListener('abort', () => resolve('bad'));
        }),
    );
    await clock.advance(50);
    expect(await call).toBe('bad');
    await clock.advance(100);
    expect(attempts).toBe(1);
    expect(r.metrics()).toMatchObject({ failures: 1, successes: 0, retries: 0 });
    p.dispose();
  });

  it('a failing result on a later attempt after the abort stands the same way', async () => {
    const clock = new ManualClock();
    const r = retry({ maxAttempts: 3, backoff: backoff.constant(10), clock, handleResult: (v) => v === 'bad' });
    const p = pipeline(timeout({ durationMs: 50, strategy: 'cooperative', clock }), r);
    let attempts = 0;
    const call = p.execute(({ signal }) => {
      attempts++;
      if (attempts === 1) return 'bad'; // handled: retried after 10 ms
      return new Promise<string>((resolve) => signal.addEventListener('abort', () => resolve('bad')));
    });
    await clock.advance(50);
    expect(await call).toBe('bad');
    await clock.advance(100);
    expect(attempts).toBe(2);
    expect(r.metrics()).toMatchObject({ failures: 1, retries: 1 });
    p.dispose();
  });
});

describe('retry events for failing results', () => {
  it('retry and giveUp carry the result, not an error', async () => {
    const clock = new ManualClock();
    const r = retry({ maxAttempts: 2, backoff: backoff.constant(10), clock, handleResult: (v) => v === 'bad' });
    const seen: unknown[] = [];
    r.events.on('retry', (e) => seen.push(['retry', e]));
    r.events.on('giveUp', (e) => seen.push(['giveUp', e]));
    const call = r.execute(() => 'bad');
    await clock.advance(10);
    expect(await call).toBe('bad');
    expect(seen).toEqual([
      ['retry', { attempt: 1, delayMs: 10, result: 'bad' }],
      ['giveUp', { attempts: 2, result: 'bad' }],
    ]);
    r.dispose();
  });

  it('a failing result on a later attempt is reported as a result too', async () => {
    const clock = new ManualClock();
    const r = retry({ maxAttempts: 3, backoff: backoff.constant(10), clock, handleResult: (v) => v === 'bad' });
    const seen: unknown[] = [];
    r.events.on('retry', (e) => seen.push(e));
    let n = 0;
    const call = r.execute(() => (++n === 1 ? Promise.reject(new Error('503')) : n === 2 ? 'bad' : 'ok'));
    await clock.advance(100);
    expect(await call).toBe('ok');
    expect(seen).toEqual([
      { attempt: 1, delayMs: 10, error: expect.objectContaining({ message: '503' }) as unknown },
      { attempt: 2, delayMs: 10, result: 'bad' },
    ]);
    r.dispose();
  });

  it('budgetExhausted carries the result that was not retried', async () => {
    const clock = new ManualClock();
    const budget = retryBudget({ ratio: 0, minPerSecond: 0, clock });
    const r = retry({ maxAttempts: 3, backoff: backoff.constant(10), budget, clock, handleResult: (v) => v === 'bad' });
    const seen: unknown[] = [];
    r.events.on('budgetExhausted', (e) => seen.push(e));
    expect(await r.execute(() => 'bad')).toBe('bad');
    expect(seen).toEqual([{ attempt: 1, result: 'bad' }]);
    r.dispose();
  });
});

describe('retry with unusual schedules and clocks', () => {
  it('a backoff that yields a non-number delay is a RangeError, not a retry', async () => {
    const clock = new ManualClock();
    const broken = { start: () => ({ next: () => '5' as unknown as number }) } satisfies Backoff;
    const r = retry({ maxAttempts: 3, backoff: broken, clock });
    let attempts = 0;
    await expect(r.execute(() => (attempts++, fail()))).rejects.toThrow(RangeError);
    await expect(r.execute(fail)).rejects.toThrow(/got "?5"?/);
    expect(attempts).toBe(1);
    r.dispose();
  });

  it('works with a clock whose timer handles are not objects, and re-refs handles that can be', async () => {
    const inner = new ManualClock();
    let refs = 0;
    const handles = new Map<object, unknown>();
    const nullClock: Clock = {
      now: () => inner.now(),
      setTimeout: (fn, ms) => {
        inner.setTimeout(fn, ms);
        return null;
      },
      clearTimeout: () => {},
    };
    const r1 = retry({ maxAttempts: 2, backoff: backoff.constant(5), clock: nullClock });
    let n = 0;
    const c1 = r1.execute(() => (++n === 1 ? fail() : 'ok'));
    await inner.advance(5);
    expect(await c1).toBe('ok');

    const refClock: Clock = {
      now: () => inner.now(),
      setTimeout: (fn, ms) => {
        const handle = { ref: () => void refs++ };
        handles.set(handle, inner.setTimeout(fn, ms));
        return handle;
      },
      clearTimeout: (h) => inner.clearTimeout(handles.get(h as object)),
    };
    const r2 = retry({ maxAttempts: 2, backoff: backoff.constant(5), clock: refClock });
    n = 0;
    const c2 = r2.execute(() => (++n === 1 ? fail() : 'ok'));
    await inner.advance(5);
    expect(await c2).toBe('ok');
    expect(refs).toBe(1); // the backoff sleep is what the caller waits for: it keeps the process alive
    r1.dispose();
    r2.dispose();
  });

  it('a disposed retry rejects without calling fn', async () => {
    const r = retry({ maxAttempts: 2, clock: new ManualClock() });
    r.dispose();
    let called = false;
    await expect(r.execute(() => (called = true))).rejects.toThrow();
    expect(called).toBe(false);
  });
});
