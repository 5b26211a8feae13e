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

/** Minimal view of an emitter, to report on a policy's or a registry's `listenerError`. */
interface Reporter {
  has?(event: string): boolean;
  emit(event: string, payload: unknown): unknown;
}

/**
 * For an exporter's bus listener: reports the first error it throws, as a `listenerError`
 * (`event: 'exporter'`) on `registry.events`, or with `console.warn` where nobody listens for
 * that; later errors of the same exporter are dropped (a broken backend fails on every event).
 *
 * @internal
 */
export function exporterErrors(registry: { readonly events: unknown }, exporter: string): (error: unknown) => void {
  let reported = false;
  return (error) => {
    if (reported) return;
    reported = true;
    const events = registry.events as Reporter;
    if (typeof events.has === 'function' && events.has('listenerError')) {
      events.emit('listenerError', { event: 'exporter', error });
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
    const events = policy.events as unknown as Reporter;
    if (typeof events.has === 'function' && events.has('listenerError')) {
      events.emit('listenerError', { event: 'exporter', error });
      return;
    }
  } catch {
    // fall through to the warning
  }
  console.warn(`breakwater: an exporter failed while recording a call of '${policy.name}' (reported once)`, error);
}
