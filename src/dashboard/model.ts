/**
 * What the dashboard shows, read from a registry through the public contract only: the
 * snapshot the page and `/snapshot` get, and how policies group into pipelines.
 *
 * Internal: not exported from the package.
 * @module
 */
import type { Policy, PolicyMetrics } from '../contract.js';

/** The registry methods the dashboard reads. */
export interface RegistryView {
  list(): Policy[];
}

/**
 * A listed policy's metrics as the dashboard sends them: its `metrics()` plus `group` (the
 * pipeline it is listed under, if any) and, for a bulkhead, its `limit`.
 *
 * @example
 * ```ts
 * import type { DashboardPolicy } from 'breakwater/dashboard';
 * const label = (p: DashboardPolicy) => `${p.group ?? '-'} / ${p.name}: ${p.state ?? p.kind}`;
 * ```
 */
export interface DashboardPolicy extends PolicyMetrics {
  /** The name of the listed pipeline this policy is a member of; absent for one outside any. */
  group?: string;
}

/**
 * A listed pipeline and the names of its members, outermost first.
 *
 * @example
 * ```ts
 * import type { DashboardPipeline } from 'breakwater/dashboard';
 * const describe = (p: DashboardPipeline) => `${p.name}: ${p.members.join(' → ')}`;
 * ```
 */
export interface DashboardPipeline {
  /** The pipeline's name. */
  name: string;
  /** Its members' names, outermost first. */
  members: string[];
}

/**
 * One snapshot, as `/snapshot` returns it and `/stream` sends it (`event: snapshot`).
 *
 * @example
 * ```ts
 * import type { DashboardSnapshot } from 'breakwater/dashboard';
 * const res = await fetch('http://127.0.0.1:9464/snapshot');
 * const snap = (await res.json()) as DashboardSnapshot;
 * snap.policies.filter((p) => p.state === 'open').map((p) => p.name);
 * ```
 */
export interface DashboardSnapshot {
  /** Wall-clock time of the snapshot, ms since the epoch. */
  time: number;
  /** The interval between snapshots on `/stream`, ms. */
  intervalMs: number;
  /** Every listed policy's metrics, in list order (the registry's `snapshot()`, plus `group`). */
  policies: DashboardPolicy[];
  /** Every listed pipeline with its members. */
  pipelines: DashboardPipeline[];
}

/** A pipeline's members, or none for any other policy. */
export function membersOf(p: Policy): readonly Policy[] {
  const m = (p as { policies?: unknown }).policies;
  return Array.isArray(m) ? (m as Policy[]) : [];
}

/** Who contains whom among the listed policies. */
export interface Topology {
  readonly list: Policy[];
  /** The first listed pipeline that has the policy as a direct member. */
  readonly parent: Map<Policy, Policy>;
}

export function topology(registry: RegistryView): Topology {
  const list = registry.list();
  const listed = new Set(list);
  const parent = new Map<Policy, Policy>();
  for (const p of list) {
    for (const m of membersOf(p)) if (listed.has(m) && !parent.has(m)) parent.set(m, p);
  }
  return { list, parent };
}

/** The registry's metrics plus what the page needs to lay them out. */
export function buildSnapshot(registry: RegistryView, intervalMs: number): DashboardSnapshot {
  const { list, parent } = topology(registry);
  const policies: DashboardPolicy[] = [];
  const pipelines: DashboardPipeline[] = [];
  for (const p of list) {
    const m: DashboardPolicy = p.metrics();
    const g = parent.get(p);
    if (g !== undefined) m.group = g.name;
    // A bulkhead's limit is its fixed maxConcurrent (an adaptive limit reports its own).
    const max = (p as { maxConcurrent?: unknown }).maxConcurrent;
    if (m.limit === undefined && typeof max === 'number') m.limit = max;
    policies.push(m);
    const members = membersOf(p);
    if (members.length > 0) pipelines.push({ name: p.name, members: members.map((x) => x.name) });
  }
  return { time: Date.now(), intervalMs, policies, pipelines };
}
