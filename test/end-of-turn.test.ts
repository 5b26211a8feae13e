// The end-of-turn queue and the coarse per-turn time (src/clock.ts). vitest.config.ts runs this
// file three times: on Node as it is, without `setImmediate` (the queue runs on a MessageChannel
// message, as in a browser) and without `MessageChannel` as well (on `setTimeout(0)`).
import { describe, it, expect } from 'vitest';
import { atEndOfTurn, endOfTurnPrimitive, metricsTime, turnNow, turnTimeOf } from '../src/clock.js';
import { circuitBreaker, systemClock, timeout } from '../src/index.js';
import { ManualClock } from '../src/testing/index.js';
import { nextTurn } from './helpers.js';

/** Lets every pending promise reaction run, without ending the turn. */
async function microtasks(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

describe(`end-of-turn queue (on ${endOfTurnPrimitive})`, () => {
  it('runs every callback queued in a turn once, in order, after the turn', async () => {
    const ran: string[] = [];
    atEndOfTurn(() => ran.push('a'));
    atEndOfTurn(() => ran.push('b'));
    atEndOfTurn(() => ran.push('c'));
    await microtasks();
    expect(ran).toEqual([]);
    await nextTurn();
    expect(ran).toEqual(['a', 'b', 'c']);
    await nextTurn();
    expect(ran).toEqual(['a', 'b', 'c']);
  });

  it('runs a callback queued while it flushes, later and once (never dropped)', async () => {
    const ran: string[] = [];
    atEndOfTurn(() => {
      ran.push('first');
      atEndOfTurn(() => ran.push('second'));
      ran.push('queued');
    });
    await nextTurn();
    await nextTurn();
    expect(ran).toEqual(['first', 'queued', 'second']);
    await nextTurn();
    expect(ran).toEqual(['first', 'queued', 'second']);
  });

  it('takes callbacks from any number of owners in one turn', async () => {
    const counts = [0, 0, 0, 0];
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < counts.length; i++) atEndOfTurn(() => counts[i]!++);
      await nextTurn();
    }
    expect(counts).toEqual([3, 3, 3, 3]);
  });
});

describe('turn time', () => {
  it('moves on after a deadline queue emptied in the same turn (regression: it froze)', async () => {
    // A call that settles within its turn leaves the timeout's deadline queue empty, which queues
    // the deferred clear of its timer for the end of the turn — beside the turn clock's reset.
    const t = timeout(60_000);
    expect(await t.execute(() => 1)).toBe(1);
    const first = turnNow();
    await nextTurn();
    await nextTurn();
    const before = systemClock.now();
    expect(turnNow()).toBeGreaterThanOrEqual(before);
    expect(turnNow()).toBeGreaterThan(first);
    t.dispose();
  });

  it('moves on after a breaker forgot its turn handlers in the same turn', async () => {
    const b = circuitBreaker();
    for (let i = 0; i < 3; i++) await b.execute(() => i);
    const first = turnNow();
    await nextTurn();
    await nextTurn();
    const before = systemClock.now();
    expect(turnNow()).toBeGreaterThanOrEqual(before);
    expect(turnNow()).toBeGreaterThan(first);
  });

  it('is one value within a turn, read from the clock once', () => {
    const a = turnNow();
    const later = systemClock.now();
    expect(turnNow()).toBe(a);
    expect(later).toBeGreaterThanOrEqual(a);
  });

  it('is offered by systemClock only: any other clock is read exactly', async () => {
    expect(turnTimeOf(systemClock)).toBe(turnNow);
    expect(metricsTime(systemClock)).toBe(turnNow);
    // A wrapper around systemClock has no turn time: the library cannot know its time is real.
    const wrapped = {
      now: () => systemClock.now(),
      setTimeout: (fn: () => void, ms: number) => systemClock.setTimeout(fn, ms),
      clearTimeout: (h: unknown) => systemClock.clearTimeout(h),
    };
    expect(turnTimeOf(wrapped)).toBeUndefined();
    const c = new ManualClock(5);
    expect(turnTimeOf(c)).toBeUndefined();
    const read = metricsTime(c);
    expect(read()).toBe(5);
    await c.advance(3);
    expect(read()).toBe(8);
  });

  it('systemClock shows no turn-time key to users', () => {
    expect(Object.keys(systemClock).sort()).toEqual(['clearTimeout', 'now', 'setTimeout']);
    expect(Object.isFrozen(systemClock)).toBe(true);
  });
});
