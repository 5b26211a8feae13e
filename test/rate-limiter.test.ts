import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, it, expect, vi } from 'vitest';
import { rateLimiter, RateLimitedError, isBreakwaterError, type RateLimiterPolicy } from '../src/index.js';
import { ManualClock } from '../src/testing/index.js';
import { expectInvalid } from './helpers.js';

/** Starts a call and records when (on the clock) `fn` ran; the outcome is captured, never unhandled. */
function track(limiter: RateLimiterPolicy, clock: ManualClock, log: Array<[string, number]>, id: string, signal?: AbortSignal) {
  const p = limiter.execute(
    () => {
      log.push([id, clock.now()]);
      return id;
    },
    signal === undefined ? undefined : { signal },
  );
  return p.then(
    (v) => ({ ok: true as const, v }),
    (e: unknown) => ({ ok: false as const, e }),
  );
}

async function rejected(p: Promise<unknown>): Promise<RateLimitedError> {
  const e = await p.catch((x: unknown) => x);
  expect(e).toBeInstanceOf(RateLimitedError);
  return e as RateLimitedError;
}

describe('rateLimiter: tokenBucket', () => {
  it('starts full: capacity calls pass at once, the next is refused with retryAfterMs', async () => {
    const clock = new ManualClock();
    const r = rateLimiter({ algorithm: 'tokenBucket', capacity: 3, refillPerSecond: 10, clock });
    for (let i = 0; i < 3; i++) expect(await r.execute(() => i)).toBe(i);
    const fn = vi.fn();
    const e = await rejected(r.execute(fn));
    expect(fn).not.toHaveBeenCalled();
    expect(e.retryAfterMs).toBe(100);
    expect(isBreakwaterError(e, 'ERATELIMITED')).toBe(true);
  });

  it('refills lazily from the clock, and retryAfterMs counts the partial token', async () => {
    const clock = new ManualClock();
    const r = rateLimiter({ algorithm: 'tokenBucket', capacity: 1, refillPerSecond: 10, clock });
    await r.execute(() => 1);
    await clock.advance(30);
    expect((await rejected(r.execute(() => 1))).retryAfterMs).toBe(70);
    await clock.advance(69);
    expect((await rejected(r.execute(() => 1))).retryAfterMs).toBe(1);
    await clock.advance(1);
    expect(await r.execute(() => 'ok')).toBe('ok');
    expect(clock.pendingTimers).toBe(0);
  });

  it('never holds more than capacity after idle time', async () => {
    const clock = new ManualClock();
    const r = rateLimiter({ algorithm: 'tokenBucket', capacity: 2, refillPerSecond: 100, clock });
    await clock.advance(3_600_000);
    await r.execute(() => 1);
    await r.execute(() => 1);
    expect((await rejected(r.execute(() => 1))).retryAfterMs).toBe(10);
  });

  it('rounds a fractional wait up, so a retry at retryAfterMs finds a permit', async () => {
    const clock = new ManualClock();
    const r = rateLimiter({ algorithm: 'tokenBucket', capacity: 1, refillPerSecond: 3, clock });
    await r.execute(() => 1);
    const { retryAfterMs } = await rejected(r.execute(() => 1));
    expect(retryAfterMs).toBe(334);
    await clock.advance(retryAfterMs);
    expect(await r.execute(() => 'ok')).toBe('ok');
  });

  it('a permit is taken whatever the outcome', async () => {
    const clock = new ManualClock();
    const r = rateLimiter({ algorithm: 'tokenBucket', capacity: 1, refillPerSecond: 1, clock });
    await expect(r.execute(() => Promise.reject(new Error('x')))).rejects.toThrow('x');
    await rejected(r.execute(() => 1));
  });

  it('maxWaitMs: waiters are served FIFO at the refill times, one timer for the queue', async () => {
    const clock = new ManualClock();
    const r = rateLimiter({ algorithm: 'tokenBucket', capacity: 1, refillPerSecond: 10, maxWaitMs: 250, clock });
    const log: Array<[string, number]> = [];
    const calls = ['a', 'b', 'c'].map((id) => track(r, clock, log, id));
    expect(r.queued).toBe(2);
    expect(clock.pendingTimers).toBe(1);
    // b would get a permit at 100, c at 200; d at 300 > 250: refused at once, with that wait.
    const d = await rejected(r.execute(() => 'd'));
    expect(d.retryAfterMs).toBe(300);
    await clock.advance(1000);
    expect((await Promise.all(calls)).every((o) => o.ok)).toBe(true);
    expect(log).toEqual([
      ['a', 0],
      ['b', 100],
      ['c', 200],
    ]);
    expect(clock.pendingTimers).toBe(0);
    expect(r.queued).toBe(0);
  });

  it("a waiter leaves at once on its caller's abort, and the next waiter moves up", async () => {
    const clock = new ManualClock();
    const r = rateLimiter({ algorithm: 'tokenBucket', capacity: 1, refillPerSecond: 10, maxWaitMs: 1000, clock });
    const log: Array<[string, number]> = [];
    await r.execute(() => 0);
    const ac = new AbortController();
    const b = track(r, clock, log, 'b', ac.signal);
    const c = track(r, clock, log, 'c');
    await clock.advance(50);
    const reason = new Error('gone');
    ac.abort(reason);
    expect(await b).toEqual({ ok: false, e: reason });
    expect(r.queued).toBe(1);
    await clock.advance(50);
    expect(await c).toEqual({ ok: true, v: 'c' });
    expect(log).toEqual([['c', 100]]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('the last waiter leaving clears the timer', async () => {
    const clock = new ManualClock();
    const r = rateLimiter({ algorithm: 'tokenBucket', capacity: 1, refillPerSecond: 1, maxWaitMs: 5000, clock });
    await r.execute(() => 0);
    const ac = new AbortController();
    const p = r.execute(() => 1, { signal: ac.signal });
    const out = expect(p).rejects.toBe('stop');
    expect(clock.pendingTimers).toBe(1);
    ac.abort('stop');
    await out;
    expect(clock.pendingTimers).toBe(0);
  });

  it('maxWaitMs Infinity waits as long as it takes', async () => {
    const clock = new ManualClock();
    const r = rateLimiter({ algorithm: 'tokenBucket', capacity: 1, refillPerSecond: 1, maxWaitMs: Infinity, clock });
    const log: Array<[string, number]> = [];
    const calls = Array.from({ length: 5 }, (_, i) => track(r, clock, log, String(i)));
    await clock.advance(4000);
    await Promise.all(calls);
    expect(log.map(([, t]) => t)).toEqual([0, 1000, 2000, 3000, 4000]);
  });
});

describe('rateLimiter: slidingWindow', () => {
  it('is exact: a call may start while fewer than limit started in the last windowMs', async () => {
    const clock = new ManualClock();
    const r = rateLimiter({ algorithm: 'slidingWindow', limit: 3, windowMs: 1000, clock });
    await r.execute(() => 1); // t=0
    await clock.advance(100);
    await r.execute(() => 1); // t=100
    await clock.advance(100);
    await r.execute(() => 1); // t=200
    await clock.advance(100);
    expect((await rejected(r.execute(() => 1))).retryAfterMs).toBe(700);
    await clock.advance(699);
    expect((await rejected(r.execute(() => 1))).retryAfterMs).toBe(1);
    await clock.advance(1); // t=1000: the start at 0 is exactly windowMs ago, so it has left
    expect(await r.execute(() => 'ok')).toBe('ok');
    expect((await rejected(r.execute(() => 1))).retryAfterMs).toBe(100);
  });

  it('stays exact after its start times wrapped around many times', async () => {
    const clock = new ManualClock();
    const r = rateLimiter({ algorithm: 'slidingWindow', limit: 4, windowMs: 10, clock });
    for (let i = 0; i < 100; i++) {
      await r.execute(() => i); // t = 0, 3, …, 297: three earlier starts in each window, admitted
      await clock.advance(3);
    }
    // t = 300: the window (290, 300] holds 291, 294 and 297, so one more may start, then none
    // until 291 leaves at 301.
    expect(await r.execute(() => 'ok')).toBe('ok');
    expect((await rejected(r.execute(() => 1))).retryAfterMs).toBe(1);
    await clock.advance(1);
    expect(await r.execute(() => 'ok')).toBe('ok');
  });

  it('keeps at most limit start times: the heap stays flat over 200,000 calls', async () => {
    // Time is stepped by hand, so the calls need not wait for a clock: 3 ms apart, each is
    // admitted (and nothing waits, so no timer is armed).
    let t = 0;
    const clock = { now: () => t, setTimeout: () => expect.unreachable('no timer'), clearTimeout: () => {} };
    const r = rateLimiter({ algorithm: 'slidingWindow', limit: 4, windowMs: 10, clock, metrics: false });
    const run = async (n: number): Promise<void> => {
      const batch: Array<Promise<number>> = [];
      for (let i = 0; i < n; i++) {
        t += 3;
        batch.push(r.execute(() => i));
        if (batch.length === 10_000) await Promise.all(batch.splice(0));
      }
      await Promise.all(batch);
    };
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    await run(10_000);
    gc();
    const before = process.memoryUsage().heapUsed;
    await run(200_000);
    gc();
    const after = process.memoryUsage().heapUsed;
    // A start time kept per call would be 8 bytes each at least: 1.6 MB.
    expect(after - before).toBeLessThan(512 * 1024);
  });

  it('a refused call has not used up a slot', async () => {
    const clock = new ManualClock();
    const r = rateLimiter({ algorithm: 'slidingWindow', limit: 1, windowMs: 100, clock });
    await r.execute(() => 1);
    for (let i = 0; i < 5; i++) {
      await clock.advance(10);
      await rejected(r.execute(() => 1));
    }
    await clock.advance(50);
    expect(await r.execute(() => 'ok')).toBe('ok');
  });

  it('maxWaitMs: waiters are served FIFO when slots leave the window, beyond one window too', async () => {
    const clock = new ManualClock();
    const r = rateLimiter({ algorithm: 'slidingWindow', limit: 2, windowMs: 100, maxWaitMs: 250, clock });
    const log: Array<[string, number]> = [];
    const calls = ['a', 'b', 'c', 'd', 'e', 'f'].map((id) => track(r, clock, log, id));
    const g = await rejected(r.execute(() => 'g'));
    expect(g.retryAfterMs).toBe(300);
    expect(r.queued).toBe(4);
    expect(clock.pendingTimers).toBe(1);
    await clock.advance(300);
    await Promise.all(calls);
    expect(log).toEqual([
      ['a', 0],
      ['b', 0],
      ['c', 100],
      ['d', 100],
      ['e', 200],
      ['f', 200],
    ]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('a new caller never overtakes waiters', async () => {
    const clock = new ManualClock();
    const r = rateLimiter({ algorithm: 'slidingWindow', limit: 1, windowMs: 100, maxWaitMs: 1000, clock });
    const log: Array<[string, number]> = [];
    const a = track(r, clock, log, 'a');
    const b = track(r, clock, log, 'b');
    await clock.advance(100);
    const c = track(r, clock, log, 'c');
    await clock.advance(200);
    await Promise.all([a, b, c]);
    expect(log).toEqual([
      ['a', 0],
      ['b', 100],
      ['c', 200],
    ]);
  });
});

describe('rateLimiter: events, metrics, dispose', () => {
  it('emits rejected with retryAfterMs and counts rejections', async () => {
    const clock = new ManualClock();
    const r = rateLimiter({ algorithm: 'slidingWindow', limit: 1, windowMs: 50, clock });
    const seen: unknown[] = [];
    r.events.on('rejected', (e) => seen.push(e));
    await r.execute(() => 1);
    await rejected(r.execute(() => 1));
    expect(seen).toEqual([{ retryAfterMs: 50 }]);
    expect(r.metrics()).toMatchObject({ kind: 'rateLimiter', calls: 2, successes: 1, rejections: 1, queued: 0 });
  });

  it('dispose rejects the waiters and clears the timer', async () => {
    const clock = new ManualClock();
    const r = rateLimiter({ algorithm: 'tokenBucket', capacity: 1, refillPerSecond: 1, maxWaitMs: 5000, clock });
    await r.execute(() => 1);
    const waiting = r.execute(() => 2);
    const out = expect(waiting).rejects.toThrow(/disposed/);
    r.dispose();
    await out;
    expect(clock.pendingTimers).toBe(0);
    await expect(r.execute(() => 3)).rejects.toThrow(/disposed/);
  });

  it('an already aborted signal rejects at once without taking a permit', async () => {
    const clock = new ManualClock();
    const r = rateLimiter({ algorithm: 'tokenBucket', capacity: 1, refillPerSecond: 1, clock });
    await expect(r.execute(() => 1, { signal: AbortSignal.abort('early') })).rejects.toBe('early');
    expect(await r.execute(() => 'ok')).toBe('ok');
  });

  it('metrics: false still limits', async () => {
    const clock = new ManualClock();
    const r = rateLimiter({ algorithm: 'tokenBucket', capacity: 1, refillPerSecond: 1, clock, metrics: false });
    await r.execute(() => 1);
    await rejected(r.execute(() => 1));
    expect(r.metrics().calls).toBe(0);
  });
});

describe('rateLimiter: bad input', () => {
  const bad = (v: unknown) => v as never;
  const tb = (extra: object) => rateLimiter({ algorithm: 'tokenBucket', capacity: 1, refillPerSecond: 1, ...extra } as never);
  const sw = (extra: object) => rateLimiter({ algorithm: 'slidingWindow', limit: 1, windowMs: 1, ...extra } as never);
  type Case = [label: string, make: () => unknown, error: typeof TypeError | typeof RangeError, fragments: string[]];
  const cases: Case[] = [
    ['options missing', () => rateLimiter(bad(undefined)), TypeError, ['rateLimiter:', 'algorithm', 'undefined']],
    ['options not an object', () => rateLimiter(bad('fast')), TypeError, ['rateLimiter:', 'options', '"fast"']],
    ['algorithm unknown', () => rateLimiter(bad({ algorithm: 'leaky' })), RangeError, ['rateLimiter:', 'algorithm', '"leaky"']],
    ['algorithm number', () => rateLimiter(bad({ algorithm: 1 })), TypeError, ['algorithm', '1']],
    ['capacity missing', () => tb({ capacity: undefined }), TypeError, ['rateLimiter:', 'capacity', 'undefined']],
    ['capacity string', () => tb({ capacity: '5' }), TypeError, ['capacity', '"5"']],
    ['capacity 0', () => tb({ capacity: 0 }), RangeError, ['capacity', 'got 0']],
    ['capacity fraction', () => tb({ capacity: 2.5 }), RangeError, ['capacity', '2.5']],
    ['capacity Infinity', () => tb({ capacity: Infinity }), RangeError, ['capacity', 'Infinity']],
    ['refillPerSecond missing', () => tb({ refillPerSecond: undefined }), TypeError, ['refillPerSecond', 'undefined']],
    ['refillPerSecond 0', () => tb({ refillPerSecond: 0 }), RangeError, ['rateLimiter:', 'refillPerSecond', 'got 0']],
    ['refillPerSecond negative', () => tb({ refillPerSecond: -1 }), RangeError, ['refillPerSecond', '-1']],
    ['refillPerSecond NaN', () => tb({ refillPerSecond: NaN }), RangeError, ['refillPerSecond', 'NaN']],
    ['refillPerSecond Infinity', () => tb({ refillPerSecond: Infinity }), RangeError, ['refillPerSecond', 'Infinity']],
    ['limit missing', () => sw({ limit: undefined }), TypeError, ['rateLimiter:', 'limit', 'undefined']],
    ['limit 0', () => sw({ limit: 0 }), RangeError, ['limit', 'got 0']],
    ['limit fraction', () => sw({ limit: 1.5 }), RangeError, ['limit', '1.5']],
    ['limit string', () => sw({ limit: '3' }), TypeError, ['limit', '"3"']],
    ['windowMs missing', () => sw({ windowMs: undefined }), TypeError, ['windowMs', 'undefined']],
    ['windowMs 0', () => sw({ windowMs: 0 }), RangeError, ['rateLimiter:', 'windowMs', 'got 0']],
    ['windowMs Infinity', () => sw({ windowMs: Infinity }), RangeError, ['windowMs', 'Infinity']],
    ['maxWaitMs string', () => tb({ maxWaitMs: '10' }), TypeError, ['maxWaitMs', '"10"']],
    ['maxWaitMs negative', () => sw({ maxWaitMs: -1 }), RangeError, ['rateLimiter:', 'maxWaitMs', '-1']],
    ['maxWaitMs NaN', () => sw({ maxWaitMs: NaN }), RangeError, ['maxWaitMs', 'NaN']],
    ['clock', () => tb({ clock: { now: 1 } }), TypeError, ['rateLimiter:', 'clock']],
    ['name', () => tb({ name: '' }), RangeError, ['rateLimiter:', 'name']],
  ];
  it.each(cases)('%s', (_label, make, error, fragments) => expectInvalid(make, error, fragments));

  it('never mutates the options object', () => {
    const options = Object.freeze({ algorithm: 'slidingWindow' as const, limit: 5, windowMs: 100, maxWaitMs: 10 });
    const r = rateLimiter(options);
    expect(r.maxWaitMs).toBe(10);
    expect(options).toEqual({ algorithm: 'slidingWindow', limit: 5, windowMs: 100, maxWaitMs: 10 });
  });
});
