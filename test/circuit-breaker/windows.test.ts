import { describe, it, expect } from 'vitest';
import { ConsecutiveWindow, CountWindow, TimeWindow, type RateRule } from '../../src/circuit-breaker/windows.js';
import { circuitBreaker } from '../../src/circuit-breaker/index.js';
import { EDGE_TIMER } from '../../src/clock.js';
import { ManualClock } from '../../src/testing/manual-clock.js';
import { MAX_TIMER_MS } from '../../src/validate.js';

const rule = (over: Partial<RateRule> = {}): RateRule => ({ minimumCalls: 1, failureRate: 0.5, slowRate: Infinity, ...over });

describe('ConsecutiveWindow', () => {
  it('opens after `failures` failures in a row; a success starts the run over', () => {
    const w = new ConsecutiveWindow(3);
    expect(w.record(true)).toBe(false);
    expect(w.record(true)).toBe(false);
    expect(w.record(false)).toBe(false);
    expect(w.record(true)).toBe(false);
    expect(w.record(true)).toBe(false);
    expect(w.record(true)).toBe(true);
  });

  it('saves and restores the run', () => {
    const w = new ConsecutiveWindow(3);
    w.record(true);
    w.record(true);
    expect(w.toJSON()).toEqual({ type: 'consecutive', consecutiveFailures: 2 });
    const v = new ConsecutiveWindow(3);
    v.restore(w.toJSON());
    expect(v.record(true)).toBe(true);
    v.reset();
    expect(v.toJSON()).toEqual({ type: 'consecutive', consecutiveFailures: 0 });
  });
});

describe('CountWindow', () => {
  it('decides on the last `size` outcomes only', () => {
    const w = new CountWindow(4, rule({ minimumCalls: 4 }));
    expect(w.record(true, false)).toBe(false); // 1 call: below minimumCalls
    expect(w.record(false, false)).toBe(false);
    expect(w.record(false, false)).toBe(false);
    expect(w.record(false, false)).toBe(false); // F S S S: 1/4 < 0.5
    expect(w.record(false, false)).toBe(false); // the failure left the ring: S S S S
    expect(w.record(true, false)).toBe(false); // S S S F
    expect(w.record(true, false)).toBe(true); // S S F F: 2/4 >= 0.5
  });

  it('opens at exactly the threshold, computed as a rate (3 / 30 >= 0.1)', () => {
    const w = new CountWindow(30, rule({ minimumCalls: 30, failureRate: 0.1 }));
    for (let i = 0; i < 27; i++) expect(w.record(false, false)).toBe(false);
    expect(w.record(true, false)).toBe(false);
    expect(w.record(true, false)).toBe(false);
    expect(w.record(true, false)).toBe(true);
  });

  it('clamps minimumCalls to the ring size (resilience4j), so a small ring can decide', () => {
    const w = new CountWindow(2, rule({ minimumCalls: 20 }));
    expect(w.record(true, false)).toBe(false);
    expect(w.record(true, false)).toBe(true);
  });

  it('counts slow calls, failed or not, toward the slow rate', () => {
    const w = new CountWindow(4, rule({ minimumCalls: 4, failureRate: 1, slowRate: 0.5 }));
    w.record(false, true);
    w.record(false, false);
    w.record(false, false);
    expect(w.record(true, true)).toBe(true); // 2 slow of 4
  });

  it('saves outcomes oldest first and restores the newest `size` of them', () => {
    const w = new CountWindow(3, rule({ minimumCalls: 3 }));
    w.record(true, false); // 1
    w.record(false, true); // 2
    w.record(true, true); // 3
    w.record(false, false); // 0, evicts the first
    expect(w.toJSON()).toEqual({ type: 'count', outcomes: [2, 3, 0] });
    const smaller = new CountWindow(2, rule({ minimumCalls: 2 }));
    smaller.restore({ type: 'count', outcomes: [2, 3, 0] });
    expect(smaller.toJSON()).toEqual({ type: 'count', outcomes: [3, 0] });
    expect(smaller.record(false, false)).toBe(false); // [0, 0]
    expect(smaller.record(true, false)).toBe(true); // [0, 1]: 1/2 >= 0.5
  });
});

describe('TimeWindow', () => {
  it('forgets calls bucket by bucket as the clock moves, not per call', () => {
    const w = new TimeWindow(1000, 10, rule({ minimumCalls: 3 })); // 100 ms buckets
    expect(w.record(true, false, 0)).toBe(false);
    expect(w.record(true, false, 50)).toBe(false);
    expect(w.toJSON(999).buckets.reduce((n, b) => n + b.calls, 0)).toBe(2);
    // At 1000 the bucket of 0–99 has left the window: only the new call remains.
    expect(w.record(true, false, 1000)).toBe(false);
    expect(w.toJSON(1000).buckets.reduce((n, b) => n + b.failures, 0)).toBe(1);
  });

  it('many calls in one bucket do not rotate the window', () => {
    const w = new TimeWindow(1000, 10, rule({ minimumCalls: 100, failureRate: 1 }));
    for (let i = 0; i < 99; i++) expect(w.record(true, false, 5)).toBe(false);
    expect(w.record(true, false, 5)).toBe(true);
  });

  it('reads empty after hours of idle time', () => {
    const w = new TimeWindow(10_000, 10, rule({ minimumCalls: 2 }));
    w.record(true, false, 0);
    const later = 5 * 3_600_000;
    expect(w.record(true, false, later)).toBe(false); // the old failure is gone: 1 call only
    expect(w.toJSON(later).buckets.reduce((n, b) => n + b.calls, 0)).toBe(1);
  });

  it('counts a late time into the newest bucket and copes with a negative clock', () => {
    const w = new TimeWindow(1000, 10, rule({ minimumCalls: 10 }));
    w.record(false, false, -250);
    w.record(false, false, 500);
    w.record(true, false, 100); // late: counts at 500
    const snap = w.toJSON(500);
    expect(snap.buckets.at(-1)).toEqual({ calls: 2, failures: 1, slowCalls: 0 });
    expect(snap.buckets.reduce((n, b) => n + b.calls, 0)).toBe(3);
  });

  it('saves and restores its buckets, shifted by the downtime', () => {
    const w = new TimeWindow(1000, 10, rule({ minimumCalls: 100 }));
    w.record(true, false, 0);
    w.record(false, true, 950);
    const saved = w.toJSON(950);
    expect(saved).toMatchObject({ type: 'time', bucketMs: 100 });
    expect(saved.buckets).toHaveLength(10);

    const same = new TimeWindow(1000, 10, rule({ minimumCalls: 100 }));
    same.restore(saved, 0, 5000);
    expect(same.toJSON(5000)).toEqual(saved);

    const later = new TimeWindow(1000, 10, rule({ minimumCalls: 100 }));
    later.restore(saved, 500, 5000); // five buckets of downtime: the call at 0 is gone
    const total = (s: ReturnType<TimeWindow['toJSON']>): number => s.buckets.reduce((n, b) => n + b.calls, 0);
    expect(total(later.toJSON(5000))).toBe(1);

    const other = new TimeWindow(2000, 10, rule()); // another bucket width: starts empty
    other.restore(saved, 0, 5000);
    expect(total(other.toJSON(5000))).toBe(0);
  });

  it('a saved window that is older than the whole window restores empty', () => {
    const w = new TimeWindow(1000, 10, rule());
    w.record(true, false, 0);
    const v = new TimeWindow(1000, 10, rule());
    v.restore(w.toJSON(0), 60_000, 0);
    expect(v.toJSON(0)).toEqual({ type: 'time', bucketMs: 100, buckets: Array.from({ length: 10 }, () => ({ calls: 0, failures: 0, slowCalls: 0 })) });
  });
});

describe('TimeWindow keeping time by its edge timer', () => {
  /** A ManualClock that counts reads. */
  const counting = (): { clock: ManualClock; reads: () => number } => {
    const clock = new ManualClock();
    let n = 0;
    const now = clock.now.bind(clock);
    clock.now = () => {
      n++;
      return now();
    };
    return { clock, reads: () => n };
  };
  const calls = (w: TimeWindow, at: number): number => w.toJSON(at).buckets.reduce((n, b) => n + b.calls, 0);

  it('reads the clock once per bucket, and forgets calls exactly at the bucket edges', async () => {
    const { clock, reads } = counting();
    const w = new TimeWindow(1000, 10, rule({ minimumCalls: 100 })); // 100 ms buckets
    w.keepTime(clock);
    expect(w.needsClock).toBe(false);
    for (let i = 0; i < 5; i++) w.record(true, false, NaN);
    expect(reads()).toBe(1);
    expect(clock.pendingTimers).toBe(1);
    await clock.advance(99);
    w.record(false, false, NaN); // still the bucket of 0–99: no read
    expect(reads()).toBe(1);
    await clock.advance(1); // 100: the edge timer fires and is not re-armed
    expect(clock.pendingTimers).toBe(0);
    w.record(false, false, NaN); // the first call of the bucket of 100–199
    expect(clock.pendingTimers).toBe(1);
    expect(calls(w, 999)).toBe(7);
    expect(calls(w, 1000)).toBe(1); // the bucket of 0–99 left the window at exactly 1000
  });

  it('an outcome at exactly a bucket edge counts in the new bucket, also when another timer of that time runs first', async () => {
    const clock = new ManualClock();
    const w = new TimeWindow(1000, 10, rule({ minimumCalls: 100 }));
    w.keepTime(clock);
    clock.setTimeout(() => w.record(true, false, NaN), 100); // set before the window's timer
    w.record(true, false, NaN);
    await clock.advance(100);
    const snap = w.toJSON(100);
    expect(snap.buckets.at(-1)).toEqual({ calls: 1, failures: 1, slowCalls: 0 });
    expect(snap.buckets.at(-2)).toEqual({ calls: 1, failures: 1, slowCalls: 0 });
  });

  it('a timer that fires early waits for the rest of the bucket', async () => {
    const clock = new ManualClock();
    // A clock whose first edge timer fires half a millisecond early, as a system timer may.
    let first = true;
    const early = {
      now: () => clock.now(),
      setTimeout: (fn: () => void, ms: number) => clock.setTimeout(fn, ms),
      clearTimeout: (h: unknown) => clock.clearTimeout(h),
      [EDGE_TIMER]: (fn: () => void, ms: number) => {
        const h = clock.setTimeout(fn, first ? ms - 0.5 : ms);
        first = false;
        return h;
      },
    };
    const w = new TimeWindow(1000, 10, rule({ minimumCalls: 100 }));
    w.keepTime(early);
    w.record(true, false, NaN);
    await clock.advance(99.5); // fired early: armed again for the last half millisecond
    expect(clock.pendingTimers).toBe(1);
    w.record(true, false, NaN);
    expect(w.toJSON(99.75).buckets.at(-1)).toEqual({ calls: 2, failures: 2, slowCalls: 0 });
    await clock.advance(0.5);
    expect(clock.pendingTimers).toBe(0);
    w.record(false, false, NaN);
    expect(w.toJSON(100).buckets.at(-1)).toEqual({ calls: 1, failures: 0, slowCalls: 0 });
  });

  it('a bucket longer than a timer can wait is reached in steps', async () => {
    const clock = new ManualClock();
    const w = new TimeWindow(2 * MAX_TIMER_MS + 2, 1, rule({ minimumCalls: 100 }));
    w.keepTime(clock);
    w.record(true, false, NaN);
    await clock.advance(MAX_TIMER_MS);
    expect(clock.pendingTimers).toBe(1); // the bucket has not ended: the rest
    await clock.advance(MAX_TIMER_MS + 2);
    expect(clock.pendingTimers).toBe(0);
  });

  it('reset() and stop() clear the timer; records after them arm it again', async () => {
    const clock = new ManualClock();
    const w = new TimeWindow(1000, 10, rule({ minimumCalls: 100 }));
    w.keepTime(clock);
    w.record(true, false, NaN);
    w.reset();
    expect(clock.pendingTimers).toBe(0);
    expect(calls(w, 0)).toBe(0);
    w.record(true, false, NaN);
    w.stop();
    expect(clock.pendingTimers).toBe(0);
    await clock.advance(150);
    w.record(true, false, NaN); // not armed: reads the clock, moves to the bucket of 100–199
    expect(clock.pendingTimers).toBe(1);
    expect(w.toJSON(150).buckets.slice(-2)).toEqual([
      { calls: 1, failures: 1, slowCalls: 0 },
      { calls: 1, failures: 1, slowCalls: 0 },
    ]);
  });

  it('a clock without an edge timer is read for every call, as before', () => {
    const clock = new ManualClock();
    let reads = 0;
    const custom = {
      now: () => (reads++, clock.now()),
      setTimeout: (fn: () => void, ms: number) => clock.setTimeout(fn, ms),
      clearTimeout: (h: unknown) => clock.clearTimeout(h),
    };
    const w = new TimeWindow(1000, 10, rule());
    w.keepTime(custom);
    expect(w.needsClock).toBe(true);
    const breaker = circuitBreaker({ clock: custom, metrics: false });
    return (async () => {
      for (let i = 0; i < 5; i++) await breaker.execute(() => 1);
      expect(reads).toBe(5);
      expect(clock.pendingTimers).toBe(0);
    })();
  });
});

describe('a circuit breaker on a time window kept by its edge timer', () => {
  const fail = (b: ReturnType<typeof circuitBreaker>, n = 1): Promise<unknown> =>
    Promise.all(Array.from({ length: n }, () => b.execute(() => Promise.reject(new Error('down'))).catch(() => undefined)));
  // The default window: 10 s in 1 s buckets.
  const setup = () => {
    const clock = new ManualClock();
    const breaker = circuitBreaker({ clock, minimumCalls: 4, failureRateThreshold: 0.5, metrics: false });
    return { clock, breaker };
  };

  it('failures within the window open it', async () => {
    const { clock, breaker } = setup();
    await fail(breaker, 3);
    await clock.advance(9_999);
    await fail(breaker);
    expect(breaker.state).toBe('open');
  });

  it('failures 10 s ago do not open it', async () => {
    const { clock, breaker } = setup();
    await fail(breaker, 3);
    await clock.advance(10_000);
    await fail(breaker);
    expect(breaker.state).toBe('closed');
    await fail(breaker, 2);
    expect(breaker.state).toBe('closed'); // 3 calls in the window
    await fail(breaker);
    expect(breaker.state).toBe('open');
  });

  it('a gap of many windows clears it', async () => {
    const { clock, breaker } = setup();
    await fail(breaker, 3);
    await clock.advance(5 * 3_600_000);
    await fail(breaker, 3);
    expect(breaker.state).toBe('closed');
  });

  it('an idle breaker holds no timer; a busy one holds one until the end of its bucket', async () => {
    const { clock, breaker } = setup();
    expect(clock.pendingTimers).toBe(0);
    await breaker.execute(() => 1);
    await breaker.execute(() => 2);
    expect(clock.pendingTimers).toBe(1);
    await clock.advance(999);
    expect(clock.pendingTimers).toBe(1);
    await clock.advance(1);
    expect(clock.pendingTimers).toBe(0);
    await clock.advance(60_000);
    expect(clock.pendingTimers).toBe(0);
  });

  it('dispose() and reset() clear the timer; opening leaves only the open timer', async () => {
    const { clock, breaker } = setup();
    await breaker.execute(() => 1);
    breaker.reset(); // already closed: the window is emptied all the same
    expect(clock.pendingTimers).toBe(0);
    await breaker.execute(() => 1);
    breaker.dispose();
    expect(clock.pendingTimers).toBe(0);

    const other = setup();
    await fail(other.breaker, 4);
    expect(other.breaker.state).toBe('open');
    expect(other.clock.pendingTimers).toBe(1); // openDurationMs
  });
});
