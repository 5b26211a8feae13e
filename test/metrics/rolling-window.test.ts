import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  RollingWindow,
  CALLS,
  SUCCESSES,
  FAILURES,
  REJECTIONS,
  TIMEOUTS,
  FALLBACKS,
  RETRIES,
  SLOW_CALLS,
  COUNTERS,
} from '../../src/metrics/rolling-window.js';
import { LatencyHistogram } from '../../src/metrics/histogram.js';

const zeros = (): number[] => new Array<number>(COUNTERS).fill(0);

describe('RollingWindow', () => {
  it('exports distinct counter indices 0 … COUNTERS-1', () => {
    const all = [CALLS, SUCCESSES, FAILURES, REJECTIONS, TIMEOUTS, FALLBACKS, RETRIES, SLOW_CALLS];
    expect(all).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(COUNTERS).toBe(all.length);
  });

  it('starts empty with the default 10 s window', () => {
    const s = new RollingWindow().snapshot(0);
    expect(s.windowMs).toBe(10000);
    expect(s.counts).toEqual(zeros());
    expect(s.latency).toEqual({ count: 0, mean: 0, min: 0, max: 0, p50: 0, p90: 0, p95: 0, p99: 0, p999: 0 });
  });

  it('expires counts bucket by bucket as time passes', () => {
    const w = new RollingWindow(1000, 10); // 100 ms buckets
    // Bucket k (time k*100 … k*100+99) gets k+1 calls and one latency of k+1 ms.
    for (let k = 0; k < 10; k++) {
      w.add(k * 100 + 50, CALLS, k + 1);
      w.latency(k * 100 + 50, k + 1);
    }
    expect(w.snapshot(999).counts[CALLS]).toBe(55);
    expect(w.snapshot(999).latency.count).toBe(10);
    for (let gone = 1; gone <= 10; gone++) {
      const now = 900 + gone * 100; // bucket 9 + gone: buckets 0 … gone-1 have left the window
      const expected = 55 - (gone * (gone + 1)) / 2;
      expect(w.snapshot(now).counts[CALLS]).toBe(expected);
      expect(w.snapshot(now + 99).counts[CALLS]).toBe(expected); // whole buckets, not partial
      const lat = w.snapshot(now).latency;
      expect(lat.count).toBe(10 - gone);
      if (gone < 10) expect(lat.min).toBe(gone + 1);
    }
  });

  it('reads empty after an idle gap longer than the window, then counts afresh', () => {
    const w = new RollingWindow(10_000, 10);
    for (let t = 0; t < 10_000; t += 7) {
      w.add(t, CALLS);
      w.add(t, FAILURES);
      w.latency(t, 5);
    }
    const later = 3 * 3_600_000; // three hours idle
    expect(w.snapshot(later).counts).toEqual(zeros());
    expect(w.snapshot(later).latency.count).toBe(0);
    w.add(later, CALLS);
    w.latency(later, 42);
    const s = w.snapshot(later + 1);
    expect(s.counts[CALLS]).toBe(1);
    expect(s.counts[FAILURES]).toBe(0);
    expect(s.latency).toMatchObject({ count: 1, min: 42, max: 42, p50: 42 });
  });

  it('counts every record into its own bucket, many in one bucket and either side of an edge', () => {
    const w = new RollingWindow(1000, 10); // 100 ms buckets: bucket 12 is 1200 … 1299.999…
    for (let i = 0; i < 10_000; i++) {
      w.add(1234, CALLS);
      w.latency(1234, 1);
    }
    for (let t = 1235; t < 1300; t++) w.add(t, CALLS); // 65 more, still bucket 12
    w.add(1299.999, CALLS); // a hair before the edge: bucket 12
    w.callSince(1299.9999, SUCCESSES, 1299); // the per-call path, its counts held in fields
    w.add(1300, CALLS); // on the edge: bucket 13
    w.callSince(1300, FAILURES, 1300);
    expect(w.snapshot(1300).counts[CALLS]).toBe(10_069);
    // Read bucket by bucket as they leave the window: at 2199 both are in it (buckets 12 … 21),
    // at 2200 bucket 12 has left, at 2300 bucket 13 too.
    const both = w.snapshot(2199);
    expect(both.counts[CALLS]).toBe(10_069);
    expect(both.counts[SUCCESSES]).toBe(1);
    expect(both.counts[FAILURES]).toBe(1);
    expect(both.latency.count).toBe(10_002);
    const thirteen = w.snapshot(2200);
    expect(thirteen.counts[CALLS]).toBe(2);
    expect(thirteen.counts[SUCCESSES]).toBe(0);
    expect(thirteen.counts[FAILURES]).toBe(1);
    expect(thirteen.latency).toMatchObject({ count: 1, max: 0 }); // the 0 ms call
    expect(w.snapshot(2300).counts).toEqual(zeros());
    // Reading changed nothing: the whole window once more.
    expect(w.snapshot(1300).counts[CALLS]).toBe(10_069);
  });

  it.each([1_000, 1_000_000])('returns exact counts after %i records', (n) => {
    const w = new RollingWindow(10_000, 10);
    // Spread over 5 s so several buckets are in play.
    for (let i = 0; i < n; i++) {
      const now = (i * 5000) / n;
      w.add(now, CALLS);
      w.add(now, i % 4 === 0 ? FAILURES : SUCCESSES);
      if (i % 10 === 0) w.add(now, RETRIES, 2);
      w.latency(now, (i % 100) + 1);
    }
    const s = w.snapshot(5000);
    expect(s.counts[CALLS]).toBe(n);
    expect(s.counts[FAILURES]).toBe(n / 4);
    expect(s.counts[SUCCESSES]).toBe((3 * n) / 4);
    expect(s.counts[RETRIES]).toBe((2 * n) / 10);
    expect(s.latency.count).toBe(n);
    expect(s.latency.min).toBe(1);
    expect(s.latency.max).toBe(100);
    expect(Math.abs(s.latency.p50 - 50) / 50).toBeLessThanOrEqual(0.02);
  });

  it('counts a stale now into the newest bucket instead of wiping newer data', () => {
    const w = new RollingWindow(1000, 10);
    w.add(5000, CALLS);
    w.add(4000, CALLS); // from a clock stepping back, or a late record: lands in bucket 50
    w.latency(4000, 3);
    expect(w.snapshot(5000).counts[CALLS]).toBe(2);
    expect(w.snapshot(4000).counts[CALLS]).toBe(2); // a stale snapshot reads the newest window
    expect(w.snapshot(5900).counts[CALLS]).toBe(2);
    expect(w.snapshot(6000).counts[CALLS]).toBe(0);
  });

  it('works with fractional bucket lengths and negative times', () => {
    const w = new RollingWindow(1000, 3); // 333.33… ms buckets
    w.add(-10, CALLS); // bucket -1
    w.add(0, CALLS);
    w.add(333, CALLS);
    w.add(334, CALLS);
    expect(w.snapshot(334).counts[CALLS]).toBe(4);
    expect(w.snapshot(667).counts[CALLS]).toBe(3); // bucket 2: bucket -1 has left
    expect(w.snapshot(1001).counts[CALLS]).toBe(1); // bucket 3: only 334 (bucket 1) is left
  });

  it('reset forgets everything', () => {
    const w = new RollingWindow(1000, 10);
    w.add(100, CALLS);
    w.latency(100, 5);
    w.reset();
    expect(w.snapshot(100).counts).toEqual(zeros());
    expect(w.snapshot(100).latency.count).toBe(0);
    w.add(50, CALLS); // time may restart after a reset
    expect(w.snapshot(50).counts[CALLS]).toBe(1);
  });

  it('callSince(now, counter, started) is add(CALLS) + add(counter) + latency(now - started)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ dt: fc.integer({ min: 0, max: 700 }), counter: fc.constantFrom(SUCCESSES, FAILURES, REJECTIONS), ms: fc.oneof(fc.double({ min: 0, max: 1e4, noNaN: true }), fc.constant(0), fc.constant(Number.NaN)) }), { maxLength: 100 }),
        (ops) => {
          const a = new RollingWindow(1000, 7);
          const b = new RollingWindow(1000, 7);
          let now = 0;
          for (const o of ops) {
            now += o.dt;
            const started = now - o.ms; // NaN for a NaN latency: an untimed start
            a.callSince(now, o.counter, started);
            b.add(now, CALLS);
            b.add(now, o.counter);
            b.latency(now, now - started);
          }
          expect(a.snapshot(now)).toEqual(b.snapshot(now));
        },
      ),
    );
  });

  it('reports zero latencies (counted apart from the histogram) as a histogram of every latency would', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.constant(0), fc.double({ min: 0.001, max: 1e4, noNaN: true })), { maxLength: 200 }),
        (latencies) => {
          const w = new RollingWindow(1000, 4);
          const reference = new LatencyHistogram();
          latencies.forEach((ms, i) => {
            const latency = 10 - (10 - ms); // what callSince works out from a start of 10 - ms
            if (i % 2 === 0) w.callSince(10, SUCCESSES, 10 - ms);
            else w.latency(10, latency);
            reference.record(latency);
          });
          expect(w.snapshot(10).latency).toEqual(reference.summary());
        },
      ),
    );
  });

  it('forgets zero latencies with their bucket', () => {
    const w = new RollingWindow(1000, 10);
    w.callSince(0, SUCCESSES, 0);
    w.callSince(0, SUCCESSES, 0);
    w.callSince(150, SUCCESSES, 142); // 8 ms
    expect(w.snapshot(150).latency).toMatchObject({ count: 3, min: 0, p50: 0 });
    // Bucket 0 leaves the window at 1000; its slot is reused by bucket 10 without its zeros.
    w.callSince(1000, FAILURES, 996); // 4 ms
    expect(w.snapshot(1000).latency).toMatchObject({ count: 2, min: 4 });
    expect(w.snapshot(1000).counts[CALLS]).toBe(2);
  });

  it('puts a time just under a rounded-up bucket end into the bucket Math.floor says', () => {
    // 17 × 0.1 is 1.7000000000000002, yet Math.floor(1.7 / 0.1) is 17: 1.7 belongs to bucket 17.
    const w = new RollingWindow(1, 10); // 0.1 ms buckets
    w.callSince(1.65, SUCCESSES, 0.65); // bucket 16
    w.callSince(1.7, SUCCESSES, 0.7);
    expect(Math.floor(1.7 / 0.1)).toBe(17);
    expect(w.snapshot(2.65).counts[CALLS]).toBe(1); // buckets 17 … 26: only the second call
  });

  it('buckets exactly by Math.floor(now / bucketMs), also within float rounding of a bucket edge', () => {
    // Times at k × bucketMs and a few ulps either side, for bucket lengths that are not exact
    // in binary (0.1, 1000/3, …): the per-call path skips the division, and must still agree.
    const near = fc.tuple(fc.integer({ min: -50, max: 400 }), fc.integer({ min: -4, max: 4 }));
    fc.assert(
      fc.property(fc.constantFrom(0.1, 0.3, 1 / 3, 1000 / 3, 7.7, 1e-3 * 3), fc.integer({ min: 1, max: 12 }), fc.array(near, { minLength: 1, maxLength: 60 }), (bucketMs, buckets, points) => {
        const times = points
          .map(([k, ulps]) => {
            const t = k * bucketMs;
            return t + ulps * Math.abs(t) * Number.EPSILON;
          })
          .sort((x, y) => x - y);
        const w = new RollingWindow(bucketMs * buckets, buckets);
        const step = (bucketMs * buckets) / buckets; // the window's own bucket length
        for (const t of times) w.callSince(t, SUCCESSES, t - 1);
        // Read the window as it slides past the last record, bucket by bucket: every record must
        // leave it exactly when its own bucket does.
        const last = Math.floor((times[times.length - 1] as number) / step);
        for (let e = last; e <= last + buckets; e++) {
          const at = (e + 0.5) * step;
          const epoch = Math.floor(at / step);
          const expected = times.filter((t) => Math.floor(t / step) > epoch - buckets).length;
          expect(w.snapshot(at).counts[CALLS]).toBe(expected);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('matches a model that keeps every event', () => {
    const op = fc.record({
      dt: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 150 }), fc.integer({ min: 0, max: 5000 })),
      kind: fc.constantFrom('add', 'latency', 'snapshot'),
      counter: fc.integer({ min: 0, max: COUNTERS - 1 }),
      n: fc.integer({ min: 1, max: 5 }),
      ms: fc.double({ min: 0.001, max: 1000, noNaN: true }),
    });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 2000 }), fc.array(op, { maxLength: 200 }), (buckets, windowMs, ops) => {
        const w = new RollingWindow(windowMs, buckets);
        const bucketMs = windowMs / buckets;
        const events: { epoch: number; counter: number; n: number; ms?: number }[] = [];
        let now = 0;
        for (const o of ops) {
          now += o.dt;
          const epoch = Math.floor(now / bucketMs);
          if (o.kind === 'add') {
            w.add(now, o.counter, o.n);
            events.push({ epoch, counter: o.counter, n: o.n });
          } else if (o.kind === 'latency') {
            w.latency(now, o.ms);
            events.push({ epoch, counter: -1, n: 0, ms: o.ms });
          } else {
            const live = events.filter((e) => e.epoch > epoch - buckets);
            const counts = zeros();
            for (const e of live) if (e.counter >= 0) counts[e.counter] = (counts[e.counter] as number) + e.n;
            const lats = live.flatMap((e) => (e.ms === undefined ? [] : [e.ms]));
            const s = w.snapshot(now);
            expect(s.counts).toEqual(counts);
            expect(s.latency.count).toBe(lats.length);
            expect(s.latency.max).toBe(lats.length === 0 ? 0 : Math.max(...lats));
            expect(s.latency.min).toBe(lats.length === 0 ? 0 : Math.min(...lats));
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('percentiles', () => {
  it('reads any percentile of the window, as the snapshot merges it', () => {
    const w = new RollingWindow(1000, 10);
    for (let i = 1; i <= 100; i++) w.latency(i, i);
    const [p0, p25, p75, p995, p100] = w.percentiles(100, [0, 25, 75, 99.5, 100]);
    expect(p0).toBe(1);
    expect(Math.abs((p25 as number) - 25)).toBeLessThanOrEqual(0.5);
    expect(Math.abs((p75 as number) - 75)).toBeLessThanOrEqual(1.5);
    expect(p995).toBe(100);
    expect(p100).toBe(100);
    expect(w.percentiles(100, [50])[0]).toBe(w.snapshot(100).latency.p50);
    // Latencies that left the window are gone from the percentiles too.
    expect(w.percentiles(5000, [0, 50, 100])).toEqual([0, 0, 0]);
  });
});
