/**
 * The bulkhead: at most `maxConcurrent` calls run at once, up to `maxQueue` more wait in FIFO
 * order. The permit-and-queue machinery is internal/permits.ts, shared with the adaptive limit.
 *
 * @module
 */
import { COMMON_OPTIONS, checkKnown } from './known-options.js';
import { FAILURES, SUCCESSES } from './metrics/rolling-window.js';
import { type Ctx, type Fn, invoke } from './internal/run.js';
import type { CommonOptions } from './contract.js';
import type { Settleable } from './internal/deferred.js';
import { PermitPolicy, queueSettings } from './internal/permits.js';
import { handOver } from './internal/waiting-room.js';
import { callerAborted, type Token } from './internal/token.js';
import { num, optionsObject } from './validate.js';
import { describePolicy } from './internal/descriptor.js';

/** Options of {@link bulkhead}. */
export interface BulkheadOptions extends CommonOptions {
  /** Calls that may run at once (an integer >= 1). */
  readonly maxConcurrent: number;
  /** Calls that may wait for a slot, in FIFO order (an integer >= 0, or `Infinity`). @defaultValue `0` */
  readonly maxQueue?: number;
  /** How long a call may wait in the queue before it is rejected, in ms. @defaultValue no limit */
  readonly queueTimeoutMs?: number;
}

/** Payload of `rejected`: the counts when the call was refused. */
export interface BulkheadRejectedEvent {
  /** Calls running when this one was refused. */
  readonly executing: number;
  /** Calls waiting when this one was refused. */
  readonly queued: number;
}

/** Events of the bulkhead. */
export interface BulkheadEvents {
  /** A call was refused: no slot and no room in the queue, or it waited past `queueTimeoutMs`. */
  rejected: BulkheadRejectedEvent;
}

/** What the registry, the bus and the exporters know about a bulkhead. */
const BULKHEAD = describePolicy({
  kind: 'bulkhead',
  events: { rejected: 'error' },
  gauges: {
    executing: (p: BulkheadPolicy) => p.executing,
    queued: (p: BulkheadPolicy) => p.queued,
    permits: (p: BulkheadPolicy) => Math.max(0, p.maxConcurrent - p.executing),
  },
});

/**
 * A policy that limits how many calls run at once. See {@link bulkhead}.
 *
 * @example
 * ```ts
 * import { bulkhead, type BulkheadPolicy } from 'breakwater';
 * const pool: BulkheadPolicy = bulkhead({ maxConcurrent: 4 });
 * console.log(pool.maxConcurrent, pool.executing, pool.queued);
 * ```
 */
export class BulkheadPolicy extends PermitPolicy<BulkheadEvents> {
  /** Calls that may run at once. */
  readonly maxConcurrent: number;

  /** @internal Use {@link bulkhead}. */
  constructor(options: BulkheadOptions) {
    const o = optionsObject('bulkhead', options);
    checkKnown('bulkhead', o, [...COMMON_OPTIONS, 'maxConcurrent', 'maxQueue', 'queueTimeoutMs']);
    const maxConcurrent = num('bulkhead', 'maxConcurrent', o['maxConcurrent'], { min: 1, integer: true });
    const queue = queueSettings('bulkhead', o);
    super(BULKHEAD, o, maxConcurrent, queue);
    this.maxConcurrent = maxConcurrent;
  }

  /** Recording handlers for the calls that started at `started` (see {@link timed}). */
  private timedHandlers(started: number): Timed {
    return {
      started,
      ok: (value: unknown): unknown => {
        this.release();
        this.record(SUCCESSES, started);
        return value;
      },
      err: (error: unknown): never => {
        this.release();
        this.record(FAILURES, started);
        throw error;
      },
    };
  }

  // Settlement handlers bound once: with metrics off, the success path allocates nothing but
  // the promise `then` returns. (A `.then` costs ~40% less than an async function's await here.)
  private readonly settled = (value: unknown): unknown => {
    this.release();
    return value;
  };
  private readonly failed = (error: unknown): never => {
    this.release();
    throw error;
  };

  /**
   * Recording handlers shared by the calls that started at the same time (with systemClock, a
   * whole event-loop turn) and that no caller can abort: no closure per call.
   */
  private timed: Timed = { started: NaN, ok: this.settled, err: this.failed };

  /** @internal */
  protected admitted<T>(fn: Fn<T>, ctx: Ctx, started: number, waiter?: Settleable): Promise<T> {
    if (waiter !== undefined) return this.admittedWaiter(fn, ctx, started, waiter);
    const p = invoke(fn, ctx);
    if (this.window === undefined) return p.then(this.settled, this.failed) as Promise<T>;
    const tok = ctx.tok;
    if (tok === undefined || tok.caller === undefined) {
      let h = this.timed;
      if (h.started !== started) h = this.timed = this.timedHandlers(started);
      return p.then(h.ok, h.err) as Promise<T>;
    }
    return this.judged(p, tok, started, undefined);
  }

  /** A call that waited in the queue, now admitted: its outcome goes to `waiter`. */
  private admittedWaiter<T>(fn: Fn<T>, ctx: Ctx, started: number, waiter: Settleable): Promise<T> {
    const p = invoke(fn, ctx);
    const tok = ctx.tok;
    if (tok !== undefined && tok.caller !== undefined) return this.judged(p, tok, started, waiter);
    // No caller can abort the call, so its outcome always counts: one pair of handlers sharing
    // one context, instead of `handOver`'s three closures in two. (Two reactions — shared
    // handlers to return the permit, then the waiter's own resolvers — allocate no closure but
    // cost more: each `then` adds a promise and a reaction, 8% more instructions per call.)
    return p.then(
      (value) => {
        try {
          this.release();
          this.record(SUCCESSES, started);
          waiter.resolve(value);
        } catch (error) {
          waiter.reject(error);
        }
      },
      (error: unknown) => {
        try {
          this.release();
          this.record(FAILURES, started);
          waiter.reject(error);
        } catch (thrown) {
          waiter.reject(thrown);
        }
      },
    ) as Promise<T>;
  }

  /** A call a caller can abort: its failure is not recorded if it was the caller's own abort. */
  private judged<T>(p: Promise<T>, tok: Token, started: number, waiter: Settleable | undefined): Promise<T> {
    // The permit goes back first, so even a failing metrics observer cannot leak it.
    return handOver(p, waiter, (failed) => {
      this.release();
      if (this.window !== undefined && !(failed && callerAborted(tok))) this.record(failed ? FAILURES : SUCCESSES, started);
    });
  }
}

/** Handlers shared by the calls that started at `started`. */
interface Timed {
  readonly started: number;
  readonly ok: (value: unknown) => unknown;
  readonly err: (error: unknown) => unknown;
}

/**
 * Limits how many calls run at once: at most `maxConcurrent` run, up to `maxQueue` more wait in
 * FIFO order, and any further call is rejected at once with {@link BulkheadRejectedError}. A
 * waiting call leaves the queue at once when its caller aborts (rejecting with `signal.reason`)
 * or when `queueTimeoutMs` passes (`BulkheadRejectedError`), and its place is free at once.
 *
 * A permit is held until the admitted work settles, even when the caller has stopped waiting for
 * it (an abort, or an aggressive timeout outside the bulkhead): abandoned work still counts as
 * executing, so the bulkhead keeps bounding what really runs.
 *
 * When to use: to protect a dependency (a connection pool, a CPU-heavy library) or the host
 * process from too much concurrent work. Put it innermost in a pipeline, inside the timeout.
 *
 * Gotchas: a timeout *inside* the bulkhead frees the permit at its deadline while the abandoned
 * work may still run; put the timeout outside. The queue adds latency: keep `maxQueue` small or
 * set `queueTimeoutMs`.
 *
 * @example
 * ```ts
 * import { bulkhead, isBreakwaterError } from 'breakwater';
 * const pool = bulkhead({ maxConcurrent: 10, maxQueue: 100, queueTimeoutMs: 2000 });
 * try {
 *   const rows = await pool.execute(({ signal }) => db.query('select 1', { signal }));
 * } catch (e) {
 *   if (isBreakwaterError(e, 'EBULKHEADFULL')) console.log('busy:', e.executing, 'running,', e.queued, 'waiting');
 * }
 * ```
 */
export function bulkhead(options: BulkheadOptions): BulkheadPolicy {
  return new BulkheadPolicy(options).adopt();
}
