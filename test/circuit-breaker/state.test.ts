import { describe, it, expect, vi, afterEach } from 'vitest';
import { backoff } from '../../src/backoff.js';
import { circuitBreaker, type CircuitBreakerOptions } from '../../src/circuit-breaker/index.js';
import { ManualClock } from '../../src/testing/index.js';
import { fail, setup, succeed } from './helpers.js';

afterEach(() => {
  vi.restoreAllMocks();
});

/** Fixes the wall clock (Date.now), which only toJSON / initialState read. */
const wallClock = (ms: number) => vi.spyOn(Date, 'now').mockReturnValue(ms);

const restore = (initialState: unknown, options: CircuitBreakerOptions = {}) => {
  const clock = new ManualClock();
  const breaker = circuitBreaker({ clock, ...options, initialState: initialState as never });
  return { clock, breaker };
};

describe('toJSON()', () => {
  it('is plain, JSON-safe data: state, openings, time left, save time and the window', async () => {
    wallClock(1_000_000);
    const { clock, breaker } = setup({ window: { type: 'consecutive', failures: 2 }, openDurationMs: 1000 });
    expect(breaker.toJSON()).toEqual({
      version: 1,
      state: 'closed',
      openings: 0,
      retryAfterMs: 0,
      savedAt: 1_000_000,
      window: { type: 'consecutive', consecutiveFailures: 0 },
    });
    await fail(breaker, 2);
    await clock.advance(300);
    const json = breaker.toJSON();
    expect(json).toMatchObject({ state: 'open', openings: 1, retryAfterMs: 700 });
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
    expect(JSON.stringify(breaker)).toBe(JSON.stringify(json));
  });

  it('round-trips every state and window through JSON', async () => {
    wallClock(5000);
    const windows = [
      { type: 'consecutive', failures: 3 },
      { type: 'count', size: 5 },
      { type: 'time', durationMs: 1000, buckets: 4 },
    ] as const;
    for (const window of windows) {
      const { clock, breaker } = setup({ window, minimumCalls: 100, openDurationMs: 1000 });
      await fail(breaker, 2);
      await succeed(breaker);
      await fail(breaker);
      const closed = JSON.parse(JSON.stringify(breaker)) as unknown;
      expect(restore(closed, { window, minimumCalls: 100 }).breaker.toJSON()).toEqual(closed);
      const hold = breaker.isolate();
      const isolated = JSON.parse(JSON.stringify(breaker)) as unknown;
      expect(restore(isolated, { window, minimumCalls: 100 }).breaker.toJSON()).toEqual(isolated);
      hold.release();
      void clock;
    }
  });
});

describe('initialState', () => {
  it('restores an open breaker for the time left, minus the downtime, then half-opens by timer', async () => {
    wallClock(10_000);
    const { clock, breaker } = restore({ state: 'open', openings: 1, retryAfterMs: 1000, savedAt: 9_700 }, { openDurationMs: 1000 });
    expect(breaker.state).toBe('open');
    await expect(breaker.execute(() => 1)).rejects.toMatchObject({ retryAfterMs: 700 });
    await clock.advance(700);
    expect(breaker.state).toBe('halfOpen');
  });

  it('without retryAfterMs an open breaker waits a whole open period; without savedAt nothing is subtracted', async () => {
    const { breaker } = restore({ state: 'open' }, { openDurationMs: 2000 });
    await expect(breaker.execute(() => 1)).rejects.toMatchObject({ retryAfterMs: 2000 });
  });

  it('an open period that ended during the downtime half-opens on the first timer tick', async () => {
    wallClock(100_000);
    const { clock, breaker } = restore({ state: 'open', retryAfterMs: 1000, savedAt: 1 });
    expect(breaker.state).toBe('open');
    await clock.advance(0);
    expect(breaker.state).toBe('halfOpen');
  });

  it('replays a Backoff, so the next reopening gets the next duration', async () => {
    const { clock, breaker } = restore(
      { state: 'halfOpen', openings: 2 },
      { window: { type: 'consecutive', failures: 1 }, openDurationMs: backoff.delays([100, 200, 400, 800]) },
    );
    await fail(breaker);
    expect(breaker.toJSON()).toMatchObject({ state: 'open', openings: 3, retryAfterMs: 400 });
    await clock.advance(400);
    expect(breaker.state).toBe('halfOpen');
  });

  it('restores half-open with every trial slot free', async () => {
    const { breaker } = restore({ state: 'halfOpen' }, { halfOpenCalls: 2 });
    await succeed(breaker, 2);
    expect(breaker.state).toBe('closed');
  });

  it('a restored isolation holds until reset(): handles do not survive a restart', () => {
    const { breaker } = restore({ state: 'isolated' });
    expect(breaker.state).toBe('isolated');
    breaker.isolate().release();
    expect(breaker.state).toBe('isolated');
    breaker.reset();
    expect(breaker.state).toBe('closed');
  });

  it('restores the window: a closed breaker continues its run of failures', async () => {
    const { breaker } = restore(
      { state: 'closed', window: { type: 'consecutive', consecutiveFailures: 2 } },
      { window: { type: 'consecutive', failures: 3 } },
    );
    await fail(breaker);
    expect(breaker.state).toBe('open');
  });

  it('a saved window of another type (a changed configuration) is dropped; the state is kept', async () => {
    const { breaker } = restore(
      { state: 'closed', window: { type: 'count', outcomes: [1, 1, 1] } },
      { window: { type: 'consecutive', failures: 2 } },
    );
    await fail(breaker);
    expect(breaker.state).toBe('closed');
  });

  it('ignores unknown fields (a newer version may add some) and never mutates the input', () => {
    const input = Object.freeze({ state: 'closed', future: true, window: Object.freeze({ type: 'count', outcomes: Object.freeze([1]) }) });
    expect(restore(input, { window: { type: 'count', size: 2 } }).breaker.toJSON()).toMatchObject({ state: 'closed', window: { outcomes: [1] } });
  });

  const inherited = Object.create({ state: 'open' }) as object;
  const withGetter = Object.defineProperty({}, 'state', { get: () => 'open', enumerable: true });
  const inheritedWindow = Object.assign(Object.create({ window: { type: 'consecutive', consecutiveFailures: 1 } }) as object, { state: 'closed' });
  const holey = [1, , 1]; // eslint-disable-line no-sparse-arrays
  const bad: Array<[string, unknown, ErrorConstructor, RegExp]> = [
    ['null', null, TypeError, /initialState must be an object, got null/],
    ['a string', '{"state":"open"}', TypeError, /initialState must be an object, got "/],
    ['an array', [], TypeError, /initialState must be an object, got an array/],
    ['no state', {}, TypeError, /initialState.state must be one of 'closed', 'open', 'halfOpen', 'isolated', got undefined/],
    ['an unknown state', { state: 'ajar' }, RangeError, /initialState.state must be one of .*got "ajar"/],
    ['a state of the wrong type', { state: 1 }, TypeError, /initialState.state .* got 1/],
    ['an inherited state', inherited, TypeError, /initialState.state must be an own property, got an inherited value/],
    ['an accessor', withGetter, TypeError, /initialState.state must be a data property, got an accessor/],
    ['an inherited window', inheritedWindow, TypeError, /initialState.window must be an own property/],
    ['version 2', { version: 2, state: 'closed' }, RangeError, /initialState.version .* got 2/],
    ['a string version', { version: '1', state: 'closed' }, TypeError, /initialState.version/],
    ['openings as a string', { state: 'open', openings: '1' }, TypeError, /initialState.openings must be an integer >= 0, got "1"/],
    ['negative openings', { state: 'closed', openings: -1 }, RangeError, /initialState.openings/],
    ['fractional openings', { state: 'open', openings: 1.5 }, RangeError, /initialState.openings/],
    ['openings while closed', { state: 'closed', openings: 2 }, RangeError, /initialState.openings must be 0 when state is 'closed', got 2/],
    ['no openings while open', { state: 'open', openings: 0 }, RangeError, /initialState.openings must be an integer >= 1 when state is 'open', got 0/],
    ['negative retryAfterMs', { state: 'open', retryAfterMs: -5 }, RangeError, /initialState.retryAfterMs .* got -5/],
    ['NaN retryAfterMs', { state: 'open', retryAfterMs: NaN }, RangeError, /initialState.retryAfterMs .* got NaN/],
    ['Infinite retryAfterMs', { state: 'open', retryAfterMs: Infinity }, RangeError, /initialState.retryAfterMs/],
    ['retryAfterMs as a string', { state: 'open', retryAfterMs: '5' }, TypeError, /initialState.retryAfterMs/],
    ['savedAt as a Date', { state: 'open', savedAt: new Date() }, TypeError, /initialState.savedAt must be a finite number, got an object/],
    ['a window that is not an object', { state: 'closed', window: 'count' }, TypeError, /initialState.window must be an object/],
    ['an unknown window type', { state: 'closed', window: { type: 'sliding' } }, RangeError, /initialState.window.type must be one of/],
    ['a negative run', { state: 'closed', window: { type: 'consecutive', consecutiveFailures: -1 } }, RangeError, /consecutiveFailures/],
    ['a missing run', { state: 'closed', window: { type: 'consecutive' } }, TypeError, /consecutiveFailures .* got undefined/],
    ['outcomes not an array', { state: 'closed', window: { type: 'count', outcomes: '0101' } }, TypeError, /outcomes must be an array/],
    ['an outcome out of range', { state: 'closed', window: { type: 'count', outcomes: [0, 4] } }, RangeError, /outcomes\[1\] must be an integer in \[0, 3\], got 4/],
    ['an outcome of the wrong type', { state: 'closed', window: { type: 'count', outcomes: [true] } }, TypeError, /outcomes\[0\]/],
    ['a hole in outcomes', { state: 'closed', window: { type: 'count', outcomes: holey } }, TypeError, /outcomes\[1\] must be an own element, got a hole/],
    ['a zero bucketMs', { state: 'closed', window: { type: 'time', bucketMs: 0, buckets: [] } }, RangeError, /bucketMs/],
    ['buckets not an array', { state: 'closed', window: { type: 'time', bucketMs: 100, buckets: {} } }, TypeError, /buckets must be an array/],
    ['a bucket that is not an object', { state: 'closed', window: { type: 'time', bucketMs: 100, buckets: [3] } }, TypeError, /buckets\[0\] must be an object/],
    ['a bucket with failures > calls', { state: 'closed', window: { type: 'time', bucketMs: 100, buckets: [{ calls: 1, failures: 2, slowCalls: 0 }] } }, RangeError, /buckets\[0\].failures must be an integer <= calls \(1\), got 2/],
    ['a bucket with slowCalls > calls', { state: 'closed', window: { type: 'time', bucketMs: 100, buckets: [{ calls: 1, failures: 0, slowCalls: 2 }] } }, RangeError, /slowCalls/],
    ['a bucket missing calls', { state: 'closed', window: { type: 'time', bucketMs: 100, buckets: [{ failures: 0, slowCalls: 0 }] } }, TypeError, /buckets\[0\].calls/],
  ];

  it.each(bad)('refuses %s', (_what, value, kind, message) => {
    const make = () => circuitBreaker({ clock: new ManualClock(), initialState: value as never });
    expect(make).toThrow(kind);
    expect(make).toThrow(message);
  });

  it('a refused initialState leaves nothing behind: no timer, no registry entry', () => {
    const clock = new ManualClock();
    const added: unknown[] = [];
    expect(() =>
      circuitBreaker({
        clock,
        registry: { add: (p) => added.push(p) },
        initialState: { state: 'open', window: { type: 'count', outcomes: [9] } } as never,
      }),
    ).toThrow(RangeError);
    expect(clock.pendingTimers).toBe(0);
    expect(added).toEqual([]);
  });
});
