/**
 * The hedge policy: when an attempt is slow (or fails), start another; the first success wins.
 *
 * @module
 */
import { COMMON_OPTIONS, HANDLE_OPTIONS, checkKnown } from './known-options.js';
import { type Classifier, classifier, handlesError, handlesResult, type HandleOptions } from './handle.js';
import { Ctx, type Fn, invoke, RUN } from './internal/run.js';
import type { CommonOptions } from './contract.js';
import { PolicyBase, disposedError } from './policy-base.js';
import { callerAborted, type Subscription, Token } from './internal/token.js';
import { isNonIdempotentOutcome, markOutcome, tokenMarked } from './idempotency.js';
import { FAILURES, RETRIES, SUCCESSES } from './metrics/rolling-window.js';
import { optBudget, type RetryBudget } from './retry-budget.js';
import { type Deadline, DeadlineQueue } from './internal/deadline-queue.js';
import type { Linked } from './internal/list.js';
import { noop, promiseFor } from './internal/deferred.js';
import { duration, MAX_TIMER_MS, num, optionsObject, rangeError, typeError } from './validate.js';
import { describePolicy } from './internal/descriptor.js';

/** What the registry, the bus and the exporters know about a hedge. */
const HEDGE = describePolicy({ kind: 'hedge', events: { hedge: 'warning', budgetExhausted: 'error' } });

/**
 * Options of {@link hedge}.
 *
 * @example
 * ```ts
 * import { hedge, type HedgeOptions } from 'breakwater';
 * const options: HedgeOptions = { delayMs: (attempt) => 50 * (attempt - 1), maxHedges: 2 };
 * const policy = hedge(options);
 * ```
 */
export interface HedgeOptions extends HandleOptions, CommonOptions {
  /**
   * How long an attempt may run before the next one starts, in milliseconds: a number `>= 0`
   * (`0` starts every attempt at once; `Infinity` hedges only on failure), or a function of the
   * number of the attempt about to start (2 for the first hedge) returning such a number.
   */
  readonly delayMs: number | ((attempt: number) => number);
  /**
   * Extra attempts at most, so up to `1 + maxHedges` attempts in all; an integer in `[0, 100]`.
   * @defaultValue `1`
   */
  readonly maxHedges?: number;
  /** A {@link RetryBudget} shared with other policies; a hedge it refuses is not started. */
  readonly budget?: RetryBudget;
}

/**
 * Events of the hedge policy.
 *
 * @example
 * ```ts
 * import { hedge } from 'breakwater';
 * const policy = hedge({ delayMs: 100 });
 * policy.events.on('hedge', ({ attempt }) => console.log(`started attempt ${attempt}`));
 * ```
 */
export interface HedgeEvents {
  /** Attempt 2, 3, … started (after the delay, or at once after a failure). */
  hedge: { readonly attempt: number };
  /** The shared budget refused to start attempt `attempt`. */
  budgetExhausted: { readonly attempt: number };
}

/**
 * The most extra attempts a hedge may start for one call. Each is a concurrent call to the
 * dependency; past a handful, hedging only multiplies load (Polly caps it at 10).
 */
const MAX_HEDGES = 100;

/**
 * The state of one call. Plain fields, so every run has the same shape. It waits for its next
 * hedge in the policy's {@link DeadlineQueue} (the `Deadline` fields).
 */
class Run<T> implements Deadline {
  due = 0;
  prev: Linked | undefined = undefined;
  next: Linked | undefined = undefined;
  queued = false;
  /** Attempts started. */
  n = 0;
  /** Attempts started and not yet settled. */
  pending = 0;
  done = false;
  /** The call's context when it has no token: what the attempts' tokens derive from. */
  root: object | undefined = undefined;
  /** An attempt was marked non-idempotent (see `markNonIdempotent`): no further attempt starts. */
  once = false;
  /** Tokens of unsettled attempts: the first, then the hedges (settled ones are `undefined`). */
  first: Token | undefined = undefined;
  more: Array<Token | undefined> | undefined = undefined;
  sub: Subscription | undefined = undefined;
  resolve: (value: unknown) => void = noop;
  reject: (error: unknown) => void = noop;
  constructor(
    readonly fn: Fn<T>,
    readonly parent: Token | undefined,
    readonly started: number,
    readonly key: string | undefined,
  ) {}
}

/**
 * A policy that hedges slow calls with parallel attempts. See {@link hedge}.
 *
 * @example
 * ```ts
 * import { hedge, HedgePolicy } from 'breakwater';
 * const policy: HedgePolicy = hedge({ delayMs: 100, maxHedges: 2 });
 * policy.maxHedges; // 2
 * ```
 */
export class HedgePolicy extends PolicyBase<HedgeEvents> {
  /** Extra attempts at most. */
  readonly maxHedges: number;
  /** The delay before each hedge: a number, or a function of the attempt number. */
  readonly delayMs: number | ((attempt: number) => number);
  /** The shared retry budget, if any. */
  readonly budget: RetryBudget | undefined;
  private readonly classify: Classifier;
  private readonly attempts: number;
  /**
   * Calls waiting for their next hedge, served by one clock timer: with a fixed `delayMs` the
   * deadlines come in call order, so a call costs no `setTimeout`/`clearTimeout` of its own. The
   * timer keeps the process alive while a call waits (starting the next attempt is work its
   * caller waits for, and the attempt running may hold nothing alive); it is cleared once no call
   * waits (at the end of the turn with `systemClock`), so it never outlives the calls.
   */
  private readonly waiting: DeadlineQueue<Run<unknown>>;

  /** @internal Use {@link hedge}. */
  constructor(options: HedgeOptions) {
    const p = 'hedge';
    const o = optionsObject(p, options);
    checkKnown(p, o, [...COMMON_OPTIONS, ...HANDLE_OPTIONS, 'delayMs', 'maxHedges', 'budget']);
    const classify = classifier(p, o);
    const d = o['delayMs'];
    let delayMs: number | ((attempt: number) => number);
    if (typeof d === 'function') delayMs = d as (attempt: number) => number;
    else if (typeof d === 'number') delayMs = duration(p, 'delayMs', d, { infinity: true });
    else typeError(p, 'delayMs', `a number in [0, ${MAX_TIMER_MS}] ms (or Infinity) or a function`, d);
    const maxHedges = o['maxHedges'] === undefined ? 1 : num(p, 'maxHedges', o['maxHedges'], { min: 0, max: MAX_HEDGES, integer: true });
    const budget = optBudget(p, o['budget']);
    super(HEDGE, o);
    this.classify = classify;
    this.delayMs = delayMs;
    this.maxHedges = maxHedges;
    this.attempts = 1 + maxHedges;
    this.budget = budget;
    this.waiting = new DeadlineQueue<Run<unknown>>(
      this.clock,
      (run) => {
        if (!run.done) this.launch(run);
      },
      true,
    );
  }

  /** @internal */
  [RUN]<T>(fn: Fn<T>, ctx: Ctx): Promise<T> {
    if (this.disposed) return Promise.reject(disposedError(this));
    const parent = ctx.tok;
    if (parent?.aborted === true) return Promise.reject(parent.reason);
    const run = new Run<T>(fn, parent, this.start(), ctx.key);
    const promise = promiseFor<T>(run);
    if (parent === undefined) run.root = ctx;
    this.budget?.recordAttempt();
    // Any abort of the call's token (the caller, an outer timeout or hedge) ends the call at once;
    // each attempt's child token aborts with it.
    if (parent !== undefined) run.sub = parent.onAbort((reason) => this.finish(run, false, reason, undefined));
    this.launch(run);
    return promise;
  }

  /**
   * Starts the next attempt now, and arms the timer for the one after. Returns false when a hedge
   * may not start (disposed, or refused by the budget). A delay of 0 starts the following
   * attempts in this same loop, never by recursion, so no `maxHedges` can grow the stack.
   */
  private launch<T>(run: Run<T>): boolean {
    let started = false;
    for (;;) {
      const n = run.n + 1;
      if (n > 1) {
        if (this.disposed || this.onceMarked(run)) return started;
        if (this.budget !== undefined && !this.budget.tryRetry()) {
          if (this.events.has('budgetExhausted')) this.events.emit('budgetExhausted', { attempt: n });
          return started;
        }
      }
      let delay: number;
      try {
        delay = n < this.attempts ? this.delayFor(n + 1) : Infinity;
      } catch (error) {
        this.finish(run, false, error, undefined);
        return true;
      }
      if (n > 1) {
        this.count(RETRIES);
        if (this.events.has('hedge')) this.events.emit('hedge', { attempt: n });
      }
      run.n = n;
      run.pending++;
      started = true;
      const tok = Token.child(run.parent);
      if (run.root !== undefined) tok.parent = run.root;
      if (n === 1) run.first = tok;
      else (run.more ??= []).push(tok);
      void invoke(run.fn, new Ctx(tok, n, run.key)).then(
        (value) => this.settled(run, tok, n, value, false),
        (error: unknown) => this.settled(run, tok, n, error, true),
      );
      if (run.done) return true;
      if (delay === 0) continue;
      if (delay !== Infinity) this.waiting.schedule(run, this.clock.now() + delay);
      return true;
    }
  }

  /** True once any attempt of `run` was marked non-idempotent, running or settled. */
  private onceMarked<T>(run: Run<T>): boolean {
    if (run.once) return true;
    if (tokenMarked(run.first) || run.more?.some(tokenMarked) === true) run.once = true;
    return run.once;
  }

  private delayFor(attempt: number): number {
    const d = this.delayMs;
    if (typeof d === 'number') return d;
    const ms = d(attempt);
    if (typeof ms !== 'number' || !(ms >= 0)) {
      rangeError('hedge', `delayMs(${attempt})`, 'a number >= 0 (or Infinity)', ms);
    }
    return ms;
  }

  /** Attempt `n` settled. */
  private settled<T>(run: Run<T>, tok: Token, n: number, outcome: unknown, threw: boolean): void {
    if (run.done) return;
    run.pending--;
    tok.release();
    if (n === 1) run.first = undefined;
    else (run.more as Array<Token | undefined>)[n - 2] = undefined;
    let handled: boolean;
    try {
      handled = threw ? handlesError(this.classify, outcome) : handlesResult(this.classify, outcome);
    } catch (error) {
      // A throwing `handle` predicate fails the call (as it would in retry), never unhandled.
      this.finish(run, false, error, undefined);
      return;
    }
    if (!handled) {
      // A success, or an error that is not handled: either way this outcome is the answer.
      this.finish(run, !threw, outcome, tok);
      return;
    }
    if (!run.once && (tokenMarked(tok) || isNonIdempotentOutcome(outcome))) run.once = true;
    if (run.once) markOutcome(outcome);
    if (run.n < this.attempts) {
      // A failure starts the next attempt at once; its wait for the delay ends.
      this.waiting.remove(run);
      if (this.launch(run)) return;
    }
    // The last attempt to fail: its failure stands.
    if (run.pending === 0) this.finish(run, !threw, outcome, undefined);
  }

  /**
   * Settles the call once: clears the timer, aborts every attempt still running, records metrics.
   * `ok` resolves with `value`, otherwise rejects with it.
   */
  private finish<T>(run: Run<T>, ok: boolean, value: unknown, winner: Token | undefined): void {
    if (run.done) return;
    run.done = true;
    this.waiting.remove(run);
    run.sub?.cancel();
    winner?.release();
    const aborted = run.parent?.aborted === true;
    // Only a winner is a success: a failing value that every attempt returned is resolved, but it
    // is a failure. The caller's own abort is neither.
    if (!callerAborted(run.parent)) this.record(ok && winner !== undefined ? SUCCESSES : FAILURES, run.started);
    if (ok) run.resolve(value);
    else run.reject(value);
    // Losers learn after the call has settled, so nothing they do on abort can change it; their
    // late outcomes land in `settled`, which ignores them.
    const first = run.first;
    const more = run.more;
    if (first === undefined && more === undefined) return;
    const reason = aborted ? run.parent?.reason : new DOMException('Another hedged attempt won', 'AbortError');
    first?.abort(reason);
    if (more !== undefined) for (const t of more) t?.abort(reason);
  }

  /** @internal */
  protected override onDispose(): void {
    // Calls in flight keep their running attempts but start no more: the timer goes now.
    this.waiting.clear();
  }
}

/**
 * Hedges slow calls: when an attempt has not settled after `delayMs`, or has failed, another
 * starts, up to `1 + maxHedges` attempts; the first success wins and every other attempt's
 * `ctx.signal` aborts. If every attempt fails, the last failure stands (Polly's hedging, latency
 * mode, plus: a handled failure starts the next attempt at once). An outcome that is not
 * handled (a success, or an error `handle` rejects) wins like a success.
 *
 * **When to use:** idempotent reads with a long latency tail (a search, a cache or replica read):
 * a hedge after the p95 latency cuts the tail for about 5% more load. Share a `budget` to cap
 * that extra load when the dependency is slow for everyone.
 *
 * **Details:** with `systemClock`, the delay's timer keeps a Node.js process alive while a call
 * waits for its next attempt (starting it is work the caller waits for, and the attempt running
 * may hold nothing alive); it is cleared once no call waits (the call settled, its first attempt
 * won, or `dispose()`), so it never keeps a process up after its calls.
 *
 * **Gotchas:** every attempt really runs: pass `ctx.signal` on so losers stop working. Losers'
 * late outcomes are discarded (never an unhandled rejection). `delayMs: 0` starts every attempt at
 * once; `delayMs: Infinity` hedges only after a failure.
 *
 * @example
 * ```ts
 * import { hedge, retryBudget } from 'breakwater';
 * const policy = hedge({ delayMs: 100, maxHedges: 2, budget: retryBudget({ ratio: 0.1 }) });
 * policy.events.on('hedge', ({ attempt }) => console.log(`attempt ${attempt} started`));
 * const res = await policy.execute(({ signal, attempt }) => fetch(`https://example.com/search?try=${attempt}`, { signal }));
 * ```
 */
export function hedge(options: HedgeOptions): HedgePolicy {
  return new HedgePolicy(options).adopt();
}
