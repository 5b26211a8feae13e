/**
 * The cancellable sleep: a wait on the policy's clock that the call's token can end early (the
 * caller's abort, an outer timeout, a losing hedge) and `dispose()` can end for every sleeper.
 * Used by retry's backoff and chaos's injected latency.
 *
 * Not exported from the package.
 *
 * @module
 */
import { type Clock, keepAlive } from '../clock.js';
import { noop, promiseFor } from './deferred.js';
import type { Subscription, Token } from './token.js';

/** One pending sleep. */
class Sleeper {
  timer: unknown = undefined;
  sub: Subscription | undefined = undefined;
  resolve: (value: unknown) => void = noop;
  reject: (error: unknown) => void = noop;
}

/**
 * The sleeps of one policy.
 *
 * @internal
 * @example
 * ```ts
 * import { Sleeps } from './sleep.js';
 * const sleeps = new Sleeps(systemClock);
 * await sleeps.sleep(100, ctx.tok); // rejects at once with the reason if the token aborts
 * sleeps.stopAll(new Error('disposed')); // in dispose()
 * ```
 */
export class Sleeps {
  private readonly pending = new Set<Sleeper>();

  constructor(private readonly clock: Clock) {}

  /**
   * Waits `ms` on the clock (even 0 goes through a timer: a macrotask, so a run of instant
   * retries cannot starve the event loop). Rejects at once with the token's reason if it aborts
   * (or already has). The timer keeps the process alive: the sleep is what the caller waits for.
   */
  sleep(ms: number, tok: Token | undefined): Promise<void> {
    if (tok !== undefined && tok.aborted) return Promise.reject(tok.reason);
    const s = new Sleeper();
    const promise = promiseFor<void>(s);
    s.timer = this.clock.setTimeout(() => {
      this.end(s);
      s.resolve(undefined);
    }, ms);
    keepAlive(s.timer);
    if (tok !== undefined) {
      s.sub = tok.onAbort((reason) => {
        this.clock.clearTimeout(s.timer);
        this.end(s);
        s.reject(reason);
      });
    }
    this.pending.add(s);
    return promise;
  }

  /** Ends every pending sleep with `error` (for `dispose()`), clearing its timer. */
  stopAll(error: unknown): void {
    for (const s of Array.from(this.pending)) {
      this.clock.clearTimeout(s.timer);
      this.end(s);
      s.reject(error);
    }
  }

  private end(s: Sleeper): void {
    this.pending.delete(s);
    s.sub?.cancel();
  }
}
