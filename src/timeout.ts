/**
 * The timeout policy: a time limit per call, with an aborting signal at the deadline.
 *
 * @module
 */
import { COMMON_OPTIONS, checkKnown } from './known-options.js';
import { TimeoutError } from './errors.js';
import { Ctx, type Fn, invoke, RUN } from './internal/run.js';
import type { CommonOptions } from './contract.js';
import { fulfilThrough, type SettlementSink, SETTLES, rejectThrough } from './internal/settle.js';
import { PolicyBase, disposedError } from './policy-base.js';
import { callerAborted, type Subscription, Token } from './internal/token.js';
import { markOutcome, tokenMarked } from './idempotency.js';
import { FAILURES, SUCCESSES, TIMEOUTS } from './metrics/rolling-window.js';
import { num, oneOf, optionsObject } from './validate.js';
import { describePolicy } from './internal/descriptor.js';
import { metricsTime } from './clock.js';
import { type Deadline, DeadlineQueue } from './internal/deadline-queue.js';
import type { Linked } from './internal/list.js';
import { noop, promiseFor } from './internal/deferred.js';

/**
 * `aggressive`: the call rejects at the deadline whatever `fn` does; `cooperative`: the call
 * waits for `fn`, which should honour `ctx.signal`.
 *
 * @example
 * ```ts
 * import { timeout, type TimeoutStrategy } from 'breakwater';
 * const strategy: TimeoutStrategy = 'cooperative';
 * const limit = timeout({ durationMs: 1000, strategy });
 * ```
 */
export type TimeoutStrategy = 'aggressive' | 'cooperative';

/**
 * Options of {@link timeout}.
 *
 * @example
 * ```ts
 * import { timeout, type TimeoutOptions } from 'breakwater';
 * const options: TimeoutOptions = { durationMs: 250, strategy: 'aggressive', name: 'db' };
 * const limit = timeout(options);
 * ```
 */
export interface TimeoutOptions extends CommonOptions {
  /** The limit per call in milliseconds (0 times out on the next timer tick). */
  readonly durationMs: number;
  /** @defaultValue `'aggressive'` */
  readonly strategy?: TimeoutStrategy;
}

/**
 * Events of the timeout policy.
 *
 * @example
 * ```ts
 * import { timeout } from 'breakwater';
 * timeout(100).events.on('timeout', ({ timeoutMs }) => console.warn(`timed out after ${timeoutMs} ms`));
 * ```
 */
export interface TimeoutEvents {
  /** A call reached its deadline. */
  timeout: { readonly timeoutMs: number };
}

/**
 * One call in flight: a node of the policy's deadline list (so one timer serves every call, and
 * `dispose()` can end them) and the state its outcome handlers share.
 */
class Call extends Token implements Deadline {
  due = 0;
  prev: Linked | undefined = undefined;
  next: Linked | undefined = undefined;
  queued = false;
  done = false;
  timedOut: TimeoutError | undefined = undefined;
  sub: Subscription | undefined = undefined;
  resolve: (value: unknown) => void = noop;
  reject: (reason: unknown) => void = noop;
  constructor(
    parent: Token | undefined,
    readonly started: number,
    /** The outer policy's handlers, when a pipeline fused it with this one (see `SettlementSink`). */
    readonly sink: SettlementSink | undefined,
  ) {
    // The call is its attempt's token too: one object per call. It aborts at the deadline with a
    // TimeoutError, or when the caller aborts; its AbortSignal exists only if `fn` reads it.
    super(parent?.caller);
    this.link(parent);
  }

  /** Fulfils the caller's promise with `value`, through the outer policy's outcome if any. */
  fulfil(value: unknown): void {
    fulfilThrough(this.sink, value, this.resolve, this.reject);
  }

  /** Rejects the caller's promise with `error`, through the outer policy's outcome if any. */
  fail(error: unknown): void {
    const o = this.sink;
    this.reject(o === undefined ? error : rejectThrough(o, error));
  }
}


/** What the registry, the bus and the exporters know about a timeout. */
const TIMEOUT = describePolicy({ kind: 'timeout', events: { timeout: 'error' } });

/**
 * A policy that limits how long each call may take. Build it with {@link timeout}.
 *
 * One clock timer serves all of a policy's calls in flight (a deadline queue): every call
 * has the same duration, so deadlines arrive in call order, and the timer is armed for the
 * earliest only. With `systemClock` it is cleared at the end of the event-loop turn in which the
 * last call settled (with any other clock at once). Deadlines always count from `clock.now()`.
 *
 * @example
 * ```ts
 * import { timeout, type TimeoutPolicy } from 'breakwater';
 * const limit: TimeoutPolicy = timeout({ durationMs: 500, strategy: 'cooperative' });
 * limit.durationMs; // 500
 * ```
 */
export class TimeoutPolicy extends PolicyBase<TimeoutEvents> {
  /** The limit per call in milliseconds. */
  readonly durationMs: number;
  /** `'aggressive'` (reject at the deadline) or `'cooperative'` (wait for `fn`). */
  readonly strategy: TimeoutStrategy;
  private readonly deadlines: DeadlineQueue<Call>;
  /** Time for metrics alone (see `metricsTime`). */
  private readonly time: () => number;

  /** @internal Use {@link timeout}. */
  constructor(options: number | TimeoutOptions) {
    const o = typeof options === 'number' ? { durationMs: options } : optionsObject('timeout', options);
    checkKnown('timeout', o, [...COMMON_OPTIONS, 'durationMs', 'strategy']);
    const durationMs = num('timeout', 'durationMs', o['durationMs'], { min: 0 });
    const strategy = oneOf('timeout', 'strategy', o['strategy'], ['aggressive', 'cooperative'], 'aggressive');
    super(TIMEOUT, o);
    this.durationMs = durationMs;
    this.strategy = strategy;
    this.time = metricsTime(this.clock);
    this.deadlines = new DeadlineQueue<Call>(this.clock, (call) => this.deadline(call));
  }

  /** @internal Calls settle through an outer policy's `SettlementSink` when one is given. */
  readonly [SETTLES] = true;

  /** @internal */
  [RUN]<T>(fn: Fn<T>, ctx: Ctx, outcome?: SettlementSink): Promise<T> {
    if (this.disposed) {
      const error = disposedError(this);
      return Promise.reject(outcome === undefined ? error : rejectThrough(outcome, error));
    }
    // The deadline counts from the policy's clock; metrics from their own, coarser time.
    const started = this.window === undefined ? 0 : this.time();
    const call = new Call(ctx.tok, started, outcome);
    // Without a token, the call derives from the context (see `markNonIdempotent`).
    if (ctx.tok === undefined) call.parent = ctx;
    // The resolvers land on the call itself: no executor closure per call.
    const promise = promiseFor<T>(call);
    this.deadlines.schedule(call, this.clock.now() + this.durationMs);
    if (ctx.tok !== undefined) {
      // The caller's abort ends the call at once (the policies outside must not wait for an
      // `fn` that may never settle). It counts as neither outcome.
      call.sub = call.onAbort((reason) => {
        if (call.done || !callerAborted(call)) return;
        this.finish(call);
        call.fail(reason);
      });
    }
    invoke(fn, new Ctx(call, ctx.attempt, ctx.key)).then(
      (value) => this.settled(call, value),
      (error: unknown) => this.failed(call, error),
    );
    return promise;
  }

  private settled(call: Call, value: unknown): void {
    if (call.done) return;
    this.finish(call);
    this.record(SUCCESSES, call.started);
    call.fulfil(value);
  }

  private failed(call: Call, error: unknown): void {
    if (call.done) return;
    this.finish(call);
    this.record(FAILURES, call.started);
    call.fail(call.timedOut === undefined ? error : new TimeoutError(this.durationMs, { cause: error }));
  }

  /** The call's deadline came (it has left the queue). */
  private deadline(call: Call): void {
    const ms = this.durationMs;
    const error = (call.timedOut = new TimeoutError(ms));
    // The work may have reached the server: a non-idempotent attempt's timeout is not repeated.
    if (tokenMarked(call)) markOutcome(error);
    this.count(TIMEOUTS);
    if (this.events.has('timeout')) this.events.emit('timeout', { timeoutMs: ms });
    if (this.strategy === 'aggressive') {
      this.finish(call);
      this.record(FAILURES, call.started);
      call.fail(error);
    }
    // Abort after rejecting, so an `fn` that rejects synchronously on abort cannot win.
    call.abort(error);
  }

  /** Settles the bookkeeping of a call: token link, abort subscription, deadline. */
  private finish(call: Call): void {
    call.done = true;
    call.release();
    call.sub?.cancel();
    this.deadlines.remove(call);
  }

  /** Ends every call in flight: the timer is cleared, their signals abort, they reject. @internal */
  protected override onDispose(): void {
    const error = disposedError(this);
    for (const call of this.deadlines.clear()) {
      this.finish(call);
      call.fail(error);
      call.abort(error);
    }
  }
}

/**
 * Limits how long each call may take. At the deadline `ctx.signal` aborts with a
 * {@link TimeoutError} reason; with the default `aggressive` strategy the call also rejects with
 * that `TimeoutError` at once, and `fn`'s late outcome is discarded (never an unhandled
 * rejection). With `cooperative`, the call waits for `fn`: a rejection after the deadline becomes
 * a `TimeoutError` (with the original error as `cause`), a value is returned.
 *
 * When to use: around any call that can hang (network, locks). Put it inside retry so each
 * attempt gets its own limit, or outside to bound the whole sequence.
 *
 * Gotchas: `aggressive` cannot stop `fn` from running; pass `ctx.signal` on (to `fetch`, say) so
 * the work itself stops. A bulkhead inside the timeout keeps its permit until the abandoned work
 * really settles. `dispose()` ends the calls in flight: they reject and their signals abort.
 *
 * @example
 * ```ts
 * import { timeout, isBreakwaterError } from 'breakwater';
 * const limit = timeout(2000); // or timeout({ durationMs: 2000, strategy: 'cooperative' })
 * try {
 *   const res = await limit.execute(({ signal }) => fetch('https://example.com', { signal }));
 * } catch (e) {
 *   if (isBreakwaterError(e, 'ETIMEDOUT')) console.log('gave up after', e.timeoutMs, 'ms');
 * }
 * ```
 */
export function timeout(options: number | TimeoutOptions): TimeoutPolicy {
  return new TimeoutPolicy(options).adopt();
}
