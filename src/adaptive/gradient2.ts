/**
 * Gradient2, after Netflix concurrency-limits' `Gradient2Limit`: latency-based, comparing the
 * current RTT with a slowly moving long-term average.
 *
 * Internal: not exported from the package.
 * @module
 */
import { clamp, type LimitAlgorithm, type LimitBounds, type WindowSample } from './window.js';

/** Netflix's defaults: limits 20 / 20 / 200. @internal */
export const GRADIENT2_DEFAULTS: LimitBounds = { initialLimit: 20, minLimit: 20, maxLimit: 200 };

const SMOOTHING = 0.2; // Netflix's `smoothing`
const QUEUE_SIZE = 4; // Netflix's `queueSize`: headroom added while latency is flat
const LONG_WINDOW = 600; // Netflix's `longWindow`, in samples (windows here)
const WARMUP = 10; // samples averaged plainly before the long average becomes exponential

/**
 * An exponential moving average with a plain-average warm-up (Netflix's `ExpAvgMeasurement`).
 *
 * @internal
 */
class ExpAvg {
  private value = 0;
  private sum = 0;
  private count = 0;
  private readonly factor = 2 / (LONG_WINDOW + 1);

  add(sample: number): number {
    if (this.count < WARMUP) {
      this.count++;
      this.sum += sample;
      this.value = this.sum / this.count;
    } else {
      this.value = this.value * (1 - this.factor) + sample * this.factor;
    }
    return this.value;
  }

  scale(by: number): void {
    this.value *= by;
  }
}

/**
 * Per window: `gradient = clamp(longRtt / shortRtt, 0.5, 1)`, then
 * `newLimit = limit × gradient + queueSize` smoothed as `limit × 0.8 + newLimit × 0.2`, where
 * `shortRtt` is the window's mean RTT and `longRtt` an exponential average over ~600 windows
 * (decayed by 10% per window while it is more than twice `shortRtt`, so it recovers quickly after
 * a long overload).
 *
 * Guards against Gradient2's known runaway growth (beyond Netflix's formula, see the docs):
 * - no change while fewer than half the limit's calls are in flight (the app, not the dependency,
 *   limits throughput; Netflix's own guard);
 * - the `queueSize` headroom is added only while latency is flat (`gradient = 1`): otherwise,
 *   under modest overload (gradient ≈ 0.8), the constant headroom lets the limit creep upward as
 *   the long average catches up, without bound;
 * - a drop (Netflix ignores them here) counts as the steepest gradient, 0.5.
 *
 * @internal
 * @example
 * ```ts
 * import { Gradient2 } from './gradient2.js';
 * const g = new Gradient2({ initialLimit: 20, minLimit: 1, maxLimit: 200 });
 * g.update({ rtt: 10, inflight: 20, drop: false }); // 20.8: flat latency, the limit probes upward
 * ```
 */
export class Gradient2 implements LimitAlgorithm {
  private estimate: number;
  private readonly longRtt = new ExpAvg();

  constructor(private readonly bounds: LimitBounds) {
    this.estimate = bounds.initialLimit;
  }

  update(s: WindowSample): number {
    const limit = this.estimate;
    let gradient: number;
    if (s.drop) {
      if (s.rtt === s.rtt) this.measure(s.rtt);
      gradient = 0.5;
    } else {
      if (s.rtt !== s.rtt) return limit;
      const long = this.measure(s.rtt);
      if (s.inflight < limit / 2) return limit;
      const g = long / s.rtt;
      gradient = g < 0.5 ? 0.5 : g > 1 ? 1 : g;
    }
    let next = limit * gradient + (gradient === 1 ? QUEUE_SIZE : 0);
    next = limit * (1 - SMOOTHING) + next * SMOOTHING;
    return (this.estimate = clamp(next, this.bounds));
  }

  /** Adds an RTT to the long average; returns the average before any decay. */
  private measure(rtt: number): number {
    const long = this.longRtt.add(rtt);
    if (long / rtt > 2) this.longRtt.scale(0.9);
    return long;
  }
}
