/**
 * The waiting room shared by the bulkhead, the rate limiter and the adaptive limit: a FIFO of
 * waiting calls on the intrusive list (list.ts), so a waiter that leaves early (its caller
 * aborted, its queue timeout passed) is unlinked in O(1) and its place is free at once.
 *
 * Not exported from the package.
 *
 * @module
 */
import { type Clock, keepAlive } from '../clock.js';
import { MAX_TIMER_MS } from '../validate.js';
import { noop, promiseFor, type Settleable } from './deferred.js';
import { List, ListNode } from './list.js';
import type { Ctx, Fn } from './run.js';
import type { Subscription } from './token.js';



/**
 * A call waiting in a policy's queue: what to run once admitted, and the two ends of the promise
 * its caller holds. Policies extend it with what they need (a bulkhead waiter's deadline).
 *
 * @internal
 */
export class Waiter extends ListNode implements Settleable {
  resolve: (value: unknown) => void = noop;
  reject: (error: unknown) => void = noop;
  /** The caller's abort subscription, cancelled when the waiter leaves the queue either way. */
  sub: Subscription | undefined = undefined;
  constructor(
    readonly fn: Fn<unknown>,
    readonly ctx: Ctx,
    /** Start time for metrics (0 when metrics are off). */
    readonly started: number,
  ) {
    super();
  }
}

/**
 * The queue of a policy that makes calls wait (bulkhead, adaptive limit, rate limiter), with the
 * one clock timer it needs and the rules every such queue shares: a waiter whose caller aborts
 * leaves at once and rejects with the caller's reason, its place is free at once, and the timer
 * goes when the queue empties.
 *
 * @internal
 */
export class WaitingRoom<W extends Waiter> extends List<W> {
  private timer: unknown = undefined;

  constructor(
    private readonly clock: Clock,
    /**
     * True when the timer is itself what waiters wait for (a rate limiter's next permit): it keeps
     * the process alive. A queue timeout guarding waiters behind running work stays unref'd.
     */
    private readonly keep = false,
  ) {
    super();
  }

  /** Queues `w` and returns the promise its caller waits on. */
  join<T>(w: W): Promise<T> {
    const promise = promiseFor<T>(w);
    this.push(w);
    const tok = w.ctx.tok;
    // The caller's abort (or an outer timeout's) takes the call out of the queue at once.
    if (tok !== undefined) w.sub = tok.onAbort((reason) => this.leave(w, reason));
    return promise;
  }

  /** Takes `w` out early (it rejects with `reason`); no-op if it already left. */
  leave(w: W, reason: unknown): void {
    if (!this.remove(w)) return;
    w.sub?.cancel();
    if (this.size === 0) this.clearTimer();
    w.reject(reason);
  }

  /** The first waiter, out of the queue, its abort subscription cancelled. */
  take(): W | undefined {
    const w = this.shift();
    w?.sub?.cancel();
    return w;
  }

  /**
   * Arms the queue's timer unless one is armed. A delay past the timer limit is armed in steps of
   * at most 2^31 − 1 ms (the callback re-checks its waiters and re-arms), never overflowing.
   */
  arm(fn: () => void, ms: number): void {
    if (this.timer !== undefined) return;
    this.timer = this.clock.setTimeout(fn, ms > MAX_TIMER_MS ? MAX_TIMER_MS : ms);
    if (this.keep) keepAlive(this.timer);
  }

  /** Call first thing in the timer's callback: the timer is spent. */
  fired(): void {
    this.timer = undefined;
  }

  clearTimer(): void {
    if (this.timer !== undefined) {
      this.clock.clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  /** Rejects every waiter (their work never started) and clears the timer: for `dispose()`. */
  rejectAll(error: unknown): void {
    this.clearTimer();
    for (let w = this.take(); w !== undefined; w = this.take()) w.reject(error);
  }
}

/**
 * Settle, record, hand over: what every policy that admits waiting calls does when an admitted
 * call's work settles. `settle(failed, outcome)` runs first (return the permit, record metrics,
 * sample); then the outcome goes to `waiter` (whose promise the caller holds) or, on the fast
 * path with no waiter, to the returned promise. With a waiter the returned promise never rejects
 * (it is discarded), and a throwing `settle` (a user predicate, a failing observer) rejects the
 * waiter instead of leaving its caller hanging.
 *
 * @internal
 */
export function handOver<T>(p: Promise<T>, waiter: Settleable | undefined, settle: (failed: boolean, outcome: unknown) => void): Promise<T> {
  return p.then(
    (value) => {
      if (waiter === undefined) {
        settle(false, value);
        return value;
      }
      try {
        settle(false, value);
        waiter.resolve(value);
      } catch (error) {
        waiter.reject(error);
      }
      return value;
    },
    (error: unknown) => {
      if (waiter === undefined) {
        settle(true, error);
        throw error;
      }
      try {
        settle(true, error);
        waiter.reject(error);
      } catch (thrown) {
        waiter.reject(thrown);
      }
      return undefined as T;
    },
  );
}
