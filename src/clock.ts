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

const perf: { now(): number } | undefined = (globalThis as { performance?: { now(): number } }).performance;
const now: () => number =
  perf !== undefined && typeof perf.now === 'function' ? perf.now.bind(perf) : Date.now.bind(Date);

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
  setTimeout(fn: () => void, ms: number): unknown {
    const handle = globalThis.setTimeout(fn, ms) as unknown as MaybeUnref;
    // An unref'd timer is also cheaper to arm and clear in Node (no handle ref-count change).
    if (typeof handle === 'object' && handle !== null && typeof handle.unref === 'function') handle.unref();
    return handle;
  },
  clearTimeout(handle: unknown): void {
    globalThis.clearTimeout(handle as Parameters<typeof globalThis.clearTimeout>[0]);
  },
});

/**
 * Makes a timer keep the process alive, where the handle allows (Node's and Bun's `ref()`;
 * elsewhere nothing keeps a process alive anyway).
 *
 * The rule every policy follows: a timer that guards work already running (a timeout's deadline,
 * a hedge's delay, an open breaker's timer, a queue timeout while the calls ahead run) stays
 * unref'd, as `systemClock` makes it: the running work keeps the process alive, the guard must
 * not. A timer that *is* the work the caller waits for (a retry's backoff sleep, a rate
 * limiter's wait for a permit, chaos latency) must keep the process alive, or a script whose only
 * pending work is that wait would exit without running its function.
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

// --- The turn clock: cheap time for metrics -------------------------------------------------

/**
 * Runs `fn` at the end of the current event-loop turn (a macrotask: `setImmediate` where it
 * exists, else a `MessageChannel` message, else `setTimeout(fn, 0)`). Captured at load so fake
 * timers installed later by a test cannot stop it.
 *
 * @internal
 */
export const scheduleEndOfTurn: (fn: () => void) => void = (() => {
  const g = globalThis as { setImmediate?: (fn: () => void) => unknown; queueMicrotask?: unknown };
  if (typeof g.setImmediate === 'function') {
    const setImmediate = g.setImmediate;
    return (fn: () => void) => void setImmediate(fn);
  }
  if (typeof MessageChannel === 'function') {
    const channel = new MessageChannel();
    let pending: (() => void) | undefined;
    channel.port1.onmessage = () => {
      const fn = pending;
      pending = undefined;
      fn?.();
    };
    return (fn: () => void) => {
      pending = fn;
      channel.port2.postMessage(null);
    };
  }
  const setTimeout = globalThis.setTimeout;
  return (fn: () => void) => void setTimeout(fn, 0);
})();

let turnTime = 0;
let turnValid = false;
const endOfTurnHooks: Array<() => void> = [];
const endTurn = (): void => {
  turnValid = false;
  if (endOfTurnHooks.length === 0) return;
  for (const fn of endOfTurnHooks.splice(0)) fn();
};

/**
 * Runs `fn` when the time {@link turnNow} returned in this turn is forgotten, at the end of the
 * turn: a policy drops what it cached for the turn (the breaker's handlers of the turn's calls).
 * Call it right after `turnNow()`, which makes sure the end of the turn is scheduled. `fn` must
 * not throw.
 *
 * @internal
 */
export function atEndOfTurn(fn: () => void): void {
  endOfTurnHooks.push(fn);
}

/**
 * The system clock read at most once per event-loop turn, as libuv's loop time and nginx's
 * cached time are: the first read in a turn reads `performance.now()` and schedules one
 * macrotask to forget it; every other read in that turn is a variable load. Metrics use it so
 * recording costs no clock read per call: a call that starts and ends in the same turn (work
 * that never waits for I/O or a timer) measures 0 ms.
 *
 * @internal
 */
export function turnNow(): number {
  if (turnValid) return turnTime;
  turnTime = now();
  turnValid = true;
  scheduleEndOfTurn(endTurn);
  return turnTime;
}

/**
 * The time source for a policy's metrics: the turn clock for {@link systemClock}, the clock
 * itself otherwise (a `ManualClock` in tests stays exact).
 *
 * @internal
 */
export function metricsTime(clock: Clock): () => number {
  return clock === systemClock ? turnNow : () => clock.now();
}
