/**
 * The policy contract every policy implements, and the shared execute skeleton.
 *
 * @module
 */
import { type Clock, isClock, metricsTime, systemClock } from './clock.js';
import { type CommonEvents, PolicyEmitter } from './events.js';
import {
  CALLS,
  COUNTERS,
  FAILURES,
  REJECTIONS,
  RollingWindow,
  SUCCESSES,
  type WindowSnapshot,
} from './metrics/rolling-window.js';
import type { LatencySummary } from './metrics/histogram.js';
import { Token } from './token.js';
import { num, optionsObject, optStr, typeError } from './validate.js';

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
}

/**
 * Counts and latency of a policy over its rolling window (default 10 s in 10 buckets).
 *
 * `successes` and `failures` describe the outcomes callers received from this policy (a call a
 * fallback answered is a success); `rejections` are calls the policy refused without running
 * them; `failureRate` is `failures / (successes + failures)`, 0 when there were none.
 */
export interface PolicyMetrics {
  name: string;
  kind: string;
  windowMs: number;
  calls: number;
  successes: number;
  failures: number;
  rejections: number;
  timeouts: number;
  fallbacks: number;
  retries: number;
  slowCalls: number;
  failureRate: number;
  latencyMs: LatencySummary;
  state?: string;
  executing?: number;
  queued?: number;
  limit?: number;
}

/** The kinds of policy breakwater ships. */
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
  | 'pipeline';

/**
 * A resilience policy: wraps any function, sync or async.
 *
 * @example
 * ```ts
 * import { pipeline, retry, timeout } from 'breakwater';
 * const policy = pipeline(retry({ maxAttempts: 3 }), timeout(1000));
 * const user = await policy.execute(({ signal }) => fetch('/user/1', { signal }).then((r) => r.json()));
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any policy, whatever its events
export interface Policy<E extends object = any> {
  /** Option `name`; default `${kind}-${n}`. */
  readonly name: string;
  readonly kind: PolicyKind | (string & {});
  /** eventemitter3 emitter, typed per policy. */
  readonly events: PolicyEmitter<E>;
  /** Runs `fn` under the policy. Always returns a promise; never throws synchronously. */
  execute<T>(fn: (ctx: AttemptContext) => T | PromiseLike<T>, options?: ExecuteOptions): Promise<T>;
  /** Returns a function that runs `fn` under the policy, keeping `this` and the arguments. */
  wrap<A extends unknown[], R>(fn: (...args: A) => R | PromiseLike<R>): (...args: A) => Promise<Awaited<R>>;
  /** Counts and latency percentiles over the rolling window. */
  metrics(): PolicyMetrics;
  /** Clears every timer and listener the policy owns; later calls reject. */
  dispose(): void;
}

/** What a `registry` option must provide (see `createRegistry`). */
export interface RegistryLike {
  add(policy: Policy): unknown;
}

/**
 * Receives every outcome a policy records: a call that ran (`outcome` is the `SUCCESSES` or
 * `FAILURES` counter index, with its duration) or a call it refused (`REJECTIONS`, duration 0).
 * A registry installs one on its listed policies while an exporter needs per-call data
 * (Prometheus and OpenTelemetry histograms); otherwise the slot is `undefined` and recording pays
 * one property read. Not called when the policy's metrics are off.
 *
 * @internal
 */
export type CallObserver = (policy: Policy, outcome: number, durationMs: number) => void;

/**
 * The slot of a policy's {@link CallObserver}. `Symbol.for`, so a registry from one copy of the
 * package (ESM or CommonJS build) can observe a policy from the other.
 *
 * @internal
 */
export const OBSERVER: unique symbol = Symbol.for('breakwater.observer') as never;

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
  /** Time source. @defaultValue {@link systemClock} */
  readonly clock?: Clock;
  /**
   * Rolling-window metrics: `false` turns recording off (the two clock reads per call go away);
   * an object sets the window.
   * @defaultValue `{ windowMs: 10000, buckets: 10 }`
   */
  readonly metrics?: MetricsOption;
}

/**
 * The context passed to `fn` and between policies. It carries breakwater's internal
 * cancellation token; its `signal` is created only when read.
 *
 * @internal
 */
export class Ctx implements AttemptContext {
  private ctrl: AbortController | undefined = undefined;
  constructor(
    /** @internal */ readonly tok: Token | undefined,
    readonly attempt: number,
  ) {}

  get signal(): AbortSignal {
    if (this.tok !== undefined) return this.tok.signal;
    // Nobody can abort this call, but user code may still add listeners: a signal per context
    // (never a shared one) keeps them from piling up.
    return (this.ctrl ??= new AbortController()).signal;
  }
}

/** The function a policy runs internally: the user's, or the next policy in a pipeline. @internal */
export type Fn<T> = (ctx: Ctx) => T | PromiseLike<T>;

/**
 * The default-name counters, one per kind, shared by every copy of the package in the realm (the
 * ESM and CommonJS builds loaded side by side): `Symbol.for`, as the error brand is, so two
 * copies never both hand out `retry-1`.
 */
const NAMES: unique symbol = Symbol.for('breakwater.names') as never;
const shared = globalThis as { [NAMES]?: Map<string, number> };
const counters: Map<string, number> = (shared[NAMES] ??= new Map<string, number>());
function defaultName(kind: string): string {
  const n = (counters.get(kind) ?? 0) + 1;
  counters.set(kind, n);
  return `${kind}-${n}`;
}

/** Marks an object as a breakwater policy with the internal `run`. @internal */
export const RUN: unique symbol = Symbol.for('breakwater.run') as never;

/**
 * An outer policy's outcome handlers, handed to the policy just inside it so that one settles its
 * own promise through them: `ok` receives the value and returns what the caller gets (or throws
 * what the caller gets instead), `err` receives the error and always throws what the caller gets.
 * The outer policy then needs no promise and no microtask hop of its own for the call.
 *
 * @internal
 */
export interface Outcome {
  readonly ok: (value: unknown) => unknown;
  readonly err: (error: unknown) => never;
}

/**
 * On a policy that can hand its {@link Outcome} to the policy inside it: `[OBSERVE](ctx)` admits
 * one call exactly as `[RUN]` would and returns the handlers for it, or returns `undefined`
 * without any side effect (the call must then go through `[RUN]`). A pipeline uses it when the
 * next member {@link SETTLES}.
 *
 * @internal
 */
export const OBSERVE: unique symbol = Symbol.for('breakwater.observe') as never;

/**
 * Marks a policy whose `[RUN](fn, ctx, outcome)` settles every call it returns through
 * `outcome` when one is given: on each path (value, error, deadline, dispose, abort), once.
 *
 * @internal
 */
export const SETTLES: unique symbol = Symbol.for('breakwater.settles') as never;

/** The error the caller gets once `outcome.err` has seen `error`. @internal */
export function rejectThrough(outcome: Outcome, error: unknown): unknown {
  try {
    outcome.err(error);
  } catch (thrown) {
    return thrown;
  }
  return error; // unreachable for a well-behaved `err`, which always throws
}

/** Runs `fn` turning a synchronous throw into a rejection. @internal */
export function invoke<T>(fn: Fn<T>, ctx: Ctx): Promise<T> {
  try {
    return Promise.resolve(fn(ctx));
  } catch (error) {
    return Promise.reject(error);
  }
}

const EMPTY_LATENCY: LatencySummary = Object.freeze({
  count: 0,
  mean: 0,
  min: 0,
  max: 0,
  p50: 0,
  p90: 0,
  p95: 0,
  p99: 0,
  p999: 0,
});

/**
 * The shared skeleton: option handling common to every policy, the caller's signal, `wrap`,
 * metrics and disposal. A policy implements {@link PolicyBase.run}.
 *
 * @internal
 */
export abstract class PolicyBase<E extends object> implements Policy<E> {
  readonly name: string;
  readonly kind: PolicyKind;
  readonly events: PolicyEmitter<E> = new PolicyEmitter<E>();
  /** @internal */ protected readonly clock: Clock;
  /** @internal Rolling metrics; `undefined` when turned off. */
  protected readonly window: RollingWindow | undefined;
  /** @internal */ protected disposed = false;
  /** @internal Time for metrics: see `turnNow` in clock.ts. */
  protected readonly mnow: () => number;
  /** @internal Set by a registry while an exporter observes calls; see {@link CallObserver}. */
  [OBSERVER]: CallObserver | undefined = undefined;
  private readonly registry: RegistryLike | undefined;

  constructor(kind: PolicyKind, options: Readonly<Record<string, unknown>>) {
    this.kind = kind;
    const name = optStr(kind, 'name', options['name']);
    const clock = options['clock'];
    if (clock !== undefined && !isClock(clock)) {
      typeError(kind, 'clock', 'a Clock (an object with now, setTimeout and clearTimeout)', clock);
    }
    const registry = options['registry'];
    if (registry !== undefined && (registry === null || typeof (registry as RegistryLike).add !== 'function')) {
      typeError(kind, 'registry', 'a registry (from createRegistry())', registry);
    }
    this.window = metricsWindow(kind, options['metrics']);
    this.clock = clock ?? systemClock;
    this.mnow = metricsTime(this.clock);
    this.registry = registry as RegistryLike | undefined;
    this.name = name ?? defaultName(kind);
  }

  /**
   * Runs `fn` under the policy for one call. Never throws synchronously; the caller's abort is
   * handled by the skeleton around it, so `run` only has to release what it holds.
   *
   * @internal
   */
  abstract [RUN]<T>(fn: Fn<T>, ctx: Ctx): Promise<T>;

  execute<T>(fn: (ctx: AttemptContext) => T | PromiseLike<T>, options?: ExecuteOptions): Promise<T> {
    if (typeof fn !== 'function') {
      return Promise.reject(new TypeError(`${this.kind}: execute expects a function, got ${typeof fn}`));
    }
    if (this.disposed) return Promise.reject(disposedError(this));
    // Reading the options or the signal runs user code (a getter, a Proxy trap, a hostile
    // `aborted`): whatever it throws is the call's rejection, never a synchronous throw.
    let signal: unknown;
    try {
      signal = options?.signal;
    } catch (error) {
      return Promise.reject(error);
    }
    if (signal === undefined) return this[RUN](fn, new Ctx(undefined, 1));
    try {
      return executeWithSignal(this, fn, signal);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  wrap<A extends unknown[], R>(fn: (...args: A) => R | PromiseLike<R>): (...args: A) => Promise<Awaited<R>> {
    if (typeof fn !== 'function') typeError(this.kind, 'wrap argument', 'a function', fn);
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const policy = this;
    return function (this: unknown, ...args: A): Promise<Awaited<R>> {
      return policy.execute(() => fn.apply(this, args)) as Promise<Awaited<R>>;
    };
  }

  metrics(): PolicyMetrics {
    const w = this.window;
    const snap: WindowSnapshot | undefined = w?.snapshot(this.clock.now());
    const c = snap?.counts;
    const at = (i: number): number => (c === undefined ? 0 : (c[i] ?? 0));
    const successes = at(SUCCESSES);
    const failures = at(FAILURES);
    const m: PolicyMetrics = {
      name: this.name,
      kind: this.kind,
      windowMs: snap?.windowMs ?? 0,
      calls: at(CALLS),
      successes,
      failures,
      rejections: at(REJECTIONS),
      timeouts: at(4),
      fallbacks: at(5),
      retries: at(6),
      slowCalls: at(7),
      failureRate: successes + failures === 0 ? 0 : failures / (successes + failures),
      latencyMs: snap?.latency ?? { ...EMPTY_LATENCY },
    };
    this.addMetrics(m);
    return m;
  }

  /** Adds the policy-specific fields (`state`, `executing`, …). @internal */
  protected addMetrics(_m: PolicyMetrics): void {}

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.onDispose();
    (this.events as PolicyEmitter<CommonEvents>).emit('dispose', { name: this.name });
    this.events.removeAllListeners();
  }

  /** Clears the policy's own timers. @internal */
  protected onDispose(): void {}

  /** Lists the policy in its `registry` option, once fully built. @internal */
  adopt(): this {
    this.registry?.add(this);
    return this;
  }

  /** True when the policy records metrics (its `metrics` option is not `false`). @internal */
  get recording(): boolean {
    return this.window !== undefined;
  }

  /** Start of a call for metrics: the clock, or 0 when metrics are off. @internal */
  protected start(): number {
    return this.window === undefined ? 0 : this.mnow();
  }

  /** Records one call that ran, with its outcome counter and latency. @internal */
  protected record(counter: number, started: number): void {
    if (this.window !== undefined) this.recordAt(counter, started, this.mnow());
  }

  /** Like {@link PolicyBase.record}, with the end time already read by the policy. @internal */
  protected recordAt(counter: number, started: number, now: number): void {
    const w = this.window;
    if (w === undefined) return;
    w.callSince(now, counter, started);
    const o = this[OBSERVER];
    if (o !== undefined) o(this, counter, now - started);
  }

  /** Records one call refused by this policy (not run). @internal */
  protected recordRejection(): void {
    const w = this.window;
    if (w === undefined) return;
    const now = this.mnow();
    w.add(now, CALLS);
    w.add(now, REJECTIONS);
    const o = this[OBSERVER];
    if (o !== undefined) o(this, REJECTIONS, 0);
  }

  /** Adds to a counter without a call (retries, fallbacks, timeouts). @internal */
  protected count(counter: number): void {
    const w = this.window;
    if (w !== undefined) w.add(this.mnow(), counter);
  }
}

function metricsWindow(kind: string, value: unknown): RollingWindow | undefined {
  if (value === undefined || value === true) return new RollingWindow(10000, 10);
  if (value === false) return undefined;
  const o = optionsObject(kind, value, 'metrics');
  const windowMs = o['windowMs'] === undefined ? 10000 : num(kind, 'metrics.windowMs', o['windowMs'], { min: 0, minExclusive: true });
  const buckets = o['buckets'] === undefined ? 10 : num(kind, 'metrics.buckets', o['buckets'], { min: 1, max: 1000, integer: true });
  return new RollingWindow(windowMs, buckets);
}

/** @internal */
export function disposedError(p: { kind: string; name: string }): Error {
  return new Error(`${p.kind} '${p.name}' is disposed`);
}

function isSignal(value: unknown): value is AbortSignal {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as AbortSignal).aborted === 'boolean' &&
    typeof (value as AbortSignal).addEventListener === 'function'
  );
}

/**
 * The caller passed a signal: reject at once if it is already aborted, otherwise link one token
 * to it and reject with its reason the moment it aborts, whatever `fn` is doing. The late
 * outcome of the run is consumed, so it can never become an unhandled rejection.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function executeWithSignal<T>(policy: PolicyBase<any>, fn: Fn<T>, signal: unknown): Promise<T> {
  if (!isSignal(signal)) {
    return Promise.reject(new TypeError(`${policy.kind}: signal must be an AbortSignal, got ${typeof signal}`));
  }
  if (signal.aborted) return Promise.reject(signal.reason);
  const tok = Token.fromSignal(signal);
  return new Promise<T>((resolve, reject) => {
    const sub = tok.onAbort(reject);
    policy[RUN](fn, new Ctx(tok, 1)).then(
      (value) => {
        sub.cancel();
        tok.release();
        resolve(value);
      },
      (error: unknown) => {
        sub.cancel();
        tok.release();
        reject(error);
      },
    );
  });
}

/** The counters of the rolling window, re-exported for policies. @internal */
export { COUNTERS };
