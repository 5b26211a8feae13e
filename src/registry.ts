/**
 * The registry and its event bus: one place where the host application sees every listed
 * policy's events and metrics.
 *
 * @module
 */
import type { EventEmitter } from 'eventemitter3';
import { type Clock, isClock, systemClock } from './clock.js';
import { type CommonEvents, type ListenerMap, PolicyEmitter } from './events.js';
import { type CallObserver, OBSERVER, type Policy, type PolicyMetrics, type RegistryLike } from './policy.js';
import { optionsObject, show, typeError } from './validate.js';

/**
 * What the bus adds to every payload it re-emits. (A type literal rather than an interface, so
 * every {@link BusEvent} stays assignable to the plain `BusEvent` of `event` listeners.)
 *
 * @example
 * ```ts
 * import { createRegistry, type BusFields } from 'breakwater';
 * const where = ({ policy, kind, at, event }: BusFields) => `${at} ${kind} ${policy}: ${event}`;
 * createRegistry().events.on('event', (e) => console.log(where(e)));
 * ```
 */
export type BusFields = {
  /** The name of the policy that emitted the event. */
  readonly policy: string;
  /** Its kind: `'circuitBreaker'`, `'retry'`, … */
  readonly kind: string;
  /** When: the payload's own `at` if it has one, else the registry clock's `now()`. */
  readonly at: number;
  /** The event's name (`'stateChange'`, `'retry'`, …), useful to `event` listeners. */
  readonly event: string;
};

/**
 * A re-emitted event: the policy's payload plus {@link BusFields}.
 *
 * @example
 * ```ts
 * import { createRegistry, type BusEvent } from 'breakwater';
 * const log: BusEvent[] = [];
 * createRegistry().events.on('event', (e) => log.push(e));
 * ```
 */
export type BusEvent<P extends object = { readonly [field: string]: unknown }> = Readonly<P> & BusFields;

/**
 * Events of a registry's bus (SPEC.md's policy events, each extended by {@link BusFields}), plus
 * `event`, which receives every one of them.
 *
 * @example
 * ```ts
 * import { createRegistry } from 'breakwater';
 * const registry = createRegistry();
 * registry.events.on('retry', ({ policy, attempt, delayMs }) => console.log(policy, attempt, delayMs));
 * registry.events.on('event', ({ event, policy }) => console.log(event, policy));
 * ```
 */
export interface RegistryEvents {
  /** Every event of every listed policy; `event` names it. */
  event: BusEvent;
  /** A circuit breaker changed state; `initial: true` announces the state of a newly added one. */
  stateChange: BusEvent<{ from: string; to: string; initial?: boolean }>;
  /** A breaker's call succeeded (`durationMs`, `slow`), or a retry's call did (`attempts`). */
  success: BusEvent<{ durationMs?: number; slow?: boolean; attempts?: number }>;
  /** A breaker's call failed. */
  failure: BusEvent<{ error?: unknown; result?: unknown; durationMs?: number; slow?: boolean }>;
  /** A call was refused: by a breaker (`state`), a bulkhead (`executing`, `queued`) or a rate limiter (`retryAfterMs`). */
  rejected: BusEvent<{ state?: string; executing?: number; queued?: number; retryAfterMs?: number }>;
  /** An attempt failed and another follows after `delayMs`. */
  retry: BusEvent<{ attempt: number; delayMs: number; error?: unknown; result?: unknown }>;
  /** Retrying ended without success. */
  giveUp: BusEvent<{ attempts: number; error?: unknown; result?: unknown }>;
  /** A retry budget refused a retry. */
  budgetExhausted: BusEvent<{ attempt?: number; error?: unknown; result?: unknown }>;
  /** A call reached its deadline. */
  timeout: BusEvent<{ timeoutMs: number }>;
  /** A fallback answered a handled failure. */
  fallback: BusEvent<{ error?: unknown; result?: unknown }>;
  /** A hedged attempt started. */
  hedge: BusEvent<{ attempt: number }>;
  /** An adaptive limit moved. */
  limitChange: BusEvent<{ from: number; to: number }>;
  /** Chaos injected a fault or latency. */
  chaos: BusEvent<{ fault?: unknown; latencyMs?: number }>;
  /** A listed policy was disposed (it leaves the registry). */
  dispose: BusEvent<{ name: string }>;
}

/**
 * Options of {@link createRegistry}.
 *
 * @example
 * ```ts
 * import { createRegistry, systemClock } from 'breakwater';
 * const registry = createRegistry({ clock: systemClock });
 * ```
 */
export interface RegistryOptions {
  /**
   * Time source for the `at` of re-emitted events that carry none of their own.
   * @defaultValue {@link systemClock}
   */
  readonly clock?: Clock;
}

/**
 * The event names the bus forwards to a catch-all (`event`) listener: every event of SPEC.md's
 * policies plus `dispose`. A bus listener for any other name subscribes that name as well, so a
 * policy from elsewhere with its own events can still be followed by name.
 */
const KNOWN_EVENTS: readonly string[] = [
  'stateChange',
  'success',
  'failure',
  'rejected',
  'retry',
  'giveUp',
  'budgetExhausted',
  'timeout',
  'fallback',
  'hedge',
  'limitChange',
  'chaos',
];
/** Never forwarded: a listener error belongs to the emitter whose listener threw. */
const LOCAL_EVENTS = new Set(['listenerError', 'event', 'dispose']);

type BusMap = ListenerMap<RegistryEvents & CommonEvents>;
type BusName = EventEmitter.EventNames<BusMap>;
type BusListener<T extends BusName> = EventEmitter.EventListener<BusMap, T>;

/**
 * The registry's bus: a {@link PolicyEmitter} that tells its registry when listeners come and
 * go, so the registry subscribes to its policies' events only while someone listens.
 *
 * @example
 * ```ts
 * import { createRegistry } from 'breakwater';
 * const bus = createRegistry().events; // a RegistryEmitter
 * const onOpen = ({ policy, to }: { policy: string; to: string }) => to === 'open' && page(policy);
 * bus.on('stateChange', onOpen);
 * bus.off('stateChange', onOpen); // the policies stop emitting stateChange for the bus
 * ```
 */
export class RegistryEmitter extends PolicyEmitter<RegistryEvents> {
  /** @internal */ changed: (() => void) | undefined = undefined;

  override on<T extends BusName>(event: T, fn: BusListener<T>, context?: unknown): this {
    super.on(event, fn, context);
    this.changed?.();
    return this;
  }
  override addListener<T extends BusName>(event: T, fn: BusListener<T>, context?: unknown): this {
    return this.on(event, fn, context);
  }
  override once<T extends BusName>(event: T, fn: BusListener<T>, context?: unknown): this {
    super.once(event, fn, context);
    this.changed?.();
    return this;
  }
  override removeListener<T extends BusName>(event: T, fn?: BusListener<T>, context?: unknown, once?: boolean): this {
    super.removeListener(event, fn, context, once);
    this.changed?.();
    return this;
  }
  override off<T extends BusName>(event: T, fn?: BusListener<T>, context?: unknown, once?: boolean): this {
    return this.removeListener(event, fn, context, once);
  }
  override removeAllListeners(event?: BusName): this {
    super.removeAllListeners(event);
    this.changed?.();
    return this;
  }
}

/**
 * Per-call and lifecycle data for exporters (Prometheus, OpenTelemetry), which need more than
 * the bus: every call's outcome and duration, and when a policy leaves the registry.
 *
 * @internal
 */
export interface RegistryTap {
  /** Every recorded outcome of every listed policy (see {@link CallObserver}). */
  readonly call?: CallObserver;
  /** A policy left the registry (removed, disposed, or its pipeline left). */
  readonly removed?: (policy: Policy) => void;
}

/** The slot of {@link Registry}'s exporter hook. @internal */
export const TAP: unique symbol = Symbol.for('breakwater.registry.tap') as never;

/**
 * A set of named policies and one event bus for all of them. See {@link createRegistry}.
 *
 * @example
 * ```ts
 * import { createRegistry, circuitBreaker, type Registry } from 'breakwater';
 * const registry: Registry = createRegistry();
 * const db = registry.add(circuitBreaker({ name: 'db' }));
 * registry.snapshot().map((m) => `${m.name}: ${m.calls} calls`);
 * registry.remove('db');
 * ```
 */
export interface Registry extends RegistryLike {
  /**
   * Every event of every listed policy, under its own name and as `event`, with the payload
   * extended by `{ policy, kind, at, event }`.
   */
  readonly events: RegistryEmitter;
  /**
   * Lists `policy` under its name (a pipeline also lists its members) and returns it. Adding a
   * listed policy again does nothing; a different policy with a listed name throws.
   */
  add<P extends Policy>(policy: P): P;
  /** The listed policy named `name`. */
  get(name: string): Policy | undefined;
  /** Every listed policy, in the order they were added. */
  list(): Policy[];
  /** `metrics()` of every listed policy, in list order. */
  snapshot(): PolicyMetrics[];
  /**
   * Delists the policy named `name` and detaches every listener the registry put on it; members
   * that were listed only because this pipeline was are delisted too. Returns whether it was
   * listed. Does not dispose the policy.
   */
  remove(name: string): boolean;
  /** @internal Attaches an exporter; returns the function that detaches it. */
  [TAP](tap: RegistryTap): () => void;
}

interface Entry {
  readonly policy: Policy;
  readonly name: string;
  readonly kind: string;
  readonly reg: RegistryImpl;
  /** Added by hand (or by its own `registry` option), not only as a pipeline member. */
  explicit: boolean;
  /** Listed pipelines that have this policy as a member. */
  owners: number;
  /** The entries of a pipeline's members. */
  members: Entry[];
}

type Forwarder = (this: Entry, payload: unknown) => void;
// One forwarder per event name, shared by every entry of every registry: the entry arrives as
// eventemitter3's listener context, so subscribing allocates no closure.
const forwarders = new Map<string, Forwarder>();
function forwarder(name: string): Forwarder {
  let f = forwarders.get(name);
  if (f === undefined) {
    f = function (this: Entry, payload: unknown): void {
      this.reg.forward(this, name, payload);
    };
    forwarders.set(name, f);
  }
  return f;
}
function onDispose(this: Entry, payload: unknown): void {
  this.reg.forward(this, 'dispose', payload);
  this.reg.delist(this);
}

// Observers per policy, shared by every registry: a policy listed in two observed registries
// gets a dispatcher that calls both.
const observers = new WeakMap<Policy, Set<CallObserver>>();
type Observable = Policy & { [OBSERVER]?: CallObserver | undefined };
function observe(policy: Policy, fn: CallObserver): void {
  if (!(OBSERVER in policy)) return; // not a breakwater policy: it records nothing
  let set = observers.get(policy);
  if (set === undefined) observers.set(policy, (set = new Set()));
  set.add(fn);
  install(policy as Observable, set);
}
function unobserve(policy: Policy, fn: CallObserver): void {
  const set = observers.get(policy);
  if (set === undefined || !set.delete(fn)) return;
  install(policy as Observable, set);
}
function install(policy: Observable, set: Set<CallObserver>): void {
  if (set.size === 0) {
    policy[OBSERVER] = undefined;
    observers.delete(policy);
    return;
  }
  // An exporter runs inside the policy's settlement: whatever its backend throws (a broken
  // meter, a full buffer) is caught here and reported, never the call's outcome.
  const list = [...set];
  const only = list.length === 1 ? list[0] : undefined;
  policy[OBSERVER] =
    only !== undefined
      ? (p, outcome, ms) => {
          try {
            only(p, outcome, ms);
          } catch (error) {
            exporterFailed(p, only, error);
          }
        }
      : (p, outcome, ms) => {
          for (const fn of list) {
            try {
              fn(p, outcome, ms);
            } catch (error) {
              exporterFailed(p, fn, error);
            }
          }
        };
}

/**
 * For an exporter's bus listener: reports the first error it throws, as a `listenerError`
 * (`event: 'exporter'`) on `registry.events`, or with `console.warn` where nobody listens for
 * that; later errors of the same exporter are dropped (a broken backend fails on every event).
 *
 * @internal
 */
export function exporterErrors(registry: Registry, exporter: string): (error: unknown) => void {
  let reported = false;
  return (error) => {
    if (reported) return;
    reported = true;
    if (registry.events.has('listenerError')) {
      registry.events.emit('listenerError', { event: 'exporter', error });
      return;
    }
    console.warn(`breakwater: ${exporter} failed while recording an event (reported once)`, error);
  };
}

/** Exporters that already reported a failure, per policy: each is reported once. */
const failedExporters = new WeakMap<CallObserver, WeakSet<Policy>>();

/**
 * An exporter threw while recording a call of `policy`: reported once per exporter and policy,
 * as a `listenerError` (`event: 'exporter'`) on the policy's emitter, or with `console.warn`
 * where nobody listens for that. The call settles with its own outcome either way.
 */
function exporterFailed(policy: Policy, exporter: CallObserver, error: unknown): void {
  let seen = failedExporters.get(exporter);
  if (seen === undefined) failedExporters.set(exporter, (seen = new WeakSet()));
  if (seen.has(policy)) return;
  seen.add(policy);
  try {
    const events = policy.events as unknown as PolicyEmitter<object>;
    if (typeof events.has === 'function' && events.has('listenerError')) {
      events.emit('listenerError', { event: 'exporter', error });
      return;
    }
  } catch {
    // fall through to the warning
  }
  console.warn(`breakwater: an exporter failed while recording a call of '${policy.name}' (reported once)`, error);
}

function isPolicy(value: unknown): value is Policy {
  if (value === null || typeof value !== 'object') return false;
  const p = value as Partial<Policy>;
  return (
    typeof p.name === 'string' &&
    typeof p.kind === 'string' &&
    typeof p.execute === 'function' &&
    typeof p.metrics === 'function' &&
    p.events !== null &&
    typeof p.events === 'object' &&
    typeof p.events.on === 'function' &&
    typeof p.events.removeListener === 'function'
  );
}

function membersOf(policy: Policy): readonly Policy[] {
  const members = (policy as { policies?: unknown }).policies;
  return Array.isArray(members) ? (members as Policy[]) : [];
}

class RegistryImpl implements Registry {
  readonly events = new RegistryEmitter();
  private readonly clock: Clock;
  private readonly byName = new Map<string, Entry>();
  private readonly byPolicy = new Map<Policy, Entry>();
  /** Event names currently subscribed on every listed policy. */
  private readonly subscribed = new Set<string>();
  private readonly taps = new Set<RegistryTap>();

  constructor(clock: Clock) {
    this.clock = clock;
    this.events.changed = () => this.sync();
  }

  add<P extends Policy>(policy: P): P {
    if (!isPolicy(policy)) typeError('registry', 'add argument', 'a policy', policy);
    if ((policy as { disposed?: unknown }).disposed === true) {
      throw new Error(`registry: cannot add ${policy.kind} '${policy.name}': it is disposed`);
    }
    // Check every name first, so a conflict deep in a pipeline lists nothing at all.
    const fresh: Policy[] = [];
    const names = new Map<string, Policy>();
    const visit = (p: Policy): void => {
      if (!isPolicy(p) || this.byPolicy.has(p) || fresh.includes(p)) return;
      const other = this.byName.get(p.name)?.policy ?? names.get(p.name);
      if (other !== undefined && other !== p) {
        throw new Error(`registry: a policy named ${show(p.name)} is already listed (a ${other.kind})`);
      }
      names.set(p.name, p);
      fresh.push(p);
      for (const m of membersOf(p)) visit(m);
    };
    visit(policy);
    for (const p of fresh) this.list1(p);
    // Link each new pipeline to its members (listed just now, by hand, or by another pipeline).
    for (const p of fresh) {
      const entry = this.byPolicy.get(p) as Entry;
      for (const m of membersOf(p)) {
        const me = this.byPolicy.get(m);
        if (me !== undefined && !entry.members.includes(me)) {
          me.owners++;
          entry.members.push(me);
        }
      }
    }
    const top = this.byPolicy.get(policy) as Entry;
    top.explicit = true;
    return policy;
  }

  get(name: string): Policy | undefined {
    return this.byName.get(name)?.policy;
  }

  list(): Policy[] {
    return [...this.byName.values()].map((e) => e.policy);
  }

  snapshot(): PolicyMetrics[] {
    return [...this.byName.values()].map((e) => e.policy.metrics());
  }

  remove(name: string): boolean {
    const entry = this.byName.get(name);
    if (entry === undefined) return false;
    this.delist(entry);
    return true;
  }

  [TAP](tap: RegistryTap): () => void {
    this.taps.add(tap);
    const call = tap.call;
    if (call !== undefined) for (const e of this.byName.values()) observe(e.policy, call);
    return () => {
      if (!this.taps.delete(tap)) return;
      if (call !== undefined) for (const e of this.byName.values()) unobserve(e.policy, call);
    };
  }

  /** Lists one policy (its members are listed by the caller) and subscribes what is wanted. */
  private list1(policy: Policy): void {
    const entry: Entry = { policy, name: policy.name, kind: policy.kind, reg: this, explicit: false, owners: 0, members: [] };
    this.byName.set(entry.name, entry);
    this.byPolicy.set(policy, entry);
    const events = policy.events as unknown as EventEmitter<string>;
    events.on('dispose', onDispose, entry);
    for (const name of this.subscribed) events.on(name, forwarder(name), entry);
    for (const tap of this.taps) if (tap.call !== undefined) observe(policy, tap.call);
    // A state gauge must exist before the first transition: announce the current state.
    const state = (policy as { state?: unknown }).state;
    if (typeof state === 'string' && (this.events.has('stateChange') || this.events.has('event'))) {
      this.forward(entry, 'stateChange', { from: state, to: state, initial: true });
    }
  }

  /** Delists an entry: detaches the registry's listeners and observers, and orphaned members. @internal */
  delist(entry: Entry): void {
    if (this.byPolicy.get(entry.policy) !== entry) return;
    this.byName.delete(entry.name);
    this.byPolicy.delete(entry.policy);
    const events = entry.policy.events as unknown as EventEmitter<string>;
    events.removeListener('dispose', onDispose, entry);
    for (const name of this.subscribed) events.removeListener(name, forwarder(name), entry);
    for (const tap of this.taps) {
      if (tap.call !== undefined) unobserve(entry.policy, tap.call);
      tap.removed?.(entry.policy);
    }
    for (const m of entry.members) {
      m.owners--;
      if (!m.explicit && m.owners === 0) this.delist(m);
    }
  }

  /** Re-emits one policy event on the bus. @internal */
  forward(entry: Entry, name: string, payload: unknown): void {
    const bus = this.events;
    const named = bus.has(name as keyof RegistryEvents);
    const all = bus.has('event');
    if (!named && !all) return;
    const own = (payload as { at?: unknown } | null | undefined)?.at;
    // One object for both emissions; the policy's own `at` (a breaker's transition time) wins.
    // Our fields come first and the payload is spread after them: on Node 20, adding properties
    // after a spread turns the object into a slow one (~8 µs per event instead of ~60 ns).
    let e = {
      policy: entry.name,
      kind: entry.kind,
      at: typeof own === 'number' ? own : this.clock.now(),
      event: name,
      ...(payload as object),
    } as BusEvent;
    // A payload of a policy from elsewhere may carry a field of ours: ours win (a rare, slow path).
    if (e.policy !== entry.name || e.kind !== entry.kind || e.event !== name) {
      e = Object.assign({}, payload, { policy: entry.name, kind: entry.kind, at: e.at, event: name });
    }
    const emit = bus.emit.bind(bus) as (event: string, payload: BusEvent) => boolean;
    if (named) emit(name, e);
    if (all) emit('event', e);
  }

  /** Subscribes the policies to exactly the event names the bus has listeners for. */
  private sync(): void {
    const bus = this.events;
    const want = new Set<string>();
    if (bus.has('event')) for (const n of KNOWN_EVENTS) want.add(n);
    for (const n of bus.eventNames()) if (typeof n === 'string' && !LOCAL_EVENTS.has(n)) want.add(n);
    for (const name of [...this.subscribed]) {
      if (want.has(name)) continue;
      this.subscribed.delete(name);
      const f = forwarder(name);
      for (const e of this.byName.values()) (e.policy.events as unknown as EventEmitter<string>).removeListener(name, f, e);
    }
    for (const name of want) {
      if (this.subscribed.has(name)) continue;
      this.subscribed.add(name);
      const f = forwarder(name);
      for (const e of this.byName.values()) (e.policy.events as unknown as EventEmitter<string>).on(name, f, e);
    }
  }
}

/**
 * Creates a registry: a set of named policies and one event bus for all of them.
 *
 * A policy created with `registry` (or passed to `add`) is listed under its `name`; duplicate
 * names throw; a pipeline lists its members too. `registry.events` re-emits every event of every
 * listed policy under the same event name, with the payload extended by
 * `{ policy, kind, at, event }` (`policy` is the policy's name), and also as `event`. When a
 * policy with a `state` (a circuit breaker) is added, the bus announces its current state as a
 * `stateChange` with `initial: true`, so a state gauge exists before the first transition.
 *
 * When to use: always in a service, so dashboards and exporters (`breakwater/prometheus`,
 * `breakwater/opentelemetry`) see every policy from one place.
 *
 * Details: the bus subscribes to a policy's events only while the bus itself has listeners for
 * them, so an unobserved registry adds nothing to any call. `policy.dispose()` and `remove(name)`
 * detach everything the registry attached, so a process that creates and drops thousands of
 * policies does not leak.
 *
 * Gotchas: both emissions of one event share one payload object; do not mutate it. Removing or
 * disposing a pipeline delists the members it brought in, unless they were added by hand or are
 * held by another listed pipeline; it never disposes them.
 *
 * @example
 * ```ts
 * import { createRegistry, circuitBreaker, retry, pipeline } from 'breakwater';
 * const registry = createRegistry();
 * registry.events.on('stateChange', ({ policy, from, to }) => console.log(`${policy}: ${from} -> ${to}`));
 * registry.events.on('event', (e) => log.debug(e.event, e));
 * const api = pipeline(retry(), circuitBreaker({ name: 'api-breaker' }), { name: 'api', registry });
 * registry.get('api-breaker')?.metrics().failureRate;
 * ```
 */
/**
 * True for a registry made by {@link createRegistry} (of any copy of the package): what the
 * exporters check their `registry` argument with.
 *
 * @internal
 */
export function isRegistry(value: unknown): value is Registry {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as Registry)[TAP] === 'function' &&
    typeof (value as Registry).list === 'function' &&
    typeof (value as Registry).events === 'object'
  );
}

export function createRegistry(options?: RegistryOptions): Registry {
  const o = optionsObject('registry', options);
  const clock = o['clock'];
  if (clock !== undefined && !isClock(clock)) {
    typeError('registry', 'clock', 'a Clock (an object with now, setTimeout and clearTimeout)', clock);
  }
  return new RegistryImpl(clock ?? systemClock);
}
