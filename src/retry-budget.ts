/**
 * The retry budget: a cap, shared by any number of `retry` and `hedge` policies, on how many
 * extra attempts they may make relative to the first attempts they see.
 *
 * @module
 */
import { checkKnown } from './known-options.js';
import { type Clock, defaultClock, isClock } from './clock.js';
import { num, optionsObject, typeError } from './validate.js';

/**
 * Options of {@link retryBudget}.
 *
 * @example
 * ```ts
 * import { retryBudget, type RetryBudgetOptions } from 'breakwater';
 * const options: RetryBudgetOptions = { ratio: 0.1, minPerSecond: 5 };
 * const budget = retryBudget(options);
 * ```
 */
export interface RetryBudgetOptions {
  /**
   * Retries (and hedges) allowed per first attempt in the window; in `[0, 1]`.
   * @defaultValue `0.2`
   */
  readonly ratio?: number;
  /**
   * Retries allowed in the window regardless of traffic, per second of the window: a floor so
   * that a quiet client can still retry its rare failures. Finite, `>= 0`.
   * @defaultValue `10`
   */
  readonly minPerSecond?: number;
  /**
   * Length of the sliding window, in milliseconds; finite, `> 0`.
   * @defaultValue `10000`
   */
  readonly windowMs?: number;
  /** Time source. @defaultValue {@link systemClock} */
  readonly clock?: Clock;
}

const BRAND: unique symbol = Symbol.for('breakwater.retryBudget') as never;

/** Buckets per window: the window slides in steps of `windowMs / 10`. */
const BUCKETS = 10;
/** Absorbs rounding in `ratio · attempts` (`0.7 · 10` is `7.000000000000001`). */
const EPSILON = 1e-9;

/**
 * A retry budget. See {@link retryBudget}.
 *
 * @example
 * ```ts
 * import { retryBudget, type RetryBudget } from 'breakwater';
 * const budget: RetryBudget = retryBudget({ ratio: 0.1 });
 * console.log(`${budget.retries} retries for ${budget.attempts} calls; ${budget.available} left`);
 * ```
 *
 * Counts live in ten buckets of `windowMs / 10`, with running totals, so recording
 * and asking are O(1) and memory is fixed whatever the traffic.
 */
export class RetryBudget {
  /** Retries allowed per first attempt in the window. */
  readonly ratio: number;
  /** Retries allowed per second of the window regardless of traffic. */
  readonly minPerSecond: number;
  /** Length of the sliding window, in milliseconds. */
  readonly windowMs: number;
  private readonly clock: Clock;
  private readonly bucketMs: number;
  /** `minPerSecond` over the whole window: the retries always allowed. */
  private readonly reserve: number;
  private readonly firsts = new Float64Array(BUCKETS);
  private readonly extras = new Float64Array(BUCKETS);
  private totalFirsts = 0;
  private totalExtras = 0;
  /** The newest bucket number seen; slot `epoch % BUCKETS` holds it. */
  private epoch = -Infinity;
  private slot = 0;

  /** @internal Use {@link retryBudget}. */
  constructor(options?: RetryBudgetOptions) {
    const p = 'retryBudget';
    const o = optionsObject(p, options);
    checkKnown(p, o, ['ratio', 'minPerSecond', 'windowMs', 'clock']);
    this.ratio = o['ratio'] === undefined ? 0.2 : num(p, 'ratio', o['ratio'], { min: 0, max: 1 });
    this.minPerSecond = o['minPerSecond'] === undefined ? 10 : num(p, 'minPerSecond', o['minPerSecond'], { min: 0 });
    this.windowMs =
      o['windowMs'] === undefined ? 10_000 : num(p, 'windowMs', o['windowMs'], { min: 0, minExclusive: true });
    const clock = o['clock'];
    if (clock !== undefined && !isClock(clock)) {
      typeError(p, 'clock', 'a Clock (an object with now, setTimeout and clearTimeout)', clock);
    }
    this.clock = clock ?? defaultClock();
    this.bucketMs = this.windowMs / BUCKETS;
    this.reserve = (this.minPerSecond * this.windowMs) / 1000;
  }

  /** Counts one first attempt (a deposit). Policies call this once per call. */
  recordAttempt(): void {
    this.roll();
    this.firsts[this.slot] = (this.firsts[this.slot] as number) + 1;
    this.totalFirsts++;
  }

  /**
   * Asks for one retry or hedge. When the window has room it is counted and `true` returned;
   * otherwise nothing is counted and `false` tells the policy to stop.
   */
  tryRetry(): boolean {
    this.roll();
    if (this.totalExtras + 1 > this.ratio * this.totalFirsts + this.reserve + EPSILON) return false;
    this.extras[this.slot] = (this.extras[this.slot] as number) + 1;
    this.totalExtras++;
    return true;
  }

  /** First attempts counted in the current window. */
  get attempts(): number {
    this.roll();
    return this.totalFirsts;
  }

  /** Retries and hedges granted in the current window. */
  get retries(): number {
    this.roll();
    return this.totalExtras;
  }

  /** Retries that would be granted now (whole retries, `>= 0`). */
  get available(): number {
    this.roll();
    const room = this.ratio * this.totalFirsts + this.reserve + EPSILON - this.totalExtras;
    return room < 1 ? 0 : Math.floor(room);
  }

  /**
   * Moves the window to the clock's current bucket, forgetting the buckets that left it. At most
   * ten slots are cleared, however long the budget was idle.
   */
  private roll(): void {
    const e = Math.floor(this.clock.now() / this.bucketMs);
    // A clock that steps back (or repeats) keeps counting into the newest bucket.
    if (!(e > this.epoch) || e === Infinity) return;
    const steps = e - this.epoch;
    if (steps >= BUCKETS) {
      this.firsts.fill(0);
      this.extras.fill(0);
      this.totalFirsts = 0;
      this.totalExtras = 0;
    } else {
      // The slots of buckets epoch+1 … e held buckets a whole window older: expired.
      for (let k = 0; k < steps; k++) {
        const s = mod(e - k);
        this.totalFirsts -= this.firsts[s] as number;
        this.totalExtras -= this.extras[s] as number;
        this.firsts[s] = 0;
        this.extras[s] = 0;
      }
    }
    this.epoch = e;
    this.slot = mod(e);
  }
}

Object.defineProperty(RetryBudget.prototype, BRAND, { value: true });

function mod(n: number): number {
  const s = n % BUCKETS;
  return s < 0 ? s + BUCKETS : s;
}

/**
 * A retry budget, shared by any number of `retry` and `hedge` policies (option `budget`): over a
 * sliding window, the retries and hedges they make may be at most `ratio` times the first
 * attempts they made, plus `minPerSecond` for each second of the window. A retry the budget
 * refuses ends the retrying with the last outcome (event `budgetExhausted`); a refused hedge is
 * simply not started.
 *
 * **When to use:** whenever many callers (or many instances of a service) retry against the same
 * dependency. Per-call `maxAttempts` alone multiplies load by up to `maxAttempts` exactly when the
 * dependency is struggling; a budget caps the extra load at `ratio` (the SRE book's 10%, Envoy's
 * and Finagle's retry budgets), while `minPerSecond` still lets a quiet client retry.
 *
 * **Details:** the window slides in ten steps of `windowMs / 10`, so it covers between 90% and
 * 100% of `windowMs`. Recording and asking are O(1) and allocation-free.
 *
 * **Gotchas:** the budget counts per process, not per fleet. With `minPerSecond` at its default of
 * 10, a client with little traffic may still retry most of its failures; lower it for a strict cap.
 *
 * @example
 * ```ts
 * import { retry, hedge, retryBudget } from 'breakwater';
 * const budget = retryBudget({ ratio: 0.1, minPerSecond: 5 });
 * const users = retry({ maxAttempts: 4, budget });
 * const search = hedge({ delayMs: 50, budget });
 * ```
 */
export function retryBudget(options?: RetryBudgetOptions): RetryBudget {
  return new RetryBudget(options);
}

/**
 * Checks a `budget` option: a {@link RetryBudget}, possibly from the other copy of the package
 * (ESM and CommonJS builds side by side), hence a `Symbol.for` brand rather than `instanceof`.
 * Only our own budgets are accepted: the policies call them from timers and promise handlers,
 * where a foreign implementation that throws could not be reported to anyone.
 *
 * @internal
 */
export function optBudget(policy: string, value: unknown): RetryBudget | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || (value as { [BRAND]?: unknown })[BRAND] !== true) {
    typeError(policy, 'budget', 'a retry budget (from retryBudget())', value);
  }
  return value as RetryBudget;
}
