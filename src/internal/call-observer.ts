/**
 * The per-call hook exporters read through a registry's taps (see registry/taps.ts).
 *
 * Not exported from the package.
 *
 * @module
 */
import type { Policy } from '../contract.js';

/** What a call came to, by name: ran and succeeded, ran and failed, or was refused. Not exported from the package. */
export type CallOutcome = 'success' | 'failure' | 'rejected';

/**
 * Receives every outcome a policy records: a call that ran (`'success'` or `'failure'`, with its
 * duration) or a call it refused (`'rejected'`, duration 0). A registry installs one on its
 * listed policies while an exporter needs per-call data (Prometheus and OpenTelemetry
 * histograms); otherwise the slot is `undefined` and recording pays one property read. Not called
 * when the policy's metrics are off.
 *
 * Not exported from the package.
 */
export type CallObserver = (policy: Policy, outcome: CallOutcome, durationMs: number) => void;

/**
 * The slot of a policy's {@link CallObserver}. `Symbol.for`, so a registry from one copy of the
 * package (ESM or CommonJS build) can observe a policy from the other.
 *
 * @internal
 */
export const OBSERVER: unique symbol = Symbol.for('breakwater.observer') as never;
