/**
 * The registry's bus: the events of every listed policy, re-emitted with `{ policy, kind, at,
 * event }`. A policy's emitter forwards through one slot (see `EventSink` in events.ts), set
 * only while a registry listing it has bus listeners.
 *
 * @module
 */
import type { EventEmitter } from 'eventemitter3';
import type { Clock } from '../clock.js';
import type { Policy } from '../contract.js';
import { type CommonEvents, type EventSink, type ListenerMap, PolicyEmitter } from '../events.js';
import { descriptorOf } from '../internal/descriptor.js';

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
 * Events of a registry's bus (every built-in policy's events, each extended by {@link BusFields}), plus
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

/** Never forwarded: a listener error belongs to the emitter whose listener threw; `dispose` has its own path. */
const LOCAL_EVENTS: ReadonlySet<string> = new Set(['listenerError', 'event', 'dispose']);

/** One listing of a policy in one registry, as the bus sees it. @internal */
export interface Listing {
  readonly policy: Policy;
  readonly name: string;
  readonly kind: string;
  readonly bus: Bus;
}

/**
 * The forwarding side of one registry: which event names its bus wants, and re-emission.
 *
 * @internal
 */
export class Bus {
  /** A catch-all (`event`) listener exists: every event is wanted. */
  private all = false;
  /** Event names with their own bus listeners. */
  private named: ReadonlySet<string> = new Set();

  constructor(
    readonly events: RegistryEmitter,
    private readonly clock: Clock,
  ) {}

  /** The bus has any listener a policy event could reach. */
  get listening(): boolean {
    return this.all || this.named.size > 0;
  }

  wants(name: string): boolean {
    return this.all ? !LOCAL_EVENTS.has(name) : this.named.has(name);
  }

  /** Re-reads what the bus's listeners want; true if it changed. */
  refresh(): boolean {
    const bus = this.events;
    const all = bus.has('event');
    const named = new Set<string>();
    for (const n of bus.eventNames()) if (typeof n === 'string' && !LOCAL_EVENTS.has(n)) named.add(n);
    const same = all === this.all && named.size === this.named.size && [...named].every((n) => this.named.has(n));
    this.all = all;
    this.named = named;
    return !same;
  }

  /** Re-emits one policy event on the bus. */
  forward(listing: Listing, name: string, payload: unknown): void {
    const bus = this.events;
    const named = bus.has(name as keyof RegistryEvents);
    const all = bus.has('event');
    if (!named && !all) return;
    const own = (payload as { at?: unknown } | null | undefined)?.at;
    // One object for both emissions; the policy's own `at` (a breaker's transition time) wins.
    // Our fields come first and the payload is spread after them: on Node 20, adding properties
    // after a spread turns the object into a slow one (~8 µs per event instead of ~60 ns).
    let e = {
      policy: listing.name,
      kind: listing.kind,
      at: typeof own === 'number' ? own : this.clock.now(),
      event: name,
      ...(payload as object),
    } as BusEvent;
    // A payload of a policy from elsewhere may carry a field of ours: ours win (a rare, slow path).
    if (e.policy !== listing.name || e.kind !== listing.kind || e.event !== name) {
      e = Object.assign({}, payload, { policy: listing.name, kind: listing.kind, at: e.at, event: name });
    }
    const emit = bus.emit.bind(bus) as (event: string, payload: BusEvent) => boolean;
    if (named) emit(name, e);
    if (all) emit('event', e);
  }
}

/**
 * A policy's {@link EventSink}: every listing of it, in every registry. Installed on the
 * policy's emitter only while one of those registries has bus listeners.
 */
class Links implements EventSink {
  readonly listings: Listing[] = [];
  constructor(private readonly emitter: PolicyEmitter<object>) {}

  wants(event: string): boolean {
    const l = this.listings;
    for (let i = 0; i < l.length; i++) if ((l[i] as Listing).bus.wants(event)) return true;
    return false;
  }

  send(event: string, payload: unknown): void {
    for (const l of this.listings.slice()) {
      if (!l.bus.wants(event)) continue;
      try {
        l.bus.forward(l, event, payload);
      } catch (error) {
        // Bus listeners are isolated by the bus's own emitter; this guards our own code.
        console.warn('breakwater: forwarding an event to a registry failed', error);
      }
    }
  }

  /** Installs or removes the slot as the registries' interest says. */
  refresh(): void {
    const on = this.listings.some((l) => l.bus.listening);
    if (on !== (this.emitter.sink === this)) this.emitter.forwardTo(on ? this : undefined);
    else if (on) this.emitter.version++; // what is wanted changed: cached has() answers go stale
  }
}

const links = new WeakMap<Policy, Links>();

/**
 * A policy from elsewhere has no slot: its listing subscribes by name, to the names the bus has
 * listeners for, and for a catch-all listener to the events its descriptor declares, if any.
 */
type Forwarder = (this: Listing, payload: unknown) => void;
const forwarders = new Map<string, Forwarder>();
function forwarder(name: string): Forwarder {
  let f = forwarders.get(name);
  if (f === undefined) {
    f = function (this: Listing, payload: unknown): void {
      this.bus.forward(this, name, payload);
    };
    forwarders.set(name, f);
  }
  return f;
}
const foreign = new WeakMap<Listing, Set<string>>();

function hasSlot(events: unknown): events is PolicyEmitter<object> {
  return typeof (events as { forwardTo?: unknown }).forwardTo === 'function';
}

/** Starts forwarding `listing`'s policy events to its bus (as the bus's listeners want). @internal */
export function link(listing: Listing): void {
  const events = listing.policy.events as unknown;
  if (!hasSlot(events)) {
    foreign.set(listing, new Set());
    return resync(listing);
  }
  let l = links.get(listing.policy);
  if (l === undefined) links.set(listing.policy, (l = new Links(events)));
  l.listings.push(listing);
  l.refresh();
}

/** Stops forwarding `listing`. @internal */
export function unlink(listing: Listing): void {
  const subscribed = foreign.get(listing);
  if (subscribed !== undefined) {
    const events = listing.policy.events as unknown as EventEmitter<string>;
    for (const name of subscribed) events.removeListener(name, forwarder(name), listing);
    foreign.delete(listing);
    return;
  }
  const l = links.get(listing.policy);
  if (l === undefined) return;
  const i = l.listings.indexOf(listing);
  if (i >= 0) l.listings.splice(i, 1);
  l.refresh();
  if (l.listings.length === 0) links.delete(listing.policy);
}

/** The bus's listeners changed: forward what is wanted now. @internal */
export function resync(listing: Listing): void {
  const subscribed = foreign.get(listing);
  if (subscribed === undefined) return links.get(listing.policy)?.refresh();
  const events = listing.policy.events as unknown as EventEmitter<string>;
  const want = new Set<string>();
  const declared = Object.keys(descriptorOf(listing.policy)?.events ?? {});
  for (const n of [...declared, ...subscribed, ...listing.bus.events.eventNames().map(String)]) {
    if (listing.bus.wants(n)) want.add(n);
  }
  for (const name of [...subscribed]) {
    if (want.has(name)) continue;
    subscribed.delete(name);
    events.removeListener(name, forwarder(name), listing);
  }
  for (const name of want) {
    if (subscribed.has(name)) continue;
    subscribed.add(name);
    events.on(name, forwarder(name), listing);
  }
}
