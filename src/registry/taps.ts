/**
 * Exporter hooks: per-call outcomes and delisting, which exporters (Prometheus, OpenTelemetry)
 * need beyond the bus.
 *
 * Not exported from the package.
 *
 * @module
 */
import type { Policy } from '../contract.js';
import { type CallObserver, OBSERVER } from '../internal/call-observer.js';

/**
 * Per-call and lifecycle data for exporters (Prometheus, OpenTelemetry), which need more than
 * the bus: every call's outcome and duration, and when a policy leaves the registry.
 *
 * Not exported from the package.
 */
export interface RegistryTap {
  /** Every recorded outcome of every listed policy (see {@link CallObserver}). */
  readonly call?: CallObserver;
  /** A policy left the registry (removed, disposed, or its pipeline left). */
  readonly removed?: (policy: Policy) => void;
}

/** The slot of {@link Registry}'s exporter hook. Not exported from the package. */
export const TAP: unique symbol = Symbol.for('breakwater.registry.tap') as never;

// Observers per policy, shared by every registry: a policy listed in two observed registries
// gets a dispatcher that calls both.
const observers = new WeakMap<Policy, Set<CallObserver>>();
type Observable = Policy & { [OBSERVER]?: CallObserver | undefined };
/** Installs `fn` as one of `policy`'s call observers. @internal */
export function observe(policy: Policy, fn: CallObserver): void {
  if (!(OBSERVER in policy)) return; // not a breakwater policy: it records nothing
  let set = observers.get(policy);
  if (set === undefined) observers.set(policy, (set = new Set()));
  set.add(fn);
  install(policy as Observable, set);
}
/** @internal */
export function unobserve(policy: Policy, fn: CallObserver): void {
  const set = observers.get(policy);
  if (set === undefined || !set.delete(fn)) return;
  install(policy as Observable, set);
}
function install(policy: Observable, set: Set<CallObserver>): void {
  if (set.size === 0) {
    policy[OBSERVER] = undefined;
    observers.delete(policy);
  } else if (set.size === 1) {
    policy[OBSERVER] = set.values().next().value;
  } else {
    const list = [...set];
    policy[OBSERVER] = (p, outcome, ms) => {
      for (const fn of list) fn(p, outcome, ms);
    };
  }
}
