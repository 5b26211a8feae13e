/**
 * Vegas, after Netflix concurrency-limits' `VegasLimit` (itself after TCP Vegas): estimates the
 * queue at the dependency from how far the RTT is above the no-load RTT.
 *
 * Internal: not exported from the package.
 * @module
 */
import { clamp, type LimitAlgorithm, type LimitBounds, type WindowSample } from './window.js';

/** Netflix's defaults: initial 20, max 1000 (and a floor of 1). @internal */
export const VEGAS_DEFAULTS: LimitBounds = { initialLimit: 20, minLimit: 1, maxLimit: 1000 };

const PROBE_MULTIPLIER = 30; // Netflix's `probeMultiplier`
const SMOOTHING = 1; // Netflix's `smoothing`

/** Netflix's `Log10RootFunction`: `max(1, floor(log10 n))` below 1000, `floor(sqrt n)` from there. */
function log10Root(n: number): number {
  const i = Math.floor(n);
  return i < 1000 ? Math.max(1, Math.floor(Math.log10(i))) : Math.floor(Math.sqrt(i));
}

/**
 * Per window: `queue = ceil(limit × (1 − rttNoLoad / rtt))`, with `rttNoLoad` the fastest
 * window seen. With `lg = log10Root(limit)`: a drop decreases the limit by `lg`; below half the
 * limit in flight nothing changes; otherwise `queue <= lg` adds `6 lg` (beta), `queue < 3 lg`
 * (alpha) adds `lg`, `queue > 6 lg` removes `lg`, and in between the limit holds. Every
 * `30 × limit × jitter` windows (jitter in [0.5, 1)) `rttNoLoad` is re-probed from the current
 * window, so a permanent change of the dependency's base latency is learnt.
 *
 * @internal
 * @example
 * ```ts
 * import { Vegas } from './vegas.js';
 * const v = new Vegas({ initialLimit: 20, minLimit: 1, maxLimit: 1000 }, Math.random);
 * v.update({ rtt: 10, inflight: 20, drop: false }); // 20: first window sets the no-load RTT
 * v.update({ rtt: 10, inflight: 20, drop: false }); // 26: no queueing, grow by beta
 * ```
 */
export class Vegas implements LimitAlgorithm {
  private estimate: number;
  private noLoad = 0;
  private probeCount = 0;
  private jitter: number;

  constructor(
    private readonly bounds: LimitBounds,
    private readonly random: () => number,
  ) {
    this.estimate = bounds.initialLimit;
    this.jitter = this.nextJitter();
  }

  private nextJitter(): number {
    return 0.5 + this.random() * 0.5;
  }

  update(s: WindowSample): number {
    const limit = this.estimate;
    const rtt = s.rtt;
    if (rtt !== rtt) return s.drop ? this.set(limit - log10Root(limit)) : limit;
    this.probeCount++;
    if (this.jitter * PROBE_MULTIPLIER * limit <= this.probeCount) {
      this.jitter = this.nextJitter();
      this.probeCount = 0;
      this.noLoad = rtt;
      return limit;
    }
    if (this.noLoad === 0 || rtt < this.noLoad) {
      this.noLoad = rtt;
      return limit;
    }
    const queue = Math.ceil(limit * (1 - this.noLoad / rtt));
    const lg = log10Root(limit);
    if (s.drop) return this.set(limit - lg);
    if (s.inflight * 2 < limit) return limit;
    if (queue <= lg) return this.set(limit + 6 * lg);
    if (queue < 3 * lg) return this.set(limit + lg);
    if (queue > 6 * lg) return this.set(limit - lg);
    return limit;
  }

  private set(next: number): number {
    const clamped = clamp(next, this.bounds);
    return (this.estimate = (1 - SMOOTHING) * this.estimate + SMOOTHING * clamped);
  }
}
