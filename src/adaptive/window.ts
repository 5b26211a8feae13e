/**
 * Samples of an adaptive limit, aggregated into windows before an algorithm sees them (after
 * Netflix concurrency-limits' `WindowedLimit`): one update per window instead of one per call,
 * so a burst of completions cannot move the limit many steps before the effect of the first step
 * is measurable.
 *
 * Internal: not exported from the package.
 * @module
 */

/**
 * One window's aggregate, handed to a {@link LimitAlgorithm}.
 *
 * @internal
 */
export interface WindowSample {
  /** Mean round-trip time of the window's calls in ms; `NaN` when only sub-threshold drops came in. */
  readonly rtt: number;
  /** The most calls in flight when any of the window's calls started (itself included). */
  readonly inflight: number;
  /** A call in the window was dropped (a handled failure or a timeout). */
  readonly drop: boolean;
}

/**
 * A limit algorithm: state plus one update per window. Returns the new (possibly fractional)
 * limit, already clamped to `[minLimit, maxLimit]`.
 *
 * @internal
 * @example
 * ```ts
 * import type { LimitAlgorithm } from './window.js';
 * const fixed: LimitAlgorithm = { update: () => 10 };
 * ```
 */
export interface LimitAlgorithm {
  update(sample: WindowSample): number;
}

/** Bounds shared by every algorithm. @internal */
export interface LimitBounds {
  readonly initialLimit: number;
  readonly minLimit: number;
  readonly maxLimit: number;
}

/** Clamps `value` to the bounds. @internal */
export function clamp(value: number, b: LimitBounds): number {
  return value < b.minLimit ? b.minLimit : value > b.maxLimit ? b.maxLimit : value;
}

/**
 * Samples faster than this say nothing about a dependency's queueing (a synchronous or cached
 * call) and are ignored unless they are drops; Netflix's `WindowedLimit` uses the same 100 µs.
 *
 * @internal
 */
export const MIN_RTT_MS = 0.1;

/**
 * Collects samples until the window is ready: at least `minSamples` samples, and at least
 * `clamp(2 × the window's fastest RTT, minMs, maxMs)` since the previous window closed. A window that has
 * not enough samples stays open (Netflix discards it; carrying it over lets a low-traffic
 * service still adapt, only more slowly).
 *
 * @internal
 * @example
 * ```ts
 * import { SampleWindow } from './window.js';
 * const w = new SampleWindow(100, 100, 2);
 * w.add(0, 10, 1, false);
 * w.add(5, 12, 2, false); // true: the first window closes at minSamples
 * w.rtt; // 11
 * w.reset();
 * w.add(50, 10, 1, false);
 * w.add(105, 10, 1, false); // true: 100 ms after the previous window closed
 * ```
 */
export class SampleWindow implements WindowSample {
  // Windows are contiguous: each starts when the previous one closed. The first has no start
  // (as Netflix's first window), so it closes as soon as it holds `minSamples`.
  private start = -Infinity;
  private count = 0;
  private rttSum = 0;
  private rttCount = 0;
  private minRtt = Infinity;
  inflight = 0;
  drop = false;

  constructor(
    private readonly minMs: number,
    private readonly maxMs: number,
    private readonly minSamples: number,
  ) {}

  /** Mean RTT of the window (`NaN` when it holds only sub-threshold drops). */
  get rtt(): number {
    return this.rttCount === 0 ? NaN : this.rttSum / this.rttCount;
  }

  /** Adds a sample that ended at `now`; true when the window is ready (read it, then `reset()`). */
  add(now: number, rtt: number, inflight: number, drop: boolean): boolean {
    this.count++;
    if (rtt >= MIN_RTT_MS) {
      this.rttSum += rtt;
      this.rttCount++;
      if (rtt < this.minRtt) this.minRtt = rtt;
    }
    if (inflight > this.inflight) this.inflight = inflight;
    if (drop) this.drop = true;
    if (this.count < this.minSamples) return false;
    const twice = this.minRtt * 2;
    const length = twice < this.minMs ? this.minMs : twice > this.maxMs ? this.maxMs : twice;
    if (now - this.start < length) return false;
    this.start = now;
    return true;
  }

  /** Starts a new, empty window. */
  reset(): void {
    this.count = 0;
    this.rttSum = 0;
    this.rttCount = 0;
    this.minRtt = Infinity;
    this.inflight = 0;
    this.drop = false;
  }
}
