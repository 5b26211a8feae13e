/**
 * The timeout policy: a time limit per call, with an aborting signal at the deadline.
 *
 * @module
 */
import { TimeoutError } from './errors.js';
import { Ctx, type CommonOptions, type Fn, invoke, PolicyBase, RUN, disposedError } from './policy.js';
import { callerAborted, Token } from './token.js';
import { FAILURES, SUCCESSES, TIMEOUTS } from './metrics/rolling-window.js';
import { num, oneOf, optionsObject } from './validate.js';

/**
 * `aggressive`: the call rejects at the deadline whatever `fn` does; `cooperative`: the call
 * waits for `fn`, which should honour `ctx.signal`.
 */
export type TimeoutStrategy = 'aggressive' | 'cooperative';

/** Options of {@link timeout}. */
export interface TimeoutOptions extends CommonOptions {
  /** The limit per call in milliseconds (0 times out on the next timer tick). */
  readonly durationMs: number;
  /** @defaultValue `'aggressive'` */
  readonly strategy?: TimeoutStrategy;
}

/** Events of the timeout policy. */
export interface TimeoutEvents {
  /** A call reached its deadline. */
  timeout: { readonly timeoutMs: number };
}

/**
 * A policy that limits how long each call may take. See {@link timeout}.
 */
export class TimeoutPolicy extends PolicyBase<TimeoutEvents> {
  /** The limit per call in milliseconds. */
  readonly durationMs: number;
  readonly strategy: TimeoutStrategy;

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
    const ms = this.durationMs;
    const clock = this.clock;
    const aggressive = this.strategy === 'aggressive';
    // The attempt gets a child token: it aborts at the deadline with a TimeoutError, or when the
    // caller aborts. Its AbortSignal exists only if `fn` reads `ctx.signal`.
    const tok = Token.child(ctx.tok);
    return new Promise<T>((resolve, reject) => {
      let done = false;
      let timedOut: TimeoutError | undefined;
      const settle = (): void => {
        done = true;
        clock.clearTimeout(timer);
        tok.release();
        sub?.cancel();
      };
      const timer = clock.setTimeout(() => {
        if (done) return;
        timedOut = new TimeoutError(ms);
        this.count(TIMEOUTS);
        if (this.events.has('timeout')) this.events.emit('timeout', { timeoutMs: ms });
        if (aggressive) {
          settle();
          this.record(FAILURES, started);
          reject(timedOut);
        }
        // Abort after rejecting, so an `fn` that rejects synchronously on abort cannot win.
        tok.abort(timedOut);
      }, ms);
      // The caller's abort ends the call at once (the policies outside must not wait for an `fn`
      // that may never settle), and the timer goes with it. It counts as neither outcome.
      const sub =
        ctx.tok === undefined
          ? undefined
          : tok.onAbort((reason) => {
              if (done || !callerAborted(tok)) return;
              settle();
              reject(reason);
            });
      invoke(fn, new Ctx(tok, ctx.attempt)).then(
        (value) => {
          if (done) return;
          settle();
          this.record(SUCCESSES, started);
          resolve(value);
        },
        (error: unknown) => {
          if (done) return;
          settle();
          this.record(FAILURES, started);
          reject(timedOut === undefined ? error : new TimeoutError(ms, { cause: error }));
        },
      );
    });
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
 * really settles.
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
