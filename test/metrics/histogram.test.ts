import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { LatencyHistogram, type LatencySummary } from '../../src/metrics/histogram.js';

/** Exact nearest rank, in integer arithmetic so 99.9% of 1000 is rank 999 (not 1000 by float error). */
function exactPercentile(sorted: readonly number[], permille: number): number {
  const n = sorted.length;
  const rank = Math.max(1, Math.ceil((permille * n) / 1000));
  return sorted[rank - 1] as number;
}

const PERCENTILES: ReadonlyArray<[keyof LatencySummary, number, number]> = [
  ['p50', 50, 500],
  ['p90', 90, 900],
  ['p95', 95, 950],
  ['p99', 99, 990],
  ['p999', 99.9, 999],
];

function relErr(actual: number, expected: number): number {
  return expected === 0 ? Math.abs(actual) : Math.abs(actual - expected) / expected;
}

function histOf(values: readonly number[]): LatencyHistogram {
  const h = new LatencyHistogram();
  for (const v of values) h.record(v);
  return h;
}

// Latencies spanning every scale in the promised range [0.001, 3.6e6] ms: a mantissa times a power
// of ten (so sets mix microseconds with hours), raw doubles, and power-of-two bucket edges.
const latency = fc.oneof(
  fc
    .tuple(fc.double({ min: 1, max: 10, noNaN: true }), fc.integer({ min: -3, max: 6 }))
    .map(([m, e]) => Math.min(3.6e6, Math.max(0.001, m * 10 ** e))),
  fc.double({ min: 0.001, max: 3.6e6, noNaN: true }),
  fc.integer({ min: -9, max: 21 }).map((e) => 2 ** e * (1 + 31 / 32)),
  fc.integer({ min: -9, max: 21 }).map((e) => 2 ** e),
);
const latencies = fc.oneof(
  fc.array(latency, { minLength: 1, maxLength: 2000 }),
  // Few distinct values repeated many times: ranks land on bucket boundaries.
  fc
    .tuple(fc.array(latency, { minLength: 1, maxLength: 5 }), fc.array(fc.nat(), { minLength: 1, maxLength: 2000 }))
    .map(([distinct, picks]) => picks.map((i) => distinct[i % distinct.length] as number)),
);

describe('LatencyHistogram', () => {
  it('reports every percentile within 2% of the exact nearest-rank percentile', () => {
    fc.assert(
      fc.property(latencies, (values) => {
        const h = histOf(values);
        const sorted = [...values].sort((a, b) => a - b);
        const s = h.summary();
        for (const [key, p, permille] of PERCENTILES) {
          const exact = exactPercentile(sorted, permille);
          expect(relErr(s[key], exact)).toBeLessThanOrEqual(0.02);
          expect(relErr(h.percentile(p), exact)).toBeLessThanOrEqual(0.02);
          expect(h.percentile(p)).toBe(s[key]);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('keeps count, min, max and mean exact', () => {
    fc.assert(
      fc.property(latencies, (values) => {
        const h = histOf(values);
        const s = h.summary();
        const sum = values.reduce((a, b) => a + b, 0);
        expect(h.count).toBe(values.length);
        expect(h.min).toBe(Math.min(...values));
        expect(h.max).toBe(Math.max(...values));
        expect(h.mean).toBe(sum / values.length);
        expect(s).toMatchObject({ count: h.count, min: h.min, max: h.max, mean: h.mean });
        expect(h.percentile(0)).toBe(h.min);
        expect(h.percentile(100)).toBe(h.max);
      }),
      { numRuns: 200 },
    );
  });

  it('merging keeps the zero, underflow and top buckets (it scans only the range in use)', () => {
    for (const values of [[0, 0, 5], [1e-6, 3], [0, 1e-7, 2, 5e6, 9e6], [7, Infinity], [-1, NaN, 4]]) {
      const other = histOf(values);
      const merged = histOf([12]);
      merged.mergeFrom(other);
      const both = histOf([12, ...values]);
      expect(merged.count).toBe(both.count);
      for (let p = 0; p <= 100; p += 5) expect(merged.percentile(p), `${values.join()} p${p}`).toBe(both.percentile(p));
    }
  });

  it('merging equals recording both sets', () => {
    fc.assert(
      fc.property(fc.array(latency, { maxLength: 500 }), fc.array(latency, { maxLength: 500 }), (a, b) => {
        const merged = histOf(a);
        const other = histOf(b);
        const before = other.summary();
        merged.mergeFrom(other);
        const both = histOf([...a, ...b]);
        const m = merged.summary();
        const w = both.summary();
        // The mean may differ in the last bits: sum(a) + sum(b) adds in a different order.
        expect(m.mean).toBeCloseTo(w.mean, 6);
        expect({ ...m, mean: 0 }).toEqual({ ...w, mean: 0 });
        for (let p = 0; p <= 100; p += 12.5) expect(merged.percentile(p)).toBe(both.percentile(p));
        expect(other.summary()).toEqual(before); // the source is left alone
      }),
      { numRuns: 100 },
    );
  });

  it('merges into and from empty histograms', () => {
    const empty = new LatencyHistogram();
    const h = histOf([1, 2, 3]);
    h.mergeFrom(empty);
    expect(h.summary()).toEqual(histOf([1, 2, 3]).summary());
    empty.mergeFrom(h);
    expect(empty.summary()).toEqual(h.summary());
    const idle = new LatencyHistogram();
    idle.mergeFrom(new LatencyHistogram());
    expect(idle.byteLength).toBe(0);
  });

  it('reports all zeros when empty', () => {
    const h = new LatencyHistogram();
    expect(h.summary()).toEqual({ count: 0, mean: 0, min: 0, max: 0, p50: 0, p90: 0, p95: 0, p99: 0, p999: 0 });
    expect([h.count, h.min, h.max, h.mean, h.percentile(50)]).toEqual([0, 0, 0, 0, 0]);
  });

  it('reports zeros exactly as 0', () => {
    const h = histOf([0, 0, 0, 5]);
    expect(h.percentile(50)).toBe(0);
    expect(h.percentile(75)).toBe(0);
    expect(h.min).toBe(0);
    expect(relErr(h.percentile(100), 5)).toBe(0);
    const zeros = histOf(new Array<number>(1000).fill(0));
    expect(zeros.summary()).toEqual({ count: 1000, mean: 0, min: 0, max: 0, p50: 0, p90: 0, p95: 0, p99: 0, p999: 0 });
  });

  it('recordZeros(n) is n calls of record(0), before or after other values', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0.001, max: 1e5, noNaN: true }), { maxLength: 50 }),
        fc.nat({ max: 500 }),
        fc.boolean(),
        (values, n, zerosFirst) => {
          const a = new LatencyHistogram();
          const b = new LatencyHistogram();
          if (zerosFirst) a.recordZeros(n);
          for (const v of values) a.record(v);
          if (!zerosFirst) a.recordZeros(n);
          for (let i = 0; i < n; i++) b.record(0);
          for (const v of values) b.record(v);
          expect(a.summary()).toEqual(b.summary());
        },
      ),
    );
    const h = new LatencyHistogram();
    h.recordZeros(0);
    expect(h.byteLength).toBe(0); // nothing recorded, nothing allocated
  });

  it('records negative and NaN values as 0 without throwing', () => {
    const h = histOf([-1, Number.NaN, -0, -Infinity]);
    expect(h.summary()).toEqual({ count: 4, mean: 0, min: 0, max: 0, p50: 0, p90: 0, p95: 0, p99: 0, p999: 0 });
    expect(Object.is(h.min, -0)).toBe(false);
  });

  it('is coarser but bounded below 0.001 ms (absolute error under 0.0005 ms)', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: Number.MIN_VALUE, max: 0.000976, noNaN: true }), { minLength: 1, maxLength: 200 }), (values) => {
        const h = histOf(values);
        const sorted = [...values].sort((a, b) => a - b);
        for (const [key, , permille] of PERCENTILES) {
          expect(Math.abs(h.summary()[key] - exactPercentile(sorted, permille))).toBeLessThan(0.0005);
        }
      }),
    );
  });

  it('clamps values above the top bucket but keeps max exact', () => {
    const single = histOf([1e9]);
    expect(single.summary()).toMatchObject({ max: 1e9, min: 1e9, p50: 1e9, p999: 1e9 });
    const h = histOf([1e8, 1e9, 1e10]);
    expect(h.max).toBe(1e10);
    expect(h.percentile(100)).toBe(1e10);
    expect(h.percentile(50)).toBeGreaterThanOrEqual(1e8); // clamped to [min, max]
    expect(h.percentile(50)).toBeLessThanOrEqual(1e10);
  });

  it('uses the nearest rank, not a float-rounded one', () => {
    // ceil(99.9 / 100 * 1000) is 1000 in floating point; the nearest rank is 999.
    const h = histOf([...new Array<number>(999).fill(1), 1000]);
    expect(relErr(h.summary().p999, 1)).toBeLessThanOrEqual(0.02);
    expect(h.percentile(100)).toBe(1000);
  });

  it('clamps p to [0, 100]', () => {
    const h = histOf([1, 2, 3, 4]);
    expect(h.percentile(-5)).toBe(1);
    expect(h.percentile(Number.NaN)).toBe(1);
    expect(h.percentile(500)).toBe(4);
  });

  it('does not grow with traffic and allocates lazily', () => {
    const h = new LatencyHistogram();
    expect(h.byteLength).toBe(0);
    h.record(1);
    const size = h.byteLength;
    expect(size).toBeGreaterThan(0);
    expect(size).toBeLessThanOrEqual(8192);
    let x = 0.0001;
    for (let i = 0; i < 1_000_000; i++) {
      h.record(x);
      x = x * 1.0007 > 5e6 ? 0.0001 : x * 1.0007;
    }
    expect(h.byteLength).toBe(size);
    expect(h.count).toBe(1_000_001);
  });

  it('reset forgets values and keeps the array', () => {
    const h = histOf([1, 2, 3]);
    const size = h.byteLength;
    h.reset();
    expect(h.summary().count).toBe(0);
    expect(h.byteLength).toBe(size);
    h.record(7);
    expect(h.summary()).toMatchObject({ count: 1, min: 7, max: 7, p50: 7, mean: 7 });
  });
});
