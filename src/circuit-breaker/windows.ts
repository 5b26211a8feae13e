/**
 * The breaker's health windows: what it remembers of recent calls, and when that says "open".
 *
 * Three kinds, all O(1) per recorded call and allocation-free after construction:
 * - consecutive: a run length of handled failures;
 * - count: a ring of the last `size` outcomes with running totals;
 * - time: buckets by the clock with running totals, rotated lazily by elapsed time (never per
 *   call), so failures older than `durationMs` are forgotten, also after hours of idle time; in
 *   memory it keeps time by a timer at each bucket edge instead of reading the clock per call.
 *
 * Internal: not exported from the package.
 * @module
 */
import { type Clock, type EdgeTimer, edgeTimerOf } from '../clock.js';
import { MAX_TIMER_MS } from '../validate.js';
import type { WindowSnapshot } from './state.js';

type Saved<K extends WindowSnapshot['type']> = Extract<WindowSnapshot, { type: K }>;

/**
 * The `window` option of `circuitBreaker`: what the breaker remembers of recent calls.
 *
 * @example
 * ```ts
 * import { circuitBreaker, type WindowOption } from 'breakwater';
 * const window: WindowOption = { type: 'time', durationMs: 30_000, buckets: 30 };
 * const breaker = circuitBreaker({ window, minimumCalls: 50 });
 * ```
 */
export type WindowOption =
  | { readonly type: 'consecutive'; readonly failures: number }
  | { readonly type: 'count'; readonly size: number }
  | { readonly type: 'time'; readonly durationMs?: number; readonly buckets?: number };

/** Rate thresholds shared by the count and time windows. @internal */
export interface RateRule {
  readonly minimumCalls: number;
  readonly failureRate: number;
  /** `Infinity` when slow calls are not tracked. */
  readonly slowRate: number;
}

/** What the policy needs from a window. Not exported from the package. */
export interface HealthWindow {
  readonly type: WindowOption['type'];
  /**
   * True when recording needs the clock's time (a time window that does not keep time itself:
   * see {@link TimeWindow.keepTime}); otherwise `record` may be given `NaN`.
   */
  readonly needsClock: boolean;
  /** Records one call that ran and counted; returns true when the window says "open". */
  record(failure: boolean, slow: boolean, now: number): boolean;
  /** Forgets everything (and clears any timer). */
  reset(): void;
  /** Clears any timer the window holds (the breaker left the closed state, or was disposed). */
  stop(): void;
  /** Plain, JSON-safe contents at `now`. */
  toJSON(now: number): WindowSnapshot;
  /** Loads validated contents saved `elapsedMs` ago (same window type). */
  restore(saved: WindowSnapshot, elapsedMs: number, now: number): void;
}

const FAILURE = 1;
const SLOW = 2;

/** A rate decision, by division so `3 / 30 >= 0.1` holds as the user reads it. */
function trips(calls: number, failures: number, slows: number, rule: RateRule, minimumCalls: number): boolean {
  if (calls < minimumCalls) return false;
  return failures / calls >= rule.failureRate || slows / calls >= rule.slowRate;
}

/** Opens after `failures` handled failures in a row; rates and slow calls play no part. @internal */
export class ConsecutiveWindow implements HealthWindow {
  readonly type = 'consecutive';
  readonly needsClock = false;
  private run = 0;
  constructor(private readonly failures: number) {}

  record(failure: boolean): boolean {
    if (!failure) {
      this.run = 0;
      return false;
    }
    return ++this.run >= this.failures;
  }

  reset(): void {
    this.run = 0;
  }

  stop(): void {}

  toJSON(): Saved<'consecutive'> {
    return { type: 'consecutive', consecutiveFailures: this.run };
  }

  restore(saved: WindowSnapshot): void {
    if (saved.type === 'consecutive') this.run = saved.consecutiveFailures;
  }
}

/** A ring of the last `size` outcomes (bit 1: failure, bit 2: slow) with running totals. @internal */
export class CountWindow implements HealthWindow {
  readonly type = 'count';
  readonly needsClock = false;
  private readonly ring: Uint8Array;
  private readonly minimumCalls: number;
  private head = 0;
  private calls = 0;
  private failures = 0;
  private slows = 0;

  constructor(
    private readonly size: number,
    private readonly rule: RateRule,
  ) {
    this.ring = new Uint8Array(size);
    // resilience4j's rule: a ring smaller than minimumCalls could otherwise never decide.
    this.minimumCalls = Math.min(rule.minimumCalls, size);
  }

  record(failure: boolean, slow: boolean): boolean {
    const ring = this.ring;
    const head = this.head;
    if (this.calls === this.size) {
      const old = ring[head] as number;
      this.failures -= old & FAILURE;
      this.slows -= old >> 1;
    } else {
      this.calls++;
    }
    const code = (failure ? FAILURE : 0) | (slow ? SLOW : 0);
    ring[head] = code;
    this.head = head + 1 === this.size ? 0 : head + 1;
    this.failures += code & FAILURE;
    this.slows += code >> 1;
    return trips(this.calls, this.failures, this.slows, this.rule, this.minimumCalls);
  }

  reset(): void {
    this.head = this.calls = this.failures = this.slows = 0;
  }

  stop(): void {}

  toJSON(): Saved<'count'> {
    const outcomes: number[] = [];
    const start = this.calls === this.size ? this.head : 0;
    for (let i = 0; i < this.calls; i++) outcomes.push(this.ring[(start + i) % this.size] as number);
    return { type: 'count', outcomes };
  }

  restore(saved: WindowSnapshot): void {
    if (saved.type !== 'count') return;
    this.reset();
    const list = saved.outcomes;
    // A smaller ring than the saved one keeps the newest outcomes.
    for (let i = Math.max(0, list.length - this.size); i < list.length; i++) {
      const code = list[i] as number;
      this.record((code & FAILURE) !== 0, (code & SLOW) !== 0);
    }
  }
}

/**
 * Calls in the last `durationMs` by the clock, in `buckets` slots of `durationMs / buckets`.
 * Time `now` falls in bucket `floor(now / bucketMs)`. Moving to a newer bucket subtracts the
 * slots that leave the window from the totals; a gap of a whole window or more clears them all,
 * so the cost of rotation is bounded by `buckets` and paid once per bucket of elapsed time.
 *
 * Keeping time by a timer ({@link TimeWindow.keepTime}, with a clock that has an edge timer:
 * `systemClock`, `ManualClock`): the first call recorded in a bucket reads the clock, moves the
 * window to its bucket and arms one timer for the bucket's end; until that timer fires, time is
 * still inside the bucket, so every other call goes into it without reading the clock. When it
 * fires the timer is not re-armed (the bucket just begun holds no call yet), so an idle window
 * holds no timer after the end of its last busy bucket; one that fires a hair early waits for
 * the rest. The price with `systemClock`: an outcome recorded after the edge but before the
 * event loop ran the timer (a turn late at most) counts in the bucket that just ended, as if it
 * came at its last instant. With any other clock every call reads it (`needsClock`).
 *
 * @internal
 */
export class TimeWindow implements HealthWindow {
  readonly type = 'time';
  /** False once the window keeps time by its edge timer: `record` is then given `NaN`. */
  needsClock = true;
  readonly bucketMs: number;
  private readonly slots: number;
  private readonly callsAt: Float64Array;
  private readonly failuresAt: Float64Array;
  private readonly slowsAt: Float64Array;
  private current = -Infinity;
  /** Slot of `current`, and the time the next bucket starts: the per-call check is one compare. */
  private currentSlot = 0;
  private edge = -Infinity;
  private calls = 0;
  private failures = 0;
  private slows = 0;
  /** While keeping time: the clock, its edge timer, and the timer armed for `edge` (if any). */
  private clock: Clock | undefined = undefined;
  private edgeTimer: EdgeTimer | undefined = undefined;
  private timer: unknown = undefined;
  // Bound once: arming allocates no closure.
  private readonly onEdge = (): void => {
    this.timer = undefined;
    const now = (this.clock as Clock).now();
    // Fired a hair early (a system timer), or a step of a bucket longer than a timer can wait:
    // the bucket has not ended yet, and it holds calls, so wait for the rest.
    if (now < this.edge && (this.callsAt[this.currentSlot] as number) > 0) this.arm(now);
  };

  constructor(
    durationMs: number,
    buckets: number,
    private readonly rule: RateRule,
  ) {
    this.slots = buckets;
    this.bucketMs = durationMs / buckets;
    this.callsAt = new Float64Array(buckets);
    this.failuresAt = new Float64Array(buckets);
    this.slowsAt = new Float64Array(buckets);
  }

  /**
   * Keeps time by `clock`'s edge timer from now on, if it has one (see the class comment): then
   * `needsClock` is false and `record` takes `NaN` for "now". Without one, nothing changes. Only
   * an in-memory window does this (a shared store's session is given the clock's time).
   */
  keepTime(clock: Clock): void {
    const timer = edgeTimerOf(clock);
    if (timer === undefined) return;
    this.clock = clock;
    this.edgeTimer = timer;
    this.needsClock = false;
  }

  record(failure: boolean, slow: boolean, now: number): boolean {
    // `now` unknown (NaN): the window keeps time itself. While its edge timer is armed, time is
    // still in the current bucket: no clock read.
    const s = now === now ? this.advance(now) : this.timer !== undefined ? this.currentSlot : this.enter();
    this.callsAt[s] = (this.callsAt[s] as number) + 1;
    this.calls++;
    if (failure) {
      this.failuresAt[s] = (this.failuresAt[s] as number) + 1;
      this.failures++;
    }
    if (slow) {
      this.slowsAt[s] = (this.slowsAt[s] as number) + 1;
      this.slows++;
    }
    return trips(this.calls, this.failures, this.slows, this.rule, this.rule.minimumCalls);
  }

  stop(): void {
    if (this.timer === undefined) return;
    (this.clock as Clock).clearTimeout(this.timer);
    this.timer = undefined;
  }

  reset(): void {
    this.stop();
    this.callsAt.fill(0);
    this.failuresAt.fill(0);
    this.slowsAt.fill(0);
    this.current = -Infinity;
    this.currentSlot = 0;
    this.edge = -Infinity;
    this.calls = this.failures = this.slows = 0;
  }

  toJSON(now: number): Saved<'time'> {
    this.advance(now);
    const buckets: Array<{ calls: number; failures: number; slowCalls: number }> = [];
    if (this.current !== -Infinity) {
      for (let i = this.slots - 1; i >= 0; i--) {
        const s = this.slot(this.current - i);
        buckets.push({ calls: this.callsAt[s] as number, failures: this.failuresAt[s] as number, slowCalls: this.slowsAt[s] as number });
      }
    }
    return { type: 'time', bucketMs: this.bucketMs, buckets };
  }

  restore(saved: WindowSnapshot, elapsedMs: number, now: number): void {
    this.reset();
    // Buckets of another width cannot be placed honestly: a changed window starts empty.
    if (saved.type !== 'time' || saved.bucketMs !== this.bucketMs) return;
    const epoch = this.epoch(now);
    if (epoch === Infinity) return;
    this.moveTo(epoch);
    const shift = Math.floor(elapsedMs / this.bucketMs);
    const list = saved.buckets;
    for (let i = 0; i < list.length; i++) {
      const e = epoch - shift - (list.length - 1 - i);
      if (e <= epoch - this.slots) continue; // older than the window by now
      const b = list[i] as { calls: number; failures: number; slowCalls: number };
      const s = this.slot(e);
      this.callsAt[s] = b.calls;
      this.failuresAt[s] = b.failures;
      this.slowsAt[s] = b.slowCalls;
      this.calls += b.calls;
      this.failures += b.failures;
      this.slows += b.slowCalls;
    }
  }

  /** The first call of a bucket while keeping time: read the clock, move there, arm the edge timer. */
  private enter(): number {
    const now = (this.clock as Clock).now();
    const s = this.advance(now);
    this.arm(now);
    return s;
  }

  /** Arms the edge timer for the end of the current bucket (in steps past the timer limit). */
  private arm(now: number): void {
    const ms = this.edge - now;
    this.timer = (this.edgeTimer as EdgeTimer)(this.onEdge, ms > MAX_TIMER_MS ? MAX_TIMER_MS : ms > 0 ? ms : 0);
  }

  private epoch(now: number): number {
    return Math.floor(now / this.bucketMs);
  }

  private slot(epoch: number): number {
    // `%` keeps the sign of a negative epoch (a clock before 0); fold it into [0, slots).
    const s = epoch % this.slots;
    return s < 0 ? s + this.slots : s;
  }

  /** Moves the window to the bucket of `now` (a late `now` counts into the newest bucket). */
  private advance(now: number): number {
    // Within the current bucket (the common case): no division, no modulo.
    if (now < this.edge) return this.currentSlot;
    const epoch = this.epoch(now);
    const current = this.current;
    if (epoch <= current || epoch === Infinity) return this.slot(current === -Infinity ? 0 : current);
    if (epoch - current >= this.slots) {
      this.reset();
    } else {
      for (let e = current + 1; e <= epoch; e++) {
        const s = this.slot(e);
        this.calls -= this.callsAt[s] as number;
        this.failures -= this.failuresAt[s] as number;
        this.slows -= this.slowsAt[s] as number;
        this.callsAt[s] = this.failuresAt[s] = this.slowsAt[s] = 0;
      }
    }
    this.moveTo(epoch);
    return this.currentSlot;
  }

  private moveTo(epoch: number): void {
    this.current = epoch;
    this.currentSlot = this.slot(epoch);
    // Float division may put a time a hair below this edge in the next epoch (it then counts in
    // this bucket) or a time at the edge in this one (the next call re-checks): both harmless.
    this.edge = (epoch + 1) * this.bucketMs;
  }
}
