import { describe, it, expect, vi } from 'vitest';
import { hedge, HedgePolicy } from '../src/hedge.js';
import { retryBudget } from '../src/retry-budget.js';
import { retry } from '../src/retry.js';
import { timeout } from '../src/timeout.js';
import { pipeline } from '../src/pipeline.js';
import { backoff } from '../src/backoff.js';
import { handleErrors } from '../src/handle.js';
import { ManualClock } from '../src/testing/index.js';
import type { AttemptContext } from '../src/contract.js';
import { expectInvalid } from './helpers.js';

class Boom extends Error {}

interface Attempt {
  attempt: number;
  at: number;
  signal: AbortSignal;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

/** A function whose attempts stay pending until the test settles them. */
function controlled(clock: ManualClock) {
  const attempts: Attempt[] = [];
  const fn = (ctx: AttemptContext): Promise<unknown> =>
    new Promise((resolve, reject) => {
      attempts.push({ attempt: ctx.attempt, at: clock.now(), signal: ctx.signal, resolve, reject });
    });
  return { fn, attempts };
}

describe('hedge: the first attempt answers before the delay', () => {
  it('runs one attempt, starts no hedge and clears its timer', async () => {
    const clock = new ManualClock();
    const h = hedge({ delayMs: 100, clock });
    const onHedge = vi.fn();
    h.events.on('hedge', onHedge);
    const { fn, attempts } = controlled(clock);
    const p = h.execute(fn);
    await clock.advance(50);
    expect(clock.pendingTimers).toBe(1);
    attempts[0]!.resolve('fast');
    await expect(p).resolves.toBe('fast');
    expect(clock.pendingTimers).toBe(0);
    await clock.advance(1000);
    expect(attempts).toHaveLength(1);
    expect(onHedge).not.toHaveBeenCalled();
    expect(attempts[0]!.signal.aborted).toBe(false);
  });

  it('accepts sync values and turns a sync throw into a failure that starts the hedge at once', async () => {
    const clock = new ManualClock();
    const h = hedge({ delayMs: 100, clock });
    await expect(h.execute(() => 5)).resolves.toBe(5);
    const fn = vi.fn((ctx: AttemptContext) => {
      if (ctx.attempt === 1) throw new Boom('sync');
      return 'second';
    });
    await expect(h.execute(fn)).resolves.toBe('second');
    expect(clock.now()).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('hedge: slow attempts', () => {
  it('starts attempt 2 after delayMs; the winner answers and the loser is aborted', async () => {
    const clock = new ManualClock();
    const h = hedge({ delayMs: 100, clock });
    const hedges: unknown[] = [];
    h.events.on('hedge', (e) => hedges.push(e));
    const { fn, attempts } = controlled(clock);
    const p = h.execute(fn);
    await clock.advance(100);
    expect(attempts.map((a) => [a.attempt, a.at])).toEqual([
      [1, 0],
      [2, 100],
    ]);
    expect(hedges).toEqual([{ attempt: 2 }]);
    attempts[1]!.resolve('second');
    await expect(p).resolves.toBe('second');
    expect(attempts[0]!.signal.aborted).toBe(true);
    expect((attempts[0]!.signal.reason as DOMException).name).toBe('AbortError');
    expect(attempts[1]!.signal.aborted).toBe(false);
    // The loser settling late (even rejecting) changes nothing and is never unhandled.
    attempts[0]!.reject(attempts[0]!.signal.reason);
    await clock.flush();
    expect(clock.pendingTimers).toBe(0);
  });

  it('the first attempt can still win after the hedge started', async () => {
    const clock = new ManualClock();
    const h = hedge({ delayMs: 10, clock });
    const { fn, attempts } = controlled(clock);
    const p = h.execute(fn);
    await clock.advance(10);
    attempts[0]!.resolve('first');
    await expect(p).resolves.toBe('first');
    expect(attempts[1]!.signal.aborted).toBe(true);
    attempts[1]!.resolve('late');
  });

  it('maxHedges 2: attempts at 0, d, 2d; delayMs may be a function of the attempt number', async () => {
    const clock = new ManualClock();
    const delayMs = vi.fn((attempt: number) => attempt * 10);
    const h = hedge({ delayMs, maxHedges: 2, clock });
    const { fn, attempts } = controlled(clock);
    const p = h.execute(fn);
    await clock.advance(1000);
    expect(attempts.map((a) => [a.attempt, a.at])).toEqual([
      [1, 0],
      [2, 20],
      [3, 50],
    ]);
    expect(delayMs.mock.calls).toEqual([[2], [3]]);
    expect(clock.pendingTimers).toBe(0);
    attempts[2]!.resolve(3);
    await expect(p).resolves.toBe(3);
    expect(attempts.map((a) => a.signal.aborted)).toEqual([true, true, false]);
  });

  it('delayMs 0 starts every attempt at once; Infinity hedges only on failure', async () => {
    const clock = new ManualClock();
    const all = controlled(clock);
    const p = hedge({ delayMs: 0, maxHedges: 2, clock }).execute(all.fn);
    expect(all.attempts.map((a) => a.attempt)).toEqual([1, 2, 3]);
    expect(clock.pendingTimers).toBe(0);
    all.attempts[1]!.resolve('b');
    await expect(p).resolves.toBe('b');

    const lazy = controlled(clock);
    const q = hedge({ delayMs: Infinity, clock }).execute(lazy.fn);
    expect(clock.pendingTimers).toBe(0);
    await clock.advance(1e6);
    expect(lazy.attempts).toHaveLength(1);
    lazy.attempts[0]!.reject(new Boom());
    await clock.flush();
    expect(lazy.attempts).toHaveLength(2);
    lazy.attempts[1]!.resolve('after failure');
    await expect(q).resolves.toBe('after failure');
  });
});

describe('hedge: failures', () => {
  it('a handled failure starts the next attempt at once, and the pending timer goes', async () => {
    const clock = new ManualClock();
    const h = hedge({ delayMs: 100, maxHedges: 2, clock });
    const { fn, attempts } = controlled(clock);
    const p = h.execute(fn);
    await clock.advance(10);
    attempts[0]!.reject(new Boom('1'));
    await clock.flush();
    expect(attempts.map((a) => [a.attempt, a.at])).toEqual([
      [1, 0],
      [2, 10],
    ]);
    // Attempt 3 comes 100 after attempt 2 started, not after attempt 1.
    await clock.advance(99);
    expect(attempts).toHaveLength(2);
    await clock.advance(1);
    expect(attempts).toHaveLength(3);
    attempts[2]!.resolve('ok');
    await expect(p).resolves.toBe('ok');
  });

  it('when every attempt fails, the last failure stands and no rejection is left unhandled', async () => {
    const clock = new ManualClock();
    const h = hedge({ delayMs: 10, maxHedges: 2, clock });
    const { fn, attempts } = controlled(clock);
    const p = h.execute(fn);
    const settled = expect(p).rejects.toThrow('third failed');
    await clock.advance(20);
    attempts[1]!.reject(new Boom('second failed'));
    attempts[0]!.reject(new Boom('first failed'));
    await clock.flush();
    attempts[2]!.reject(new Boom('third failed'));
    await settled;
    expect(clock.pendingTimers).toBe(0);
  });

  it('handleResult: failing values lead to the next attempt; if all fail the last failing value is returned', async () => {
    const clock = new ManualClock();
    const h = hedge({ delayMs: 100, clock, handleResult: (v) => v === 'bad' });
    const fn = vi.fn(() => 'bad');
    await expect(h.execute(fn)).resolves.toBe('bad');
    expect(fn).toHaveBeenCalledTimes(2);
    expect(h.metrics()).toMatchObject({ successes: 0, failures: 1 });
  });

  it('an error that is not handled wins at once and aborts the others', async () => {
    const clock = new ManualClock();
    const h = hedge({ delayMs: 10, clock, handle: handleErrors(Boom) });
    const { fn, attempts } = controlled(clock);
    const p = h.execute(fn);
    await clock.advance(10);
    const fatal = new TypeError('fatal');
    attempts[1]!.reject(fatal);
    await expect(p).rejects.toBe(fatal);
    expect(attempts[0]!.signal.aborted).toBe(true);
  });

  it('a throwing handle predicate fails the call instead of leaving it hanging', async () => {
    const clock = new ManualClock();
    const h = hedge({
      delayMs: 10,
      clock,
      handle: () => {
        throw new Error('predicate');
      },
    });
    await expect(h.execute(() => Promise.reject(new Boom()))).rejects.toThrow('predicate');
    expect(clock.pendingTimers).toBe(0);
  });

  it('a delayMs function returning an invalid delay rejects the call without running fn', async () => {
    const clock = new ManualClock();
    const fn = vi.fn();
    const h = hedge({ delayMs: () => NaN, clock });
    await expect(h.execute(fn)).rejects.toThrow(new RangeError('hedge: delayMs(2) must be a number >= 0 (or Infinity), got NaN'));
    expect(fn).not.toHaveBeenCalled();
  });
});

describe('hedge: cancellation', () => {
  it("a caller abort rejects at once with the reason, aborts every attempt's signal and clears the timer", async () => {
    const clock = new ManualClock();
    const h = hedge({ delayMs: 10, maxHedges: 2, clock });
    const { fn, attempts } = controlled(clock);
    const ac = new AbortController();
    const p = h.execute(fn, { signal: ac.signal });
    const settled = expect(p).rejects.toBe('cancelled');
    await clock.advance(10);
    expect(clock.pendingTimers).toBe(1);
    ac.abort('cancelled');
    await settled;
    expect(clock.pendingTimers).toBe(0);
    expect(attempts.map((a) => [a.signal.aborted, a.signal.reason])).toEqual([
      [true, 'cancelled'],
      [true, 'cancelled'],
    ]);
    for (const a of attempts) a.reject(a.signal.reason);
    await clock.advance(100);
    expect(attempts).toHaveLength(2);
    expect(h.metrics().calls).toBe(0);
  });

  it('an already aborted signal rejects without calling fn', async () => {
    const fn = vi.fn();
    await expect(hedge({ delayMs: 1 }).execute(fn, { signal: AbortSignal.abort('no') })).rejects.toBe('no');
    expect(fn).not.toHaveBeenCalled();
  });

  it('an outer timeout aborts every attempt and the hedge timer goes', async () => {
    const clock = new ManualClock();
    const p = pipeline(timeout({ durationMs: 50, clock, strategy: 'cooperative' }), hedge({ delayMs: 30, clock, maxHedges: 3 }));
    const { fn, attempts } = controlled(clock);
    const settled = expect(p.execute(fn)).rejects.toThrow('timed out');
    await clock.advance(50);
    await settled;
    expect(attempts.map((a) => a.signal.aborted)).toEqual([true, true]);
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('hedge: budget, metrics, composition, disposal', () => {
  it('hedges draw on a shared budget; a refused hedge is not started', async () => {
    const clock = new ManualClock();
    const budget = retryBudget({ ratio: 0, minPerSecond: 0.1, windowMs: 10_000, clock }); // one extra attempt
    const h = hedge({ delayMs: 10, clock, budget });
    const exhausted = vi.fn();
    h.events.on('budgetExhausted', exhausted);
    const a = controlled(clock);
    const b = controlled(clock);
    const pa = h.execute(a.fn);
    const pb = h.execute(b.fn);
    await clock.advance(10);
    expect(a.attempts).toHaveLength(2);
    expect(b.attempts).toHaveLength(1);
    expect(exhausted).toHaveBeenCalledWith({ attempt: 2 });
    a.attempts[0]!.resolve('a');
    b.attempts[0]!.resolve('b');
    await expect(Promise.all([pa, pb])).resolves.toEqual(['a', 'b']);
    expect([budget.attempts, budget.retries]).toEqual([2, 1]);
  });

  it('a budget shared by retry and hedge', async () => {
    const clock = new ManualClock();
    const budget = retryBudget({ ratio: 0, minPerSecond: 0.2, windowMs: 10_000, clock }); // two extras
    const r = retry({ clock, budget, maxAttempts: 3, backoff: backoff.constant(1) });
    const h = hedge({ delayMs: 1, clock, budget });
    const { fn, attempts } = controlled(clock);
    const ph = h.execute(fn);
    await clock.advance(1);
    expect(attempts).toHaveLength(2);
    let n = 0;
    const pr = r.execute(() => Promise.reject(new Boom(String(++n))));
    const settled = expect(pr).rejects.toThrow('2');
    await clock.runAll();
    await settled;
    attempts[1]!.resolve('h');
    await expect(ph).resolves.toBe('h');
    expect([budget.attempts, budget.retries]).toEqual([2, 2]);
  });

  it('records outcomes and counts hedges as retries', async () => {
    const clock = new ManualClock();
    const h = hedge({ delayMs: 10, clock });
    const { fn, attempts } = controlled(clock);
    const p = h.execute(fn);
    await clock.advance(15);
    attempts[1]!.resolve(1);
    await p;
    await h.execute(() => 2);
    expect(h.metrics()).toMatchObject({ kind: 'hedge', calls: 2, successes: 2, failures: 0, retries: 1 });
  });

  it('ctx.attempt numbers attempts; an inner retry sees its own numbering', async () => {
    const clock = new ManualClock();
    const seen: number[] = [];
    const p = pipeline(hedge({ delayMs: 5, clock }), retry({ clock, maxAttempts: 2, backoff: backoff.constant(100) }));
    const call = p.execute((ctx) => {
      seen.push(ctx.attempt);
      return seen.length === 3 ? 'third' : Promise.reject(new Boom());
    });
    await clock.runAll();
    await expect(call).resolves.toBe('third');
    expect(seen).toEqual([1, 1, 2]);
  });

  it('dispose() clears the timers of calls in flight, which start no more attempts', async () => {
    const clock = new ManualClock();
    const h = hedge({ delayMs: 10, maxHedges: 3, clock, name: 'h1' });
    const { fn, attempts } = controlled(clock);
    const p = h.execute(fn);
    await clock.flush();
    expect(clock.pendingTimers).toBe(1);
    h.dispose();
    expect(clock.pendingTimers).toBe(0);
    attempts[0]!.reject(new Boom('only'));
    await expect(p).rejects.toThrow('only');
    expect(attempts).toHaveLength(1);
    await expect(h.execute(fn)).rejects.toThrow("hedge 'h1' is disposed");
  });

  it("the delay's timer keeps the process alive (re-refs an unref'd system timer), a timeout's does not", async () => {
    // A clock whose handles record `ref()` and whether they were cleared, as systemClock's would.
    const handles: Array<{ ref: ReturnType<typeof vi.fn>; fn: () => void; ms: number; cleared: boolean }> = [];
    const clock = {
      now: () => 0,
      setTimeout: (fn: () => void, ms: number) => {
        const h = { ref: vi.fn(), fn, ms, cleared: false };
        handles.push(h);
        return h;
      },
      clearTimeout: (h: unknown) => {
        (h as { cleared: boolean }).cleared = true;
      },
    };
    const h = hedge({ delayMs: 100, clock });
    let release: (v: string) => void = () => {};
    const first = h.execute((ctx) => (ctx.attempt === 1 ? new Promise<string>((r) => (release = r)) : 'second'));
    expect(handles).toHaveLength(1);
    expect(handles[0]).toMatchObject({ ms: 100, cleared: false });
    expect(handles[0]!.ref).toHaveBeenCalledTimes(1);
    release('first'); // the first attempt wins: the timer goes with the call
    await expect(first).resolves.toBe('first');
    expect(handles[0]!.cleared).toBe(true);
    // The hedge fires: the next attempt starts and wins; no timer is left.
    const hedged = h.execute((ctx) => (ctx.attempt === 1 ? new Promise<string>(() => {}) : 'second'));
    expect(handles).toHaveLength(2);
    expect(handles[1]!.ref).toHaveBeenCalledTimes(1);
    handles[1]!.fn();
    await expect(hedged).resolves.toBe('second');
    expect(handles).toHaveLength(2);
    // Disposed with a call waiting: the timer is cleared.
    void h.execute(() => new Promise<string>(() => {}));
    expect(handles[2]!.ref).toHaveBeenCalledTimes(1);
    h.dispose();
    expect(handles[2]!.cleared).toBe(true);
    // A timeout's deadline guards a running call: left unref'd.
    void timeout({ durationMs: 100, clock })
      .execute(() => new Promise(() => {}))
      .catch(() => {});
    expect(handles).toHaveLength(4);
    expect(handles[3]!.ref).not.toHaveBeenCalled();
  });

  it('has kind hedge and exposes its options', () => {
    const h = hedge({ delayMs: 25, maxHedges: 2 });
    expect(h).toBeInstanceOf(HedgePolicy);
    expect([h.kind, h.delayMs, h.maxHedges, h.budget]).toEqual(['hedge', 25, 2, undefined]);
  });
});

describe('hedge: options are validated at construction', () => {
  const bad = (v: unknown): never => v as never;
  const cases: [string, () => unknown, typeof TypeError | typeof RangeError, string][] = [
    ['no options', () => hedge(bad(undefined)), TypeError, 'hedge: delayMs must be a number in [0, 2147483647] ms (or Infinity) or a function, got undefined'],
    ['delayMs string', () => hedge({ delayMs: bad('10') }), TypeError, 'got "10"'],
    ['delayMs -1', () => hedge({ delayMs: -1 }), RangeError, 'hedge: delayMs must be a number in [0, 2147483647] ms (or Infinity), got -1'],
    ['delayMs NaN', () => hedge({ delayMs: NaN }), RangeError, 'got NaN'],
    ['maxHedges -1', () => hedge({ delayMs: 1, maxHedges: -1 }), RangeError, 'hedge: maxHedges must be an integer in [0, 100], got -1'],
    ['maxHedges 1.5', () => hedge({ delayMs: 1, maxHedges: 1.5 }), RangeError, 'got 1.5'],
    ['maxHedges Infinity', () => hedge({ delayMs: 1, maxHedges: Infinity }), RangeError, 'got Infinity'],
    ['maxHedges string', () => hedge({ delayMs: 1, maxHedges: bad('2') }), TypeError, 'maxHedges'],
    ['budget', () => hedge({ delayMs: 1, budget: bad(1) }), TypeError, 'hedge: budget must be a retry budget'],
    ['handle', () => hedge({ delayMs: 1, handle: bad(1) }), TypeError, 'hedge: handle must be a function, got 1'],
    ['options', () => hedge(bad('x')), TypeError, 'hedge: options must be an object, got "x"'],
  ];
  for (const [label, make, type, message] of cases) {
    it(`${label}: ${type.name}`, () => expectInvalid(make, type, message));
  }

  it('never mutates the options; maxHedges 0 is allowed (no hedging)', async () => {
    const options = Object.freeze({ delayMs: 5, maxHedges: 0 });
    const clock = new ManualClock();
    const h = hedge({ ...options, clock });
    expect(options).toEqual({ delayMs: 5, maxHedges: 0 });
    const fn = vi.fn(() => Promise.reject(new Boom('x')));
    await expect(h.execute(fn)).rejects.toThrow('x');
    expect(fn).toHaveBeenCalledTimes(1);
    expect(clock.pendingTimers).toBe(0);
  });
});
