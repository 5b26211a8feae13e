/**
 * Permits: at most N calls run at once, more wait in a FIFO waiting room. The shared core of the
 * bulkhead (a fixed N) and the adaptive limit (an N that moves).
 *
 * Not exported from the package.
 *
 * @module
 */
import type { PolicyMetrics } from '../contract.js';
import { BulkheadRejectedError } from '../errors.js';
import type { PolicyEmitter } from '../events.js';
import { PolicyBase, disposedError } from '../policy-base.js';
import { duration, num } from '../validate.js';
import type { Settleable } from './deferred.js';
import type { PolicyDescriptor } from './descriptor.js';
import { type Ctx, type Fn, RUN } from './run.js';
import { Waiter, WaitingRoom } from './waiting-room.js';

/** The event a permit policy emits when it refuses a call. Not exported from the package. */
export interface PermitEvents {
  rejected: { readonly executing: number; readonly queued: number };
}

/** A call waiting for a permit, until its queue deadline. */
class PermitWaiter extends Waiter {
  constructor(fn: Fn<unknown>, ctx: Ctx, started: number, readonly deadline: number) {
    super(fn, ctx, started);
  }
}

/** Validated queue options of a permit policy. */
export interface QueueSettings {
  readonly maxQueue: number;
  readonly queueTimeoutMs: number | undefined;
}

/** Validates `maxQueue` and `queueTimeoutMs`. @internal */
export function queueSettings(kind: string, o: Readonly<Record<string, unknown>>): QueueSettings {
  const maxQueue = o['maxQueue'] === undefined ? 0 : num(kind, 'maxQueue', o['maxQueue'], { min: 0, integer: true, infinity: true });
  const t = o['queueTimeoutMs'];
  const queueTimeoutMs = t === undefined ? undefined : duration(kind, 'queueTimeoutMs', t);
  return { maxQueue, queueTimeoutMs };
}

/**
 * Permits and a FIFO queue: the shared core of the bulkhead and the adaptive limit. A permit is
 * taken when a call is admitted and returned only when its work settles, whatever happened to its
 * caller meanwhile: an aborted caller or an outer aggressive timeout stops waiting for the work,
 * but the work still runs and still counts.
 *
 * Not exported from the package (policies are built by their factories).
 */
export abstract class PermitPolicy<E extends PermitEvents> extends PolicyBase<E> {
  /** Current number of permits; the adaptive limit moves it. @internal */
  protected permits: number;
  private running = 0;
  // One clock timer for the whole queue: waiters share `queueTimeoutMs`, so FIFO order is also
  // deadline order, and the timer only ever needs the head's deadline.
  private readonly waiting: WaitingRoom<PermitWaiter>;
  private readonly maxQueue: number;
  private readonly queueTimeoutMs: number | undefined;

  constructor(descriptor: PolicyDescriptor, o: Readonly<Record<string, unknown>>, permits: number, queue: QueueSettings) {
    super(descriptor, o);
    this.permits = permits;
    this.maxQueue = queue.maxQueue;
    this.queueTimeoutMs = queue.queueTimeoutMs;
    this.waiting = new WaitingRoom<PermitWaiter>(this.clock);
  }

  /** Calls running now (including work whose caller has stopped waiting for it). */
  get executing(): number {
    return this.running;
  }

  /** Calls waiting for a slot. */
  get queued(): number {
    return this.waiting.size;
  }

  /** @internal */
  [RUN]<T>(fn: Fn<T>, ctx: Ctx): Promise<T> {
    if (this.disposed) return Promise.reject(disposedError(this));
    const tok = ctx.tok;
    if (tok !== undefined && tok.aborted) return Promise.reject(tok.reason);
    // The success path: a free permit and nobody ahead. With metrics off it allocates nothing
    // but the promise it returns (and reads no clock).
    if (this.running < this.permits && this.waiting.size === 0) {
      this.running++;
      return this.admitted(fn, ctx, this.start());
    }
    return this.enqueue(fn, ctx);
  }

  /**
   * Runs an admitted call (the permit is already counted) and calls {@link PermitPolicy.release}
   * exactly once when `fn` settles. Never throws synchronously. For a call that waited, the
   * outcome goes to `waiter` (whose promise the caller holds) and the returned promise is only
   * for the fast path: it then never rejects, so nothing is left unhandled.
   *
   * @internal
   */
  protected abstract admitted<T>(fn: Fn<T>, ctx: Ctx, started: number, waiter?: Settleable): Promise<T>;

  /** Returns a permit: hands it to the next waiter, if the limit allows. @internal */
  protected release(): void {
    this.running--;
    if (this.waiting.size !== 0) this.drain();
  }

  /** Admits waiters while permits are free (after a release or a limit increase). @internal */
  protected drain(): void {
    const q = this.waiting;
    while (this.running < this.permits) {
      const w = q.take();
      if (w === undefined) break;
      this.running++;
      void this.admitted(w.fn, w.ctx, w.started, w);
    }
    if (q.size === 0) q.clearTimer();
  }

  private enqueue<T>(fn: Fn<T>, ctx: Ctx): Promise<T> {
    const q = this.waiting;
    if (q.size >= this.maxQueue) return this.refuse(this.running, q.size);
    const ms = this.queueTimeoutMs;
    // Metrics time as on the fast path (the per-turn time with systemClock); the policy's clock
    // only for a queue deadline.
    const w = new PermitWaiter(fn, ctx, this.start(), ms === undefined ? Infinity : this.clock.now() + ms);
    const promise = q.join<T>(w);
    if (ms !== undefined) q.arm(this.onTimer, ms);
    return promise;
  }

  /** Expires every waiter whose deadline has passed, then re-arms for the new head. */
  private readonly onTimer = (): void => {
    const q = this.waiting;
    q.fired();
    const now = this.clock.now();
    for (let w = q.peek(); w !== undefined; w = q.peek()) {
      if (w.deadline > now) {
        // A real clock's timer may fire a little early; the head may also be a later arrival.
        q.arm(this.onTimer, w.deadline - now);
        return;
      }
      q.take();
      w.reject(this.refusal(this.running, q.size));
    }
  };

  private refusal(executing: number, queued: number): BulkheadRejectedError {
    this.recordRejection();
    if (this.events.has('rejected')) {
      (this.events as PolicyEmitter<PermitEvents>).emit('rejected', { executing, queued });
    }
    return new BulkheadRejectedError(executing, queued);
  }

  private refuse(executing: number, queued: number): Promise<never> {
    return Promise.reject(this.refusal(executing, queued));
  }

  /** @internal */
  protected override addMetrics(m: PolicyMetrics): void {
    m.executing = this.running;
    m.queued = this.waiting.size;
  }

  /** Rejects every waiter (their work never started) and clears the queue timer. @internal */
  protected override onDispose(): void {
    this.waiting.rejectAll(disposedError(this));
  }
}
