/**
 * The retry policy: more attempts after a handled failure, with a backoff between them.
 *
 * @module
 */
import { COMMON_OPTIONS, HANDLE_OPTIONS, checkKnown } from './known-options.js';
import { type Backoff, type BackoffIterator, backoff as schedules, isBackoff } from './backoff.js';
import { type Classifier, classifier, handlesError, handlesResult, type HandleOptions } from './handle.js';
import { Ctx, type Fn, RUN, invoke } from './internal/run.js';
import type { CommonOptions } from './contract.js';
import { PolicyBase, disposedError } from './policy-base.js';
import { callerAborted, type Token } from './internal/token.js';
import { mayRepeat } from './idempotency.js';
import { FAILURES, RETRIES, SUCCESSES } from './metrics/rolling-window.js';
import { optBudget, type RetryBudget } from './retry-budget.js';
// Delays beyond MAX_TIMER_MS cannot be set as a timer (Node fires them after 1 ms): they end the retrying.
import { MAX_TIMER_MS, num, optionsObject, show, typeError } from './validate.js';
import { describePolicy } from './internal/descriptor.js';
import { Sleeps } from './internal/sleep.js';

/** What the registry, the bus and the exporters know about a retry. */
const RETRY = describePolicy({
  kind: 'retry',
  events: { retry: 'warning', giveUp: 'error', success: 'information', budgetExhausted: 'error' },
});

/**
 * Options of {@link retry}.
 *
 * @example
 * ```ts
 * import { retry, backoff, type RetryOptions } from 'breakwater';
 * const options: RetryOptions = { maxAttempts: 5, backoff: backoff.constant(200), maxElapsedMs: 2_000 };
 * const policy = retry(options);
 * ```
 */
export interface RetryOptions extends HandleOptions, CommonOptions {
  /**
   * Attempts in total, the first included: an integer `>= 1`, or `Infinity` (bound it with
   * `maxElapsedMs`, a finite `backoff`, a `budget` or the caller's signal).
   * @defaultValue `3`
   */
  readonly maxAttempts?: number;
  /**
   * Delays between attempts; the retrying also ends when the schedule stops.
   * @defaultValue `backoff.exponential()` (100 ms doubling up to 30 s, full jitter)
   */
  readonly backoff?: Backoff;
  /**
   * No attempt starts later than this many milliseconds after the first one started: a retry
   * whose delay would end later is not made. Finite, `>= 0` (`Infinity`: no limit).
   * @defaultValue none
   */
  readonly maxElapsedMs?: number;
  /** A {@link RetryBudget} shared with other policies; a refused retry ends the retrying. */
  readonly budget?: RetryBudget;
  /**
   * The longest `retryAfterMs` hint (an open breaker's, a rate limiter's, an HTTP 429's) the
   * policy will wait for, in ms: a longer hint ends the retrying at once with that error
   * (`giveUp`), so a retry never sits out a 30-second open breaker or an hour-long
   * `Retry-After` unless asked to. `>= 0`, or `Infinity`.
   * @defaultValue `5000`
   */
  readonly maxRetryAfterMs?: number;
}

/**
 * Events of the retry policy. `attempt` is always the number of the attempt that failed.
 *
 * @example
 * ```ts
 * import { retry } from 'breakwater';
 * const policy = retry();
 * policy.events.on('retry', ({ attempt, delayMs, error }) => console.warn(`attempt ${attempt} failed`, error, `next in ${delayMs} ms`));
 * policy.events.on('giveUp', ({ attempts }) => console.error(`gave up after ${attempts} attempts`));
 * ```
 */
export interface RetryEvents {
  /** A handled failure; the next attempt starts after `delayMs`. Emitted before the sleep. */
  retry: { readonly attempt: number; readonly delayMs: number; readonly error?: unknown; readonly result?: unknown };
  /** The retrying ended on a handled failure: the last one is thrown or returned. */
  giveUp: { readonly attempts: number; readonly error?: unknown; readonly result?: unknown };
  /** The call succeeded (or ended with an outcome that is not handled as a failure). */
  success: { readonly attempts: number };
  /** The shared budget refused a retry (followed by `giveUp`). */
  budgetExhausted: { readonly attempt: number; readonly error?: unknown; readonly result?: unknown };
}

const DEFAULT_BACKOFF: Backoff = schedules.exponential();

/**
 * A policy that retries handled failures. See {@link retry}.
 *
 * @example
 * ```ts
 * import { retry, RetryPolicy } from 'breakwater';
 * const policy: RetryPolicy = retry({ maxAttempts: 4 });
 * policy.maxAttempts; // 4
 * ```
 */
export class RetryPolicy extends PolicyBase<RetryEvents> {
  /** Attempts in total, the first included. */
  readonly maxAttempts: number;
  /** The schedule of delays between attempts. */
  readonly backoff: Backoff;
  /** No attempt starts later than this after the first; `undefined`: no limit. */
  readonly maxElapsedMs: number | undefined;
  /** The shared retry budget, if any. */
  readonly budget: RetryBudget | undefined;
  /** The longest `retryAfterMs` hint waited for; a longer one ends the retrying. */
  readonly maxRetryAfterMs: number;
  private readonly classify: Classifier;
  /** Pending backoff sleeps, ended by `dispose()`. Allocated on the first retry. */
  private sleeps: Sleeps | undefined = undefined;

  /** @internal Use {@link retry}. */
  constructor(options?: RetryOptions) {
    const p = 'retry';
    const o = optionsObject(p, options);
    checkKnown(p, o, [...COMMON_OPTIONS, ...HANDLE_OPTIONS, 'maxAttempts', 'backoff', 'maxElapsedMs', 'budget', 'maxRetryAfterMs']);
    const classify = classifier(p, o);
    const maxAttempts =
      o['maxAttempts'] === undefined ? 3 : num(p, 'maxAttempts', o['maxAttempts'], { min: 1, integer: true, infinity: true });
    const b = o['backoff'];
    if (b !== undefined && !isBackoff(b)) typeError(p, 'backoff', 'a Backoff (from backoff.*)', b);
    const max = o['maxElapsedMs'] === undefined ? Infinity : num(p, 'maxElapsedMs', o['maxElapsedMs'], { min: 0, infinity: true });
    const budget = optBudget(p, o['budget']);
    const maxRetryAfterMs =
      o['maxRetryAfterMs'] === undefined ? 5000 : num(p, 'maxRetryAfterMs', o['maxRetryAfterMs'], { min: 0, infinity: true });
    super(RETRY, o);
    this.classify = classify;
    this.maxAttempts = maxAttempts;
    this.backoff = b ?? DEFAULT_BACKOFF;
    this.maxElapsedMs = max === Infinity ? undefined : max;
    this.budget = budget;
    this.maxRetryAfterMs = maxRetryAfterMs;
  }

  /** @internal */
  [RUN]<T>(fn: Fn<T>, ctx: Ctx): Promise<T> {
    if (this.disposed) return Promise.reject(disposedError(this));
    // The first attempt is kept apart from the retry loop: its success path allocates nothing of
    // its own but two `.then` handlers (a `.then` resumes faster than an `async` frame's await),
    // and reads the clock only for metrics or `maxElapsedMs` (no backoff iterator or timer until
    // a retry is needed).
    const started = this.start();
    // Its own read of the policy's clock: metrics may use a cheaper, per-turn time.
    const t0 = this.maxElapsedMs === undefined ? 0 : this.clock.now();
    this.budget?.recordAttempt();
    const tok = ctx.tok;
    const key = ctx.key;
    const first = ctx.attempt === 1 ? ctx : new Ctx(tok, 1, key);
    const p = invoke(fn, first);
    if (this.classify.handleResult === undefined) {
      // No value is a failure: the first attempt's value always stands, and its handler is
      // shared by the calls that started at the same time (one closure per call, not two).
      let h = this.passed;
      if (h.started !== started) h = this.passed = this.passedAt(started);
      return p.then(h.ok, (error: unknown) => this.firstError(fn, tok, started, t0, error, key, first)) as Promise<T>;
    }
    return p.then(
      (value) => this.firstValue(fn, tok, started, t0, value, key, first),
      (error: unknown) => this.firstError(fn, tok, started, t0, error, key, first),
    );
  }

  /** The first attempt's success handler when no value is a failure (see `[RUN]`). */
  private passed: { readonly started: number; readonly ok: (value: unknown) => unknown } = this.passedAt(0);

  private passedAt(started: number): { readonly started: number; readonly ok: (value: unknown) => unknown } {
    return {
      started,
      ok: (value: unknown): unknown => {
        this.record(SUCCESSES, started);
        if (this.events.has('success')) this.events.emit('success', { attempts: 1 });
        return value;
      },
    };
  }

  /** The first attempt threw `error`: it is rethrown, or the retrying starts. */
  private firstError<T>(
    fn: Fn<T>,
    tok: Token | undefined,
    started: number,
    t0: number,
    error: unknown,
    key: string | undefined,
    first: Ctx,
  ): Promise<T> {
    this.settleError(tok, started, error);
    return this.retrying(fn, tok, started, t0, 1, 'error', error, key, first);
  }

  /** The first attempt returned `value`: it stands, or the retrying starts. */
  private firstValue<T>(
    fn: Fn<T>,
    tok: Token | undefined,
    started: number,
    t0: number,
    value: T,
    key: string | undefined,
    first: Ctx,
  ): T | Promise<T> {
    if (!handlesResult(this.classify, value)) {
      this.record(SUCCESSES, started);
      if (this.events.has('success')) this.events.emit('success', { attempts: 1 });
      return value;
    }
    if (this.stopsOnResult(tok, started)) return value;
    return this.retrying(fn, tok, started, t0, 1, 'result', value, key, first);
  }

  /** Retries after the handled failure `outcome` of `attempt`, until an outcome stands. */
  private async retrying<T>(
    fn: Fn<T>,
    tok: Token | undefined,
    started: number,
    t0: number,
    attempt: number,
    key: 'error' | 'result',
    outcome: unknown,
    callKey: string | undefined,
    /** The context of the attempt that failed: a non-idempotent one is not repeated. */
    ctx: Ctx,
  ): Promise<T> {
    const it = this.backoff.start();
    for (;;) {
      const delay = mayRepeat(ctx, outcome) ? this.decide(attempt, it, t0, key, outcome) : undefined;
      if (delay === undefined) {
        this.giveUp(attempt, started, key, outcome);
        if (key === 'error') throw outcome;
        return outcome as T;
      }
      await this.sleep(delay, tok, started);
      attempt++;
      let value: T;
      try {
        value = await fn((ctx = new Ctx(tok, attempt, callKey)));
      } catch (error) {
        this.settleError(tok, started, error);
        key = 'error';
        outcome = error;
        continue;
      }
      if (!handlesResult(this.classify, value)) {
        this.record(SUCCESSES, started);
        if (this.events.has('success')) this.events.emit('success', { attempts: attempt });
        return value;
      }
      if (this.stopsOnResult(tok, started)) return value;
      key = 'result';
      outcome = value;
    }
  }

  /**
   * Rethrows an error that is not to be retried: one `handle` rejects, or any error once the
   * call's signal aborted — the caller's own abort is never retried, and after an outer timeout
   * or a losing hedge another attempt could only be aborted too.
   */
  private settleError(tok: Token | undefined, started: number, error: unknown): void {
    if (tok?.aborted !== true && handlesError(this.classify, error)) return;
    if (!callerAborted(tok)) this.record(FAILURES, started);
    throw error;
  }

  /** A failing value after the call's signal aborted stands as it is (no retry, no `giveUp`). */
  private stopsOnResult(tok: Token | undefined, started: number): boolean {
    if (tok?.aborted !== true) return false;
    if (!callerAborted(tok)) this.record(FAILURES, started);
    return true;
  }

  /**
   * After a handled failure of `attempt`: the delay before the next attempt (the `retry` event
   * emitted and the retry counted), or `undefined` to give up. The checks that cost nothing come
   * before the budget, so a retry refused for another reason never spends the budget.
   */
  private decide(
    attempt: number,
    it: BackoffIterator,
    t0: number,
    key: 'error' | 'result',
    outcome: unknown,
  ): number | undefined {
    if (attempt >= this.maxAttempts) return undefined;
    let delay = it.next();
    if (delay === undefined) return undefined;
    // Our schedules never do this; a hand-written one that does is a bug to surface, not a reason
    // to retry with no delay (cockatiel's NaN jitter did exactly that).
    if (typeof delay !== 'number' || !(delay >= 0)) {
      throw new RangeError(`retry: backoff delays must be numbers >= 0 (or undefined to stop), got ${show(delay)}`);
    }
    if (key === 'error') {
      // A hint from the failure itself (an open breaker, a rate limit, an HTTP 429) is a floor.
      const hint = retryAfter(outcome);
      // A hint past what the caller will wait for ends the retrying now (a fallback outside
      // answers at once instead of after the breaker's whole open duration).
      if (hint > this.maxRetryAfterMs) return undefined;
      if (hint > delay) delay = hint;
    }
    // An infinite hint (an isolated breaker) or one past the timer limit means "not soon".
    if (!(delay <= MAX_TIMER_MS)) return undefined;
    if (this.maxElapsedMs !== undefined && this.clock.now() + delay - t0 > this.maxElapsedMs) return undefined;
    if (this.budget !== undefined && !this.budget.tryRetry()) {
      if (this.events.has('budgetExhausted')) {
        this.events.emit('budgetExhausted', key === 'error' ? { attempt, error: outcome } : { attempt, result: outcome });
      }
      return undefined;
    }
    this.count(RETRIES);
    if (this.events.has('retry')) {
      this.events.emit('retry', key === 'error' ? { attempt, delayMs: delay, error: outcome } : { attempt, delayMs: delay, result: outcome });
    }
    return delay;
  }

  private giveUp(attempts: number, started: number, key: 'error' | 'result', outcome: unknown): void {
    this.record(FAILURES, started);
    if (this.events.has('giveUp')) {
      this.events.emit('giveUp', key === 'error' ? { attempts, error: outcome } : { attempts, result: outcome });
    }
  }

  /**
   * Waits `ms` on the clock. An abort of the call's token (the caller, an outer timeout, a losing
   * hedge) clears the timer at once and rejects with its reason, so no further attempt starts;
   * `dispose()` does the same with a disposed error. Either way the call is a failure for
   * metrics, unless it was the caller's own abort.
   */
  private sleep(ms: number, tok: Token | undefined, started: number): Promise<void> {
    // A `retry` listener may have aborted the caller's controller just now, or the policy was
    // disposed during the attempt that failed.
    const p = this.disposed ? Promise.reject(disposedError(this)) : (this.sleeps ??= new Sleeps(this.clock)).sleep(ms, tok);
    return p.catch((reason: unknown) => {
      this.stopped(tok, started);
      throw reason;
    });
  }

  /** A sleep ended early: a failure for metrics, unless it was the caller's own abort. */
  private stopped(tok: Token | undefined, started: number): void {
    if (!callerAborted(tok)) this.record(FAILURES, started);
  }

  /** @internal */
  protected override onDispose(): void {
    this.sleeps?.stopAll(disposedError(this));
  }
}

/** A failure's own lower bound on the next delay: a numeric `retryAfterMs` (`>= 0`), else 0. */
function retryAfter(error: unknown): number {
  if (typeof error !== 'object' || error === null) return 0;
  const ms = (error as { retryAfterMs?: unknown }).retryAfterMs;
  return typeof ms === 'number' && ms > 0 ? ms : 0;
}

/**
 * Retries a call after handled failures, with a backoff between attempts.
 *
 * `maxAttempts` counts every attempt, the first included (`ctx.attempt` is 1, 2, …). An error or
 * value that is not handled is thrown or returned at once; when the retrying ends on a handled
 * failure, the last failing value is returned or the last error rethrown. The retrying ends when
 * `maxAttempts` is reached, the backoff stops, the next attempt would start more than
 * `maxElapsedMs` after the first, the shared `budget` refuses, or a failure's `retryAfterMs` is
 * `Infinity`. An error's numeric `retryAfterMs` (a `BrokenCircuitError`, a `RateLimitedError`)
 * makes the next delay at least that long.
 *
 * **When to use:** around calls that fail transiently (network blips, 503s, an open breaker that
 * will half-open). Put it outside the circuit breaker and the per-attempt timeout:
 * `pipeline(retry, circuitBreaker, timeout)`.
 *
 * **Gotchas:** a caller's abort during an attempt or the backoff sleep rejects at once with
 * `signal.reason` and starts no further attempt. Retrying non-idempotent work is your call:
 * narrow `handle` to the errors that are safe to retry. A delay of 0 still waits for a timer
 * (one macrotask).
 *
 * @example
 * ```ts
 * import { retry, backoff, handleErrors, retryBudget } from 'breakwater';
 * class NetworkError extends Error {}
 * const policy = retry({
 *   maxAttempts: 4,
 *   backoff: backoff.exponential({ initialMs: 100, maxMs: 2_000 }),
 *   handle: handleErrors(NetworkError),
 *   budget: retryBudget(),
 * });
 * policy.events.on('retry', ({ attempt, delayMs }) => console.log(`attempt ${attempt} failed; next in ${delayMs} ms`));
 * const user = await policy.execute(({ signal }) => fetch('https://example.com/user/1', { signal }));
 * ```
 */
export function retry(options?: RetryOptions): RetryPolicy {
  return new RetryPolicy(options).adopt();
}
