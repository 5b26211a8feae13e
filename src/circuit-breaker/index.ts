/**
 * The circuit breaker: stops calling a dependency that keeps failing, and tries it again later.
 * This file is the call path (admission, classification, recording); the state machine it drives
 * is machine.ts, the windows windows.ts, saved state state.ts, options options.ts.
 *
 * @module
 */
import { BrokenCircuitError, IsolatedCircuitError, isBreakwaterError, isLocalRejection } from '../errors.js';
import { handlesError, handlesResult } from '../handle.js';
import { FAILURES, SLOW_CALLS, SUCCESSES } from '../metrics/rolling-window.js';
import { type Ctx, type Fn, RUN, invoke } from '../internal/run.js';
import { OBSERVE, type SettlementSink } from '../internal/settle.js';
import type { PolicyMetrics } from '../contract.js';
import { disposedError } from '../policy-base.js';
import { type Token, callerAborted } from '../internal/token.js';
import { atEndOfTurn, metricsTime, turnNow, turnTimeOf } from '../clock.js';
import { optionsObject } from '../validate.js';
import { describePolicy } from '../internal/descriptor.js';
import { PolicyBase } from '../policy-base.js';
import { BreakerMachine, type CircuitBreakerEvents, CLOSED, HALF_OPEN, ISOLATED, type IsolationHandle, NAMES, OPEN, REFUSED } from './machine.js';
import type { CircuitStoreBreaker, CircuitStoreSession, SharedBreakerConfig } from './store.js';
import { type CircuitBreakerOptions, type Resolved, resolve } from './options.js';
import { type CircuitBreakerSnapshot, type CircuitState, STATES } from './state.js';

export type { CircuitBreakerEvents, IsolationHandle } from './machine.js';
export type { CircuitBreakerOptions } from './options.js';
export type { WindowOption } from './windows.js';
export type {
  CircuitState,
  CircuitBreakerSnapshot,
  CircuitBreakerInitialState,
  WindowSnapshot,
  TimeBucketSnapshot,
} from './state.js';

// Verdicts on a call that ran, for the breaker's health.
const OK = 0;
const FAIL = 1;
/** Neither: a rejection by a breakwater policy inside the breaker (local back-pressure). */
const LOCAL = 2;
/** Neither: the caller's own abort, or an attempt a policy cancelled (a losing hedge). */
const ABORTED = 3;
// What a failure carries for its event.
const NO_DETAIL = 0;
const ERROR = 1;
const RESULT = 2;

/** The `.then` handlers shared by the calls of one generation that started at one time. */
interface Handlers {
  readonly gen: number;
  /** The start time they carry (`NaN`: untimed). */
  readonly started: number;
  readonly ok: (value: unknown) => unknown;
  readonly err: (error: unknown) => never;
}

/** What the registry, the bus and the exporters know about a circuit breaker. */
const CIRCUIT_BREAKER = describePolicy({
  kind: 'circuitBreaker',
  events: {
    stateChange: ({ to }) => (to === 'open' || to === 'isolated' ? 'error' : to === 'halfOpen' ? 'warning' : 'information'),
    success: 'information',
    failure: 'warning',
    rejected: 'error',
    storeError: 'error',
    storeRecovered: 'information',
  },
  gauges: { state: (p: CircuitBreakerPolicy) => p.state },
  states: STATES,
});

/**
 * A circuit breaker. Build it with {@link circuitBreaker}.
 *
 * @example
 * ```ts
 * import { circuitBreaker, type CircuitBreakerPolicy } from 'breakwater';
 * const breaker: CircuitBreakerPolicy = circuitBreaker({ window: { type: 'count', size: 20 } });
 * breaker.state; // 'closed'
 * ```
 */
export class CircuitBreakerPolicy extends PolicyBase<CircuitBreakerEvents> {
  /** The resolved options. */
  private readonly o: Resolved;
  /** The state machine this policy drives (admit, record, snapshot). */
  private readonly m: BreakerMachine;
  /** Slow calls are tracked: call durations come from the policy's own clock, exactly. */
  private readonly exact: boolean;
  /** Time for metrics and events alone: the turn clock (see clock.ts), cheap per call. */
  private readonly cheapNow: () => number;
  /** The handlers of untimed calls (no metrics, no slow calls, no outcome listener). */
  private untimed: Handlers = this.handlersFor(0, NaN);
  /** The handlers of calls timed by reading the clock itself (slow calls, or not systemClock). */
  private handlers: Handlers = this.untimed;
  /**
   * With systemClock, the handlers of this event-loop turn's timed calls, forgotten when the turn
   * ends (see `atEndOfTurn`): finding them reads no clock. `undefined` between turns.
   */
  private turnHandlers: Handlers | undefined = undefined;
  private readonly forgetTurn = (): void => {
    this.turnHandlers = undefined;
  };
  /** Time for metrics is the turn clock (the clock offers it: systemClock). */
  private readonly turnClock: boolean;
  /** {@link listening}'s answer, and the emitter's listener version it was read at. */
  private outcomeListeners = false;
  private seenListeners = -1;

  /** @internal Use {@link circuitBreaker}. */
  constructor(options?: CircuitBreakerOptions) {
    const raw = optionsObject('circuitBreaker', options);
    const o = resolve(raw);
    super(CIRCUIT_BREAKER, raw);
    this.o = o;
    this.m = new BreakerMachine(o, this.clock, this.name, this.transitioned, o.store?.attach(this.storeView()));
    this.exact = o.slowMs !== Infinity;
    this.cheapNow = metricsTime(this.clock);
    this.turnClock = turnTimeOf(this.clock) === turnNow;
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
    return NAMES[this.m.st] as CircuitState;
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
    return this.m.isolate();
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
    this.m.reset();
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
    return this.m.snapshot(this.clock.now());
  }

  /** @internal */
  [RUN]<T>(fn: Fn<T>, ctx: Ctx): Promise<T> {
    if (this.m.st === CLOSED && !this.disposed) return this.run(fn, ctx);
    return this.admit(fn, ctx);
  }

  /**
   * @internal The closed state's fast path for a pipeline whose next member settles through an
   * `Outcome` (a timeout): the call is admitted and the shared handlers returned, so this breaker
   * adds no promise of its own. Anything else (not closed, a caller's signal) goes through RUN.
   */
  [OBSERVE](ctx: Ctx): SettlementSink | undefined {
    if (this.m.st !== CLOSED || this.disposed) return undefined;
    if (ctx.tok !== undefined) return undefined;
    return this.sharedNow();
  }

  /** @internal */
  protected override addMetrics(m: PolicyMetrics): void {
    m.state = this.state;
  }

  /** @internal */
  protected override onDispose(): void {
    this.m.dispose();
  }

  /** The machine moved: announce it. Bound once; transitions are rare. */
  private readonly transitioned = (from: number, to: number, at: number): void => {
    if (!this.events.has('stateChange')) return;
    this.events.emit('stateChange', { from: NAMES[from] as CircuitState, to: NAMES[to] as CircuitState, at: at === at ? at : this.clock.now() });
  };

  /** Everything but the closed state's fast path. */
  private admit<T>(fn: Fn<T>, ctx: Ctx): Promise<T> {
    if (this.disposed) return Promise.reject(disposedError(this));
    if (this.m.admit(NaN) !== REFUSED) {
      return this.o.store !== undefined && this.m.st === HALF_OPEN ? this.sharedTrial(fn, ctx) : this.run(fn, ctx);
    }
    return this.refuse();
  }

  /** A half-open trial under a shared store: it runs only on a lease from the fleet. */
  private sharedTrial<T>(fn: Fn<T>, ctx: Ctx): Promise<T> {
    const session = this.m.session as CircuitStoreSession;
    const gen = this.m.gen;
    const granted = session.acquireTrial();
    if (granted === true) return this.run(fn, ctx);
    if (granted === false) {
      this.m.untrial();
      return this.refuse();
    }
    return granted.then((ok) => {
      if (gen === this.m.gen && !this.disposed) {
        if (ok) return this.run(fn, ctx);
        this.m.untrial();
        return this.refuse<T>();
      }
      // The state moved while the store answered: give the lease back, admit by the new state.
      if (ok) session.trialEnded(false, true);
      return this[RUN](fn, ctx);
    });
  }

  /** What a shared store sees of this breaker. */
  private storeView(): CircuitStoreBreaker {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    return Object.freeze({
      name: this.name,
      clock: this.clock,
      config: this.o.shared as SharedBreakerConfig,
      get state(): CircuitState {
        return self.state;
      },
      impose: (state: Exclude<CircuitState, 'isolated'>, retryAfterMs: number): void => this.m.impose(state, retryAfterMs),
      storeEvent: (event: 'storeError' | 'storeRecovered', error?: unknown): void => {
        if (this.disposed || !this.events.has(event)) return;
        if (event === 'storeError') this.events.emit('storeError', { error });
        else this.events.emit('storeRecovered', {});
      },
    });
  }

  private refuse<T>(): Promise<T> {
    const m = this.m;
    const st = m.st;
    const now = st === OPEN ? this.clock.now() : NaN;
    // Half-open with every trial slot taken: the trials may end any moment, so no wait is known.
    const error =
      st === ISOLATED
        ? new IsolatedCircuitError()
        : new BrokenCircuitError(NAMES[st] as string, st === OPEN ? Math.max(0, Math.ceil(m.openUntil - now)) : 0);
    this.recordRejection();
    if (this.events.has('rejected')) this.events.emit('rejected', { state: NAMES[st] as CircuitState });
    return Promise.reject(error);
  }

  /**
   * Runs an admitted call. The promise work is `.then` with handlers, never an `async` frame
   * (a whole extra await per call). A call no caller's abort can touch shares prebuilt handlers
   * with every call of its generation that started at the same time: untimed calls (no metrics,
   * no slow calls, no `success`/`failure` listener) read no clock at all, and calls timed by the
   * turn clock (metrics) share them for a whole event-loop turn, kept until the turn ends, so
   * they read no clock to start either — no closure per call either way.
   * Otherwise two closures carry the start time and the caller's token.
   */
  private run<T>(fn: Fn<T>, ctx: Ctx): Promise<T> {
    const tok = ctx.tok;
    // With a token (a caller's, or a timeout's or hedge's outside the breaker) the verdict needs
    // it: an attempt that a policy cancelled says nothing about the dependency.
    if (tok === undefined) {
      const h = this.sharedNow();
      return invoke(fn, ctx).then(h.ok as (v: T) => T, h.err);
    }
    const started = this.startTime();
    const gen = this.m.gen;
    return invoke(fn, ctx).then(
      (value) => this.settled(value, gen, started),
      (error: unknown) => this.threw(error, gen, started, tok),
    );
  }

  /** A call's start time: `NaN` when nobody needs its duration, so no clock is read for it. */
  private startTime(): number {
    const timed = this.exact || this.window !== undefined || this.listening();
    return !timed ? NaN : this.exact ? this.clock.now() : this.cheapNow();
  }

  /** The handlers for a call starting now that no caller's abort can touch. */
  private sharedNow(): Handlers {
    if (!this.exact && this.window === undefined && !this.listening()) {
      // Untimed: nobody needs the call's duration, so no clock is read for it.
      const u = this.untimed;
      return u.gen === this.m.gen ? u : (this.untimed = this.handlersFor(this.m.gen, NaN));
    }
    if (this.exact || !this.turnClock) return this.shared(this.clock.now());
    // Timed by the turn clock: this turn's handlers, if this generation's, else new ones.
    const h = this.turnHandlers;
    if (h !== undefined && h.gen === this.m.gen) return h;
    const started = turnNow();
    if (h === undefined) atEndOfTurn(this.forgetTurn);
    return (this.turnHandlers = this.handlersFor(this.m.gen, started));
  }

  /** The handlers shared by this generation's calls that started at `started`. */
  private shared(started: number): Handlers {
    const h = this.handlers;
    if (h.gen === this.m.gen && h.started === started) return h;
    return (this.handlers = this.handlersFor(this.m.gen, started));
  }

  /** Anyone listening for `success` or `failure`? Looked up again only when listeners change. */
  private listening(): boolean {
    const events = this.events;
    if (events.version !== this.seenListeners) {
      this.seenListeners = events.version;
      this.outcomeListeners = events.has('success') || events.has('failure');
    }
    return this.outcomeListeners;
  }

  /** Handlers for the calls of generation `gen` started at `started`. */
  private handlersFor(gen: number, started: number): Handlers {
    return {
      gen,
      started,
      ok: (value: unknown) => this.settled(value, gen, started),
      err: (error: unknown) => this.threw(error, gen, started, undefined),
    };
  }

  private settled<T>(value: T, gen: number, started: number): T {
    const classify = this.o.classify;
    if (classify.handleResult === undefined) {
      this.finish(OK, gen, started, NO_DETAIL, undefined);
      return value;
    }
    let failing: boolean;
    try {
      failing = handlesResult(classify, value);
    } catch (predicateError) {
      // A throwing `handleResult` is a bug to surface; the call still counts, as a failure.
      this.finish(FAIL, gen, started, RESULT, value);
      throw predicateError;
    }
    this.finish(failing ? FAIL : OK, gen, started, failing ? RESULT : NO_DETAIL, value);
    return value;
  }

  private threw(error: unknown, gen: number, started: number, tok: Token | undefined): never {
    let verdict: number;
    try {
      verdict = this.judge(error, tok);
    } catch (predicateError) {
      this.finish(FAIL, gen, started, ERROR, error);
      throw predicateError;
    }
    this.finish(verdict, gen, started, ERROR, error);
    throw error;
  }

  private judge(error: unknown, tok: Token | undefined): number {
    if (callerAborted(tok)) return ABORTED;
    // A timeout is the dependency not answering, whatever `handle` says.
    if (isBreakwaterError(error, 'ETIMEDOUT')) return FAIL;
    // Cancelled by a policy outside the breaker for another reason (a hedge's losing attempt, a
    // disposed policy): neither, like the caller's own abort. An outer timeout is a failure.
    if (tok !== undefined && tok.aborted) return isBreakwaterError(tok.reason, 'ETIMEDOUT') ? FAIL : ABORTED;
    // Local back-pressure (a full bulkhead, a rate limit, a nested open breaker) says nothing
    // about the dependency's health.
    if (isLocalRejection(error)) return LOCAL;
    return handlesError(this.o.classify, error) ? FAIL : OK;
  }

  /**
   * Records one call that ran: metrics, events, and (if not stale) the state. Metrics follow the
   * library-wide rule (the outcome the caller received: an error, or a result `handleResult`
   * flags, is a failure; the caller's abort is not recorded); events and the state follow the
   * breaker's own verdict.
   */
  private finish(verdict: number, gen: number, started: number, what: number, detail: unknown): void {
    // The rare verdicts have their own method, so this hot one stays small enough for the JIT to
    // inline what it calls.
    if (verdict === ABORTED || verdict === LOCAL) return this.uncounted(verdict, gen, started, what);
    // Slow calls need exact durations: one read of the policy's own clock serves the slow check,
    // the window, metrics and events. Otherwise metrics and events make do with the coarse turn
    // time (a latency within one event-loop turn of the true one), and a time window, which
    // places outcomes by time, reads the policy's clock itself below.
    const timed = started === started;
    const now = this.exact ? this.clock.now() : timed ? this.cheapNow() : NaN;
    const durationMs = timed ? now - started : 0;
    const slow = durationMs >= this.o.slowMs;
    if (this.window !== undefined) this.recordRan(what, started, now, slow);
    const failure = verdict === FAIL;
    // An untimed call had no listener when it started: it has no duration to report.
    if (timed && this.listening()) this.emitOutcome(failure, durationMs, slow, what, detail);
    // A call admitted under an older generation (another state, or before a reset) never decides.
    // A time window places the outcome by the policy's clock: exact `now`, or NaN to read it.
    if (!this.disposed) this.m.record(gen, failure, slow, this.exact ? now : NaN);
  }

  /** Metrics of a call that ran: its outcome and latency, and whether it was slow. */
  private recordRan(what: number, started: number, now: number, slow: boolean): void {
    this.recordAt(what === NO_DETAIL ? SUCCESSES : FAILURES, started, now);
    if (slow) this.window?.add(now, SLOW_CALLS);
  }

  /**
   * A caller's abort (not recorded) or a local rejection from inside the breaker (recorded in
   * metrics as the failure the caller got, but no verdict on the dependency).
   */
  private uncounted(verdict: number, gen: number, started: number, what: number): void {
    if (verdict === LOCAL && this.window !== undefined) {
      const now = this.exact ? this.clock.now() : started === started ? this.cheapNow() : NaN;
      this.recordRan(what, started, now, false);
    }
    this.noVerdict(gen);
  }

  /** A call that counts as neither: a half-open trial gives its slot back. */
  private noVerdict(gen: number): void {
    if (!this.disposed) this.m.noVerdict(gen);
  }

  private emitOutcome(failure: boolean, durationMs: number, slow: boolean, what: number, detail: unknown): void {
    const events = this.events;
    if (!failure) {
      if (events.has('success')) events.emit('success', { durationMs, slow });
    } else if (events.has('failure')) {
      events.emit(
        'failure',
        what === ERROR ? { error: detail, durationMs, slow } : what === RESULT ? { result: detail, durationMs, slow } : { durationMs, slow },
      );
    }
  }
}

/**
 * Stops calling a dependency that keeps failing, and tries it again later.
 *
 * **When to use:** around calls to a remote dependency, so an outage costs your callers a fast
 * `BrokenCircuitError` instead of a pile-up of slow failures, and the dependency gets room to
 * recover. In a pipeline, put it inside `retry` and outside `timeout`:
 * `pipeline(retry(), circuitBreaker(), timeout(1000))`.
 *
 * **Details:** closed, calls run and the `window` remembers their outcomes; when it decides
 * (a failure rate `>= failureRateThreshold` over at least `minimumCalls` calls, a slow-call rate
 * `>= slowCallRateThreshold`, or `failures` handled failures in a row for a consecutive window),
 * the breaker opens. Open, calls reject at once with `BrokenCircuitError` (`retryAfterMs` = time
 * left). After `openDurationMs` a timer moves it to half-open: `halfOpenCalls` trials run, one
 * failure reopens it, all succeeding closes it with an empty window. A call that started in an
 * earlier state never decides the current one. The caller's abort and rejections by other
 * breakwater policies inside the breaker (bulkhead, rate limiter, nested breaker) count as
 * neither success nor failure; a `TimeoutError` is always a failure; an error `handle` declines
 * is a success.
 *
 * **Gotchas:** `failureRateThreshold`, `minimumCalls` and `slowCallRateThreshold` apply to count
 * and time windows only. A throwing `handle`/`handleResult` rejects the call with its error and
 * counts the call as a failure. `metrics()` counts what callers received (every error is a
 * failure there); the breaker's own verdicts are its `success`/`failure` events. Call `dispose()`
 * when done with a breaker that may be open: its timer would otherwise live until the open period
 * ends.
 *
 * @example
 * ```ts
 * import { circuitBreaker, isBreakwaterError } from 'breakwater';
 * const breaker = circuitBreaker({ window: { type: 'consecutive', failures: 5 }, openDurationMs: 10_000 });
 * breaker.events.on('stateChange', ({ from, to }) => console.log(`${from} -> ${to}`));
 * try {
 *   await breaker.execute(({ signal }) => fetch('https://example.com', { signal }));
 * } catch (e) {
 *   if (isBreakwaterError(e, 'ECIRCUITOPEN')) console.log(`try again in ${e.retryAfterMs} ms`);
 * }
 * ```
 */
export function circuitBreaker(options?: CircuitBreakerOptions): CircuitBreakerPolicy {
  return new CircuitBreakerPolicy(options).adopt();
}
