import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { retryBudget, RetryBudget } from '../src/retry-budget.js';
import { retry } from '../src/retry.js';
import { backoff } from '../src/backoff.js';
import { ManualClock } from '../src/testing/index.js';
import type { AttemptContext } from '../src/contract.js';
import { expectInvalid } from './helpers.js';

describe('retryBudget: accounting', () => {
  it('defaults: ratio 0.2, 10 per second, a 10 s window', () => {
    const b = retryBudget();
    expect(b).toBeInstanceOf(RetryBudget);
    expect([b.ratio, b.minPerSecond, b.windowMs]).toEqual([0.2, 10, 10_000]);
  });

  it('grants ratio · first attempts + minPerSecond · window seconds, and no more', () => {
    const clock = new ManualClock();
    const b = retryBudget({ ratio: 0.1, minPerSecond: 2, windowMs: 5000, clock }); // reserve 10
    for (let i = 0; i < 50; i++) b.recordAttempt();
    expect(b.available).toBe(15);
    let granted = 0;
    while (b.tryRetry()) granted++;
    expect(granted).toBe(15);
    expect([b.attempts, b.retries, b.available]).toEqual([50, 15, 0]);
    // Ten more first attempts earn one more retry; 0.7 · 10 style rounding is absorbed.
    for (let i = 0; i < 10; i++) b.recordAttempt();
    expect(b.tryRetry()).toBe(true);
    expect(b.tryRetry()).toBe(false);
  });

  it('forgets counts as the window slides, bucket by bucket', async () => {
    const clock = new ManualClock();
    const b = retryBudget({ ratio: 1, minPerSecond: 0, windowMs: 1000, clock });
    b.recordAttempt(); // bucket 0
    await clock.advance(500);
    b.recordAttempt(); // bucket 5
    expect(b.tryRetry()).toBe(true);
    expect(b.tryRetry()).toBe(true);
    expect(b.tryRetry()).toBe(false);
    await clock.advance(500); // t = 1000: bucket 0 has left the window
    expect(b.attempts).toBe(1);
    expect(b.retries).toBe(2);
    expect(b.tryRetry()).toBe(false);
    await clock.advance(500); // t = 1500: bucket 5 left too
    expect([b.attempts, b.retries]).toEqual([0, 0]);
  });

  it('an idle budget reads empty, however long the gap', async () => {
    const clock = new ManualClock();
    const b = retryBudget({ ratio: 0.5, minPerSecond: 1, windowMs: 1000, clock });
    for (let i = 0; i < 10; i++) b.recordAttempt();
    expect(b.tryRetry()).toBe(true);
    await clock.advance(1e9);
    expect([b.attempts, b.retries, b.available]).toEqual([0, 0, 1]);
  });

  it('a clock that steps back keeps counting into the newest bucket', () => {
    let t = 5000;
    const clock = { now: () => t, setTimeout: () => 0, clearTimeout: () => {} };
    const b = retryBudget({ ratio: 1, minPerSecond: 0, windowMs: 1000, clock });
    b.recordAttempt();
    t = 0;
    b.recordAttempt();
    expect(b.attempts).toBe(2);
    t = 5999;
    expect(b.attempts).toBe(2);
    t = 6000;
    expect(b.attempts).toBe(0);
  });

  it('matches a naive model that keeps every event (property)', () => {
    const op = fc.record({ dt: fc.oneof(fc.integer({ min: 0, max: 50 }), fc.integer({ min: 0, max: 3000 })), retry: fc.boolean() });
    fc.assert(
      fc.property(
        fc.array(op, { maxLength: 300 }),
        fc.constantFrom(0, 0.1, 0.2, 0.7, 1),
        fc.constantFrom(0, 0.5, 3),
        (ops, ratio, minPerSecond) => {
          let t = 0;
          const clock = { now: () => t, setTimeout: () => 0, clearTimeout: () => {} };
          const windowMs = 1000;
          const b = retryBudget({ ratio, minPerSecond, windowMs, clock });
          const log: { bucket: number; retry: boolean }[] = [];
          for (const { dt, retry: isRetry } of ops) {
            t += dt;
            const bucket = Math.floor(t / 100);
            const inWindow = log.filter((e) => e.bucket > bucket - 10);
            const firsts = inWindow.filter((e) => !e.retry).length;
            const retries = inWindow.length - firsts;
            if (isRetry) {
              const expected = retries + 1 <= ratio * firsts + minPerSecond + 1e-9;
              expect(b.tryRetry()).toBe(expected);
              if (expected) log.push({ bucket, retry: true });
            } else {
              b.recordAttempt();
              log.push({ bucket, retry: false });
            }
            expect(b.attempts).toBe(firsts + (isRetry ? 0 : 1));
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('retryBudget: 100 callers retrying against a dependency that fails everything', () => {
  async function simulate(withBudget: boolean, durationMs: number) {
    const clock = new ManualClock();
    const budget = retryBudget({ ratio: 0.1, minPerSecond: 5, windowMs: 1000, clock });
    const firsts: number[] = [];
    const retries: number[] = [];
    let attempts = 0;
    const dependency = (ctx: AttemptContext): Promise<never> => {
      attempts++;
      if (ctx.attempt === 1) firsts.push(clock.now());
      return Promise.reject(new Error('down'));
    };
    const wait = (ms: number): Promise<void> => new Promise((resolve) => clock.setTimeout(resolve, ms));
    const callers = Array.from({ length: 100 }, async (_, i) => {
      // Each caller has its own policy; they share only the budget.
      const policy = retry({
        clock,
        maxAttempts: 5,
        backoff: backoff.constant(20),
        metrics: false,
        ...(withBudget ? { budget } : {}),
      });
      policy.events.on('retry', () => retries.push(clock.now()));
      await wait(i); // staggered start
      while (clock.now() < durationMs) {
        await policy.execute(dependency).catch(() => undefined);
        await wait(50);
      }
    });
    await clock.advance(durationMs + 1000);
    await Promise.all(callers);
    return { firsts, retries, attempts };
  }

  it('without a budget, load is multiplied by maxAttempts', async () => {
    const { firsts, attempts } = await simulate(false, 1000);
    expect(attempts).toBe(firsts.length * 5);
  });

  it('with a shared budget, retries stay within ratio · first attempts + the reserve in every window', async () => {
    const durationMs = 5000;
    const { firsts, retries, attempts } = await simulate(true, durationMs);
    expect(attempts).toBe(firsts.length + retries.length);
    expect(firsts.length).toBeGreaterThan(5000);

    // Every window the budget could have looked at (ten 100 ms buckets ending at bucket k).
    const bucket = (t: number): number => Math.floor(t / 100);
    const lastBucket = bucket(Math.max(...firsts, ...retries));
    for (let k = 0; k <= lastBucket; k++) {
      const inWindow = (t: number): boolean => bucket(t) > k - 10 && bucket(t) <= k;
      const f = firsts.filter(inWindow).length;
      const r = retries.filter(inWindow).length;
      expect(r).toBeLessThanOrEqual(0.1 * f + 5 + 1e-9);
    }

    // Overall: about 1.1x the first attempts instead of 5x.
    const windows = Math.ceil(lastBucket / 10) + 1;
    expect(retries.length).toBeLessThanOrEqual(0.1 * firsts.length + 5 * windows);
    expect(attempts / firsts.length).toBeLessThan(1.15);
  });
});

describe('retryBudget: options are validated at construction', () => {
  const bad = (v: unknown): never => v as never;
  const cases: [string, () => unknown, typeof TypeError | typeof RangeError, string][] = [
    ['ratio 1.5', () => retryBudget({ ratio: 1.5 }), RangeError, 'retryBudget: ratio must be in [0, 1], got 1.5'],
    ['ratio -0.1', () => retryBudget({ ratio: -0.1 }), RangeError, 'got -0.1'],
    ['ratio NaN', () => retryBudget({ ratio: NaN }), RangeError, 'got NaN'],
    ['ratio string', () => retryBudget({ ratio: bad('0.1') }), TypeError, 'retryBudget: ratio'],
    ['minPerSecond -1', () => retryBudget({ minPerSecond: -1 }), RangeError, 'retryBudget: minPerSecond must be a finite number >= 0, got -1'],
    ['minPerSecond Infinity', () => retryBudget({ minPerSecond: Infinity }), RangeError, 'got Infinity'],
    ['windowMs 0', () => retryBudget({ windowMs: 0 }), RangeError, 'retryBudget: windowMs must be a finite number > 0, got 0'],
    ['windowMs Infinity', () => retryBudget({ windowMs: Infinity }), RangeError, 'windowMs'],
    ['windowMs null', () => retryBudget({ windowMs: bad(null) }), TypeError, 'got null'],
    ['clock', () => retryBudget({ clock: bad({ now: 1 }) }), TypeError, 'retryBudget: clock'],
    ['options', () => retryBudget(bad(7)), TypeError, 'retryBudget: options must be an object, got 7'],
  ];
  for (const [label, make, type, message] of cases) {
    it(`${label}: ${type.name}`, () => expectInvalid(make, type, message));
  }

  it('never mutates the options', () => {
    const options = Object.freeze({ ratio: 0.5 });
    retryBudget(options);
    expect(options).toEqual({ ratio: 0.5 });
  });
});
