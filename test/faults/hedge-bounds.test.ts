// maxHedges is bounded, and attempts with no delay start in a loop: the stack does not grow with
// the number of attempts, and a huge maxHedges is refused at construction.
import { describe, it, expect } from 'vitest';
import { hedge } from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';
import { expectInvalid } from '../helpers.js';

function depth(): number {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = Infinity;
  const stack = new Error().stack ?? '';
  Error.stackTraceLimit = limit;
  return stack.split('\n').length;
}

describe('hedge bounds', () => {
  it('maxHedges past 100 is a RangeError naming the option; 100 is accepted', () => {
    expectInvalid(() => hedge({ delayMs: 0, maxHedges: 20000 }), RangeError, ['hedge', 'maxHedges', '20000']);
    expectInvalid(() => hedge({ delayMs: 0, maxHedges: 1e6 }), RangeError, ['maxHedges', '1000000']);
    expectInvalid(() => hedge({ delayMs: 0, maxHedges: 101 }), RangeError, ['maxHedges', '101']);
    hedge({ delayMs: 0, maxHedges: 100 }).dispose();
  });

  it('delayMs 0 starts every attempt at the same stack depth (no recursion)', async () => {
    const h = hedge({ delayMs: 0, maxHedges: 100, clock: new ManualClock() });
    const depths: number[] = [];
    const never = new Promise<number>(() => {});
    const p = h.execute(({ attempt }) => {
      depths.push(depth());
      return attempt === 101 ? attempt : never;
    });
    await expect(p).resolves.toBe(101);
    expect(depths).toHaveLength(101);
    expect(new Set(depths.slice(1)).size).toBe(1);
    expect(depths[100]).toBeLessThanOrEqual((depths[0] ?? 0) + 5);
  });

  it('a function delay of 0 for every attempt behaves the same', async () => {
    const h = hedge({ delayMs: () => 0, maxHedges: 50, clock: new ManualClock() });
    const depths: number[] = [];
    const p = h.execute(({ attempt }) => {
      depths.push(depth());
      return attempt === 51 ? Promise.resolve(attempt) : Promise.reject(new Error(`attempt ${attempt}`));
    });
    await expect(p).resolves.toBe(51);
    expect(new Set(depths.slice(1)).size).toBe(1);
  });
});
