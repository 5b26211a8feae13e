/**
 * The point-in-time readings exporters show as gauges, read from a policy's public getters
 * (never its internals), so any policy with the same getters is exported alike.
 *
 * @internal
 * @module
 */
import type { Policy } from '../policy-base.js';

/** The states a circuit breaker can be in: exporters show each one before it is first entered. */
export const BREAKER_STATES: readonly string[] = ['closed', 'open', 'halfOpen', 'isolated'];

/** What a policy's getters say now; a field is absent when the policy has no such getter. */
export interface Gauges {
  /** `state` (a circuit breaker's). */
  state?: string;
  /** `executing` (bulkheads and adaptive limits). */
  executing?: number;
  /** `queued` (bulkheads, adaptive limits, rate limiters). */
  queued?: number;
  /** `limit` (adaptive limits). */
  limit?: number;
  /**
   * Permits a call could take now: a policy's own `available` getter if it has one, else
   * `maxConcurrent − executing` (a bulkhead) or `limit − executing` (an adaptive limit).
   */
  permits?: number;
}

function finite(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/**
 * Reads the gauge getters of `policy`.
 *
 * @internal
 * @example
 * ```ts
 * import { gauges } from './exporters/gauges.js';
 * gauges(bulkhead({ maxConcurrent: 4 })); // { executing: 0, queued: 0, permits: 4 }
 * ```
 */
export function gauges(policy: Policy): Gauges {
  const r = policy as unknown as Record<string, unknown>;
  const g: Gauges = {};
  const state = r['state'];
  if (typeof state === 'string') g.state = state;
  const executing = finite(r['executing']);
  const queued = finite(r['queued']);
  const limit = finite(r['limit']);
  if (executing !== undefined) g.executing = executing;
  if (queued !== undefined) g.queued = queued;
  if (limit !== undefined) g.limit = limit;
  const cap = finite(r['maxConcurrent']) ?? limit;
  const permits = finite(r['available']) ?? (cap !== undefined && executing !== undefined ? Math.max(0, cap - executing) : undefined);
  if (permits !== undefined) g.permits = permits;
  return g;
}
