/**
 * The shared execute skeleton every built-in policy extends: option handling common to every
 * policy, the caller's signal, `wrap`, metrics and disposal.
 *
 * @module
 */
import { type Clock, isClock, metricsTime, systemClock } from './clock.js';
import type { AttemptContext, ExecuteOptions, Policy, PolicyMetrics, RegistryLike } from './contract.js';
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
import { num, optionsObject, optStr, typeError } from './validate.js';

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
 * @internal
 */
export abstract class PolicyBase<E extends object> implements Policy<E> {
  readonly name: string;
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
  abstract [RUN]<T>(fn: Fn<T>, ctx: Ctx, sink?: SettlementSink): Promise<T>;

  execute<T>(fn: (ctx: AttemptContext) => T | PromiseLike<T>, options?: ExecuteOptions): Promise<T> {
    if (typeof fn !== 'function') {
      return Promise.reject(new TypeError(`${this.kind}: execute expects a function, got ${typeof fn}`));
    }
    if (this.disposed) return Promise.reject(disposedError(this));
    const signal = options?.signal;
    if (signal === undefined) return this[RUN](fn, new Ctx(undefined, 1));
    return executeWithSignal(this, fn, signal);
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

