/**
 * A policy's descriptor: what the registry, its bus and the exporters know about a kind of
 * policy, declared once in the policy's own file. Nothing outside the policy keeps a list of
 * kinds, event names, severities or gauge getters.
 *
 * Not exported from the package.
 *
 * @module
 */
import type { Policy } from '../contract.js';

/** How much an event matters to an operator (as Polly grades its own). Not exported from the package. */
export type Severity = 'error' | 'warning' | 'information';

/** An event's severity: fixed, or read off its payload (a breaker's `stateChange` by its `to`). Not exported from the package. */
export type SeverityOf = Severity | ((payload: { readonly [field: string]: unknown }) => Severity);

/** The point-in-time readings both exporters show as gauges. Not exported from the package. */
export type GaugeName = 'state' | 'executing' | 'queued' | 'limit' | 'permits';

/**
 * How to read one gauge off a policy of this kind: a number, or for `state` a string, or
 * `undefined` when it has no reading now.
 *
 * Not exported from the package.
 */
export type GaugeReader = (policy: never) => number | string | undefined;

/** Not exported from the package. */
export interface PolicyDescriptor {
  /** The policy's kind: an open string (`'circuitBreaker'`, `'retry'`, or a new one). */
  readonly kind: string;
  /**
   * Every event the policy emits (besides the common `listenerError` and `dispose`), with its
   * severity. The bus forwards any event; exporters grade them by this table.
   */
  readonly events: { readonly [event: string]: SeverityOf };
  /** The gauges the exporters read off the policy. */
  readonly gauges?: { readonly [G in GaugeName]?: GaugeReader };
  /** For a `state` gauge: every state, so exporters show each before it is first entered. */
  readonly states?: readonly string[];
}

/** The slot of a policy's descriptor. `Symbol.for`, so both builds of the package agree. @internal */
export const DESCRIPTOR: unique symbol = Symbol.for('breakwater.descriptor') as never;

/**
 * Declares a descriptor (frozen, so one file's table cannot be changed from another).
 *
 * @internal
 * @example
 * ```ts
 * import { describePolicy } from './internal/descriptor.js';
 * const DESCRIPTOR = describePolicy({ kind: 'thing', events: { thing: 'information' } });
 * ```
 */
export function describePolicy<D extends PolicyDescriptor>(d: D): D {
  return Object.freeze({ ...d, events: Object.freeze({ ...d.events }) });
}

/** The descriptor of `policy`, if it declares one (a policy from elsewhere may not). @internal */
export function descriptorOf(policy: Policy): PolicyDescriptor | undefined {
  const d = (policy as { [DESCRIPTOR]?: unknown })[DESCRIPTOR];
  return d !== null && typeof d === 'object' ? (d as PolicyDescriptor) : undefined;
}

/** The severity of event `name` with `payload` from a policy of descriptor `d`. @internal */
export function severityOf(d: PolicyDescriptor | undefined, name: string, payload: { readonly [field: string]: unknown }): Severity {
  const s = d?.events[name];
  if (s === undefined) return 'information';
  return typeof s === 'function' ? s(payload) : s;
}
