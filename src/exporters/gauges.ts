/**
 * The point-in-time readings both exporters show as gauges, read through each policy's
 * descriptor (never its internals), so a new policy declares its gauges in its own file.
 *
 * @internal
 * @module
 */
import type { Policy } from '../contract.js';
import { type GaugeName, descriptorOf, severityOf, type Severity } from '../internal/descriptor.js';
import type { BusEvent } from '../registry/bus.js';

/** What a policy's descriptor says its gauges read now; a field is absent when it declares no such gauge. */
export interface Gauges {
  /** A circuit breaker's `state`. */
  state?: string;
  /** Calls running (bulkheads and adaptive limits). */
  executing?: number;
  /** Calls waiting (bulkheads, adaptive limits, rate limiters). */
  queued?: number;
  /** The concurrency limit (adaptive limits). */
  limit?: number;
  /** Permits a call could take now. */
  permits?: number;
}

const NUMERIC: readonly Exclude<GaugeName, 'state'>[] = ['executing', 'queued', 'limit', 'permits'];

/**
 * Reads the gauges `policy`'s descriptor declares.
 *
 * @internal
 * @example
 * ```ts
 * import { gauges } from './exporters/gauges.js';
 * gauges(bulkhead({ maxConcurrent: 4 })); // { executing: 0, queued: 0, permits: 4 }
 * ```
 */
export function gauges(policy: Policy): Gauges {
  const g: Gauges = {};
  const readers = descriptorOf(policy)?.gauges;
  if (readers === undefined) return g;
  const read = (name: GaugeName): unknown => {
    const r = readers[name] as ((p: Policy) => unknown) | undefined;
    return r === undefined ? undefined : r(policy);
  };
  const state = read('state');
  if (typeof state === 'string') g.state = state;
  for (const name of NUMERIC) {
    const v = read(name);
    if (typeof v === 'number' && Number.isFinite(v)) g[name] = v;
  }
  return g;
}

/** Every state `policy` can be in (its descriptor's `states`): exporters show each from the start. */
export function statesOf(policy: Policy | undefined): readonly string[] {
  return (policy === undefined ? undefined : descriptorOf(policy)?.states) ?? [];
}

/** The severity of a bus event, by the emitting policy's descriptor (`information` if it declares none). */
export function eventSeverity(policy: Policy | undefined, e: BusEvent): Severity {
  return severityOf(policy === undefined ? undefined : descriptorOf(policy), e.event, e);
}
