/**
 * Time for every time-dependent policy comes from a {@link Clock}, so tests can drive it.
 *
 * @module
 */

/**
 * A source of monotonic time and one-shot timers.
 *
 * Every time-dependent policy takes `clock` (default {@link systemClock}); tests pass a
 * `ManualClock` from `breakwater/testing` instead and move time by hand.
 *
 * @example
 * ```ts
 * import { timeout, systemClock } from 'breakwater';
 * const limit = timeout({ durationMs: 500, clock: systemClock });
 * ```
 */
export interface Clock {
  /** Milliseconds, monotonic (never goes backwards). */
  now(): number;
  /** Calls `fn` once after `ms` milliseconds; returns a handle for {@link Clock.clearTimeout}. */
  setTimeout(fn: () => void, ms: number): unknown;
  /** Cancels a timer; an unknown or already fired handle is ignored. */
  clearTimeout(handle: unknown): void;
}

interface MaybeUnref {
  unref?: () => unknown;
}

function setUnrefTimeout(fn: () => void, ms: number): unknown {
  const handle = globalThis.setTimeout(fn, ms) as unknown as MaybeUnref;
  // An unref'd timer is also cheaper to arm and clear in Node (no handle ref-count change).
  if (typeof handle === 'object' && handle !== null && typeof handle.unref === 'function') handle.unref();
  return handle;
}

const perf: { now(): number } | undefined = (globalThis as { performance?: { now(): number } }).performance;
const now: () => number =
  perf !== undefined && typeof perf.now === 'function' ? perf.now.bind(perf) : Date.now.bind(Date);

/**
 * A clock that runs in real time on this event loop can offer a coarse per-turn reading: today
 * only {@link systemClock}, keyed by a module-private symbol so the public `Clock` type shows
 * nothing. A wrapper around `systemClock` and any clock a user writes are read exactly.
 */
const TURN_TIME = Symbol('breakwater.turnTime');

/**
 * A clock whose timers keep time can offer an *edge timer*: a timer that fires when the clock
 * reaches its time, before any other work of that time sees the clock there. A window that
 * rotates by such a timer at each bucket edge knows, without reading the clock, that time is
 * still inside the current bucket while the timer has not fired (see the breaker's
 * `TimeWindow`). Keyed by a module-private symbol, so the public types show nothing.
 *
 * @internal
 */
export const EDGE_TIMER: unique symbol = Symbol('breakwater.edgeTimer') as never;

/** An edge timer: calls `fn` once after `ms` milliseconds; cleared by the clock's `clearTimeout`. @internal */
export type EdgeTimer = (fn: () => void, ms: number) => unknown;

/**
 * The real clock: `performance.now()` for time, the global `setTimeout` for timers. Its timers
 * never keep a Node.js process alive (they are `unref`ed where the runtime supports it).
 *
 * @example
 * ```ts
 * import { systemClock } from 'breakwater';
 * const start = systemClock.now();
 * ```
 */
export const systemClock: Clock = Object.freeze({
  now,
  [TURN_TIME]: turnNow,
  // The event loop runs a due timer within a turn of its time (a hair early at worst, which
  // the owner re-checks): a guard, unref'd like every systemClock timer.
  [EDGE_TIMER]: setUnrefTimeout,
  setTimeout: setUnrefTimeout,
  clearTimeout(handle: unknown): void {
    globalThis.clearTimeout(handle as Parameters<typeof globalThis.clearTimeout>[0]);
  },
});

/**
 * Makes a timer keep the process alive, where the handle allows (Node's and Bun's `ref()`;
 * elsewhere nothing keeps a process alive anyway).
 *
 * The rule every policy follows: a timer that guards work already running (a timeout's deadline,
 * an open breaker's timer, a queue timeout while the calls ahead run) stays unref'd, as
 * `systemClock` makes it: the running work keeps the process alive, the guard must not. A timer
 * that *is* the work the caller waits for (a retry's backoff sleep, a rate limiter's wait for a
 * permit, chaos latency, a hedge's delay before its next attempt) must keep the process alive, or
 * a script whose only pending work is that wait would exit without running its function.
 *
 * @internal
 */
export function keepAlive(handle: unknown): void {
  if (typeof handle !== 'object' || handle === null) return;
  const ref = (handle as { ref?: unknown }).ref;
  if (typeof ref === 'function') ref.call(handle);
}

/** Checks a `clock` option: an object with `now`, `setTimeout` and `clearTimeout` functions. */
export function isClock(value: unknown): value is Clock {
  if (value === null || typeof value !== 'object') return false;
  const c = value as Record<string, unknown>;
  return typeof c['now'] === 'function' && typeof c['setTimeout'] === 'function' && typeof c['clearTimeout'] === 'function';
}

// --- The end-of-turn queue ------------------------------------------------------------------

/**
 * Which primitive ends a turn here: `setImmediate` where it exists (Node, Bun, Deno), else a
 * `MessageChannel` message (browsers, workers), else `setTimeout(fn, 0)`. Picked once at load, so
 * fake timers a test installs later cannot stop the queue.
 *
 * @internal
 */
export const endOfTurnPrimitive: 'setImmediate' | 'MessageChannel' | 'setTimeout' = (() => {
  const g = globalThis as { setImmediate?: unknown; MessageChannel?: unknown };
  if (typeof g.setImmediate === 'function') return 'setImmediate';
  if (typeof g.MessageChannel === 'function') return 'MessageChannel';
  return 'setTimeout';
})();

/** Schedules one macrotask on the primitive above. */
const scheduleMacrotask: (fn: () => void) => void = (() => {
  if (endOfTurnPrimitive === 'setImmediate') {
    const setImmediate = (globalThis as unknown as { setImmediate: (fn: () => void) => unknown }).setImmediate;
    return (fn: () => void) => void setImmediate(fn);
  }
  if (endOfTurnPrimitive === 'MessageChannel') {
    // One channel and one handler for the whole queue: each message runs the queue's flush,
    // and the queue posts at most one message per turn (it keeps no callback of its own).
    const channel = new MessageChannel();
    let run: () => void = () => {};
    channel.port1.onmessage = () => run();
    // Node's ports keep the process alive while they have a handler; the queue never should.
    (channel.port1 as { unref?: () => void }).unref?.();
    return (fn: () => void) => {
      run = fn;
      channel.port2.postMessage(null);
    };
  }
  const setTimeout = globalThis.setTimeout;
  return (fn: () => void) => void setTimeout(fn, 0);
})();

// The callbacks waiting for the end of this turn, and the spare array the last flush emptied:
// two arrays swapped, so a flush allocates nothing.
let pending: Array<() => void> = [];
let spare: Array<() => void> = [];
let flushScheduled = false;

const flush = (): void => {
  flushScheduled = false;
  const run = pending;
  pending = spare;
  // A callback that queues another one (for the end of the next turn) lands in `pending`, which
  // schedules a new flush: nothing queued is ever dropped or run twice.
  for (let i = 0; i < run.length; i++) {
    const fn = run[i] as () => void;
    try {
      fn();
    } catch (error) {
      // Callbacks are the library's own and do not throw; if one does, the others still run
      // and the error surfaces as an uncaught one, not silently.
      queueMicrotask(() => {
        throw error;
      });
    }
  }
  run.length = 0;
  spare = run;
};

/**
 * Runs `fn` once at the end of the current event-loop turn. Any number of callbacks share one
 * macrotask per turn, in the order they were queued; a callback queued during the flush runs at
 * the end of the next turn. `fn` must not throw.
 *
 * @internal
 */
export function atEndOfTurn(fn: () => void): void {
  pending.push(fn);
  if (flushScheduled) return;
  flushScheduled = true;
  scheduleMacrotask(flush);
}

// --- Two times: the policy's clock, and a coarse per-turn time for metrics ------------------

let turnTime = 0;
let turnValid = false;
const endTurn = (): void => {
  turnValid = false;
};

/**
 * The system clock read at most once per event-loop turn, as libuv's loop time and nginx's
 * cached time are: the first read in a turn reads `performance.now()` and queues the end of the
 * turn to forget it; every other read in that turn is a variable load. For metrics alone (a
 * latency measured with it is within one turn of the true duration; a call that starts and ends
 * in one turn measures 0 ms). Deadlines, breaker windows and hedge delays read `clock.now()`.
 *
 * @internal
 */
export function turnNow(): number {
  if (turnValid) return turnTime;
  turnTime = now();
  turnValid = true;
  atEndOfTurn(endTurn);
  return turnTime;
}

/**
 * The coarse per-turn time a clock offers, or `undefined` for a clock that must be read exactly
 * (a `ManualClock`, any custom clock). Its presence also says the clock's timers are the event
 * loop's, so work may be batched to the end of the turn (the deadline queue's deferred clear).
 *
 * @internal
 */
export function turnTimeOf(clock: Clock): (() => number) | undefined {
  return (clock as { [TURN_TIME]?: () => number })[TURN_TIME];
}

/**
 * The clock's edge timer (see {@link EDGE_TIMER}), bound to it, or `undefined` for a clock whose
 * timers are not known to keep time (a custom clock, a wrapper around `systemClock`): code that
 * would rotate by it reads the clock per call instead. `systemClock` and `ManualClock` have one.
 *
 * @internal
 */
export function edgeTimerOf(clock: Clock): EdgeTimer | undefined {
  const timer = (clock as { [EDGE_TIMER]?: EdgeTimer })[EDGE_TIMER];
  return typeof timer === 'function' ? (fn, ms) => timer.call(clock, fn, ms) : undefined;
}

/**
 * The time source for a policy's metrics: the clock's coarse per-turn time if it has one, the
 * clock itself otherwise (a `ManualClock` in tests stays exact).
 *
 * @internal
 */
export function metricsTime(clock: Clock): () => number {
  return turnTimeOf(clock) ?? (() => clock.now());
}

/**
 * The slot of the default clock `ManualClock.install()` sets. `Symbol.for`, on `globalThis`, so
 * the ESM and CommonJS copies of the package (and `breakwater/testing`) share one default.
 */
const DEFAULT_CLOCK: unique symbol = Symbol.for('breakwater.defaultClock') as never;

/**
 * The clock a policy created now uses when its `clock` option is not given: the installed one
 * (`ManualClock.install()` in tests), else {@link systemClock}.
 *
 * @internal
 */
export function defaultClock(): Clock {
  const c = (globalThis as { [DEFAULT_CLOCK]?: Clock })[DEFAULT_CLOCK];
  return c ?? systemClock;
}

/** Sets (or, with `undefined`, clears) the default clock. @internal */
export function setDefaultClock(clock: Clock | undefined): void {
  const g = globalThis as { [DEFAULT_CLOCK]?: Clock };
  if (clock === undefined) delete g[DEFAULT_CLOCK];
  else g[DEFAULT_CLOCK] = clock;
}
