/**
 * The registry: a set of named policies, its bus (bus.ts) and its exporter taps (taps.ts).
 *
 * @module
 */
import type { EventEmitter } from 'eventemitter3';
import { type Clock, defaultClock, isClock } from '../clock.js';
import { checkKnown } from '../known-options.js';
import type { Policy, PolicyMetrics, RegistryLike } from '../contract.js';
import { optionsObject, show, typeError } from '../validate.js';
import { Bus, type Listing, RegistryEmitter, link, resync, unlink } from './bus.js';
import { type RegistryTap, TAP, observe, unobserve } from './taps.js';

export type { BusEvent, BusFields, RegistryEvents } from './bus.js';
export { RegistryEmitter } from './bus.js';
/** @internal */
export { TAP, type RegistryTap, exporterErrors } from './taps.js';

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
   * @defaultValue `systemClock` (or the clock `ManualClock.install()` set)
   */
  readonly clock?: Clock;
}

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

interface Entry extends Listing {
  readonly reg: RegistryImpl;
  /** Added by hand (or by its own `registry` option), not only as a pipeline member. */
  explicit: boolean;
  /** Listed pipelines that have this policy as a member. */
  owners: number;
  /** The entries of a pipeline's members. */
  members: Entry[];
}

function onDispose(this: Entry, payload: unknown): void {
  this.bus.forward(this, 'dispose', payload);
  this.reg.delist(this);
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
  private readonly bus: Bus;
  private readonly byName = new Map<string, Entry>();
  private readonly byPolicy = new Map<Policy, Entry>();
  private readonly taps = new Set<RegistryTap>();

  constructor(clock: Clock) {
    this.bus = new Bus(this.events, clock);
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

  /** Lists one policy (its members are listed by the caller) and forwards what is wanted. */
  private list1(policy: Policy): void {
    const entry: Entry = { policy, name: policy.name, kind: policy.kind, bus: this.bus, reg: this, explicit: false, owners: 0, members: [] };
    this.byName.set(entry.name, entry);
    this.byPolicy.set(policy, entry);
    (policy.events as unknown as EventEmitter<string>).on('dispose', onDispose, entry);
    link(entry);
    for (const tap of this.taps) if (tap.call !== undefined) observe(policy, tap.call);
    // A state gauge must exist before the first transition: announce the current state.
    const state = (policy as { state?: unknown }).state;
    if (typeof state === 'string' && (this.events.has('stateChange') || this.events.has('event'))) {
      this.bus.forward(entry, 'stateChange', { from: state, to: state, initial: true });
    }
  }

  /** Delists an entry: detaches the registry's listeners and observers, and orphaned members. @internal */
  delist(entry: Entry): void {
    if (this.byPolicy.get(entry.policy) !== entry) return;
    this.byName.delete(entry.name);
    this.byPolicy.delete(entry.policy);
    (entry.policy.events as unknown as EventEmitter<string>).removeListener('dispose', onDispose, entry);
    unlink(entry);
    for (const tap of this.taps) {
      if (tap.call !== undefined) unobserve(entry.policy, tap.call);
      tap.removed?.(entry.policy);
    }
    for (const m of entry.members) {
      m.owners--;
      if (!m.explicit && m.owners === 0) this.delist(m);
    }
  }

  /** The bus's listeners changed: every listed policy forwards what is wanted now. */
  private sync(): void {
    if (!this.bus.refresh()) return;
    for (const e of this.byName.values()) resync(e);
  }
}

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
export function createRegistry(options?: RegistryOptions): Registry {
  const o = optionsObject('registry', options);
  checkKnown('createRegistry', o, ['clock']);
  const clock = o['clock'];
  if (clock !== undefined && !isClock(clock)) {
    typeError('registry', 'clock', 'a Clock (an object with now, setTimeout and clearTimeout)', clock);
  }
  return new RegistryImpl(clock ?? defaultClock());
}
