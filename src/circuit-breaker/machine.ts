/**
 * The breaker's state machine, owned by the policy (index.ts): states, generations, the open and
 * half-open timers, the open-duration backoff, isolation, reset and restore. Its seam is three
 * operations — {@link BreakerMachine.admit} (may a call run, and under which generation),
 * {@link BreakerMachine.record} (a verdict on a call that ran) and
 * {@link BreakerMachine.snapshot} (plain saved state) — plus the closed-state fast path, which
 * reads `st` and `gen` directly. The call path (classification, metrics, events) stays in
 * index.ts.
 *
 * Internal: not exported from the package.
 * @module
 */
import type { BackoffIterator } from '../backoff.js';
import type { Clock } from '../clock.js';
import { MAX_TIMER_MS, type Resolved } from './options.js';
import { type CircuitBreakerSnapshot, type CircuitState, type RestoredState, STATES } from './state.js';
import { type CircuitStoreSession, SharedWindow } from './store.js';
import { type HealthWindow, TimeWindow } from './windows.js';

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
  /** The breaker moved `from` one state `to` another at clock time `at`. */
  stateChange: { readonly from: CircuitState; readonly to: CircuitState; readonly at: number };
  /** A call that counts as a success ended after `durationMs` (`slow`: at least `slowCallDurationMs`). */
  success: { readonly durationMs: number; readonly slow: boolean };
  /** A handled failure (an `error` thrown or a failing `result`) ended after `durationMs`. */
  failure: { readonly error?: unknown; readonly result?: unknown; readonly durationMs: number; readonly slow: boolean };
  /** A call was refused without running, in `state`. */
  rejected: { readonly state: CircuitState };
  /** A shared store could not be reached (once per outage); the breaker goes on from local state. */
  storeError: { readonly error: unknown };
  /** The shared store answers again after a `storeError`. */
  storeRecovered: Record<string, never>;
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
  /** Ends this handle's isolation; the breaker closes when every handle is released. Idempotent. */
  release(): void;
}

// States as small integers on the hot path; names only at the edges.
/** @internal */ export const CLOSED = 0;
/** @internal */ export const OPEN = 1;
/** @internal */ export const HALF_OPEN = 2;
/** @internal */ export const ISOLATED = 3;
/** @internal State names by number: the one list of states (state.ts). */
export const NAMES = STATES;
/** {@link BreakerMachine.admit}'s answer for a refused call. @internal */
export const REFUSED = -1;
/** How many openings a restore replays through a `Backoff` at most (a huge count is nonsense). */
const MAX_REPLAY = 10_000;

/** Told of every transition: `from` and `to` are state numbers, `at` the clock's time (`NaN`: read it). Not exported from the package. */
export type TransitionListener = (from: number, to: number, at: number) => void;

/**
 * The state machine a {@link CircuitBreakerPolicy} owns.
 *
 * Not exported from the package (the breaker is built by `circuitBreaker()`).
 */
export class BreakerMachine {
  /** @internal */
  readonly health: HealthWindow;
  /** The state (a number: {@link CLOSED} …); read directly on the closed fast path. */
  st = CLOSED;
  /** Bumped on every transition (and reset): a call tagged with an older one never decides. */
  gen = 0;
  /** While open: when the open period ends, by the clock. */
  openUntil = 0;
  /** Half-open: trial slots left, trials running. */
  private permits = 0;
  private trials = 0;
  private disposed = false;
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
  constructor(
    private readonly o: Resolved,
    private readonly clock: Clock,
    /** For warnings: the policy's name. */
    private readonly name: string,
    private readonly changed: TransitionListener,
    /** A shared store's session (`undefined`: the in-memory default). */
    readonly session?: CircuitStoreSession,
  ) {
    // An in-memory time window keeps time by the clock's edge timer (no clock read per call);
    // a shared store's session is given the clock's time with every outcome instead.
    if (session === undefined && o.window instanceof TimeWindow) o.window.keepTime(clock);
    this.health = session === undefined ? o.window : new SharedWindow(o.window, session);
    this.lastOpenMs = o.openMs;
    if (o.initial !== undefined) this.restore(o.initial);
  }

  /**
   * May a call run now? Outside the closed state's fast path (which reads `st` directly): moves
   * an open breaker whose time is up to half-open, takes a half-open trial slot. Returns the
   * generation the call runs under, or {@link REFUSED} (then `st` and `openUntil` say why).
   * `now` is the clock's time, or `NaN` if not read yet.
   */
  admit(now: number): number {
    if (this.st === OPEN) {
      if (now !== now) now = this.clock.now();
      if (now < this.openUntil) return REFUSED;
      // The timer is late (a busy event loop): time, not the timer, decides.
      this.toHalfOpen(now);
    }
    if (this.st === CLOSED) return this.gen;
    if (this.st === HALF_OPEN && this.permits > 0) {
      this.admitTrial();
      return this.gen;
    }
    return REFUSED;
  }

  /**
   * The verdict on a call admitted under generation `gen` that ran: a failure (or not), slow
   * (or not), ended at `now` by the clock (`NaN`: not read; a time window reads it then). A call
   * of an older generation never decides.
   */
  record(gen: number, failure: boolean, slow: boolean, now: number): void {
    if (gen !== this.gen || this.disposed) return;
    if (this.st === CLOSED) {
      if (this.health.record(failure, slow, now === now || !this.health.needsClock ? now : this.clock.now())) this.toOpen();
    } else if (this.st === HALF_OPEN) {
      if (failure) this.toOpen();
      else this.trialEnded(slow, false);
    }
  }

  /** The closed state's window decided to open (the policy's inlined `record`). */
  trip(): void {
    if (this.st === CLOSED && !this.disposed) this.toOpen();
  }

  /** A call that counts as neither (the caller's abort, a local rejection): a trial gives its slot back. */
  noVerdict(gen: number): void {
    if (gen === this.gen && this.st === HALF_OPEN && !this.disposed) this.trialEnded(false, true);
  }

  /** Holds the breaker isolated until every handle is released (see the policy's `isolate`). */
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

  /** Closes, empties the window, restarts the backoff, drops every isolation. */
  reset(): void {
    this.isolations = 0;
    this.isolationEpoch++;
    this.toClosed();
  }

  /** Plain, JSON-safe state for option `initialState` (the policy's `toJSON()`). */
  snapshot(now: number): CircuitBreakerSnapshot {
    return {
      version: 1,
      state: NAMES[this.st] as CircuitBreakerSnapshot['state'],
      openings: this.openings,
      retryAfterMs: this.st === OPEN ? Math.max(0, this.openUntil - now) : 0,
      savedAt: Date.now(),
      window: this.health.toJSON(now),
    };
  }

  /** No timer is left or armed again. */
  dispose(): void {
    this.disposed = true;
    this.clearTimers();
    this.health.stop();
    this.session?.dispose();
  }

  /** Gives back a trial slot a shared store refused (it was taken by {@link admit}). */
  untrial(): void {
    this.trials--;
    this.permits++;
    if (this.trials === 0 && this.hungTimer !== undefined) {
      this.clock.clearTimeout(this.hungTimer);
      this.hungTimer = undefined;
    }
  }

  /** A state decided by a shared store. Isolation is this process's own and wins. */
  impose(state: Exclude<CircuitState, 'isolated'>, retryAfterMs: number): void {
    if (this.disposed || this.st === ISOLATED) return;
    if (state === 'closed') {
      if (this.st !== CLOSED) this.toClosed();
    } else if (state === 'halfOpen') {
      if (this.st !== HALF_OPEN) this.toHalfOpen(this.clock.now());
    } else {
      const now = this.clock.now();
      const ms = Math.min(MAX_TIMER_MS, Math.max(0, retryAfterMs));
      // Already open: only the time left moves (another process reopened it).
      const from = this.st === OPEN ? OPEN : this.switchTo(OPEN);
      if (from !== OPEN) this.openings++;
      this.openUntil = now + ms;
      if (this.openTimer !== undefined) this.clock.clearTimeout(this.openTimer);
      this.openTimer = this.clock.setTimeout(this.onOpenEnd, ms);
      this.announce(from, now);
    }
  }

  /** A half-open trial ended without failing: a success, or (`neither`) no verdict. */
  private trialEnded(slow: boolean, neither: boolean): void {
    this.trials--;
    // A shared store that can reach the fleet may decide what the trials lead to.
    const remote = this.session !== undefined && this.session.trialEnded(slow, neither);
    if (neither) {
      this.permits++;
    } else if (!remote) {
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

  /** Admits one half-open trial (the caller checked `permits`). */
  private admitTrial(): void {
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

  private toOpen(): void {
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

  private toHalfOpen(now: number): void {
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
    // Only the closed state records into the window: its edge timer has nothing left to do.
    this.health.stop();
    return from;
  }

  private announce(from: number, now: number): void {
    if (from === this.st) return;
    if (this.session !== undefined) this.session.transitioned(NAMES[from] as CircuitState, NAMES[this.st] as CircuitState);
    this.changed(from, this.st, now);
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
