/**
 * The public contract every policy implements: the types users see, nothing else.
 *
 * @module
 */
import type { Clock } from './clock.js';
import type { PolicyEmitter } from './events.js';
import type { LatencySummary } from './metrics/histogram.js';

/**
 * What a guarded function receives on each attempt.
 *
 * @example
 * ```ts
 * import { timeout } from 'breakwater';
 * await timeout(2000).execute(({ signal, attempt }) => fetch(`https://example.com?try=${attempt}`, { signal }));
 * ```
 */
export interface AttemptContext {
  /** Aborted by the caller, a timeout, or a losing hedge; pass it on to cancellable work. */
  readonly signal: AbortSignal;
  /** 1 for the first attempt, 2 for the first retry or hedge, … */
  readonly attempt: number;
}

/**
 * Per-call options of {@link Policy.execute}.
 *
 * @example
 * ```ts
 * import { retry } from 'breakwater';
 * const controller = new AbortController();
 * await retry().execute(() => work(), { signal: controller.signal });
 * ```
 */
export interface ExecuteOptions {
  /** The caller's signal: aborting it rejects the call at once with `signal.reason`. */
  readonly signal?: AbortSignal;
  /**
   * The identity of the call, for the policies that group calls (`policyPool`, `coalesce`,
   * `cache`); every other policy passes it on untouched.
   */
  readonly key?: string;
}

/**
 * Options of {@link Policy.wrap}: how the wrapped function's arguments give each call its key and
 * its signal.
 *
 * @example
 * ```ts
 * import { coalesce } from 'breakwater';
 * const getUser = coalesce().wrap(
 *   (id: string, signal?: AbortSignal) => fetch(`/users/${id}`, { signal }).then((r) => r.json()),
 *   { key: (id) => id, signal: 'last' },
 * );
 * ```
 */
export interface WrapOptions<A extends unknown[] = unknown[]> {
  /**
   * Derives the call's key (see {@link ExecuteOptions.key}) from the arguments. (Method syntax, so
   * that a key function may take fewer parameters than the wrapped function, as `(id) => id`
   * for `(id, signal?) => …`.)
   */
  key?(...args: A): string;
  /**
   * `'last'`: the function's last parameter is its `AbortSignal`. When the last argument passed
   * is an `AbortSignal`, it is the call's signal and the function receives the attempt's
   * `ctx.signal` in its place; when fewer arguments are passed than the function declares
   * (`fn.length`), the attempt's signal is passed at position `fn.length - 1`.
   */
  readonly signal?: 'last';
}

/**
 * Counts and latency of a policy over its rolling window (default 10 s in 10 buckets).
 *
 * `successes` and `failures` describe the outcomes callers received from this policy (a call a
 * fallback answered is a success); `rejections` are calls the policy refused without running
 * them; `failureRate` is `failures / (successes + failures)`, 0 when there were none.
 */
export interface PolicyMetrics {
  /** The policy's name. */
  name: string;
  /** The policy's kind (`'retry'`, `'circuitBreaker'`, …). */
  kind: string;
  /** Length of the rolling window these counts cover, in milliseconds. */
  windowMs: number;
  /** Calls that ended in the window (successes + failures + rejections). */
  calls: number;
  /** Calls whose caller received a value (a call a fallback answered included). */
  successes: number;
  /** Calls whose caller received a handled error or a failing result. */
  failures: number;
  /** Calls the policy refused without running them (open breaker, full bulkhead, no rate-limit permit). */
  rejections: number;
  /** Calls that ended in a `TimeoutError`. */
  timeouts: number;
  /** Calls a fallback answered. */
  fallbacks: number;
  /** Retries (attempts after the first) started in the window. */
  retries: number;
  /** Calls at least `slowCallDurationMs` slow (circuit breaker). */
  slowCalls: number;
  /** `failures / (successes + failures)`; `0` when there were none. */
  failureRate: number;
  /** Latency of the calls that ran, in milliseconds, from a fixed-size histogram. */
  latencyMs: LatencySummary;
  /** A circuit breaker's current state. */
  state?: string;
  /** Calls running now (bulkhead, adaptive limit). */
  executing?: number;
  /** Calls waiting now (bulkhead, adaptive limit, rate limiter). */
  queued?: number;
  /** An adaptive limit's current concurrency limit. */
  limit?: number;
}

/**
 * The kinds of policy breakwater ships. A policy's `kind` is an open string: this union only
 * names the built-in ones, for autocompletion; nothing in breakwater reads it.
 */
export type PolicyKind =
  | 'circuitBreaker'
  | 'retry'
  | 'timeout'
  | 'bulkhead'
  | 'fallback'
  | 'rateLimiter'
  | 'hedge'
  | 'adaptiveLimit'
  | 'chaos'
  | 'pipeline'
  | 'policyPool'
  | 'coalesce'
  | 'cache';

/**
 * A resilience policy: wraps any function, sync or async.
 *
 * `W` is what the policy may answer instead of the function's own result: a fallback's
 * substitute (`fallback(null)` is a `Policy<…, null>`), and for a pipeline, the union of its
 * members'. `execute` resolves to `T | W`. Policies that only pass results through have
 * `W = never`; the bare `Policy` type, which accepts any policy, has `W = unknown`, as nothing is
 * known of what an arbitrary policy may answer.
 *
 * @example
 * ```ts
 * import { pipeline, retry, timeout } from 'breakwater';
 * const policy = pipeline(retry({ maxAttempts: 3 }), timeout(1000));
 * const user = await policy.execute(({ signal }) => fetch('/user/1', { signal }).then((r) => r.json()));
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any policy, whatever its events
export interface Policy<E extends object = any, W = unknown> {
  /** Option `name`; default `${kind}-${n}`. */
  readonly name: string;
  /** What the policy is: `'retry'`, `'circuitBreaker'`, `'pipeline'`, … */
  readonly kind: PolicyKind | (string & {});
  /** eventemitter3 emitter, typed per policy. */
  readonly events: PolicyEmitter<E>;
  /** Runs `fn` under the policy. Always returns a promise; never throws synchronously. */
  execute<T>(fn: (ctx: AttemptContext) => T | PromiseLike<T>, options?: ExecuteOptions): Promise<T | W>;
  /**
   * Returns a function that runs `fn` under the policy, keeping `this` and the arguments;
   * `options` derive each call's key and signal from the arguments.
   */
  wrap<A extends unknown[], R>(
    fn: (...args: A) => R | PromiseLike<R>,
    options?: WrapOptions<NoInfer<A>>,
  ): (...args: A) => Promise<Awaited<R> | W>;
  /** Counts and latency percentiles over the rolling window. */
  metrics(): PolicyMetrics;
  /** Clears every timer and listener the policy owns; later calls reject. */
  dispose(): void;
  /**
   * Type-only: carries `W` for {@link PolicyAnswer} (a generic method's return type cannot be
   * read back by a type). Never set at run time.
   */
  readonly '~answer'?: () => W;
}

/**
 * What a policy (or a union of policies) may answer instead of the function's own result: the
 * `W` of {@link Policy}.
 *
 * @example
 * ```ts
 * import { fallback, type PolicyAnswer } from 'breakwater';
 * const f = fallback(null);
 * type A = PolicyAnswer<typeof f>; // null
 * ```
 */
export type PolicyAnswer<P> = P extends { readonly '~answer'?: () => infer W } ? W : never;

/** What a `registry` option must provide (see `createRegistry`). */
export interface RegistryLike {
  /** Lists `policy` in the registry. */
  add(policy: Policy): unknown;
}

/** Metrics settings: `false` turns recording off for this policy. */
export type MetricsOption = boolean | { readonly windowMs?: number; readonly buckets?: number };

/**
 * Options every policy takes.
 */
export interface CommonOptions {
  /** Name for events, metrics and the registry. @defaultValue `${kind}-${n}` */
  readonly name?: string;
  /** Lists the policy in this registry at construction. */
  readonly registry?: RegistryLike;
  /** Time source. @defaultValue `systemClock`, or the clock `ManualClock.install()` set */
  readonly clock?: Clock;
  /**
   * Rolling-window metrics: `false` turns recording off (the two clock reads per call go away);
   * an object sets the window.
   * @defaultValue `{ windowMs: 10000, buckets: 10 }`
   */
  readonly metrics?: MetricsOption;
}
