/**
 * Per-policy counters and latencies over a rolling time window, split into buckets that rotate by
 * time. The caller passes `now` (from its injected `Clock`); this module never reads a clock.
 *
 * @internal
 * @module
 */

import { LatencyHistogram, type LatencySummary } from './histogram.js';

/** Counter index: calls that reached the policy. @internal */
export const CALLS = 0;
/** Counter index: calls that succeeded. @internal */
export const SUCCESSES = 1;
/** Counter index: calls that failed. @internal */
export const FAILURES = 2;
/** Counter index: calls the policy rejected without running them. @internal */
export const REJECTIONS = 3;
/** Counter index: calls that timed out. @internal */
export const TIMEOUTS = 4;
/** Counter index: calls answered by a fallback. @internal */
export const FALLBACKS = 5;
/** Counter index: retry attempts. @internal */
export const RETRIES = 6;
/** Counter index: calls slower than the slow-call threshold. @internal */
export const SLOW_CALLS = 7;
/**
 * Number of counters (the length of {@link WindowSnapshot.counts}).
 *
 * @internal
 * @example
 * ```ts
 * import { RollingWindow, FAILURES, COUNTERS } from './metrics/rolling-window.js';
 * const counts = new RollingWindow().snapshot(0).counts;
 * counts.length === COUNTERS; // true
 * counts[FAILURES]; // 0
 * ```
 */
export const COUNTERS = 8;
/**
 * Slot-internal counter after the public ones: latencies of exactly 0 ms. A call that starts and
 * ends in one event-loop turn measures 0 ms by the turn clock; counting it here is one increment,
 * where a histogram write is a few dozen instructions. Snapshots add them to the histogram.
 */
const ZEROS = COUNTERS;
/** Numbers stored per slot: the counters, then {@link ZEROS}. */
const STRIDE = COUNTERS + 1;

/**
 * What a {@link RollingWindow} holds at one moment: counters summed and latencies merged over the
 * buckets still inside the window.
 *
 * @internal
 * @example
 * ```ts
 * import { RollingWindow, CALLS, type WindowSnapshot } from './metrics/rolling-window.js';
 * const s: WindowSnapshot = new RollingWindow().snapshot(0);
 * s.counts[CALLS]; // 0
 * ```
 */
export interface WindowSnapshot {
  /** The window's length in milliseconds. */
  windowMs: number;
  /** One total per counter, indexed by {@link CALLS} … {@link SLOW_CALLS}; length {@link COUNTERS}. */
  counts: number[];
  /** Latencies recorded in the window. */
  latency: LatencySummary;
}

/**
 * Counters and a latency histogram over the last `windowMs` milliseconds, kept in `buckets` slots
 * of `windowMs / buckets` each.
 *
 * Time `now` falls in bucket `Math.floor(now / bucketMs)`, which lives in slot `bucket % buckets`.
 * Each slot remembers its bucket number and is cleared lazily, when a newer bucket first writes to
 * it, so rotation costs nothing until time actually moves to a new bucket, never happens per call,
 * and a window left idle for hours reads empty (its slots' bucket numbers are too old to count).
 *
 * {@link add}, {@link latency} and {@link callSince} are O(1) and allocation-free (a comparison with
 * the newest bucket's end, then stores; a division only when time reaches a new bucket; a latency
 * of 0 ms is one counter increment, any other one histogram write). {@link snapshot} allocates
 * its result and costs O(buckets × histogram size), however many calls were recorded.
 *
 * Gotchas:
 * - A `now` earlier than the newest bucket seen so far (a late record, or a clock stepping back)
 *   counts into the newest bucket: time never moves backwards here, so late records cannot wipe
 *   newer data.
 * - The window covers the current, partly elapsed bucket plus the `buckets − 1` before it, so it
 *   spans between `windowMs − bucketMs` and `windowMs` of real time (as in resilience4j and
 *   Hystrix).
 * - Arguments are not validated: the caller validates options once at construction, and counter
 *   indices are the exported constants.
 *
 * @internal
 * @example
 * ```ts
 * import { RollingWindow, CALLS, FAILURES } from './metrics/rolling-window.js';
 * import { systemClock } from './clock.js';
 * const w = new RollingWindow(10_000, 10);
 * const now = systemClock.now(); // read once per call, passed to every record
 * w.add(now, CALLS);
 * w.add(now, FAILURES);
 * w.latency(now, 12.5);
 * w.snapshot(now).counts[FAILURES]; // 1
 * ```
 */
export class RollingWindow {
  /** The window's length in milliseconds. */
  readonly windowMs: number;
  private readonly slots: number;
  private readonly bucketMs: number;
  /** Counters of every slot, flat: slot s, counter c at `s * STRIDE + c` (then its zero latencies). */
  private readonly counts: Float64Array;
  /** Bucket number each slot holds; -Infinity for a slot never written (never inside a window). */
  private readonly epochs: Float64Array;
  /** One histogram per slot, each allocating its buckets on first use and reused after. */
  private readonly hists: LatencyHistogram[];
  /** Scratch histogram that snapshots merge into, so reading metrics does not allocate 4 KiB. */
  private readonly merged = new LatencyHistogram();
  // The newest bucket, its slot, and where it ends, cached so the per-call path is one comparison
  // (`now >= edge`) and no division. A `now` before the newest bucket's start (a late record)
  // also fails the comparison and lands in the newest bucket, as documented.
  private current = -Infinity;
  private edge = -Infinity;
  private base = 0;
  private hist: LatencyHistogram;
  // What {@link callSince} recorded into the newest bucket and not yet into `counts`: small-integer
  // field increments are the cheapest store there is, and the per-call path is nothing else.
  // They move into the bucket's slot when time leaves it, and before every read.
  private okCalls = 0;
  private failedCalls = 0;
  private zeroCalls = 0;

  /**
   * @param windowMs - Length of the window in milliseconds, > 0. @defaultValue 10000
   * @param buckets - Number of buckets (integer ≥ 1); finer buckets expire data more smoothly.
   *   @defaultValue 10
   */
  constructor(windowMs = 10000, buckets = 10) {
    this.windowMs = windowMs;
    this.slots = buckets;
    this.bucketMs = windowMs / buckets;
    this.counts = new Float64Array(buckets * STRIDE);
    this.epochs = new Float64Array(buckets).fill(-Infinity);
    this.hists = [];
    for (let i = 0; i < buckets; i++) this.hists.push(new LatencyHistogram());
    this.hist = this.hists[0] as LatencyHistogram;
  }

  /** Adds `n` (default 1) to counter `counter` (one of {@link CALLS} … {@link SLOW_CALLS}) at time `now`. */
  add(now: number, counter: number, n = 1): void {
    if (now >= this.edge) this.advance(now);
    const i = this.base + counter;
    this.counts[i] = (this.counts[i] as number) + n;
  }

  /** Records a latency of `ms` milliseconds at time `now`. */
  latency(now: number, ms: number): void {
    if (now >= this.edge) this.advance(now);
    if (ms > 0) this.hist.record(ms);
    else {
      const i = this.base + ZEROS;
      this.counts[i] = (this.counts[i] as number) + 1;
    }
  }

  /**
   * Records one call that ran, started at `started` (same clock as `now`), in one step:
   * {@link CALLS} and `counter` (its outcome) plus one, and its latency `now - started`. The same
   * as `add(now, CALLS); add(now, counter); latency(now, now - started)`, for the per-call path.
   * The latency is worked out here, so the caller passes two times it already holds rather than
   * a new number (a double passed to a call that is not inlined is a heap allocation in V8).
   */
  callSince(now: number, counter: number, started: number): void {
    if (now >= this.edge) this.advance(now);
    if (counter === SUCCESSES) this.okCalls++;
    else if (counter === FAILURES) this.failedCalls++;
    else this.countOther(counter);
    // `now > started` is false for equal times, a later start and NaN: all are recorded as 0,
    // as `latency` records 0, negative and NaN latencies.
    if (now > started) this.hist.record(now - started);
    else this.zeroCalls++;
  }

  /**
   * A call counted under another outcome than success or failure, straight into its slot. A
   * method of its own: the per-call path above stays small enough for the JIT to inline (+70
   * instructions per breaker call measured with this written out there).
   */
  private countOther(counter: number): void {
    const b = this.base;
    this.counts[b] = (this.counts[b] as number) + 1; // CALLS is counter 0
    this.counts[b + counter] = (this.counts[b + counter] as number) + 1;
  }

  /**
   * Counters summed and latencies merged over the buckets inside the window ending at `now`.
   * Does not change what the window holds.
   */
  snapshot(now: number): WindowSnapshot {
    // A stale `now` reads the window ending at the newest bucket, the same rule as recording.
    let epoch = Math.floor(now / this.bucketMs);
    if (epoch < this.current) epoch = this.current;
    const oldest = epoch - this.slots; // exclusive
    this.flush();
    const counts = new Array<number>(COUNTERS).fill(0);
    const merged = this.merged;
    merged.reset();
    for (let s = 0; s < this.slots; s++) {
      const e = this.epochs[s] as number;
      if (e <= oldest || e > epoch) continue;
      const b = s * STRIDE;
      for (let c = 0; c < COUNTERS; c++) counts[c] = (counts[c] as number) + (this.counts[b + c] as number);
      merged.mergeFrom(this.hists[s] as LatencyHistogram);
      merged.recordZeros(this.counts[b + ZEROS] as number);
    }
    return { windowMs: this.windowMs, counts, latency: merged.summary() };
  }

  /**
   * Latency percentiles (each 0–100, as {@link LatencyHistogram.percentile}) over the window ending
   * at `now`, in the order asked: for readers that need others than the summary's five (the
   * Hystrix stream draws 0, 25, 50, 75, 90, 95, 99, 99.5 and 100). Costs one {@link snapshot}.
   */
  percentiles(now: number, ps: readonly number[]): number[] {
    this.snapshot(now); // leaves the window's latencies merged in `merged`
    return ps.map((p) => this.merged.percentile(p));
  }

  /** Forgets everything. Keeps the histograms' arrays for reuse. */
  reset(): void {
    this.counts.fill(0);
    this.epochs.fill(-Infinity);
    for (const h of this.hists) h.reset();
    this.current = -Infinity;
    this.edge = -Infinity;
    this.base = 0;
    this.hist = this.hists[0] as LatencyHistogram;
    this.okCalls = this.failedCalls = this.zeroCalls = 0;
  }

  /** Moves what {@link callSince} counted in fields into the newest bucket's slot. */
  private flush(): void {
    const ok = this.okCalls;
    const failed = this.failedCalls;
    const zeros = this.zeroCalls;
    if (ok + failed + zeros === 0) return;
    const counts = this.counts;
    const b = this.base;
    counts[b + CALLS] = (counts[b + CALLS] as number) + ok + failed;
    counts[b + SUCCESSES] = (counts[b + SUCCESSES] as number) + ok;
    counts[b + FAILURES] = (counts[b + FAILURES] as number) + failed;
    counts[b + ZEROS] = (counts[b + ZEROS] as number) + zeros;
    this.okCalls = this.failedCalls = this.zeroCalls = 0;
  }

  /** `now` reached (nearly) the end of the newest bucket, or this is the first record. */
  private advance(now: number): void {
    const epoch = Math.floor(now / this.bucketMs);
    // Just before the edge, or a late `now`: still the current bucket.
    if (epoch > this.current) this.rotate(epoch);
  }

  /**
   * Moves the current bucket forward to `epoch`, clearing its slot if it held an older bucket.
   * Called at most once per bucket of elapsed time; slots skipped over by an idle gap keep their
   * old data but fall outside every later window by their bucket number.
   */
  private rotate(epoch: number): void {
    // A `now` of Infinity would map to no slot: keep counting into the current bucket instead.
    if (epoch === Infinity) return;
    // What the fields hold belongs to the bucket time is leaving.
    this.flush();
    const slots = this.slots;
    // `%` keeps the sign of a negative epoch (a clock before 0); fold it into [0, slots).
    let s = epoch % slots;
    if (s < 0) s += slots;
    const b = s * STRIDE;
    const hist = this.hists[s] as LatencyHistogram;
    if (this.epochs[s] !== epoch) {
      this.epochs[s] = epoch;
      this.counts.fill(0, b, b + STRIDE);
      hist.reset();
    }
    this.current = epoch;
    // A hair (a few ulps) before the bucket's end: below it, `Math.floor(now / bucketMs)` is
    // certainly `epoch` whatever the float rounding, so skipping the division is exact; in the
    // hair, `advance` divides and decides as `snapshot` does.
    const end = (epoch + 1) * this.bucketMs;
    this.edge = end - Math.abs(end) * 4 * Number.EPSILON;
    this.base = b;
    this.hist = hist;
  }
}
