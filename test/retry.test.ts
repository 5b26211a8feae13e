import { describe, it, expect, vi } from 'vitest';
import { retry, RetryPolicy } from '../src/retry.js';
import { retryBudget } from '../src/retry-budget.js';
import { backoff, type Backoff } from '../src/backoff.js';
import { timeout } from '../src/timeout.js';
import { pipeline } from '../src/pipeline.js';
import { handleErrors } from '../src/handle.js';
import { BrokenCircuitError, IsolatedCircuitError, RateLimitedError, TimeoutError } from '../src/errors.js';
import { ManualClock } from '../src/testing/index.js';
import { circuitBreaker } from '../src/circuit-breaker/index.js';
import type { AttemptContext } from '../src/contract.js';
import { expectInvalid } from './helpers.js';

class Boom extends Error {}
const boom = (n = 0): Boom => new Boom(`boom ${n}`);

/** A function that fails `failures` times with Boom, then returns 'ok'; records attempts and times. */
function flaky(clock: ManualClock, failures: number) {
  const calls: { attempt: number; at: number }[] = [];
  const fn = (ctx: AttemptContext): Promise<string> => {
    calls.push({ attempt: ctx.attempt, at: clock.now() });
    return calls.length <= failures ? Promise.reject(boom(calls.length)) : Promise.resolve('ok');
  };
  return { fn, calls };
}

/** A schedule whose start() calls are counted. */
function counted(inner: Backoff): Backoff & { starts: number } {
  const b = { starts: 0, start: () => (b.starts++, inner.start()) };
  return b;
}

describe('retry: the success path', () => {
  it('calls fn once with attempt 1, emits success, sets no timer and starts no backoff', async () => {
    const clock = new ManualClock();
    const schedule = counted(backoff.constant(10));
    const r = retry({ clock, backoff: schedule });
    const success = vi.fn();
    r.events.on('success', success);
    const attempts: number[] = [];
    await expect(r.execute((ctx) => (attempts.push(ctx.attempt), 42))).resolves.toBe(42);
    expect(attempts).toEqual([1]);
    expect(success).toHaveBeenCalledWith({ attempts: 1 });
    expect(clock.pendingTimers).toBe(0);
    expect(schedule.starts).toBe(0);
  });

  it('accepts sync values, undefined, thenables, and turns a sync throw into a retried failure', async () => {
    const clock = new ManualClock();
    const r = retry({ clock, backoff: backoff.constant(0) });
    await expect(r.execute(() => undefined)).resolves.toBeUndefined();
    const thenable = { then: (ok: (v: number) => void) => ok(7) } as unknown as PromiseLike<number>;
    await expect(r.execute(() => thenable)).resolves.toBe(7);
    let n = 0;
    const p = r.execute(() => {
      if (++n < 3) throw boom(n);
      return 'third';
    });
    await clock.runAll();
    await expect(p).resolves.toBe('third');
  });
});

describe('retry: attempts and outcomes', () => {
  it('retries handled errors after the backoff delays, numbering attempts 1, 2, 3', async () => {
    const clock = new ManualClock();
    const { fn, calls } = flaky(clock, 2);
    const r = retry({ clock, backoff: backoff.delays([100, 250]) });
    const events: unknown[] = [];
    r.events.on('retry', (e) => events.push(['retry', e]));
    r.events.on('success', (e) => events.push(['success', e]));
    const p = r.execute(fn);
    await clock.advance(99);
    expect(calls).toHaveLength(1);
    await clock.advance(1);
    expect(calls).toHaveLength(2);
    await clock.advance(250);
    await expect(p).resolves.toBe('ok');
    expect(calls).toEqual([
      { attempt: 1, at: 0 },
      { attempt: 2, at: 100 },
      { attempt: 3, at: 350 },
    ]);
    expect(events).toEqual([
      ['retry', { attempt: 1, delayMs: 100, error: expect.any(Boom) }],
      ['retry', { attempt: 2, delayMs: 250, error: expect.any(Boom) }],
      ['success', { attempts: 3 }],
    ]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('maxAttempts counts every attempt, the first included (cockatiel counted only retries)', async () => {
    for (const maxAttempts of [1, 2, 3, 5]) {
      const clock = new ManualClock();
      const { fn, calls } = flaky(clock, Infinity);
      const r = retry({ clock, maxAttempts, backoff: backoff.constant(1) });
      const giveUp = vi.fn();
      r.events.on('giveUp', giveUp);
      const p = r.execute(fn);
      const settled = expect(p).rejects.toThrow(`boom ${maxAttempts}`);
      await clock.runAll();
      await settled;
      expect(calls).toHaveLength(maxAttempts);
      expect(giveUp).toHaveBeenCalledTimes(1);
      expect(giveUp).toHaveBeenCalledWith({ attempts: maxAttempts, error: expect.any(Boom) });
    }
  });

  it('defaults to 3 attempts with exponential backoff', async () => {
    const clock = new ManualClock();
    const { fn, calls } = flaky(clock, Infinity);
    const r = retry({ clock });
    expect(r.maxAttempts).toBe(3);
    const settled = expect(r.execute(fn)).rejects.toThrow('boom 3');
    await clock.runAll();
    await settled;
    expect(calls).toHaveLength(3);
    // Full jitter below 100, then below 200.
    expect(calls[1]!.at).toBeLessThan(100);
    expect(calls[2]!.at - calls[1]!.at).toBeLessThan(200);
  });

  it('an error that is not handled leaves at once: no retry, no timer', async () => {
    const clock = new ManualClock();
    const r = retry({ clock, handle: handleErrors(TypeError) });
    const fn = vi.fn(() => Promise.reject(boom()));
    const giveUp = vi.fn();
    r.events.on('giveUp', giveUp);
    await expect(r.execute(fn)).rejects.toBeInstanceOf(Boom);
    expect(fn).toHaveBeenCalledTimes(1);
    expect(clock.pendingTimers).toBe(0);
    expect(giveUp).not.toHaveBeenCalled();
  });

  it('handleResult: failing values are retried, and the last one is returned when all fail', async () => {
    const clock = new ManualClock();
    const r = retry({ clock, maxAttempts: 3, backoff: backoff.constant(5), handleResult: (v) => (v as { status: number }).status >= 500 });
    const giveUp = vi.fn();
    r.events.on('giveUp', giveUp);
    let n = 0;
    const p = r.execute(() => ({ status: 500 + ++n }));
    await clock.runAll();
    await expect(p).resolves.toEqual({ status: 503 });
    expect(giveUp).toHaveBeenCalledWith({ attempts: 3, result: { status: 503 } });

    // A value that is not handled is returned at once.
    const q = vi.fn(() => ({ status: 200 }));
    await expect(r.execute(q)).resolves.toEqual({ status: 200 });
    expect(q).toHaveBeenCalledTimes(1);
  });

  it('the retry event carries the failing result', async () => {
    const clock = new ManualClock();
    const r = retry({ clock, maxAttempts: 2, backoff: backoff.constant(5), handleResult: (v) => v === 'bad' });
    const onRetry = vi.fn();
    r.events.on('retry', onRetry);
    const p = r.execute(() => 'bad');
    await clock.runAll();
    await expect(p).resolves.toBe('bad');
    expect(onRetry).toHaveBeenCalledWith({ attempt: 1, delayMs: 5, result: 'bad' });
  });

  it('ends when the backoff stops, even below maxAttempts', async () => {
    const clock = new ManualClock();
    const { fn, calls } = flaky(clock, Infinity);
    const r = retry({ clock, maxAttempts: 10, backoff: backoff.delays([10]) });
    const settled = expect(r.execute(fn)).rejects.toThrow('boom 2');
    await clock.runAll();
    await settled;
    expect(calls).toHaveLength(2);
  });

  it('a delay of 0 still waits for a timer (a macrotask), so instant retries cannot starve the loop', async () => {
    const clock = new ManualClock();
    const { fn, calls } = flaky(clock, 1);
    const p = retry({ clock, backoff: backoff.constant(0) }).execute(fn);
    await clock.flush();
    expect(calls).toHaveLength(1);
    expect(clock.pendingTimers).toBe(1);
    await clock.advance(0);
    await expect(p).resolves.toBe('ok');
  });

  it('the backoff sleep keeps the process alive (re-refs an unref\'d system timer), so a script cannot exit mid-retry', async () => {
    const handles: { ref: ReturnType<typeof vi.fn>; fn: () => void }[] = [];
    const clock = {
      now: () => 0,
      setTimeout: (fn: () => void) => {
        const h = { ref: vi.fn(), fn };
        handles.push(h);
        return h;
      },
      clearTimeout: () => {},
    };
    let n = 0;
    const p = retry({ clock, backoff: backoff.constant(10) }).execute(() => (++n === 1 ? Promise.reject(boom()) : 'ok'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(handles).toHaveLength(1);
    expect(handles[0]!.ref).toHaveBeenCalledTimes(1);
    handles[0]!.fn();
    await expect(p).resolves.toBe('ok');
  });

  it('one backoff schedule serves concurrent calls independently', async () => {
    const clock = new ManualClock();
    const r = retry({ clock, maxAttempts: 3, backoff: backoff.delays([10, 20]) });
    const a = flaky(clock, 2);
    const b = flaky(clock, 2);
    const pa = r.execute(a.fn);
    await clock.advance(5);
    const pb = r.execute(b.fn);
    await clock.runAll();
    await expect(Promise.all([pa, pb])).resolves.toEqual(['ok', 'ok']);
    expect(a.calls.map((c) => c.at)).toEqual([0, 10, 30]);
    expect(b.calls.map((c) => c.at)).toEqual([5, 15, 35]);
  });

  it('a hand-written backoff that yields NaN fails loudly instead of retrying with no delay', async () => {
    const clock = new ManualClock();
    const r = retry({ clock, backoff: { start: () => ({ next: () => NaN }) } });
    await expect(r.execute(() => Promise.reject(boom()))).rejects.toThrow(
      new RangeError('retry: backoff delays must be numbers >= 0 (or undefined to stop), got NaN'),
    );
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('retry: decorrelated jitter over 1500 attempts (cockatiel turned it into NaN at ~1000)', () => {
  it('every delay is a real wait: finite, within [initialMs, maxMs], and time moves by it', async () => {
    const clock = new ManualClock();
    let seed = 7;
    const random = (): number => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
    const r = retry({
      clock,
      maxAttempts: 1500,
      backoff: backoff.exponential({ jitter: 'decorrelated', initialMs: 1, maxMs: 1e9, random }),
      metrics: false,
    });
    const delays: number[] = [];
    r.events.on('retry', ({ delayMs }) => delays.push(delayMs));
    const { fn, calls } = flaky(clock, Infinity);
    const settled = expect(r.execute(fn)).rejects.toThrow('boom 1500');
    await clock.runAll(2000);
    await settled;
    expect(delays).toHaveLength(1499);
    for (const d of delays) {
      expect(Number.isFinite(d)).toBe(true);
      expect(d).toBeGreaterThanOrEqual(1);
      expect(d).toBeLessThanOrEqual(1e9);
    }
    // Each attempt started exactly its delay after the previous one.
    for (let i = 1; i < calls.length; i++) expect(calls[i]!.at - calls[i - 1]!.at).toBeCloseTo(delays[i - 1]!, 3);
  });
});

describe('retry: cancellation', () => {
  it('a caller abort during the backoff sleep rejects at once, clears the timer and starts no attempt (cockatiel ignored it)', async () => {
    const clock = new ManualClock();
    const { fn, calls } = flaky(clock, Infinity);
    const r = retry({ clock, maxAttempts: 5, backoff: backoff.constant(1000) });
    const ac = new AbortController();
    const p = r.execute(fn, { signal: ac.signal });
    const settled = expect(p).rejects.toBe('stop');
    await clock.advance(10);
    expect(clock.pendingTimers).toBe(1);
    ac.abort('stop');
    expect(clock.pendingTimers).toBe(0);
    await settled;
    await clock.advance(10_000);
    expect(calls).toHaveLength(1);
    expect(r.metrics().calls).toBe(0); // the caller's abort counts as neither outcome
  });

  it('a caller abort during an attempt rejects at once; the attempt failing later starts no retry', async () => {
    const clock = new ManualClock();
    const r = retry({ clock, backoff: backoff.constant(0) });
    const ac = new AbortController();
    let fail!: (e: unknown) => void;
    const fn = vi.fn(() => new Promise((_, reject) => (fail = reject)));
    const p = r.execute(fn, { signal: ac.signal });
    const settled = expect(p).rejects.toBe('gone');
    await clock.flush();
    ac.abort('gone');
    await settled;
    fail(boom());
    await clock.runAll();
    expect(fn).toHaveBeenCalledTimes(1);
    expect(clock.pendingTimers).toBe(0);
  });

  it('an already aborted signal rejects without calling fn', async () => {
    const fn = vi.fn();
    await expect(retry().execute(fn, { signal: AbortSignal.abort('early') })).rejects.toBe('early');
    expect(fn).not.toHaveBeenCalled();
  });

  it('the retry event comes before the sleep: a listener that aborts the caller prevents the sleep', async () => {
    const clock = new ManualClock();
    const ac = new AbortController();
    const r = retry({ clock, backoff: backoff.constant(50) });
    r.events.on('retry', () => {
      expect(clock.pendingTimers).toBe(0);
      ac.abort('from listener');
    });
    const fn = vi.fn(() => Promise.reject(boom()));
    await expect(r.execute(fn, { signal: ac.signal })).rejects.toBe('from listener');
    expect(clock.pendingTimers).toBe(0);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('an outer timeout ends the sleep at once, so even a cooperative timeout need not wait it out', async () => {
    const clock = new ManualClock();
    const outer = timeout({ durationMs: 500, strategy: 'cooperative', clock });
    const p = pipeline(outer, retry({ clock, maxAttempts: 5, backoff: backoff.constant(5000) }));
    const fn = vi.fn(() => Promise.reject(boom()));
    let at = -1;
    const settled = expect(p.execute(fn).finally(() => (at = clock.now()))).rejects.toBeInstanceOf(TimeoutError);
    await clock.advance(500);
    await settled;
    expect(at).toBe(500);
    expect(clock.pendingTimers).toBe(0);
    await clock.advance(10_000);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('each attempt gets its own inner timeout: pipeline(retry, timeout)', async () => {
    const clock = new ManualClock();
    const p = pipeline(retry({ clock, maxAttempts: 3, backoff: backoff.constant(10) }), timeout({ durationMs: 100, clock }));
    const signals: AbortSignal[] = [];
    const call = p.execute(({ signal, attempt }) => {
      signals.push(signal);
      return attempt < 3 ? new Promise(() => {}) : 'third time';
    });
    await clock.runAll();
    await expect(call).resolves.toBe('third time');
    expect(signals.map((s) => s.aborted)).toEqual([true, true, false]);
    expect(clock.now()).toBe(220);
  });
});

describe('retry: maxElapsedMs', () => {
  it('starts no attempt later than maxElapsedMs after the first', async () => {
    const clock = new ManualClock();
    const { fn, calls } = flaky(clock, Infinity);
    const r = retry({ clock, maxAttempts: Infinity, maxElapsedMs: 250, backoff: backoff.constant(100) });
    const settled = expect(r.execute(fn)).rejects.toThrow('boom 3');
    await clock.runAll();
    await settled;
    expect(calls.map((c) => c.at)).toEqual([0, 100, 200]);
  });

  it('allows an attempt exactly at maxElapsedMs, and measures from the first attempt with metrics off', async () => {
    const clock = new ManualClock(1000);
    const { fn, calls } = flaky(clock, Infinity);
    const r = retry({ clock, maxAttempts: Infinity, maxElapsedMs: 200, backoff: backoff.constant(100), metrics: false });
    const settled = expect(r.execute(fn)).rejects.toThrow('boom 3');
    await clock.runAll();
    await settled;
    expect(calls.map((c) => c.at)).toEqual([1000, 1100, 1200]);
  });
});

describe('retry: retryAfterMs hints', () => {
  it('lengthens the next delay to at least retryAfterMs (rate limiter, breaker)', async () => {
    const clock = new ManualClock();
    const errors = [new RateLimitedError(500), new BrokenCircuitError('open', 2000), new RateLimitedError(1)];
    let n = 0;
    const r = retry({ clock, maxAttempts: 4, backoff: backoff.constant(10) });
    const delays: number[] = [];
    r.events.on('retry', ({ delayMs }) => delays.push(delayMs));
    const p = r.execute(() => (n < errors.length ? Promise.reject(errors[n++]) : 'done'));
    await clock.runAll();
    await expect(p).resolves.toBe('done');
    expect(delays).toEqual([500, 2000, 10]);
    expect(clock.now()).toBe(2510);
  });

  it('pipeline(retry, circuitBreaker) waits out an open breaker instead of burning attempts on rejections', async () => {
    const clock = new ManualClock();
    const breaker = circuitBreaker({ clock, window: { type: 'consecutive', failures: 1 }, openDurationMs: 1000 });
    const r = retry({ clock, maxAttempts: 3, backoff: backoff.constant(10) });
    const delays: number[] = [];
    r.events.on('retry', ({ delayMs }) => delays.push(delayMs));
    const ran: number[] = [];
    const call = pipeline(r, breaker).execute(() => {
      ran.push(clock.now());
      return ran.length === 1 ? Promise.reject(boom()) : 'recovered';
    });
    await clock.runAll();
    await expect(call).resolves.toBe('recovered');
    // Attempt 1 fails and opens the breaker; attempt 2 (t = 10) is rejected with retryAfterMs 990,
    // so attempt 3 waits until the breaker half-opens at t = 1000 and runs as its trial call.
    expect(delays).toEqual([10, 990]);
    expect(ran).toEqual([0, 1000]);
  });

  it('an infinite retryAfterMs (an isolated breaker) ends the retrying with that error', async () => {
    const clock = new ManualClock();
    const r = retry({ clock, maxAttempts: 5, backoff: backoff.constant(10) });
    const giveUp = vi.fn();
    r.events.on('giveUp', giveUp);
    const isolated = new IsolatedCircuitError();
    const fn = vi.fn(() => Promise.reject(isolated));
    await expect(r.execute(fn)).rejects.toBe(isolated);
    expect(fn).toHaveBeenCalledTimes(1);
    expect(clock.pendingTimers).toBe(0);
    expect(giveUp).toHaveBeenCalledWith({ attempts: 1, error: isolated });
  });

  it('a retryAfterMs beyond maxElapsedMs ends the retrying with that error', async () => {
    const clock = new ManualClock();
    const r = retry({ clock, maxAttempts: 5, maxElapsedMs: 1000, backoff: backoff.constant(10) });
    const e = new BrokenCircuitError('open', 5000);
    const fn = vi.fn(() => Promise.reject(e));
    await expect(r.execute(fn)).rejects.toBe(e);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('ignores a retryAfterMs that is not a positive number, and a hint on a result', async () => {
    const clock = new ManualClock();
    const r = retry({ clock, maxAttempts: 2, backoff: backoff.constant(10), handleResult: () => true });
    const delays: number[] = [];
    r.events.on('retry', ({ delayMs }) => delays.push(delayMs));
    for (const hint of [-5, NaN, '900', null]) {
      const settled = expect(r.execute(() => Promise.reject(Object.assign(boom(), { retryAfterMs: hint })))).rejects.toBeInstanceOf(Boom);
      await clock.runAll();
      await settled;
    }
    const p = r.execute(() => ({ retryAfterMs: 900 }));
    await clock.runAll();
    await p;
    expect(delays).toEqual([10, 10, 10, 10, 10]);
  });

  it('a delay beyond the timer limit (~24.8 days) ends the retrying instead of firing at once', async () => {
    const clock = new ManualClock();
    const e = new RateLimitedError(2 ** 31);
    const fn = vi.fn(() => Promise.reject(e));
    await expect(retry({ clock, backoff: backoff.constant(1) }).execute(fn)).rejects.toBe(e);
    expect(fn).toHaveBeenCalledTimes(1);
  });
});

describe('retry: budget', () => {
  it('a refused retry ends the retrying with the last outcome; budgetExhausted then giveUp', async () => {
    const clock = new ManualClock();
    const budget = retryBudget({ ratio: 0, minPerSecond: 0.1, windowMs: 10_000, clock }); // 1 retry per window
    const r = retry({ clock, maxAttempts: 5, backoff: backoff.constant(10), budget });
    const events: string[] = [];
    r.events.on('retry', () => events.push('retry'));
    r.events.on('budgetExhausted', (e) => events.push(`budgetExhausted ${e.attempt} ${String((e.error as Error).message)}`));
    r.events.on('giveUp', (e) => events.push(`giveUp ${e.attempts}`));
    const { fn, calls } = flaky(clock, Infinity);
    const settled = expect(r.execute(fn)).rejects.toThrow('boom 2');
    await clock.runAll();
    await settled;
    expect(calls).toHaveLength(2);
    expect(events).toEqual(['retry', 'budgetExhausted 2 boom 2', 'giveUp 2']);
    expect(budget.retries).toBe(1);
    expect(budget.attempts).toBe(1);
  });

  it('a retry refused for another reason does not spend the budget', async () => {
    const clock = new ManualClock();
    const budget = retryBudget({ clock });
    const r = retry({ clock, maxAttempts: 1, budget });
    await expect(r.execute(() => Promise.reject(boom()))).rejects.toBeInstanceOf(Boom);
    await expect(r.execute(() => Promise.reject(new IsolatedCircuitError()))).rejects.toBeInstanceOf(IsolatedCircuitError);
    expect(budget.retries).toBe(0);
    expect(budget.attempts).toBe(2);
  });
});

describe('retry: metrics, events, disposal', () => {
  it('records each call once with its outcome and counts each retry', async () => {
    const clock = new ManualClock();
    const r = retry({ clock, maxAttempts: 2, backoff: backoff.constant(10) });
    await r.execute(() => 1);
    const a = r.execute(flaky(clock, 1).fn);
    const b = r.execute(flaky(clock, 5).fn);
    const settled = expect(b).rejects.toBeInstanceOf(Boom);
    await clock.runAll();
    await a;
    await settled;
    const m = r.metrics();
    expect(m).toMatchObject({ kind: 'retry', calls: 3, successes: 2, failures: 1, retries: 2 });
    expect(m.latencyMs.count).toBe(3);
    expect(m.latencyMs.max).toBe(10);
  });

  it('first attempts started at different times each record their own latency and emit success once', async () => {
    const clock = new ManualClock();
    const r = retry({ clock });
    const successes: number[] = [];
    r.events.on('success', ({ attempts }) => successes.push(attempts));
    let release: (v: number) => void = () => undefined;
    const first = r.execute(() => new Promise<number>((resolve) => (release = resolve)));
    await clock.advance(10);
    const second = r.execute(async () => {
      await clock.advance(5);
      return 2;
    });
    expect(await second).toBe(2);
    await clock.advance(15);
    release(1);
    expect(await first).toBe(1);
    expect(successes).toEqual([1, 1]);
    expect(r.metrics()).toMatchObject({ calls: 2, successes: 2, failures: 0, retries: 0 });
    expect(r.metrics().latencyMs).toMatchObject({ count: 2, min: 5, max: 30 });
  });

  it('metrics: false records nothing', async () => {
    const r = retry({ metrics: false });
    await r.execute(() => 1);
    expect(r.metrics()).toMatchObject({ calls: 0, successes: 0, windowMs: 0 });
  });

  it('a throwing listener never changes the outcome', async () => {
    const clock = new ManualClock();
    const r = retry({ clock, backoff: backoff.constant(1) });
    const errors: unknown[] = [];
    r.events.on('retry', () => {
      throw new Error('listener');
    });
    r.events.on('listenerError', ({ error }) => errors.push(error));
    const p = r.execute(flaky(clock, 1).fn);
    await clock.runAll();
    await expect(p).resolves.toBe('ok');
    expect(errors).toHaveLength(1);
  });

  it('dispose() ends sleeping calls at once (timers cleared) and later calls reject', async () => {
    const clock = new ManualClock();
    const r = retry({ clock, name: 'r1', backoff: backoff.constant(1000) });
    const p = r.execute(() => Promise.reject(boom()));
    const settled = expect(p).rejects.toThrow("retry 'r1' is disposed");
    await clock.advance(1);
    expect(clock.pendingTimers).toBe(1);
    r.dispose();
    expect(clock.pendingTimers).toBe(0);
    await settled;
    await expect(r.execute(() => 1)).rejects.toThrow("retry 'r1' is disposed");
  });

  it('a call in an attempt when dispose() runs finishes that attempt and makes no other', async () => {
    const clock = new ManualClock();
    const r = retry({ clock, name: 'r2', backoff: backoff.constant(10) });
    let fail!: (e: unknown) => void;
    const fn = vi.fn(() => new Promise((_, reject) => (fail = reject)));
    const p = r.execute(fn);
    const settled = expect(p).rejects.toThrow("retry 'r2' is disposed");
    await clock.flush();
    r.dispose();
    fail(boom());
    await settled;
    expect(clock.pendingTimers).toBe(0);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('wrap keeps this and the arguments', async () => {
    const r = retry();
    function add(this: { base: number }, a: number, b: number): number {
      return this.base + a + b;
    }
    const obj = { base: 10 };
    const wrapped = r.wrap(add);
    await expect(wrapped.call(obj, 1, 2)).resolves.toBe(13);
  });

  it('has kind retry, a default name, and exposes its resolved options', () => {
    const b = backoff.constant(5);
    const r = retry({ maxAttempts: 4, backoff: b, maxElapsedMs: 100 });
    expect(r).toBeInstanceOf(RetryPolicy);
    expect(r.kind).toBe('retry');
    expect(r.name).toMatch(/^retry-\d+$/);
    expect([r.maxAttempts, r.backoff, r.maxElapsedMs, r.budget]).toEqual([4, b, 100, undefined]);
  });
});

describe('retry: options are validated at construction', () => {
  const bad = (v: unknown): never => v as never;
  const cases: [string, () => unknown, typeof TypeError | typeof RangeError, string][] = [
    ['maxAttempts 0', () => retry({ maxAttempts: 0 }), RangeError, 'retry: maxAttempts must be an integer >= 1 (or Infinity), got 0'],
    ['maxAttempts 1.5', () => retry({ maxAttempts: 1.5 }), RangeError, 'got 1.5'],
    ['maxAttempts NaN', () => retry({ maxAttempts: NaN }), RangeError, 'got NaN'],
    ['maxAttempts -Infinity', () => retry({ maxAttempts: -Infinity }), RangeError, 'got -Infinity'],
    ['maxAttempts string', () => retry({ maxAttempts: bad('3') }), TypeError, 'retry: maxAttempts must be an integer >= 1 (or Infinity), got "3"'],
    ['backoff number', () => retry({ backoff: bad(100) }), TypeError, 'retry: backoff must be a Backoff (from backoff.*), got 100'],
    ['backoff object', () => retry({ backoff: bad({}) }), TypeError, 'backoff'],
    ['maxElapsedMs -1', () => retry({ maxElapsedMs: -1 }), RangeError, 'retry: maxElapsedMs must be a number >= 0 (or Infinity), got -1'],
    ['maxElapsedMs NaN', () => retry({ maxElapsedMs: NaN }), RangeError, 'maxElapsedMs'],
    ['maxElapsedMs string', () => retry({ maxElapsedMs: bad('1s') }), TypeError, 'maxElapsedMs'],
    ['budget', () => retry({ budget: bad({}) }), TypeError, 'retry: budget must be a retry budget (from retryBudget()), got an object'],
    ['budget null', () => retry({ budget: bad(null) }), TypeError, 'got null'],
    ['budget look-alike', () => retry({ budget: bad({ recordAttempt() {}, tryRetry: () => true }) }), TypeError, 'retry: budget'],
    ['handle', () => retry({ handle: bad(true) }), TypeError, 'retry: handle must be a function, got true'],
    ['handleResult', () => retry({ handleResult: bad('x') }), TypeError, 'handleResult'],
    ['clock', () => retry({ clock: bad({}) }), TypeError, 'retry: clock'],
    ['name', () => retry({ name: '' }), RangeError, 'retry: name'],
    ['options', () => retry(bad(3)), TypeError, 'retry: options must be an object, got 3'],
  ];
  for (const [label, make, type, message] of cases) {
    it(`${label}: ${type.name}`, () => expectInvalid(make, type, message));
  }

  it('accepts maxAttempts Infinity and never mutates the options', () => {
    const options = Object.freeze({ maxAttempts: Infinity, maxElapsedMs: 1000 });
    expect(() => retry(options)).not.toThrow();
    expect(options).toEqual({ maxAttempts: Infinity, maxElapsedMs: 1000 });
    const empty = {};
    retry(empty);
    expect(empty).toEqual({});
  });
});
