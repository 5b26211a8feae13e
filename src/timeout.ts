/**
 * The timeout policy: a time limit per call, with an aborting signal at the deadline.
 *
 * @module
 */
import { TimeoutError } from './errors.js';
import { Ctx, type CommonOptions, type Fn, invoke, PolicyBase, RUN, disposedError } from './policy.js';
import { callerAborted, type Subscription, Token } from './token.js';
import { FAILURES, SUCCESSES, TIMEOUTS } from './metrics/rolling-window.js';
import { num, oneOf, optionsObject } from './validate.js';

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
 * One call in flight: the node of the policy's in-flight list (so `dispose()` can end it) and
 * the state its timer and outcome handlers share.
 */
class Call {
  prev: Call | undefined = undefined;
  next: Call | undefined = undefined;
  done = false;
  timer: unknown = undefined;
  timedOut: TimeoutError | undefined = undefined;
  sub: Subscription | undefined = undefined;
  constructor(
    readonly tok: Token,
    readonly started: number,
    readonly resolve: (value: unknown) => void,
    readonly reject: (reason: unknown) => void,
  ) {}
}

/**
 * A policy that limits how long each call may take. Build it with {@link timeout}.
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
  readonly strategy: TimeoutStrategy;
  private head: Call | undefined = undefined;

  /** @internal Use {@link timeout}. */
  constructor(options: number | TimeoutOptions) {
    const o = typeof options === 'number' ? { durationMs: options } : optionsObject('timeout', options);
    super('timeout', o);
    this.durationMs = num('timeout', 'durationMs', o['durationMs'], { min: 0 });
    this.strategy = oneOf('timeout', 'strategy', o['strategy'], ['aggressive', 'cooperative'], 'aggressive');
  }

  /** @internal */
  [RUN]<T>(fn: Fn<T>, ctx: Ctx): Promise<T> {
    if (this.disposed) return Promise.reject(disposedError(this));
    const started = this.start();
    // The attempt gets a child token: it aborts at the deadline with a TimeoutError, or when the
    // caller aborts. Its AbortSignal exists only if `fn` reads `ctx.signal`.
    const tok = Token.child(ctx.tok);
    return new Promise<T>((resolve, reject) => {
      const call = new Call(tok, started, resolve as (value: unknown) => void, reject);
      this.link(call);
      call.timer = this.clock.setTimeout(() => this.deadline(call), this.durationMs);
      if (ctx.tok !== undefined) {
        // The caller's abort ends the call at once (the policies outside must not wait for an
        // `fn` that may never settle), and the timer goes with it. It counts as neither outcome.
        call.sub = tok.onAbort((reason) => {
          if (call.done || !callerAborted(tok)) return;
          this.finish(call);
          reject(reason);
        });
      }
      invoke(fn, new Ctx(tok, ctx.attempt)).then(
        (value) => {
          if (call.done) return;
          this.finish(call);
          this.record(SUCCESSES, started);
          resolve(value);
        },
        (error: unknown) => {
          if (call.done) return;
          this.finish(call);
          this.record(FAILURES, started);
          reject(call.timedOut === undefined ? error : new TimeoutError(this.durationMs, { cause: error }));
        },
      );
    });
  }

  private deadline(call: Call): void {
    if (call.done) return;
    const ms = this.durationMs;
    const error = (call.timedOut = new TimeoutError(ms));
    call.timer = undefined;
    this.count(TIMEOUTS);
    if (this.events.has('timeout')) this.events.emit('timeout', { timeoutMs: ms });
    if (this.strategy === 'aggressive') {
      this.finish(call);
      this.record(FAILURES, call.started);
      call.reject(error);
    }
    // Abort after rejecting, so an `fn` that rejects synchronously on abort cannot win.
    call.tok.abort(error);
  }

  /** Settles the bookkeeping of a call: timer, token link, in-flight list. */
  private finish(call: Call): void {
    call.done = true;
    if (call.timer !== undefined) this.clock.clearTimeout(call.timer);
    call.tok.release();
    call.sub?.cancel();
    const { prev, next } = call;
    if (prev === undefined) this.head = next;
    else prev.next = next;
    if (next !== undefined) next.prev = prev;
    call.prev = call.next = undefined;
  }

  private link(call: Call): void {
    const head = this.head;
    call.next = head;
    if (head !== undefined) head.prev = call;
    this.head = call;
  }

  /** Ends every call in flight: its timer is cleared, its signal aborts, it rejects. */
  protected override onDispose(): void {
    const error = disposedError(this);
    for (let call = this.head; call !== undefined; call = this.head) {
      this.finish(call);
      call.reject(error);
      call.tok.abort(error);
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
