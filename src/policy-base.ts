/**
 * The shared execute skeleton every built-in policy extends: option handling common to every
 * policy, the caller's signal, `wrap`, metrics and disposal.
 *
 * @module
 */
import { type Clock, defaultClock, isClock, metricsTime } from './clock.js';
import type { AttemptContext, ExecuteOptions, Policy, PolicyMetrics, RegistryLike, WrapOptions } from './contract.js';
import { type CommonEvents, PolicyEmitter } from './events.js';
import type { LatencySummary } from './metrics/histogram.js';
import {
  CALLS,
  FAILURES,
  FALLBACKS,
  REJECTIONS,
  RETRIES,
  RollingWindow,
  SLOW_CALLS,
  SUCCESSES,
  TIMEOUTS,
  type WindowSnapshot,
} from './metrics/rolling-window.js';
import { type CallObserver, type CallOutcome, OBSERVER } from './internal/call-observer.js';
import { DESCRIPTOR, type PolicyDescriptor } from './internal/descriptor.js';
import { Ctx, type Fn, RUN } from './internal/run.js';
import type { SettlementSink } from './internal/settle.js';
import { Token } from './internal/token.js';
import { DisposedError } from './errors.js';
import { num, oneOf, optFn, optionsObject, optStr, show, typeError } from './validate.js';
import { checkKnown } from './known-options.js';

/** Outcome names for call observers, by counter index (a packed array: CALLS … REJECTIONS). */
const OUTCOME_OF: readonly CallOutcome[] = ['failure', 'success', 'failure', 'rejected'];

const counters = new Map<string, number>();
function defaultName(kind: string): string {
  const n = (counters.get(kind) ?? 0) + 1;
  counters.set(kind, n);
  return `${kind}-${n}`;
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
 * metrics and disposal. A policy implements `[RUN]`.
 *
 * Not exported from the package (policies are built by their factories).
 */
export abstract class PolicyBase<E extends object, W = never> implements Policy<E, W> {
  /** Type-only: see {@link Policy}. */
  declare readonly '~answer'?: () => W;
  /** Option `name`; default `${kind}-${n}`. */
  readonly name: string;
  /** What the policy is: `'retry'`, `'circuitBreaker'`, `'pipeline'`, … */
  readonly kind: string;
  /** @internal What the registry, its bus and the exporters know about this kind of policy. */
  readonly [DESCRIPTOR]: PolicyDescriptor;
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

  /**
   * Validates the options every policy takes (`name`, `clock`, `registry`, `metrics`) and builds
   * the shared state. A policy validates its own options first, then calls this, then builds.
   */
  constructor(descriptor: PolicyDescriptor, options: Readonly<Record<string, unknown>>) {
    const kind = descriptor.kind;
    this.kind = kind;
    this[DESCRIPTOR] = descriptor;
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
    this.clock = clock ?? defaultClock();
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
  abstract [RUN]<T>(fn: Fn<T>, ctx: Ctx, sink?: SettlementSink): Promise<T>;

  execute<T>(fn: (ctx: AttemptContext) => T | PromiseLike<T>, options?: ExecuteOptions): Promise<T | W> {
    if (typeof fn !== 'function') {
      return Promise.reject(new TypeError(`${this.kind}: execute expects a function, got ${typeof fn}`));
    }
    if (this.disposed) return Promise.reject(disposedError(this));
    if (options === undefined) return this[RUN](fn, new Ctx(undefined, 1));
    return this.call(fn, options.signal, options.key);
  }

  /** `execute` with its options read: `signal` and `key` may be anything a caller passed. @internal */
  call<T>(fn: Fn<T>, signal: unknown, key: unknown): Promise<T> {
    if (key !== undefined && typeof key !== 'string') {
      return Promise.reject(new TypeError(`${this.kind}: key must be a string, got ${show(key)}`));
    }
    if (signal === undefined) return this[RUN](fn, new Ctx(undefined, 1, key));
    return executeWithSignal(this, fn, signal, key);
  }

  wrap<A extends unknown[], R>(
    fn: (...args: A) => R | PromiseLike<R>,
    options?: WrapOptions<NoInfer<A>>,
  ): (...args: A) => Promise<Awaited<R> | W> {
    if (typeof fn !== 'function') typeError(this.kind, 'wrap argument', 'a function', fn);
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const policy = this;
    if (options === undefined) {
      return function (this: unknown, ...args: A): Promise<Awaited<R> | W> {
        return policy.execute(() => fn.apply(this, args)) as Promise<Awaited<R> | W>;
      };
    }
    return wrapWith(policy, fn, options as WrapOptions<A>) as (...args: A) => Promise<Awaited<R> | W>;
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
      timeouts: at(TIMEOUTS),
      fallbacks: at(FALLBACKS),
      retries: at(RETRIES),
      slowCalls: at(SLOW_CALLS),
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

  /**
   * Latency percentiles (each 0–100) over the metrics window, for exporters that need more than
   * `metrics()` reports; `undefined` when metrics are off. @internal
   */
  latencyPercentiles(ps: readonly number[]): number[] | undefined {
    return this.window?.percentiles(this.clock.now(), ps);
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
    if (o !== undefined) o(this, OUTCOME_OF[counter] as CallOutcome, now - started);
  }

  /** Records one call refused by this policy (not run). @internal */
  protected recordRejection(): void {
    const w = this.window;
    if (w === undefined) return;
    const now = this.mnow();
    w.add(now, CALLS);
    w.add(now, REJECTIONS);
    const o = this[OBSERVER];
    if (o !== undefined) o(this, 'rejected', 0);
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
  checkKnown(kind, o, ['windowMs', 'buckets'], 'metrics option');
  const windowMs = o['windowMs'] === undefined ? 10000 : num(kind, 'metrics.windowMs', o['windowMs'], { min: 0, minExclusive: true });
  const buckets = o['buckets'] === undefined ? 10 : num(kind, 'metrics.buckets', o['buckets'], { min: 1, max: 1000, integer: true });
  return new RollingWindow(windowMs, buckets);
}

/** @internal */
export function disposedError(p: { kind: string; name: string }): Error {
  return new DisposedError(p.name, p.kind);
}

/**
 * Describes a value given where a policy was expected; for a factory function (`retry` instead of
 * `retry()`) it asks "did you mean retry()?".
 *
 * @internal
 */
export function factoryHint(value: unknown): string {
  if (typeof value === 'function') {
    const name = (value as { name?: unknown }).name;
    return typeof name === 'string' && name.length > 0 ? `a function (did you mean ${name}()?)` : 'a function';
  }
  return show(value);
}

/** True for an `AbortSignal` (of any realm: checked by shape). @internal */
export function isSignal(value: unknown): value is AbortSignal {
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
function executeWithSignal<T>(policy: PolicyBase<any, any>, fn: Fn<T>, signal: unknown, key: string | undefined): Promise<T> {
  if (!isSignal(signal)) {
    return Promise.reject(new TypeError(`${policy.kind}: signal must be an AbortSignal, got ${typeof signal}`));
  }
  if (signal.aborted) return Promise.reject(signal.reason);
  const tok = Token.fromSignal(signal);
  return new Promise<T>((resolve, reject) => {
    const sub = tok.onAbort(reject);
    policy[RUN](fn, new Ctx(tok, 1, key)).then(
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

/**
 * `wrap` with options: the key from the arguments, and with `signal: 'last'` the caller's signal
 * taken from (and the attempt's signal put into) the last parameter.
 */
function wrapWith<A extends unknown[], R>(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  policy: PolicyBase<any, any>,
  fn: (...args: A) => R | PromiseLike<R>,
  options: WrapOptions<A>,
): (...args: A) => Promise<unknown> {
  const o = optionsObject(policy.kind, options, 'wrap options');
  checkKnown(policy.kind, o, WRAP_OPTIONS, 'wrap options');
  const keyOf = optFn<(...args: A) => string>(policy.kind, 'wrap key', o['key']);
  const last = o['signal'] === undefined ? false : oneOf(policy.kind, 'wrap signal', o['signal'], ['last']) === 'last';
  const declared = fn.length;
  return function (this: unknown, ...args: A): Promise<unknown> {
    let key: string | undefined;
    if (keyOf !== undefined) {
      try {
        key = keyOf.apply(this, args);
      } catch (error) {
        return Promise.reject(error);
      }
    }
    if (!last) return policy.call(() => fn.apply(this, args), undefined, key);
    const n = args.length;
    let signal: AbortSignal | undefined;
    let at = -1;
    if (n > 0 && isSignal(args[n - 1])) {
      signal = args[n - 1] as AbortSignal;
      at = n - 1;
    } else if (declared > 0 && (n < declared || (n === declared && args[n - 1] === undefined))) {
      at = declared - 1;
    }
    if (at < 0) return policy.call(() => fn.apply(this, args), signal, key);
    return policy.call(
      (ctx) => {
        const a: unknown[] = args.slice();
        a[at] = ctx.signal;
        return fn.apply(this, a as A);
      },
      signal,
      key,
    );
  };
}

const WRAP_OPTIONS = ['key', 'signal'] as const;
