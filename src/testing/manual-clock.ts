/**
 * A {@link Clock} whose time moves only when a test says so.
 *
 * @module
 */
import { type Clock, EDGE_TIMER, defaultClock, setDefaultClock, systemClock } from '../clock.js';

interface Timer {
  readonly id: number;
  readonly due: number;
  /** 0 for an edge timer (fires before the other timers due at the same time), else 1. */
  readonly rank: number;
  readonly fn: () => void;
}

// Captured at load, so a test that later installs fake timers (vi.useFakeTimers) cannot stop
// ManualClock from yielding to the real event loop.
const realSetImmediate: ((fn: () => void) => unknown) | undefined = (
  globalThis as { setImmediate?: (fn: () => void) => unknown }
).setImmediate;
const realSetTimeout = globalThis.setTimeout;

/**
 * Lets already-pending promise work settle: resolves after the microtask queue has drained,
 * including every chained step, by waiting for the next macrotask.
 */
function settle(): Promise<void> {
  return new Promise<void>((resolve) => {
    if (realSetImmediate !== undefined) realSetImmediate(resolve);
    else realSetTimeout(resolve, 0);
  });
}

function before(a: Timer, b: Timer): boolean {
  return a.due < b.due || (a.due === b.due && (a.rank < b.rank || (a.rank === b.rank && a.id < b.id)));
}

/**
 * A deterministic {@link Clock} for tests: time starts at 0 and moves only with
 * {@link ManualClock.advance}. Timers fire in due-time order (ties in creation order; a circuit
 * breaker's time-window timer, which marks a bucket's end, before the others), and the
 * promise work each one starts settles before the next fires, so tests of code that mixes
 * timers and promises read like a timeline.
 *
 * @example
 * ```ts
 * import { timeout, TimeoutError } from 'breakwater';
 * import { ManualClock } from 'breakwater/testing';
 *
 * const clock = new ManualClock();
 * const policy = timeout({ durationMs: 100, clock });
 * const call = policy.execute(() => new Promise(() => {})); // never settles by itself
 * await clock.advance(100);
 * await call.catch((e) => e instanceof TimeoutError); // true
 * ```
 */
export class ManualClock implements Clock {
  private time: number;
  private seq = 0;
  private readonly heap: Timer[] = [];
  private readonly live = new Set<number>();

  /** The default clock this one replaced, while installed. */
  private replaced: Clock | undefined = undefined;
  private installed = false;

  /**
   * Creates a ManualClock and makes it the default clock of every policy (and retry budget and
   * registry) created until its {@link ManualClock.uninstall}: tests of code that builds its own
   * pipelines need no clock threading. A policy given its own `clock` option keeps it.
   *
   * Gotcha: policies created before `install()` keep the clock they got (the system clock).
   *
   * @example
   * ```ts
   * import { ManualClock } from 'breakwater/testing';
   * import { retry } from 'breakwater';
   *
   * const clock = ManualClock.install();
   * try {
   *   const policy = retry(); // uses `clock`
   *   const call = policy.execute(() => work());
   *   await clock.advance(1000); // advance while the call waits in its backoff sleep
   *   await call;
   * } finally {
   *   clock.uninstall();
   * }
   * ```
   */
  static install(start = 0): ManualClock {
    const clock = new ManualClock(start);
    const current = defaultClock();
    clock.replaced = current === systemClock ? undefined : current;
    clock.installed = true;
    setDefaultClock(clock);
    return clock;
  }

  /**
   * Stops being the default clock; the one it replaced (the system clock, or an outer
   * installed ManualClock) is the default again. Policies created meanwhile keep this clock.
   * Idempotent. Throws when another clock installed after this one is still installed.
   */
  uninstall(): void {
    if (!this.installed) return;
    if (defaultClock() !== this) {
      throw new Error('ManualClock: uninstall the clock installed after this one first');
    }
    this.installed = false;
    setDefaultClock(this.replaced);
    this.replaced = undefined;
  }

  /** @param start - the initial time in milliseconds. @defaultValue 0 */
  constructor(start = 0) {
    if (typeof start !== 'number' || !Number.isFinite(start)) {
      throw new RangeError(`ManualClock: start must be a finite number, got ${String(start)}`);
    }
    this.time = start;
  }

  /** Current virtual time in milliseconds. */
  now(): number {
    return this.time;
  }

  /** Number of timers set and neither fired nor cleared. */
  get pendingTimers(): number {
    return this.live.size;
  }

  /** Schedules `fn` at `now() + ms` (a negative or `NaN` delay counts as 0). */
  setTimeout(fn: () => void, ms: number): unknown {
    return this.schedule(fn, ms, 1);
  }

  static {
    // The clock's edge timer (see EDGE_TIMER in clock.ts): a breaker's time window rotates by it
    // instead of reading the clock per call, so it must fire before any other timer due at the
    // same time starts work that would see the clock at the new bucket. Not a declared member,
    // so the public type shows nothing.
    Object.defineProperty(ManualClock.prototype, EDGE_TIMER, {
      value(this: ManualClock, fn: () => void, ms: number): unknown {
        return this.schedule(fn, ms, 0);
      },
    });
  }

  private schedule(fn: () => void, ms: number, rank: number): number {
    const delay = typeof ms === 'number' && ms > 0 ? ms : 0;
    const timer: Timer = { id: ++this.seq, due: this.time + delay, rank, fn };
    this.live.add(timer.id);
    this.push(timer);
    return timer.id;
  }

  /** Cancels a timer; unknown or fired handles are ignored. */
  clearTimeout(handle: unknown): void {
    if (typeof handle === 'number') this.live.delete(handle);
  }

  /**
   * Moves time forward by `ms`: first lets already-pending promise work settle (so timers that
   * work creates are set at the current time), then fires every timer due by the new time in
   * due-time order (ties: creation order), letting the promise work each one starts settle
   * before the next fires. Timers set while advancing fire too if they fall due in time.
   */
  async advance(ms: number): Promise<void> {
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
      throw new RangeError(`ManualClock: advance(ms) needs a finite number >= 0, got ${String(ms)}`);
    }
    await this.advanceTo(this.time + ms);
  }

  /** Like {@link ManualClock.advance}, to an absolute time (not before `now()`). */
  async advanceTo(target: number): Promise<void> {
    if (typeof target !== 'number' || !Number.isFinite(target) || target < this.time) {
      throw new RangeError(`ManualClock: advanceTo(time) needs a finite time >= now(), got ${String(target)}`);
    }
    await settle();
    for (;;) {
      const next = this.peek();
      if (next === undefined || next.due > target) break;
      this.pop();
      this.live.delete(next.id);
      this.time = next.due;
      next.fn();
      await settle();
    }
    this.time = target;
  }

  /**
   * Fires timers until none is left (each at its due time), at most `limit` of them; useful to
   * run a test to completion. Throws if timers keep re-arming past the limit.
   */
  async runAll(limit = 10000): Promise<void> {
    await settle();
    for (let fired = 0; ; fired++) {
      const next = this.peek();
      if (next === undefined) return;
      if (fired >= limit) throw new Error(`ManualClock: runAll stopped after ${limit} timers`);
      await this.advanceTo(next.due);
    }
  }

  /** Lets pending promise work settle without moving time. */
  flush(): Promise<void> {
    return settle();
  }

  // A binary heap ordered by (due, rank, id). Cleared timers stay in it until they reach the top.
  private peek(): Timer | undefined {
    const h = this.heap;
    while (h.length > 0 && !this.live.has((h[0] as Timer).id)) this.pop();
    return h[0];
  }

  private push(t: Timer): void {
    const h = this.heap;
    let i = h.length;
    h.push(t);
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = h[p] as Timer;
      if (!before(t, parent)) break;
      h[i] = parent;
      i = p;
    }
    h[i] = t;
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop();
    if (last === undefined || h.length === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const r = l + 1;
      const c = r < h.length && before(h[r] as Timer, h[l] as Timer) ? r : l;
      if (!before(h[c] as Timer, last)) break;
      h[i] = h[c] as Timer;
      i = c;
    }
    h[i] = last;
  }
}
