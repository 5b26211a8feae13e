import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { WaitNode, WaitQueue } from '../../src/internal/waiting-room.js';

class Item extends WaitNode {
  constructor(readonly id: number) {
    super();
  }
}

function ids(q: WaitQueue<Item>): number[] {
  const out: number[] = [];
  for (let n = q.peek(); n !== undefined; n = n.next as Item | undefined) out.push(n.id);
  return out;
}

describe('WaitQueue', () => {
  it('is FIFO', () => {
    const q = new WaitQueue<Item>();
    for (let i = 0; i < 5; i++) q.push(new Item(i));
    expect(q.size).toBe(5);
    expect([q.shift()?.id, q.shift()?.id]).toEqual([0, 1]);
    expect(ids(q)).toEqual([2, 3, 4]);
    expect(q.peek()?.id).toBe(2);
  });

  it('removes from the head, the middle and the tail in place', () => {
    const q = new WaitQueue<Item>();
    const items = [0, 1, 2, 3, 4].map((i) => new Item(i));
    for (const it of items) q.push(it);
    expect(q.remove(items[2]!)).toBe(true);
    expect(q.remove(items[0]!)).toBe(true);
    expect(q.remove(items[4]!)).toBe(true);
    expect(ids(q)).toEqual([1, 3]);
    expect(q.size).toBe(2);
    q.push(new Item(5));
    expect(ids(q)).toEqual([1, 3, 5]);
  });

  it('remove is idempotent and ignores nodes that are not queued', () => {
    const q = new WaitQueue<Item>();
    const a = new Item(1);
    expect(q.remove(a)).toBe(false);
    q.push(a);
    expect(q.remove(a)).toBe(true);
    expect(q.remove(a)).toBe(false);
    expect(q.size).toBe(0);
    expect(q.shift()).toBeUndefined();
    expect(a.queued).toBe(false);
    expect(a.next).toBeUndefined();
    expect(a.prev).toBeUndefined();
  });

  it('a removed node can be queued again', () => {
    const q = new WaitQueue<Item>();
    const a = new Item(1);
    const b = new Item(2);
    q.push(a);
    q.push(b);
    q.remove(a);
    q.push(a);
    expect(ids(q)).toEqual([2, 1]);
  });

  it('matches an array model under random pushes, shifts and removals', () => {
    type Op = { kind: 'push' } | { kind: 'shift' } | { kind: 'remove'; pick: number };
    const op = fc.oneof(
      fc.constant<Op>({ kind: 'push' }),
      fc.constant<Op>({ kind: 'shift' }),
      fc.nat(1000).map<Op>((pick) => ({ kind: 'remove', pick })),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const q = new WaitQueue<Item>();
        const model: Item[] = [];
        const all: Item[] = [];
        let next = 0;
        for (const o of ops) {
          if (o.kind === 'push') {
            const it = new Item(next++);
            all.push(it);
            q.push(it);
            model.push(it);
          } else if (o.kind === 'shift') {
            expect(q.shift()).toBe(model.shift());
          } else if (all.length > 0) {
            const it = all[o.pick % all.length]!;
            const i = model.indexOf(it);
            expect(q.remove(it)).toBe(i >= 0);
            if (i >= 0) model.splice(i, 1);
          }
          expect(q.size).toBe(model.length);
          expect(ids(q)).toEqual(model.map((m) => m.id));
        }
      }),
    );
  });
});
