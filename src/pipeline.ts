/**
 * Composition: a pipeline runs its policies one inside the other.
 *
 * @module
 */
import { Ctx, type Fn, RUN, invoke } from './internal/run.js';
import type { CommonOptions, ExecuteOptions, PolicyAnswer, PolicyMetrics, Policy } from './contract.js';
import type { EventEmitter } from 'eventemitter3';
import { PolicyEmitter } from './events.js';
import { COMMON_OPTIONS, checkKnown } from './known-options.js';
import { OBSERVE, type Observe, type Run, type Runnable, type SettlementSink, SETTLES } from './internal/settle.js';
import { PolicyBase, disposedError, factoryHint } from './policy-base.js';
import { OBSERVER } from './internal/call-observer.js';
import { FAILURES, SUCCESSES } from './metrics/rolling-window.js';
import { callerAborted } from './internal/token.js';
import { describePolicy } from './internal/descriptor.js';

/**
 * An event of a pipeline's member, re-emitted by the pipeline: the member's payload plus the
 * member's `policy` name and `kind`.
 *
 * @example
 * ```ts
 * import { pipeline, retry, timeout, type PipelineMemberEvent } from 'breakwater';
 * const p = pipeline(retry(), timeout(100));
 * p.events.on('timeout', (e: PipelineMemberEvent) => console.log(e.policy, e.kind, e['timeoutMs']));
 * ```
 */
export interface PipelineMemberEvent {
  /** The name of the member that emitted the event. */
  readonly policy: string;
  /** Its kind. */
  readonly kind: string;
  /** The member's own payload fields. */
  readonly [field: string]: unknown;
}

/**
 * Events of a pipeline: every event of its members (`retry`, `stateChange`, `timeout`, …),
 * under the same names, with `{ policy, kind }` of the member added; plus the common ones
 * (`listenerError`, `dispose`) of the pipeline itself. Members are subscribed only while the
 * pipeline has listeners for that name, so a pipeline nobody listens to costs nothing per call.
 *
 * @example
 * ```ts
 * import { pipeline, retry, timeout } from 'breakwater';
 * const p = pipeline(retry(), timeout(10));
 * p.events.on('retry', ({ policy, attempt }) => console.log(`${policy}: attempt ${String(attempt)} failed`));
 * ```
 */
export interface PipelineEvents {
  [event: string]: PipelineMemberEvent;
}

/** Never relayed from members: a listener error or a disposal belongs to its own emitter. */
const LOCAL = new Set<string>(['listenerError', 'dispose']);

type Relay = (payload: unknown) => void;

/**
 * A pipeline's emitter: subscribes to its members' events while it has listeners for them.
 *
 * @internal
 */
class PipelineEmitter extends PolicyEmitter<PipelineEvents> {
  /** @internal Called after every listener change. */
  changed: (() => void) | undefined = undefined;
  override on(event: string, fn: (payload: never) => void, context?: unknown): this {
    super.on(event, fn as never, context);
    this.changed?.();
    return this;
  }
  override addListener(event: string, fn: (payload: never) => void, context?: unknown): this {
    return this.on(event, fn, context);
  }
  override once(event: string, fn: (payload: never) => void, context?: unknown): this {
    super.once(event, fn as never, context);
    this.changed?.();
    return this;
  }
  override removeListener(event: string, fn?: (payload: never) => void, context?: unknown, once?: boolean): this {
    super.removeListener(event, fn as never, context, once);
    this.changed?.();
    return this;
  }
  override off(event: string, fn?: (payload: never) => void, context?: unknown, once?: boolean): this {
    return this.removeListener(event, fn, context, once);
  }
  override removeAllListeners(event?: string): this {
    super.removeAllListeners(event);
    this.changed?.();
    return this;
  }
  /**
   * Emits a member's event to the pipeline's own listeners only: a registry listing the pipeline
   * takes that event from the member itself (listed too), so its bus never gets it twice.
   *
   * @internal
   */
  relay(event: string, payload: unknown): void {
    const sink = this.sink;
    this.sink = undefined;
    try {
      (this as unknown as EventEmitter<string>).emit(event, payload);
    } finally {
      this.sink = sink;
    }
  }
}

/**
 * Options of {@link pipeline}, given as its last argument.
 *
 * @example
 * ```ts
 * import { pipeline, timeout } from 'breakwater';
 * const p = pipeline(timeout(1000), { name: 'orders', metrics: { windowMs: 60000, buckets: 60 } });
 * ```
 */
export type PipelineOptions = CommonOptions;

/** What the registry, the bus and the exporters know about a pipeline: it has no events of its own. */
const PIPELINE = describePolicy({ kind: 'pipeline', events: {} });

/**
 * A policy made of other policies, first outermost. Build it with {@link pipeline}.
 *
 * @example
 * ```ts
 * import { pipeline, fallback, timeout, type Pipeline } from 'breakwater';
 * const p: Pipeline = pipeline(fallback(null), timeout(1000));
 * p.policies.length; // 2
 * ```
 */
export class Pipeline<W = never> extends PolicyBase<PipelineEvents, W> {
  /** The members' events, re-emitted with `{ policy, kind }`, and the pipeline's own. */
  override readonly events: PolicyEmitter<PipelineEvents> = new PipelineEmitter();
  /** Relays subscribed on the members, by event name. */
  private readonly relays = new Map<string, Relay[]>();
  /** The members in order, outermost first. */
  readonly policies: readonly Policy[];
  private readonly chain: readonly Runnable[];
  /** Each member's internal run, looked up once (`undefined` for a foreign policy). */
  private readonly runs: ReadonlyArray<Run | undefined>;
  /**
   * Member i's `[OBSERVE]` where member i + 1 settles through an `SettlementSink` (a circuit breaker
   * just outside a timeout): the two run as one, the outer adding no promise of its own.
   */
  private readonly observers: ReadonlyArray<Observe | undefined>;
  /**
   * The outermost member, when the pipeline can read its own calls off it: a breakwater policy
   * that records metrics, with the pipeline's metrics left at their default. Whatever that member
   * records is what the pipeline's caller got, so the pipeline needs no promise layer of its own
   * on the hot path (see {@link Pipeline.metrics}).
   */
  private readonly delegate: PolicyBase<object> | undefined;

  /** @internal Use {@link pipeline}. */
  constructor(policies: readonly Policy[], options: Readonly<Record<string, unknown>> = {}) {
    policies.forEach((p, i) => {
      if (p === null || typeof p !== 'object' || typeof (p as { execute?: unknown }).execute !== 'function') {
        throw new TypeError(`pipeline: argument ${i + 1} must be a policy, got ${factoryHint(p)}`);
      }
    });
    checkKnown('pipeline', options, COMMON_OPTIONS);
    super(PIPELINE, options);
    this.policies = Object.freeze(policies.slice());
    this.chain = this.policies as readonly Runnable[];
    this.runs = this.chain.map((p) => p[RUN]);
    this.observers = this.chain.map((p, i) => {
      const inner = this.chain[i + 1];
      return inner !== undefined && inner[SETTLES] === true && typeof inner[RUN] === 'function' ? p[OBSERVE] : undefined;
    });
    (this.events as PipelineEmitter).changed = () => this.syncRelays();
    const first = policies[0];
    const own = options['metrics'];
    this.delegate =
      first instanceof PolicyBase && first.recording && this.window !== undefined && (own === undefined || own === true)
        ? (first as PolicyBase<object>)
        : undefined;
  }

  /** @internal */
  [RUN]<T>(fn: Fn<T>, ctx: Ctx): Promise<T> {
    if (this.disposed) return Promise.reject(disposedError(this));
    // Nothing to record (metrics read off the outermost member, or off), and no exporter
    // observing the pipeline's own calls: no layer of our own.
    if ((this.delegate !== undefined || this.window === undefined) && this[OBSERVER] === undefined) {
      return this.step(0, fn, ctx);
    }
    return this.recorded(fn, ctx);
  }

  private async recorded<T>(fn: Fn<T>, ctx: Ctx): Promise<T> {
    const started = this.start();
    try {
      const value = await this.step(0, fn, ctx);
      this.record(SUCCESSES, started);
      return value;
    } catch (error) {
      if (!callerAborted(ctx.tok)) this.record(FAILURES, started);
      throw error;
    }
  }

  // No closure is written inside `step` itself: a function that creates closures allocates a
  // context for the variables they capture on every call, whichever branch it takes.
  // `outcome`: member i settles through it (member i - 1 observed the call, see `observers`).
  private step<T>(i: number, fn: Fn<T>, ctx: Ctx, outcome?: SettlementSink): Promise<T> {
    const p = this.chain[i];
    if (p === undefined) return invoke(fn, ctx);
    const observe = this.observers[i];
    if (observe !== undefined) {
      const o = observe.call(p, ctx);
      if (o !== undefined) return this.step(i + 1, fn, ctx, o);
    }
    const next: Fn<T> = i + 1 === this.chain.length ? fn : this.nextAfter(i, fn);
    const run = this.runs[i];
    if (run !== undefined) return run.call(p, next, ctx, outcome) as Promise<T>;
    return foreign(p, next, ctx);
  }

  /** Subscribes the members to exactly the event names the pipeline has listeners for. */
  private syncRelays(): void {
    const want = new Set<string>();
    if (!this.disposed) {
      for (const n of this.events.eventNames()) if (typeof n === 'string' && !LOCAL.has(n)) want.add(n);
    }
    for (const [name, relays] of [...this.relays]) {
      if (want.has(name)) continue;
      this.relays.delete(name);
      this.policies.forEach((p, i) => (p.events as unknown as EventEmitter<string>).removeListener(name, relays[i]));
    }
    for (const name of want) {
      if (this.relays.has(name)) continue;
      const relays = this.policies.map((p) => this.relay(name, p));
      this.relays.set(name, relays);
      this.policies.forEach((p, i) => (p.events as unknown as EventEmitter<string>).on(name, relays[i] as Relay));
    }
  }

  private relay(name: string, member: Policy): Relay {
    // A nested pipeline's events already name the member that emitted them.
    const nested = member instanceof Pipeline;
    const events = this.events as PipelineEmitter;
    return (payload: unknown) => {
      if (nested) {
        events.relay(name, payload);
        return;
      }
      // Our fields first, then the payload's: see the registry's bus for why (object shape).
      const e = { policy: member.name, kind: member.kind, ...(payload as object) };
      if (e.policy !== member.name || e.kind !== member.kind) Object.assign(e, { policy: member.name, kind: member.kind });
      events.relay(name, e);
    };
  }

  /** @internal */
  protected override onDispose(): void {
    // Leaves no relay on the members, which may be shared and outlive the pipeline.
    this.syncRelays();
  }

  /** What member `i` runs: the rest of the pipeline around `fn`. */
  private nextAfter<T>(i: number, fn: Fn<T>): Fn<T> {
    return (c) => this.step(i + 1, fn, c);
  }

  /** The latencies {@link Pipeline.metrics} reports: the outermost member's when read off it. @internal */
  override latencyPercentiles(ps: readonly number[]): number[] | undefined {
    return this.delegate !== undefined ? this.delegate.latencyPercentiles(ps) : super.latencyPercentiles(ps);
  }

  /**
   * Calls, outcomes, rejections and latency are the pipeline's own: what its callers got. When the
   * outermost member is a breakwater policy recording metrics, they are read off that member
   * (the same calls, the same outcomes) instead of being recorded twice. `timeouts`, `fallbacks`,
   * `retries` and `slowCalls` add up what the members recorded.
   */
  override metrics(): PolicyMetrics {
    const d = this.delegate;
    if (d === undefined) return super.metrics();
    const m = d.metrics();
    const sums = { timeouts: 0, fallbacks: 0, retries: 0, slowCalls: 0 };
    for (const p of this.policies) {
      if (!(p instanceof PolicyBase)) continue;
      const pm = p === d ? m : p.metrics();
      sums.timeouts += pm.timeouts;
      sums.fallbacks += pm.fallbacks;
      sums.retries += pm.retries;
      sums.slowCalls += pm.slowCalls;
    }
    return {
      name: this.name,
      kind: this.kind,
      windowMs: m.windowMs,
      calls: m.calls,
      successes: m.successes,
      failures: m.failures,
      rejections: m.rejections,
      ...sums,
      failureRate: m.failureRate,
      latencyMs: m.latencyMs,
    };
  }
}

/** A policy from elsewhere that only has the public contract: hand it the signal. */
function foreign<T>(p: Policy, next: Fn<T>, ctx: Ctx): Promise<T> {
  const key = ctx.key;
  const options: ExecuteOptions =
    ctx.tok === undefined ? (key === undefined ? {} : { key }) : key === undefined ? { signal: ctx.tok.signal } : { signal: ctx.tok.signal, key };
  try {
    return p.execute<T>((c) => next(new Ctx(ctx.tok, c.attempt, key)), options) as Promise<T>;
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * Composes policies: `pipeline(p1, p2, …, pn).execute(fn)` runs `p1` outermost and `pn`
 * innermost. A pipeline is itself a policy (it nests, and has its own events and metrics), and
 * its `policies` property lists its members in order. `dispose()` on a pipeline does not dispose
 * its members, which may be shared. An options object (`name`, `registry`, `clock`, `metrics`)
 * may come last.
 *
 * When to use: always, once you combine policies. The usual order, outside in, is
 * `fallback, retry, circuitBreaker, timeout, bulkhead`: a fallback around retries of a
 * breaker-guarded, time-limited, concurrency-limited call.
 *
 * @example
 * ```ts
 * import { pipeline, fallback, retry, circuitBreaker, timeout } from 'breakwater';
 * const resilient = pipeline(fallback(null), retry({ maxAttempts: 3 }), circuitBreaker(), timeout(1000));
 * const user = await resilient.execute(({ signal }) => fetch('/user/1', { signal }).then((r) => r.json()));
 * ```
 */
export function pipeline<P extends Policy[]>(...policies: P): Pipeline<PolicyAnswer<P[number]>>;
export function pipeline<P extends Policy[]>(...args: [...P, PipelineOptions]): Pipeline<PolicyAnswer<P[number]>>;
export function pipeline(...args: Array<Policy | PipelineOptions>): Pipeline<unknown> {
  const last = args[args.length - 1];
  const hasOptions =
    last !== null && typeof last === 'object' && typeof (last as Partial<Policy>).execute !== 'function';
  const policies = (hasOptions ? args.slice(0, -1) : args) as Policy[];
  const options = (hasOptions ? last : {}) as Readonly<Record<string, unknown>>;
  return new Pipeline(policies, options).adopt();
}
