/**
 * AIMD (additive increase, multiplicative decrease), after Netflix concurrency-limits'
 * `AIMDLimit`: loss-based, like TCP Reno.
 *
 * Internal: not exported from the package.
 * @module
 */
import { clamp, type LimitAlgorithm, type LimitBounds, type WindowSample } from './window.js';

/** Netflix's defaults: limits 20 / 20 / 200. @internal */
export const AIMD_DEFAULTS: LimitBounds = { initialLimit: 20, minLimit: 20, maxLimit: 200 };

/** Netflix's `backoffRatio`: the limit is multiplied by this on a drop. @internal */
export const AIMD_BACKOFF = 0.9;
/** Netflix's `timeout`: a window whose mean RTT is above this counts as a drop, in ms. @internal */
export const AIMD_TIMEOUT_MS = 5000;

/**
 * On a drop (or a mean RTT above 5 s) the limit becomes `floor(limit × 0.9)`; otherwise, when
 * the window kept at least half the limit busy, it grows by 1. It never grows while the
 * dependency is under-used, so it cannot drift up to `maxLimit` during a quiet spell.
 *
 * @internal
 * @example
 * ```ts
 * import { Aimd } from './aimd.js';
 * const a = new Aimd({ initialLimit: 10, minLimit: 1, maxLimit: 100 });
 * a.update({ rtt: 5, inflight: 10, drop: false }); // 11
 * a.update({ rtt: 5, inflight: 10, drop: true }); // 9
 * ```
 */
export class Aimd implements LimitAlgorithm {
  private limit: number;
  constructor(private readonly bounds: LimitBounds) {
    this.limit = bounds.initialLimit;
  }

  update(s: WindowSample): number {
    let limit = this.limit;
    if (s.drop || s.rtt > AIMD_TIMEOUT_MS) limit = Math.floor(limit * AIMD_BACKOFF);
    else if (s.inflight * 2 >= limit) limit += 1;
    return (this.limit = clamp(limit, this.bounds));
  }
}
