import { describe, it, expect } from 'vitest';
import { ConsecutiveWindow, CountWindow, TimeWindow, type RateRule } from '../../src/circuit-breaker/windows.js';

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
