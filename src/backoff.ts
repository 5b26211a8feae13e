/**
 * Delay schedules for `retry` (between attempts) and `circuitBreaker` (`openDurationMs` that
 * grows with each consecutive reopening).
 *
 * A {@link Backoff} is an immutable value: share one between policies and calls. Each
 * `start()` gives a fresh {@link BackoffIterator} with its own state, so two runs never see each
 * other's attempt count or jitter history.
 *
 * @module
 */

import { checkKnown } from './known-options.js';
import { num, oneOf, optFn, optionsObject, optNum, rangeError, typeError } from './validate.js';

/**
 * One run of a {@link Backoff}: each `next()` gives the delay before the next attempt.
 *
 * @example
 * ```ts
 * import { backoff } from 'breakwater';
 * const it = backoff.delays([100, 500]).start();
 * it.next(); // 100
 * it.next(); // 500
 * it.next(); // undefined: stop
 * ```
 */
export interface BackoffIterator {
  /** The next delay in milliseconds (finite, `>= 0`), or `undefined` to stop. */
  next(): number | undefined;
}

/**
 * A reusable delay schedule.
 *
 * **When to use:** wherever an option takes a `Backoff` (`retry`'s `backoff`,
 * `circuitBreaker`'s `openDurationMs`). Build one with {@link backoff}, or write your own: any
 * object with a `start()` that returns a fresh {@link BackoffIterator} will do.
 *
 * **Details:** `start()` must return independent state each time; a schedule is shared by every
 * call of a policy, often concurrently.
 *
 * @example
 * ```ts
 * import { retry, type Backoff } from 'breakwater';
 * const fibonacci: Backoff = {
 *   start() {
 *     let prev = 0, cur = 100; // 100, 100, 200, 300, 500, … up to 10000
 *     return {
 *       next() {
 *         const delay = cur;
 *         cur = Math.min(prev + cur, 10_000);
 *         prev = delay;
 *         return delay;
 *       },
 *     };
 *   },
 * };
 * const policy = retry({ maxAttempts: 5, backoff: fibonacci });
 * ```
 */
export interface Backoff {
  /** Begins a new run with fresh state. */
  start(): BackoffIterator;
}

/**
 * How {@link backoff.exponential} randomizes its delays (AWS Architecture Blog, "Exponential
 * Backoff And Jitter"), with `v = min(maxMs, initialMs · factorⁿ)` for the 0-based attempt `n`:
 *
 * - `'none'`: `v`.
 * - `'full'`: uniform in `[0, v)`. Spreads retries the most; the default.
 * - `'equal'`: `v/2` plus uniform in `[0, v/2)`. Never less than half of `v`.
 * - `'decorrelated'`: `min(maxMs, uniform in [initialMs, 3 · previous))`, with `previous`
 *   starting at `initialMs`. Ignores `factor`.
 *
 * @example
 * ```ts
 * import { backoff, type Jitter } from 'breakwater';
 * const jitter: Jitter = 'equal';
 * const schedule = backoff.exponential({ jitter });
 * ```
 */
export type Jitter = 'none' | 'full' | 'equal' | 'decorrelated';

/**
 * Options of {@link backoff.exponential}.
 *
 * @example
 * ```ts
 * import { backoff, type ExponentialBackoffOptions } from 'breakwater';
 * const options: ExponentialBackoffOptions = { initialMs: 200, maxMs: 5_000 };
 * const schedule = backoff.exponential(options);
 * ```
 */
export interface ExponentialBackoffOptions {
  /**
   * First delay before jitter, in milliseconds; finite, `>= 0`, at most `maxMs`.
   * @defaultValue `100`
   */
  readonly initialMs?: number;
  /**
   * Growth per attempt; finite, `>= 1` (`1` gives a constant delay before jitter).
   * @defaultValue `2`
   */
  readonly factor?: number;
  /**
   * Cap on every delay, in milliseconds; finite, `>= initialMs`.
   * @defaultValue `30000`
   */
  readonly maxMs?: number;
  /**
   * How delays are randomized; see {@link Jitter}.
   * @defaultValue `'full'`
   */
  readonly jitter?: Jitter;
  /**
   * Source of randomness in `[0, 1)`, called once per delay (not at all for `'none'`). A result
   * outside `[0, 1)` is clamped into `[0, 1]`, and `NaN` counts as `0`.
   * @defaultValue `Math.random`
   */
  readonly random?: () => number;
}

/**
 * Options of {@link backoff.linear}: delays `initialMs + n · stepMs` for the 0-based attempt `n`,
 * capped at `maxMs`.
 *
 * @example
 * ```ts
 * import { backoff, type LinearBackoffOptions } from 'breakwater';
 * const options: LinearBackoffOptions = { stepMs: 250 };
 * const schedule = backoff.linear(options); // 250, 500, 750, …
 * ```
 */
export interface LinearBackoffOptions {
  /**
   * First delay, in milliseconds; finite, `>= 0`, at most `maxMs`.
   * @defaultValue `stepMs`
   */
  readonly initialMs?: number;
  /**
   * Added to the delay after each attempt, in milliseconds; finite, `>= 0`.
   * @defaultValue `100`
   */
  readonly stepMs?: number;
  /**
   * Cap on every delay, in milliseconds; finite, `>= initialMs`.
   * @defaultValue `30000`
   */
  readonly maxMs?: number;
}

const JITTERS: readonly Jitter[] = ['none', 'full', 'equal', 'decorrelated'];
const FINITE_NON_NEGATIVE = { min: 0 } as const;

/** Reads `random()` defensively: always a number in `[0, 1]`, never `NaN`. */
function draw(random: () => number): number {
  const r = random();
  return typeof r === 'number' && r > 0 ? (r < 1 ? r : 1) : 0;
}

/** `maxMs` below the first delay would make every delay the cap: almost surely a mistake. */
function capAtLeast(policy: string, value: unknown, fallback: number, initialMs: number): number {
  const cap = optNum(policy, 'maxMs', value, fallback, FINITE_NON_NEGATIVE);
  if (cap < initialMs) rangeError(policy, 'maxMs', `a finite number >= initialMs (${initialMs})`, cap);
  return cap;
}

/**
 * A sequence that grows as `start(n)` until it reaches `cap`, then stays there. Once settled it
 * never computes the growth again: that is what keeps `factorⁿ` from overflowing to `Infinity`
 * (and `0 · Infinity` from becoming `NaN`) after a thousand attempts.
 */
class Growth {
  private n = 0;
  private settled: boolean;
  private level: number;
  constructor(
    private readonly at: (n: number) => number,
    private readonly cap: number,
    initial: number,
    flat: boolean,
  ) {
    // A flat sequence (no growth, or starting at the cap) is `initial` for ever.
    this.settled = flat || initial >= cap;
    this.level = initial;
  }
  next(): number {
    if (this.settled) return this.level;
    const v = this.at(this.n);
    // `!(v < cap)` also catches an overflow to Infinity.
    if (!(v < this.cap)) {
      this.settled = true;
      return (this.level = this.cap);
    }
    this.n++;
    return v;
  }
}

interface ExponentialConfig {
  readonly initialMs: number;
  readonly factor: number;
  readonly maxMs: number;
  readonly jitter: Jitter;
  readonly random: () => number;
}

class ExponentialIterator implements BackoffIterator {
  private readonly growth: Growth;
  constructor(private readonly c: ExponentialConfig) {
    const { initialMs: base, factor, maxMs } = c;
    this.growth = new Growth((n) => base * factor ** n, maxMs, base, base === 0 || factor === 1);
  }
  next(): number {
    const v = this.growth.next();
    switch (this.c.jitter) {
      case 'none':
        return v;
      case 'full':
        return draw(this.c.random) * v;
      default: {
        // 'equal'. v/2 rounds up for an odd subnormal v, so the sum could pass v by an ulp.
        const half = v / 2;
        const d = half + draw(this.c.random) * half;
        return d > v ? v : d;
      }
    }
  }
}

class DecorrelatedIterator implements BackoffIterator {
  private prev: number;
  constructor(private readonly c: ExponentialConfig) {
    this.prev = c.initialMs;
  }
  next(): number {
    const { initialMs: base, maxMs: cap } = this.c;
    const r = draw(this.c.random);
    // prev <= cap, but prev · 3 can still overflow for a huge cap: with r = 0 that would be
    // 0 · Infinity = NaN, so r = 0 short-cuts to the lower bound.
    let d = r === 0 ? base : base + r * (this.prev * 3 - base);
    if (!(d <= cap)) d = cap;
    return (this.prev = d);
  }
}

class LinearIterator implements BackoffIterator {
  private readonly growth: Growth;
  constructor(initialMs: number, stepMs: number, maxMs: number) {
    this.growth = new Growth((n) => initialMs + n * stepMs, maxMs, initialMs, stepMs === 0);
  }
  next(): number {
    return this.growth.next();
  }
}

class ListIterator implements BackoffIterator {
  private i = 0;
  constructor(private readonly list: readonly number[]) {}
  next(): number | undefined {
    return this.i < this.list.length ? this.list[this.i++] : undefined;
  }
}

function schedule(start: () => BackoffIterator): Backoff {
  return Object.freeze({ start });
}

function constant(ms: number): Backoff {
  const delay = num('backoff.constant', 'ms', ms, FINITE_NON_NEGATIVE);
  return schedule(() => ({ next: () => delay }));
}

function linear(options?: LinearBackoffOptions): Backoff {
  const policy = 'backoff.linear';
  const o = optionsObject(policy, options);
  checkKnown(policy, o, ['initialMs', 'stepMs', 'maxMs']);
  const stepMs = optNum(policy, 'stepMs', o['stepMs'], 100, FINITE_NON_NEGATIVE);
  const initialMs = optNum(policy, 'initialMs', o['initialMs'], stepMs, FINITE_NON_NEGATIVE);
  const maxMs = capAtLeast(policy, o['maxMs'], 30_000, initialMs);
  return schedule(() => new LinearIterator(initialMs, stepMs, maxMs));
}

function delays(list: readonly number[]): Backoff {
  const policy = 'backoff.delays';
  if (!Array.isArray(list)) typeError(policy, 'list', 'an array', list);
  // Copy first (a holey or mutable array cannot change under us), then check each entry.
  const copy: number[] = Array.from(list as readonly unknown[], (v, i) => num(policy, `list[${i}]`, v, FINITE_NON_NEGATIVE));
  const frozen = Object.freeze(copy);
  return schedule(() => new ListIterator(frozen));
}

function exponential(options?: ExponentialBackoffOptions): Backoff {
  const policy = 'backoff.exponential';
  const o = optionsObject(policy, options);
  checkKnown(policy, o, ['initialMs', 'factor', 'maxMs', 'jitter', 'random']);
  const initialMs = optNum(policy, 'initialMs', o['initialMs'], 100, FINITE_NON_NEGATIVE);
  const factor = optNum(policy, 'factor', o['factor'], 2, { min: 1 });
  const maxMs = capAtLeast(policy, o['maxMs'], 30_000, initialMs);
  const jitter = oneOf(policy, 'jitter', o['jitter'], JITTERS, 'full');
  const random = optFn<() => number>(policy, 'random', o['random']) ?? Math.random;
  const c: ExponentialConfig = Object.freeze({ initialMs, factor, maxMs, jitter, random });
  return schedule(
    jitter === 'decorrelated' ? () => new DecorrelatedIterator(c) : () => new ExponentialIterator(c),
  );
}

/**
 * Builders of {@link Backoff} schedules. Each validates its options at once (a `TypeError` for
 * a wrong type, a `RangeError` for a value out of range) and returns a frozen, reusable value.
 *
 * **When to use:** `backoff.exponential()` (the default of `retry`) for calls to a shared
 * dependency, where jitter keeps many clients from retrying in lock-step; `constant`, `linear`
 * or `delays` where the delays must be predictable.
 *
 * **Details:** every delay is in milliseconds, finite and `>= 0`; `exponential` and `linear`
 * never exceed `maxMs`, at any attempt number. `constant`, `linear` and `exponential` never stop
 * on their own: `retry`'s `maxAttempts` (or `maxElapsedMs`) ends the retrying.
 *
 * **Gotchas:** delays are not bounded by the timer limit of the runtime (`2³¹ − 1` ms, about
 * 24.8 days); keep `maxMs` well below it.
 *
 * @example
 * ```ts
 * import { backoff, retry } from 'breakwater';
 * const policy = retry({
 *   maxAttempts: 5,
 *   backoff: backoff.exponential({ initialMs: 200, maxMs: 10_000, jitter: 'full' }),
 * });
 * ```
 */
export const backoff: {
  /**
   * The same delay before every attempt, for ever.
   *
   * **When to use:** a dependency with a known recovery time, or tests.
   *
   * **Gotchas:** many clients retrying on the same constant delay stay in lock-step; prefer
   * `exponential` with jitter for shared dependencies.
   *
   * @param ms - The delay, in milliseconds; finite, `>= 0`.
   * @example
   * ```ts
   * import { backoff } from 'breakwater';
   * const schedule = backoff.constant(1_000); // 1000, 1000, 1000, …
   * ```
   */
  readonly constant: (ms: number) => Backoff;
  /**
   * Delays that grow by a fixed step: `initialMs + n · stepMs` for the 0-based attempt `n`,
   * capped at `maxMs`, for ever.
   *
   * **When to use:** a gentler growth than `exponential`, with predictable delays.
   *
   * **Details:** `initialMs` defaults to `stepMs`, so `{ stepMs: 500 }` gives 500, 1000, 1500, …
   * (Polly's linear backoff); with every default: 100, 200, 300, … up to 30000.
   *
   * **Gotchas:** `maxMs` below `initialMs` (including the default 30000 with a larger
   * `initialMs` or `stepMs`) is a `RangeError`.
   *
   * @param options - See {@link LinearBackoffOptions}.
   * @example
   * ```ts
   * import { backoff } from 'breakwater';
   * const schedule = backoff.linear({ initialMs: 1_000, stepMs: 500, maxMs: 3_000 });
   * // 1000, 1500, 2000, 2500, 3000, 3000, …
   * ```
   */
  readonly linear: (options?: LinearBackoffOptions) => Backoff;
  /**
   * Exactly the listed delays, then stop.
   *
   * **When to use:** a hand-tuned schedule (`[100, 1_000, 5_000]`), or a breaker's open
   * durations.
   *
   * **Details:** the list is copied, so changing the array later changes nothing. Each entry is
   * a delay in milliseconds: finite, `>= 0`. An empty list stops at once (no retries).
   *
   * **Gotchas:** as a `retry` backoff, the retrying ends when the list runs out, even if
   * `maxAttempts` would allow more attempts.
   *
   * @param list - The delays, in milliseconds.
   * @example
   * ```ts
   * import { backoff } from 'breakwater';
   * const schedule = backoff.delays([100, 1_000, 5_000]); // then stop
   * ```
   */
  readonly delays: (list: readonly number[]) => Backoff;
  /**
   * Delays that grow by `factor` per attempt up to `maxMs`, randomized by `jitter`.
   *
   * **When to use:** the default for retrying a shared dependency: jitter spreads the retries of
   * many clients, and the cap keeps a long outage from producing absurd waits.
   *
   * **Details:** see {@link Jitter} for the formulas. With the defaults (`initialMs` 100,
   * `factor` 2, `maxMs` 30000, `'full'`) the ceilings are 100, 200, 400, … 25600, 30000, 30000, …
   * and each delay is uniform below its ceiling. Growth stops at the cap, so no delay is ever
   * negative, `NaN` or above `maxMs`, after any number of attempts.
   *
   * **Gotchas:** `'full'` can give a delay close to 0, even late in a run; use `'equal'` for a
   * floor of half the ceiling. `'decorrelated'` ignores `factor`. `initialMs: 0` gives delays of
   * 0 for ever (no growth from zero).
   *
   * @param options - See {@link ExponentialBackoffOptions}.
   * @example
   * ```ts
   * import { backoff } from 'breakwater';
   * const schedule = backoff.exponential({ initialMs: 100, maxMs: 5_000, jitter: 'none' });
   * const it = schedule.start();
   * it.next(); // 100
   * it.next(); // 200
   * ```
   */
  readonly exponential: (options?: ExponentialBackoffOptions) => Backoff;
} = Object.freeze({ constant, linear, delays, exponential });

/**
 * Whether `value` is a {@link Backoff}: a non-null object with a `start` function.
 *
 * **When to use:** to tell a `Backoff` from a number in an option that takes either, as
 * `circuitBreaker`'s `openDurationMs` does.
 *
 * **Gotchas:** a structural check; it does not call `start()`.
 *
 * @example
 * ```ts
 * import { backoff, isBackoff } from 'breakwater';
 * isBackoff(backoff.constant(100)); // true
 * isBackoff(100); // false
 * ```
 */
export function isBackoff(value: unknown): value is Backoff {
  return typeof value === 'object' && value !== null && typeof (value as { start?: unknown }).start === 'function';
}
