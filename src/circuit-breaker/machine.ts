/**
 * The breaker's state machine: states, generations, the open and half-open timers, the
 * open-duration backoff, isolation, reset and restore. The call path (admission, classification,
 * recording) lives in index.ts, on top of it.
 *
 * @module
 */
import type { BackoffIterator } from '../backoff.js';
import { PolicyBase } from '../policy.js';
import { MAX_TIMER_MS, type Resolved, resolve } from './options.js';
import type { CircuitBreakerSnapshot, CircuitState, RestoredState } from './state.js';
import type { HealthWindow } from './windows.js';

/**
 * Events of the circuit breaker.
 *
 * - `stateChange`: the state moved (`at` is the clock's time).
 * - `success` / `failure`: a call that ran ended, as the breaker classified it (an error that
 *   `handle` does not count is a `success`); `slow` when `slowCallDurationMs` is set and reached.
 * - `rejected`: a call was refused without running.
 *
 * @example
 * ```ts
 * import { circuitBreaker } from 'breakwater';
 * const breaker = circuitBreaker();
 * breaker.events.on('stateChange', ({ from, to }) => console.log(`breaker ${from} -> ${to}`));
 * ```
 */
export interface CircuitBreakerEvents {
  stateChange: { readonly from: CircuitState; readonly to: CircuitState; readonly at: number };
  success: { readonly durationMs: number; readonly slow: boolean };
  failure: { readonly error?: unknown; readonly result?: unknown; readonly durationMs: number; readonly slow: boolean };
  rejected: { readonly state: CircuitState };
}

/**
 * Returned by `isolate()`: the breaker stays isolated until every handle is released.
 * `release()` is idempotent per handle.
 *
 * @example
 * ```ts
 * import { circuitBreaker } from 'breakwater';
 * const breaker = circuitBreaker();
 * const hold = breaker.isolate(); // maintenance window
 * hold.release();
 * ```
 */
export interface IsolationHandle {
  release(): void;
}

// States as small integers on the hot path; names only at the edges.
/** @internal */ export const CLOSED = 0;
/** @internal */ export const OPEN = 1;
/** @internal */ export const HALF_OPEN = 2;
/** @internal */ export const ISOLATED = 3;
/** @internal */ export const NAMES: readonly CircuitState[] = ['closed', 'open', 'halfOpen', 'isolated'];
/** How many openings a restore replays through a `Backoff` at most (a huge count is nonsense). */
const MAX_REPLAY = 10_000;

/**
 * The state machine under {@link CircuitBreakerPolicy}.
 *
 * @internal
 */
export abstract class BreakerMachine extends PolicyBase<CircuitBreakerEvents> {
  /** @internal */ protected readonly o: Resolved;
  /** @internal */ protected readonly health: HealthWindow;
  /** @internal */ protected st = CLOSED;
  /** @internal Bumped on every transition (and reset): a call tagged with an older one never decides. */
  protected gen = 0;
  /** @internal While open: when the open period ends, by the clock. */
  protected openUntil = 0;
  /** @internal Half-open: trial slots left, trials running. */
  protected permits = 0;
  /** @internal */ protected trials = 0;
  private trialSuccesses = 0;
  private slowTrials = 0;
  private openings = 0;
  private openIt: BackoffIterator | undefined = undefined;
  private lastOpenMs: number;
  /** The first open duration this breaker used (from its `Backoff`): the default trial limit. */
  private firstOpenMs: number | undefined = undefined;
  private openTimer: unknown = undefined;
  private hungTimer: unknown = undefined;
  private isolations = 0;
  private isolationEpoch = 0;
  // Bound once: arming a timer allocates no closure.
  private readonly onOpenEnd = (): void => {
    this.openTimer = undefined;
    if (this.st === OPEN && !this.disposed) this.toHalfOpen(this.clock.now());
  };
  private readonly onTrialsHung = (): void => {
    this.hungTimer = undefined;
    if (this.st === HALF_OPEN && this.trials > 0 && !this.disposed) this.toOpen();
  };

  /** @internal */
  constructor(raw: Readonly<Record<string, unknown>>) {
    super('circuitBreaker', raw);
    const o = resolve(raw);
    this.o = o;
    this.health = o.window;
    this.lastOpenMs = o.openMs;
    if (o.initial !== undefined) this.restore(o.initial);
  }

  /**
   * The current state: `'closed'`, `'open'`, `'halfOpen'` or `'isolated'`.
   *
   * @example
   * ```ts
   * import { circuitBreaker } from 'breakwater';
   * const breaker = circuitBreaker();
   * if (breaker.state !== 'closed') console.log('degraded');
   * ```
   */
  get state(): CircuitState {
    return NAMES[this.st] as CircuitState;
  }

  /**
   * Holds the breaker open (calls reject with `IsolatedCircuitError`) until every handle
   * returned so far is released; then it closes with an empty window. Each handle's `release()`
   * counts once, however often it is called.
   *
   * @example
   * ```ts
   * import { circuitBreaker } from 'breakwater';
   * const breaker = circuitBreaker();
   * const hold = breaker.isolate(); // e.g. while the dependency is in maintenance
   * // … calls reject with IsolatedCircuitError …
   * hold.release();
   * ```
   */
  isolate(): IsolationHandle {
    this.isolations++;
    const epoch = this.isolationEpoch;
    if (this.st !== ISOLATED) this.announce(this.switchTo(ISOLATED), NaN);
    let released = false;
    return Object.freeze({
      release: (): void => {
        if (released) return;
        released = true;
        // After reset() this handle's hold is already gone.
        if (epoch === this.isolationEpoch && --this.isolations === 0) this.toClosed();
      },
    });
  }

  /**
   * Closes the breaker, empties its window, restarts the open-duration backoff and drops every
   * isolation (older handles' `release()` then does nothing). Calls in flight no longer count.
   *
   * @example
   * ```ts
   * import { circuitBreaker } from 'breakwater';
   * const breaker = circuitBreaker();
   * breaker.reset(); // after a deploy of the dependency, say
   * ```
   */
  reset(): void {
    this.isolations = 0;
    this.isolationEpoch++;
    this.toClosed();
  }

  /**
   * Plain, JSON-safe state for option `initialState` after a restart: the state, the
   * consecutive openings, the time left while open, the wall-clock time of the save, and the
   * window's contents.
   *
   * @example
   * ```ts
   * import { circuitBreaker } from 'breakwater';
   * const breaker = circuitBreaker();
   * const saved = JSON.stringify(breaker); // calls toJSON()
   * const restored = circuitBreaker({ initialState: JSON.parse(saved) });
   * ```
   */
  toJSON(): CircuitBreakerSnapshot {
    const now = this.clock.now();
    return {
      version: 1,
      state: this.state,
      openings: this.openings,
      retryAfterMs: this.st === OPEN ? Math.max(0, this.openUntil - now) : 0,
      savedAt: Date.now(),
      window: this.health.toJSON(now),
    };
  }

  /** @internal */
  protected override onDispose(): void {
    this.clearTimers();
  }

  /** A half-open trial ended without failing: a success, or (`neither`) no verdict. @internal */
  protected trialEnded(slow: boolean, neither: boolean): void {
    this.trials--;
    if (neither) {
      this.permits++;
    } else {
      this.trialSuccesses++;
      if (slow) this.slowTrials++;
      if (this.trialSuccesses >= this.o.halfOpenCalls) {
        // The trials as a sample: a consecutive window has slowRate Infinity, so only rate
        // windows can reopen on slow trials.
        if (this.slowTrials / this.o.halfOpenCalls >= this.o.slowRate) this.toOpen();
        else this.toClosed();
        return;
      }
    }
    if (this.trials === 0 && this.hungTimer !== undefined) {
      this.clock.clearTimeout(this.hungTimer);
      this.hungTimer = undefined;
    }
  }

  /** Admits one half-open trial (the caller checked `permits`). @internal */
  protected admitTrial(): void {
    this.permits--;
    // The hung-trial clock runs while any trial runs: from the first, until none is left.
    if (this.trials++ === 0) this.hungTimer = this.clock.setTimeout(this.onTrialsHung, this.trialLimit());
  }

  /**
   * `halfOpenMaxDurationMs`, by default the first open duration, so an abandoned trial (its
   * caller gone, its `fn` never settling) cannot hold the breaker half-open for ever. A first
   * open duration of 0 (half-open at once) would time every trial out at once: 30 s then.
   */
  private trialLimit(): number {
    const set = this.o.halfOpenMaxMs;
    if (set !== undefined) return set;
    const first = this.o.openBackoff === undefined ? this.o.openMs : (this.firstOpenMs ?? this.lastOpenMs);
    return first > 0 ? first : 30_000;
  }

  /** @internal */
  protected toOpen(): void {
    // Transitions are rare: they read the policy's own clock, never a call's (maybe turn) time.
    const now = this.clock.now();
    const ms = this.nextOpenMs();
    const from = this.switchTo(OPEN);
    this.openings++;
    this.openUntil = now + ms;
    // Armed before announcing, so a listener that resets the breaker also clears it.
    if (!this.disposed) this.openTimer = this.clock.setTimeout(this.onOpenEnd, ms);
    this.announce(from, now);
  }

  /** @internal */
  protected toHalfOpen(now: number): void {
    const from = this.switchTo(HALF_OPEN);
    this.permits = this.o.halfOpenCalls;
    this.trials = this.trialSuccesses = this.slowTrials = 0;
    this.announce(from, now);
  }

  private toClosed(): void {
    const from = this.switchTo(CLOSED);
    this.health.reset();
    this.openings = 0;
    this.openIt = undefined;
    this.lastOpenMs = this.o.openMs;
    this.announce(from, NaN);
  }

  /** Moves to `to` under a new generation, with no timer of the old state left. */
  private switchTo(to: number): number {
    const from = this.st;
    this.st = to;
    this.gen++;
    this.clearTimers();
    return from;
  }

  private announce(from: number, now: number): void {
    if (from === this.st || !this.events.has('stateChange')) return;
    this.events.emit('stateChange', {
      from: NAMES[from] as CircuitState,
      to: NAMES[this.st] as CircuitState,
      at: now === now ? now : this.clock.now(),
    });
  }

  private clearTimers(): void {
    if (this.openTimer !== undefined) {
      this.clock.clearTimeout(this.openTimer);
      this.openTimer = undefined;
    }
    if (this.hungTimer !== undefined) {
      this.clock.clearTimeout(this.hungTimer);
      this.hungTimer = undefined;
    }
  }

  /** The next open period: the number, or the backoff's next delay (the last one once it stops). */
  private nextOpenMs(): number {
    const schedule = this.o.openBackoff;
    if (schedule === undefined) return this.o.openMs;
    let ms: unknown;
    try {
      ms = (this.openIt ??= schedule.start()).next();
    } catch (error) {
      // A user schedule that throws must not leave the breaker half-transitioned.
      console.warn(`breakwater: circuitBreaker '${this.name}': openDurationMs backoff threw`, error);
    }
    if (typeof ms === 'number' && ms >= 0) this.lastOpenMs = Math.min(ms, MAX_TIMER_MS);
    this.firstOpenMs ??= this.lastOpenMs;
    return this.lastOpenMs;
  }

  /** Applies a validated `initialState` (see state.ts); runs once, in the constructor. */
  private restore(s: RestoredState): void {
    const now = this.clock.now();
    const elapsed = s.savedAt === undefined ? 0 : Math.max(0, Date.now() - s.savedAt);
    if (s.window !== undefined && s.window.type === this.health.type) this.health.restore(s.window, elapsed, now);
    // Replays the schedule, so the next reopening gets the next, longer, duration.
    for (let i = 0; i < Math.min(s.openings, MAX_REPLAY); i++) this.nextOpenMs();
    this.openings = s.openings;
    if (s.state === 'open') {
      const left = Math.min(MAX_TIMER_MS, Math.max(0, (s.retryAfterMs ?? this.lastOpenMs) - elapsed));
      this.st = OPEN;
      this.openUntil = now + left;
      this.openTimer = this.clock.setTimeout(this.onOpenEnd, left);
    } else if (s.state === 'halfOpen') {
      this.st = HALF_OPEN;
      this.permits = this.o.halfOpenCalls;
    } else if (s.state === 'isolated') {
      // Handles do not survive a restart: this hold ends only with reset().
      this.st = ISOLATED;
      this.isolations = 1;
    }
  }
}
