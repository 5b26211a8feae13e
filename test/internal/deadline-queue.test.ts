import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { DeadlineQueue, type Deadline } from '../../src/internal/deadline-queue.js';
import { ManualClock } from '../../src/testing/index.js';

interface Node extends Deadline {
  id: number;
}
const node = (id: number): Node => ({ id, due: 0, dlPrev: undefined, dlNext: undefined, queued: false });

describe('DeadlineQueue', () => {
  it('serves many deadlines with one timer and expires them in order', async () => {
    const clock = new ManualClock();
    const fired: Array<[number, number]> = [];
    const q = new DeadlineQueue<Node>(clock, (n) => fired.push([n.id, clock.now()]));
    for (let i = 0; i < 5; i++) q.push(node(i), 100 + i * 10);
    expect(clock.pendingTimers).toBe(1);
    await clock.advance(125);
    expect(fired).toEqual([
      [0, 100],
      [1, 110],
      [2, 120],
    ]);
    expect(clock.pendingTimers).toBe(1);
    await clock.advance(100);
    expect(fired.map(([id]) => id)).toEqual([0, 1, 2, 3, 4]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('clears the timer as soon as the last node is removed (non-system clock)', () => {
    const clock = new ManualClock();
    const q = new DeadlineQueue<Node>(clock, () => {});
    const a = node(1);
    const b = node(2);
    q.push(a, 10);
    q.push(b, 20);
    q.remove(a);
    expect(clock.pendingTimers).toBe(1);
    q.remove(b);
    q.remove(b); // idempotent
    expect(clock.pendingTimers).toBe(0);
    expect(q.empty).toBe(true);
  });

  it('re-arms sooner for an earlier deadline pushed later (varying durations)', async () => {
    const clock = new ManualClock();
    const fired: number[] = [];
    const q = new DeadlineQueue<Node>(clock, (n) => fired.push(n.id));
    q.push(node(1), 100);
    q.push(node(2), 30);
    await clock.advance(30);
    expect(fired).toEqual([2]);
    await clock.advance(70);
    expect(fired).toEqual([2, 1]);
  });

  it('clear() empties the queue without expiring and clears the timer', () => {
    const clock = new ManualClock();
    const q = new DeadlineQueue<Node>(clock, () => {
      throw new Error('must not expire');
    });
    q.push(node(1), 5);
    q.push(node(2), 6);
    expect(q.clear().map((n) => n.id)).toEqual([1, 2]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('property: expires exactly the live nodes due by then, in (due, insertion) order', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ at: fc.integer({ min: 0, max: 40 }), wait: fc.integer({ min: 0, max: 60 }), drop: fc.boolean() }), {
          maxLength: 30,
        }),
        async (ops) => {
          const clock = new ManualClock();
          const fired: number[] = [];
          const q = new DeadlineQueue<Node>(clock, (n) => fired.push(n.id));
          const nodes = ops.map((_, i) => node(i));
          ops.forEach((op, i) => q.push(nodes[i] as Node, op.at + op.wait));
          ops.forEach((op, i) => op.drop && q.remove(nodes[i] as Node));
          await clock.advance(200);
          const expected = ops
            .map((op, i) => ({ due: op.at + op.wait, i, drop: op.drop }))
            .filter((o) => !o.drop)
            .sort((a, b) => a.due - b.due || a.i - b.i)
            .map((o) => o.i);
          expect(fired).toEqual(expected);
          expect(clock.pendingTimers).toBe(0);
        },
      ),
      { numRuns: 100 },
    );
  });
});
