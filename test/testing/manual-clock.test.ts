import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { ManualClock } from '../../src/testing/index.js';

describe('ManualClock', () => {
  it('starts at 0 (or the given time) and moves only when advanced', async () => {
    const c = new ManualClock();
    expect(c.now()).toBe(0);
    await c.advance(250);
    expect(c.now()).toBe(250);
    expect(new ManualClock(1000).now()).toBe(1000);
  });

  it('fires due timers in due-time order, ties in creation order, each at its due time', async () => {
    const c = new ManualClock();
    const log: string[] = [];
    c.setTimeout(() => log.push(`b@${c.now()}`), 20);
    c.setTimeout(() => log.push(`a@${c.now()}`), 10);
    c.setTimeout(() => log.push(`c1@${c.now()}`), 30);
    c.setTimeout(() => log.push(`c2@${c.now()}`), 30);
    c.setTimeout(() => log.push(`late@${c.now()}`), 31);
    expect(c.pendingTimers).toBe(5);
    await c.advance(30);
    expect(log).toEqual(['a@10', 'b@20', 'c1@30', 'c2@30']);
    expect(c.pendingTimers).toBe(1);
    expect(c.now()).toBe(30);
  });

  it('clearTimeout removes a timer; unknown handles are ignored', async () => {
    const c = new ManualClock();
    let fired = false;
    const h = c.setTimeout(() => (fired = true), 5);
    c.clearTimeout(h);
    c.clearTimeout('nope');
    c.clearTimeout(undefined);
    expect(c.pendingTimers).toBe(0);
    await c.advance(10);
    expect(fired).toBe(false);
  });

  it('first lets pending promise work settle, so timers it creates start at the current time', async () => {
    const c = new ManualClock();
    let firedAt = -1;
    // The timer is set two promise steps from now, and must count from t=0, not after the jump.
    void Promise.resolve()
      .then(() => undefined)
      .then(() => c.setTimeout(() => (firedAt = c.now()), 100));
    await c.advance(100);
    expect(firedAt).toBe(100);
  });

  it('lets the promise work a timer starts settle before the next timer fires', async () => {
    const c = new ManualClock();
    const log: string[] = [];
    c.setTimeout(() => {
      void Promise.resolve()
        .then(() => Promise.resolve())
        .then(() => log.push('work of first'));
    }, 10);
    c.setTimeout(() => log.push('second'), 10);
    await c.advance(10);
    expect(log).toEqual(['work of first', 'second']);
  });

  it('fires timers set by timers when they fall due within the same advance', async () => {
    const c = new ManualClock();
    const log: number[] = [];
    const tick = (): void => {
      log.push(c.now());
      if (log.length < 5) c.setTimeout(tick, 10);
    };
    c.setTimeout(tick, 10);
    await c.advance(35);
    expect(log).toEqual([10, 20, 30]);
    await c.runAll();
    expect(log).toEqual([10, 20, 30, 40, 50]);
    expect(c.pendingTimers).toBe(0);
  });

  it('treats negative and NaN delays as 0', async () => {
    const c = new ManualClock();
    let n = 0;
    c.setTimeout(() => n++, -5);
    c.setTimeout(() => n++, NaN);
    await c.advance(0);
    expect(n).toBe(2);
  });

  it('rejects bad input', async () => {
    const c = new ManualClock();
    await expect(c.advance(-1)).rejects.toBeInstanceOf(RangeError);
    await expect(c.advance(NaN)).rejects.toBeInstanceOf(RangeError);
    await expect(c.advanceTo(-1)).rejects.toBeInstanceOf(RangeError);
    expect(() => new ManualClock(Infinity)).toThrow(RangeError);
  });

  it('runAll stops at its limit when timers keep re-arming', async () => {
    const c = new ManualClock();
    const again = (): void => void c.setTimeout(again, 1);
    c.setTimeout(again, 1);
    await expect(c.runAll(50)).rejects.toThrow(/50 timers/);
  });

  it('property: any set of timers fires sorted by (due, creation), minus the cleared ones', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ delay: fc.integer({ min: 0, max: 50 }), clear: fc.boolean() }), { maxLength: 40 }),
        fc.integer({ min: 0, max: 60 }),
        async (timers, until) => {
          const c = new ManualClock();
          const fired: number[] = [];
          const handles = timers.map((t, i) => c.setTimeout(() => fired.push(i), t.delay));
          timers.forEach((t, i) => t.clear && c.clearTimeout(handles[i]));
          await c.advance(until);
          const expected = timers
            .map((t, i) => ({ ...t, i }))
            .filter((t) => !t.clear && t.delay <= until)
            .sort((a, b) => a.delay - b.delay || a.i - b.i)
            .map((t) => t.i);
          expect(fired).toEqual(expected);
          expect(c.pendingTimers).toBe(timers.filter((t) => !t.clear && t.delay > until).length);
        },
      ),
      { numRuns: 100 },
    );
  });
});
