/**
 * What the Prometheus exporter accumulates per policy between scrapes: cumulative call counts,
 * latency bucket counts, event counts and state transitions. Recording is a few array stores,
 * so an exporter adds little to a call; prom-client only sees the totals at scrape time.
 *
 * Internal: not exported from the package.
 * @module
 */
import type { CallOutcome } from '../internal/call-observer.js';

/** Outcome label values, by slot: the call counters and the two timed outcomes. */
export const OUTCOMES = ['success', 'failure', 'rejected'] as const;


/** One policy's cumulative data. */
export class Series {
  readonly labels: { readonly policy: string; readonly kind: string };
  /** Calls by outcome slot: success, failure, rejected. */
  readonly calls = new Float64Array(3);
  /**
   * Latency counts per bucket (not cumulative) for success then failure, each `bounds + 1` long
   * (the last slot is above every bound); `sums` in seconds.
   */
  readonly hist: Float64Array;
  readonly sums = new Float64Array(2);
  /** Events by name; state transitions by `from` and `to`. */
  readonly events = new Map<string, number>();
  readonly transitions = new Map<string, { from: string; to: string; n: number }>();
  /** Every state the policy has been seen in (for one state series each). */
  readonly states = new Set<string>();

  constructor(
    policy: string,
    kind: string,
    private readonly bounds: readonly number[],
    /** Every state the policy can be in (its descriptor's), each shown from the start. */
    states: readonly string[],
  ) {
    this.labels = { policy, kind };
    this.hist = new Float64Array(2 * (bounds.length + 1));
    for (const s of states) this.states.add(s);
  }

  /** One recorded outcome (a `CallObserver` call). */
  call(outcome: CallOutcome, durationMs: number): void {
    const calls = this.calls;
    if (outcome === 'rejected') {
      calls[2] = (calls[2] as number) + 1;
      return;
    }
    const o = outcome === 'success' ? 0 : 1;
    calls[o] = (calls[o] as number) + 1;
    const seconds = durationMs > 0 ? durationMs / 1000 : 0;
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && seconds > (bounds[i] as number)) i++;
    const h = o * (bounds.length + 1) + i;
    this.hist[h] = (this.hist[h] as number) + 1;
    this.sums[o] = (this.sums[o] as number) + seconds;
  }

  /** One event from the bus. */
  event(name: string, payload: { readonly [field: string]: unknown }): void {
    if (name === 'stateChange') {
      const { from, to } = payload;
      if (typeof to === 'string') this.states.add(to);
      if (typeof from === 'string') this.states.add(from);
      // The announcement of a newly added breaker's state is not a transition.
      if (payload.initial === true) return;
      if (typeof from === 'string' && typeof to === 'string') {
        const key = `${from}\u0000${to}`;
        const t = this.transitions.get(key);
        if (t === undefined) this.transitions.set(key, { from, to, n: 1 });
        else t.n++;
      }
    }
    this.events.set(name, (this.events.get(name) ?? 0) + 1);
  }

  /** Forgets the counts (prom-client's `resetMetrics()`). */
  resetCalls(): void {
    this.calls.fill(0);
    this.hist.fill(0);
    this.sums.fill(0);
  }
  resetEvents(): void {
    this.events.clear();
    this.transitions.clear();
  }
}
