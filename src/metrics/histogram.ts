/**
 * A fixed-size log-linear latency histogram (the idea behind HdrHistogram): O(1) recording, memory
 * independent of traffic, and percentiles within 2% relative error.
 *
 * Policies record into it through a rolling window; nothing here reads a clock or allocates per
 * call.
 *
 * @internal
 * @module
 */

/**
 * Latency statistics in milliseconds, as reported by {@link LatencyHistogram.summary}. Every field
 * is 0 when nothing was recorded.
 *
 * @internal
 * @example
 * ```ts
 * import { LatencyHistogram, type LatencySummary } from './metrics/histogram.js';
 * const h = new LatencyHistogram();
 * h.record(12.5);
 * const s: LatencySummary = h.summary(); // { count: 1, mean: 12.5, …, p99: 12.5 }
 * ```
 */
export interface LatencySummary {
  /** Number of recorded values. */
  count: number;
  /** Exact arithmetic mean (sum / count). */
  mean: number;
  /** Exact smallest recorded value. */
  min: number;
  /** Exact largest recorded value. */
  max: number;
  /** Median (nearest rank). */
  p50: number;
  /** 90th percentile. */
  p90: number;
  /** 95th percentile. */
  p95: number;
  /** 99th percentile. */
  p99: number;
  /** 99.9th percentile. */
  p999: number;
}

// Layout of the bucket array:
//   0                     exact zeros (reported as exactly 0)
//   1                     underflow: (0, 2^MIN_EXP) ms, i.e. under ~0.000977 ms
//   2 … 2 + LOG_BUCKETS-1 SUB_BUCKETS linear sub-buckets for each power of two 2^MIN_EXP … 2^MAX_EXP;
//                         the last one also takes everything above (clamped).
// 32 sub-buckets per power of two make each bucket 1/32 of its lower bound wide, so reporting the
// midpoint is off by at most 1/64 ≈ 1.56% of any value in it: inside the 2% promise with room for
// float rounding. 2^-10 ≈ 0.000977 ms ≤ 0.001 ms and 2^22 ≈ 4.19e6 ms > 3.6e6 ms (one hour), so the
// promised range [0.001, 3_600_000] ms is covered by exponents -10 … 21: 1024 + 2 buckets, 4 KiB.
const SUB_BITS = 5;
const SUB_BUCKETS = 1 << SUB_BITS;
const MIN_EXP = -10;
const MAX_EXP = 21;
const LOG_BUCKETS = (MAX_EXP - MIN_EXP + 1) * SUB_BUCKETS;
const FIRST_LOG = 2;
const BUCKETS = FIRST_LOG + LOG_BUCKETS;
const LAST = BUCKETS - 1;
const UNDERFLOW = 1;
const UNDERFLOW_TOP = 2 ** MIN_EXP;
const SATURATED = 0xffffffff;
// `hi >>> (20 - SUB_BITS)` of a positive double's high word is (biased exponent << SUB_BITS) | the
// top SUB_BITS mantissa bits, which is already a log-linear bucket number; subtracting this offset
// makes 2^MIN_EXP land on 0.
const SHIFT = 20 - SUB_BITS;
const OFFSET = (1023 + MIN_EXP) << SUB_BITS;

// One shared scratch double and its two 32-bit halves: reading the IEEE-754 bits is a store and a
// load, far cheaper than Math.log2 and exact at power-of-two boundaries (where log2 + floor can be
// off by one). Sharing it is safe: JavaScript is single-threaded and `record` never re-enters.
const F64 = new Float64Array(1);
const U32 = new Uint32Array(F64.buffer);
F64[0] = 1; // 0x3FF00000_00000000: find which half holds the sign, exponent and top mantissa bits
const HI = U32[1] === 0x3ff00000 ? 1 : 0;

/** The value reported for a bucket: its midpoint (0 for the zero bucket). */
function bucketValue(index: number): number {
  if (index === 0) return 0;
  if (index === UNDERFLOW) return UNDERFLOW_TOP / 2;
  const k = index - FIRST_LOG;
  const sub = k & (SUB_BUCKETS - 1);
  return 2 ** (MIN_EXP + (k >>> SUB_BITS)) * (1 + (sub + 0.5) / SUB_BUCKETS);
}

/** The bucket `record` puts a value of `v` ms in (`v` ≥ 0, as recorded). */
function bucketIndex(v: number): number {
  if (!(v > 0)) return 0;
  F64[0] = v;
  const k = ((U32[HI] as number) >>> SHIFT) - OFFSET;
  return k < 0 ? UNDERFLOW : k >= LOG_BUCKETS ? LAST : k + FIRST_LOG;
}

/**
 * The nearest rank (1-based) of percentile `p` among `n` values: ceil(p/100 × n), clamped to
 * [1, n]. A product that lands within float rounding of an integer counts as that integer, so
 * p = 99.9 of n = 1000 is rank 999 (plain `Math.ceil(99.9 / 100 * 1000)` gives 1000).
 */
function nearestRank(p: number, n: number): number {
  const x = (p * n) / 100;
  const r = Math.round(x);
  const rank = Math.abs(x - r) <= 1e-12 * (x > 1 ? x : 1) ? r : Math.ceil(x);
  return rank < 1 ? 1 : rank > n ? n : rank;
}

/**
 * A fixed-size log-linear histogram of non-negative latencies in milliseconds.
 *
 * Use it wherever a percentile is needed without keeping samples: {@link record} is O(1) and never
 * allocates after the first call, and memory (1026 `uint32` buckets, about 4 KiB, allocated on the
 * first record so an unused histogram costs only its fields) does not grow with traffic.
 *
 * Accuracy: `count`, `min`, `max` and `mean` are exact. Every percentile is within 2% relative
 * error of the exact nearest-rank percentile for values in [0.001, 3_600_000] ms (at most 1/64 from
 * reporting a bucket's midpoint, and clamped to the recorded [min, max]).
 *
 * Gotchas:
 * - 0 is reported exactly as 0. Values in (0, ~0.000977) ms share one bucket and are reported with
 *   an absolute error under 0.0005 ms (half a microsecond).
 * - Values above ~4.19e6 ms (about 70 minutes) fall into the top bucket; `max` stays exact, and a
 *   percentile landing there reports that bucket's midpoint clamped to [min, max].
 * - Negative and NaN inputs are recorded as 0 rather than throwing: this is the hot path and a
 *   clock hiccup must not fail a call. `Infinity` goes to the top bucket and makes `max` and
 *   `mean` infinite.
 * - Each bucket saturates at 2^32 − 1 values; `count` keeps counting.
 *
 * @internal
 * @example
 * ```ts
 * import { LatencyHistogram } from './metrics/histogram.js';
 * const h = new LatencyHistogram();
 * for (const ms of [1.2, 3.4, 250]) h.record(ms);
 * h.percentile(50); // ≈ 3.4 (within 2%)
 * h.max; // 250, exact
 * ```
 */
export class LatencyHistogram {
  /** Bucket counts; undefined until the first record so idle histograms stay tiny. */
  private counts: Uint32Array | undefined = undefined;
  private n = 0;
  private sum = 0;
  // ±Infinity while empty so the first record needs no special case; the getters report 0.
  private lo = Infinity;
  private hi = -Infinity;

  /**
   * Records one latency in milliseconds. O(1), no allocation after the first call, never throws.
   * Negative and NaN values are recorded as 0.
   */
  record(ms: number): void {
    const v = ms > 0 ? ms : 0; // `> 0` is false for NaN, negatives and -0: all become 0
    let counts = this.counts;
    if (counts === undefined) counts = this.counts = new Uint32Array(BUCKETS);
    let index = 0;
    if (v !== 0) {
      F64[0] = v;
      const k = ((U32[HI] as number) >>> SHIFT) - OFFSET;
      // Subnormals and anything under 2^MIN_EXP give k < 0; Infinity and huge values overflow.
      index = k < 0 ? UNDERFLOW : k >= LOG_BUCKETS ? LAST : k + FIRST_LOG;
    }
    const c = counts[index] as number;
    // A Uint32Array wraps silently; saturating keeps a runaway bucket from reading as empty.
    if (c !== SATURATED) counts[index] = c + 1;
    this.n++;
    this.sum += v;
    if (v < this.lo) this.lo = v;
    if (v > this.hi) this.hi = v;
  }

  /**
   * Records `count` latencies of exactly 0 ms at once: the same as `count` calls of `record(0)`.
   * Rolling windows count zero latencies (calls that started and ended in one event-loop turn)
   * with a plain counter and add them here when they read.
   */
  recordZeros(count: number): void {
    if (!(count > 0)) return;
    let counts = this.counts;
    if (counts === undefined) counts = this.counts = new Uint32Array(BUCKETS);
    const c = (counts[0] as number) + count;
    counts[0] = c > SATURATED ? SATURATED : c;
    this.n += count;
    if (this.lo > 0) this.lo = 0;
    if (this.hi < 0) this.hi = 0;
  }

  /** Forgets every value. Keeps the bucket array (zeroed) so reuse does not allocate. */
  reset(): void {
    // An empty histogram's array is already all zeros: skip the 4 KiB fill.
    if (this.counts !== undefined && this.n !== 0) this.counts.fill(0);
    this.n = 0;
    this.sum = 0;
    this.lo = Infinity;
    this.hi = -Infinity;
  }

  /**
   * Adds every value of `other` to this histogram, as if each had been recorded here. `other` is
   * not changed. Cost is proportional to the bucket count, not to the number of values.
   */
  mergeFrom(other: LatencyHistogram): void {
    const src = other.counts;
    if (other.n === 0 || src === undefined) return;
    let dst = this.counts;
    if (dst === undefined) dst = this.counts = new Uint32Array(BUCKETS);
    // Every value of `other` lies in [lo, hi], so its non-empty buckets do too: latencies of one
    // policy span a few octaves, a fraction of the 1026 buckets (registry snapshots merge ten
    // histograms per policy).
    const to = bucketIndex(other.hi);
    for (let i = bucketIndex(other.lo); i <= to; i++) {
      const s = src[i] as number;
      if (s !== 0) {
        const t = (dst[i] as number) + s;
        dst[i] = t > SATURATED ? SATURATED : t;
      }
    }
    this.n += other.n;
    this.sum += other.sum;
    if (other.lo < this.lo) this.lo = other.lo;
    if (other.hi > this.hi) this.hi = other.hi;
  }

  /** Number of recorded values. */
  get count(): number {
    return this.n;
  }

  /** Exact smallest recorded value; 0 when empty. */
  get min(): number {
    return this.n === 0 ? 0 : this.lo;
  }

  /** Exact largest recorded value; 0 when empty. */
  get max(): number {
    return this.n === 0 ? 0 : this.hi;
  }

  /** Exact mean (sum / count); 0 when empty. */
  get mean(): number {
    return this.n === 0 ? 0 : this.sum / this.n;
  }

  /**
   * Bytes held by the bucket array: 0 until the first record, then constant. For memory
   * accounting and tests.
   */
  get byteLength(): number {
    return this.counts === undefined ? 0 : this.counts.byteLength;
  }

  /**
   * The `p`th percentile (0–100, clamped; NaN counts as 0) by nearest rank: the value at rank
   * ceil(p/100 × count), reported as its bucket's midpoint clamped to [min, max]. `percentile(0)`
   * is `min`, `percentile(100)` is `max`; 0 when empty.
   */
  percentile(p: number): number {
    const n = this.n;
    if (n === 0) return 0;
    const q = p > 0 ? (p < 100 ? p : 100) : 0;
    return this.valueAtRank(nearestRank(q, n), 0, 0).value;
  }

  /**
   * Count, exact mean/min/max and the p50, p90, p95, p99 and p99.9 percentiles, in one pass over
   * the buckets. All zeros when empty.
   */
  summary(): LatencySummary {
    const n = this.n;
    if (n === 0) return { count: 0, mean: 0, min: 0, max: 0, p50: 0, p90: 0, p95: 0, p99: 0, p999: 0 };
    // Ranks grow with p, so each lookup resumes where the previous one stopped.
    const a = this.valueAtRank(nearestRank(50, n), 0, 0);
    const b = this.valueAtRank(nearestRank(90, n), a.index, a.before);
    const c = this.valueAtRank(nearestRank(95, n), b.index, b.before);
    const d = this.valueAtRank(nearestRank(99, n), c.index, c.before);
    const e = this.valueAtRank(nearestRank(99.9, n), d.index, d.before);
    return {
      count: n,
      mean: this.sum / n,
      min: this.lo,
      max: this.hi,
      p50: a.value,
      p90: b.value,
      p95: c.value,
      p99: d.value,
      p999: e.value,
    };
  }

  /**
   * Finds the bucket holding the `rank`th smallest value, scanning from bucket `start` with
   * `before` values in the buckets below it. Returns the clamped value plus where to resume.
   */
  private valueAtRank(rank: number, start: number, before: number): { value: number; index: number; before: number } {
    const counts = this.counts;
    if (counts === undefined) return { value: 0, index: 0, before: 0 };
    let seen = before;
    for (let i = start; i < BUCKETS; i++) {
      const c = counts[i] as number;
      if (seen + c >= rank) {
        // The exact value lies in this bucket and in [min, max], so clamping only moves the
        // midpoint closer to it.
        // The extreme ranks are min and max themselves, which we know exactly.
        const v = rank <= 1 ? this.lo : rank >= this.n ? this.hi : bucketValue(i);
        return { value: v < this.lo ? this.lo : v > this.hi ? this.hi : v, index: i, before: seen };
      }
      seen += c;
    }
    // Only reachable when a bucket saturated: the missing values are the largest we know of.
    return { value: this.hi, index: LAST, before: seen };
  }
}
