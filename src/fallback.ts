/**
 * The fallback policy: a substitute answer for a handled failure.
 *
 * @module
 */
import { COMMON_OPTIONS, HANDLE_OPTIONS, checkKnown } from './known-options.js';
import { type Classifier, classifier, handlesError, handlesResult, type HandleOptions } from './handle.js';
import { type Ctx, type Fn, RUN, invoke } from './internal/run.js';
import type { CommonOptions } from './contract.js';
import { PolicyBase, disposedError } from './policy-base.js';
import { callerAborted } from './internal/token.js';
import { FAILURES, FALLBACKS, SUCCESSES } from './metrics/rolling-window.js';
import { optionsObject } from './validate.js';
import { describePolicy } from './internal/descriptor.js';

/** What the registry, the bus and the exporters know about a fallback. */
const FALLBACK = describePolicy({ kind: 'fallback', events: { fallback: 'warning' } });

/**
 * What a fallback handler receives.
 *
 * @example
 * ```ts
 * import { fallback, type FallbackContext } from 'breakwater';
 * const f = fallback((ctx: FallbackContext) => (ctx.error instanceof Error ? ctx.error.message : 'bad result'));
 * ```
 */
export interface FallbackContext {
  /** The handled error, when the call threw. */
  readonly error?: unknown;
  /** The handled value, when the call returned a failing result. */
  readonly result?: unknown;
  /** The call's signal (the caller's), for work the handler starts. */
  readonly signal: AbortSignal;
}

/**
 * Computes the substitute answer.
 *
 * @example
 * ```ts
 * import { fallback, type FallbackHandler } from 'breakwater';
 * const fromCache: FallbackHandler<string[]> = () => ['cached'];
 * const f = fallback(fromCache);
 * ```
 */
export type FallbackHandler<R> = (ctx: FallbackContext) => R | PromiseLike<R>;

/**
 * Options of {@link fallback}.
 *
 * @example
 * ```ts
 * import { fallback, handleErrors, TimeoutError } from 'breakwater';
 * const f = fallback('stale', { handle: handleErrors(TimeoutError), handleResult: (v) => v === null });
 * ```
 */
export interface FallbackOptions extends HandleOptions, Omit<CommonOptions, 'clock'> {
  /** Time source for metrics. @defaultValue systemClock */
  readonly clock?: CommonOptions['clock'];
}

/**
 * Events of the fallback policy.
 *
 * @example
 * ```ts
 * import { fallback } from 'breakwater';
 * fallback(0).events.on('fallback', ({ error }) => console.warn('answered a failure', error));
 * ```
 */
export interface FallbackEvents {
  /** The fallback answered for a handled failure. */
  fallback: { readonly error?: unknown; readonly result?: unknown };
}

/**
 * A policy that answers a handled failure with a value or a handler's result. Build it with
 * {@link fallback}.
 *
 * @example
 * ```ts
 * import { fallback, type FallbackPolicy } from 'breakwater';
 * const orZero: FallbackPolicy<number> = fallback(0);
 * ```
 */
export class FallbackPolicy<R = unknown> extends PolicyBase<FallbackEvents, R> {
  private readonly classify: Classifier;
  private readonly handler: FallbackHandler<R> | undefined;
  private readonly value: R | undefined;

  /** @internal Use {@link fallback}. */
  constructor(valueOrHandler: R | FallbackHandler<R>, options?: FallbackOptions) {
    const o = optionsObject('fallback', options);
    checkKnown('fallback', o, [...COMMON_OPTIONS, ...HANDLE_OPTIONS]);
    const classify = classifier('fallback', o);
    super(FALLBACK, o);
    this.classify = classify;
    if (typeof valueOrHandler === 'function') {
      this.handler = valueOrHandler as FallbackHandler<R>;
    } else {
      this.value = valueOrHandler;
    }
  }

  /**
   * The success handler shared by the calls that started at `started`, used when no value can be
   * a failure (no `handleResult`): the success path then allocates one closure (for the error
   * path, which needs the call's context), not two.
   */
  private passed: { readonly started: number; readonly ok: (value: unknown) => unknown } = this.passedAt(0);

  private passedAt(started: number): { readonly started: number; readonly ok: (value: unknown) => unknown } {
    return {
      started,
      ok: (value: unknown): unknown => {
        this.record(SUCCESSES, started);
        return value;
      },
    };
  }

  /** @internal */
  [RUN]<T>(fn: Fn<T>, ctx: Ctx): Promise<T> {
    if (this.disposed) return Promise.reject(disposedError(this));
    const started = this.start();
    // A `.then` rather than an `async` frame's await: cheaper, and the caller resumes in the same
    // microtask either way.
    const p = invoke(fn, ctx);
    if (this.classify.handleResult === undefined) {
      let h = this.passed;
      if (h.started !== started) h = this.passed = this.passedAt(started);
      return p.then(h.ok, (error: unknown) => this.failed(started, ctx, error)) as Promise<T>;
    }
    return p.then(
      (value) => this.valued(started, ctx, value),
      (error: unknown) => this.failed(started, ctx, error),
    ) as Promise<T>;
  }

  /** `fn` returned `value`: it stands, or it is a handled failure and answered. */
  private valued<T>(started: number, ctx: Ctx, value: T): T | Promise<T> {
    if (!handlesResult(this.classify, value)) {
      this.record(SUCCESSES, started);
      return value;
    }
    return this.answer(started, { result: value, signal: ctx.signal }) as Promise<unknown> as Promise<T>;
  }

  /** `fn` threw `error`: answered, unless it is not handled or is the caller's own abort. */
  private failed(started: number, ctx: Ctx, error: unknown): Promise<R> {
    // The caller's own abort is never answered by a fallback.
    if (callerAborted(ctx.tok) || !handlesError(this.classify, error)) {
      this.record(FAILURES, started);
      throw error;
    }
    return this.answer(started, { error, signal: ctx.signal });
  }

  private async answer(started: number, info: FallbackContext): Promise<R> {
    this.count(FALLBACKS);
    if (this.events.has('fallback')) {
      this.events.emit('fallback', 'error' in info ? { error: info.error } : { result: info.result });
    }
    const h = this.handler;
    if (h === undefined) {
      this.record(SUCCESSES, started);
      return this.value as R;
    }
    try {
      const v = await h(info);
      this.record(SUCCESSES, started);
      return v;
    } catch (error) {
      this.record(FAILURES, started);
      throw error;
    }
  }
}

/**
 * Answers a handled failure with a substitute: a fixed value, or a handler's result
 * (`handler({ error?, result?, signal })`). The caller's own abort is never answered.
 *
 * When to use: outermost in a pipeline, to degrade gracefully (a cached or default answer)
 * once retries and the breaker have given up.
 *
 * Gotchas: the handler's own errors propagate; by default every error is handled, so narrow
 * `handle` if some errors must reach the caller.
 *
 * @example
 * ```ts
 * import { fallback, pipeline, retry } from 'breakwater';
 * const safe = pipeline(fallback(({ error }) => ({ items: [], degraded: true, error })), retry());
 * const page = await safe.execute(() => loadItems());
 * ```
 */
export function fallback<R>(valueOrHandler: R | FallbackHandler<R>, options?: FallbackOptions): FallbackPolicy<R> {
  // `fallback()` would answer every failure with `undefined`, which is rarely meant; an explicit
  // `fallback(undefined)` still does.
  if (arguments.length === 0) {
    throw new TypeError('fallback: expects the value or handler that answers a failure, got nothing (did you mean fallback(null)?)');
  }
  return new FallbackPolicy<R>(valueOrHandler, options).adopt();
}
