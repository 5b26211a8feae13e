import { describe, it, expect } from 'vitest';
import {
  adaptiveLimit,
  BulkheadRejectedError,
  pipeline,
  timeout,
  TimeoutError,
  type AdaptiveAlgorithm,
  type AdaptiveLimitPolicy,
  type AdaptiveWindowOptions,
  type Policy,
} from '../src/index.js';
import { ManualClock } from '../src/testing/index.js';
import { Aimd } from '../src/adaptive/aimd.js';
import { Gradient2 } from '../src/adaptive/gradient2.js';
import { Vegas } from '../src/adaptive/vegas.js';
import { SampleWindow } from '../src/adaptive/window.js';
import { expectInvalid, gate } from './helpers.js';

// One limit update per call: every sample closes its window.
const PER_CALL = { minMs: 1, maxMs: 1, minSamples: 1 } as const;


/** `fn` that settles after `ms` on the clock. */
function after<T>(clock: ManualClock, ms: number, outcome: () => T): () => Promise<T> {
  return () => new Promise<T>((resolve, reject) => clock.setTimeout(() => {
    try {
      resolve(outcome());
    } catch (e) {
      reject(e);
    }
  }, ms));
}

describe('limit algorithms (Netflix formulas)', () => {
  const bounds = { initialLimit: 10, minLimit: 1, maxLimit: 100 };

  it('aimd: +1 while at least half the limit is in flight, x0.9 (floored) on a drop or a mean RTT over 5 s', () => {
    const a = new Aimd(bounds);
    expect(a.update({ rtt: 10, inflight: 5, drop: false })).toBe(11);
    expect(a.update({ rtt: 10, inflight: 5, drop: false })).toBe(11); // 5 * 2 < 11: app-limited
    expect(a.update({ rtt: 10, inflight: 11, drop: true })).toBe(9);
    expect(a.update({ rtt: 5001, inflight: 9, drop: false })).toBe(8);
    expect(a.update({ rtt: NaN, inflight: 1, drop: true })).toBe(7);
    const low = new Aimd({ initialLimit: 2, minLimit: 2, maxLimit: 3 });
    expect(low.update({ rtt: 1, inflight: 1, drop: true })).toBe(2);
    expect(low.update({ rtt: 1, inflight: 2, drop: false })).toBe(3);
    expect(low.update({ rtt: 1, inflight: 3, drop: false })).toBe(3);
  });

  it('gradient2: flat latency adds the queue headroom, smoothed (+0.8)', () => {
    const g = new Gradient2(bounds);
    expect(g.update({ rtt: 10, inflight: 10, drop: false })).toBeCloseTo(10.8);
  });

  it('gradient2: rising latency shrinks the limit by the smoothed gradient, never below 0.5', () => {
    const g = new Gradient2({ initialLimit: 50, minLimit: 1, maxLimit: 100 });
    for (let i = 0; i < 10; i++) g.update({ rtt: 10, inflight: 0, drop: false }); // warm up longRtt, app-limited
    // shortRtt 12.5 against longRtt ~10: gradient 0.8, no headroom: 50 * (0.8 + 0.2 * 0.8)
    const next = g.update({ rtt: 12.5, inflight: 50, drop: false });
    expect(next).toBeLessThan(50);
    expect(next).toBeCloseTo(50 * 0.8 + 0.2 * 50 * (10.004 / 12.5), 1);
    // Far slower: the gradient is clamped at 0.5
    const g2 = new Gradient2({ initialLimit: 50, minLimit: 1, maxLimit: 100 });
    for (let i = 0; i < 10; i++) g2.update({ rtt: 10, inflight: 0, drop: false });
    expect(g2.update({ rtt: 1000, inflight: 50, drop: false })).toBeCloseTo(45);
  });

  it('gradient2 guard: under modest overload the headroom is not added, so the limit cannot creep up', () => {
    // Netflix's formula at gradient 0.8 and limit 10: 10 * 0.8 + 0.2 * (10 * 0.8 + 4) = 10.4 (growth)
    const g = new Gradient2(bounds);
    for (let i = 0; i < 10; i++) g.update({ rtt: 8, inflight: 0, drop: false });
    expect(g.update({ rtt: 10, inflight: 10, drop: false })).toBeLessThan(10);
  });

  it('gradient2 guard: no change while fewer than half the limit are in flight', () => {
    const g = new Gradient2(bounds);
    for (let i = 0; i < 100; i++) expect(g.update({ rtt: 10, inflight: 4, drop: false })).toBe(10);
  });

  it('gradient2: a drop is the steepest gradient (x0.9 after smoothing)', () => {
    const g = new Gradient2(bounds);
    expect(g.update({ rtt: 10, inflight: 1, drop: true })).toBeCloseTo(9);
    expect(g.update({ rtt: NaN, inflight: 1, drop: true })).toBeCloseTo(8.1);
  });

  it('gradient2: the long RTT decays quickly once it is over twice the current RTT', () => {
    const g = new Gradient2({ initialLimit: 50, minLimit: 1, maxLimit: 100 });
    for (let i = 0; i < 10; i++) g.update({ rtt: 100, inflight: 0, drop: false }); // long RTT 100
    // Twenty windows at 10 ms, app-limited (the limit holds): 10% off the long RTT each while it is
    // over 2 x 10, so it is down to ~19.7. The plain average over ~600 windows alone would be ~94.
    for (let i = 0; i < 20; i++) expect(g.update({ rtt: 10, inflight: 0, drop: false })).toBe(50);
    // A 30 ms window then reads as slower than the long RTT: gradient ~19.7 / 30 = 0.66, and the
    // limit shrinks. Without the decay the gradient would be 1 and the limit grow to 50.8.
    expect(g.update({ rtt: 30, inflight: 50, drop: false })).toBeCloseTo(50 * 0.8 + 0.2 * 50 * (19.69 / 30), 1);
  });

  it('vegas: the first window sets the no-load RTT; no queue grows by beta, a long queue shrinks by log10', () => {
    const v = new Vegas({ initialLimit: 20, minLimit: 1, maxLimit: 1000 }, () => 0.99);
    expect(v.update({ rtt: 10, inflight: 20, drop: false })).toBe(20); // rttNoLoad := 10
    expect(v.update({ rtt: 10, inflight: 20, drop: false })).toBe(26); // queue 0 <= 1: + 6 * 1
    expect(v.update({ rtt: 11, inflight: 26, drop: false })).toBe(26); // queue ceil(26 * 1/11) = 3: in [3, 6]: hold
    expect(v.update({ rtt: 20, inflight: 26, drop: false })).toBe(25); // queue 13 > 6: - 1
    expect(v.update({ rtt: 10.5, inflight: 25, drop: false })).toBe(26); // queue ceil(25 * 0.0476) = 2 < 3: + 1
    expect(v.update({ rtt: 10, inflight: 26, drop: true })).toBe(25); // a drop: - log10
    expect(v.update({ rtt: 10, inflight: 5, drop: false })).toBe(25); // app-limited: hold
  });

  it('vegas: log10 steps grow with the limit, and the no-load RTT is re-probed', () => {
    const v = new Vegas({ initialLimit: 150, minLimit: 1, maxLimit: 1000 }, () => 0);
    v.update({ rtt: 10, inflight: 150, drop: false });
    expect(v.update({ rtt: 10, inflight: 150, drop: false })).toBe(162); // log10(150) = 2: + 12
    // jitter 0.5: the 0.5 * 30 * 162 = 2430th window is a probe that resets rttNoLoad to its RTT.
    // Windows 3 … 2429 are app-limited (nothing in flight): the limit holds, the count goes on.
    for (let w = 3; w < 2430; w++) expect(v.update({ rtt: 10, inflight: 0, drop: false })).toBe(162);
    expect(v.update({ rtt: 40, inflight: 0, drop: false })).toBe(162); // the probe: rttNoLoad := 40
    // So 40 ms is now no queueing (queue 0 <= log10(162) = 2: + 6 * 2), where against the old
    // rttNoLoad of 10 it would be a queue of ceil(162 * 0.75) = 122 (- 2, to 160).
    expect(v.update({ rtt: 40, inflight: 162, drop: false })).toBe(174);
    const unprobed = new Vegas({ initialLimit: 150, minLimit: 1, maxLimit: 1000 }, () => 0);
    unprobed.update({ rtt: 10, inflight: 150, drop: false });
    expect(unprobed.update({ rtt: 10, inflight: 150, drop: false })).toBe(162);
    expect(unprobed.update({ rtt: 40, inflight: 162, drop: false })).toBe(160);
  });

  it('the sample window waits for minSamples and clamp(2 x fastest RTT, minMs, maxMs) since the last one closed', () => {
    const w = new SampleWindow(100, 1000, 3);
    expect(w.add(0, 5, 1, false)).toBe(false);
    expect(w.add(1, 5, 1, false)).toBe(false);
    expect(w.add(2, 5, 1, false)).toBe(true); // the first window closes at minSamples
    w.reset();
    expect(w.add(10, 80, 1, false)).toBe(false);
    expect(w.add(500, 80, 4, false)).toBe(false); // 2 samples only
    expect(w.add(101, 120, 2, true)).toBe(false); // 3 samples, but 99 ms < max(100, 2 x 80)
    expect(w.add(162, 50, 2, false)).toBe(true); // 160 ms >= max(100, 2 x 50)
    expect(w.rtt).toBeCloseTo((80 + 80 + 120 + 50) / 4);
    expect(w.inflight).toBe(4);
    expect(w.drop).toBe(true);
    w.reset();
    expect(w.rtt).toBeNaN();
    expect(w.drop).toBe(false);
    const slow = new SampleWindow(100, 1000, 1);
    slow.add(0, 800, 1, false);
    slow.reset();
    expect(slow.add(999, 800, 1, false)).toBe(false); // 2 x 800 = 1600, capped at maxMs = 1000 ...
    expect(slow.add(1000, 800, 1, false)).toBe(true); // ... after the close at 0
  });
});

describe('adaptiveLimit: a bulkhead whose limit moves', () => {
  it('defaults: gradient2, Netflix bounds per algorithm, adjusted to the bounds given', () => {
    const g = adaptiveLimit();
    expect([g.algorithm, g.limit, g.minLimit, g.maxLimit]).toEqual(['gradient2', 20, 20, 200]);
    const a = adaptiveLimit({ algorithm: 'aimd' });
    expect([a.limit, a.minLimit, a.maxLimit]).toEqual([20, 20, 200]);
    const v = adaptiveLimit({ algorithm: 'vegas' });
    expect([v.limit, v.minLimit, v.maxLimit]).toEqual([20, 1, 1000]);
    const small = adaptiveLimit({ maxLimit: 8 });
    expect([small.limit, small.minLimit, small.maxLimit]).toEqual([8, 8, 8]);
    const low = adaptiveLimit({ initialLimit: 5 });
    expect([low.limit, low.minLimit, low.maxLimit]).toEqual([5, 5, 200]);
    const big = adaptiveLimit({ minLimit: 300 });
    expect([big.limit, big.minLimit, big.maxLimit]).toEqual([300, 300, 300]);
  });

  it('queues FIFO and rejects overflow with BulkheadRejectedError, as a bulkhead', async () => {
    const l = adaptiveLimit({ algorithm: 'aimd', initialLimit: 1, minLimit: 1, maxLimit: 1, maxQueue: 1 });
    const events: unknown[] = [];
    l.events.on('rejected', (e) => events.push(e));
    const g = gate();
    const a = l.execute(() => g.promise);
    const b = l.execute(() => 'b');
    expect([l.executing, l.queued]).toEqual([1, 1]);
    const e = await l.execute(() => 'c').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(BulkheadRejectedError);
    expect(events).toEqual([{ executing: 1, queued: 1 }]);
    expect(l.metrics()).toMatchObject({ kind: 'adaptiveLimit', limit: 1, executing: 1, queued: 1, rejections: 1 });
    g.resolve('a');
    expect(await a).toBe('a');
    expect(await b).toBe('b');
  });

  it("a waiter leaves on its caller's abort and on queueTimeoutMs", async () => {
    const clock = new ManualClock();
    const l = adaptiveLimit({ initialLimit: 1, minLimit: 1, maxLimit: 1, maxQueue: 5, queueTimeoutMs: 100, clock });
    const g = gate();
    const running = l.execute(() => g.promise);
    const ac = new AbortController();
    const aborted = l.execute(() => 'x', { signal: ac.signal });
    const expired = l.execute(() => 'y');
    const expiredOut = expect(expired).rejects.toBeInstanceOf(BulkheadRejectedError);
    ac.abort('stop');
    await expect(aborted).rejects.toBe('stop');
    expect(l.queued).toBe(1);
    await clock.advance(100);
    await expiredOut;
    expect(l.queued).toBe(0);
    expect(clock.pendingTimers).toBe(0);
    g.resolve('done');
    await running;
  });

  it('a rising limit admits waiters at once; limitChange reports it', async () => {
    const clock = new ManualClock();
    const l = adaptiveLimit({ algorithm: 'aimd', initialLimit: 1, minLimit: 1, maxLimit: 5, maxQueue: 10, window: PER_CALL, clock });
    const changes: unknown[] = [];
    l.events.on('limitChange', (e) => changes.push(e));
    const gates = [gate(), gate(), gate()];
    const calls = gates.map((g) => l.execute(() => g.promise));
    expect([l.executing, l.queued]).toEqual([1, 2]);
    await clock.advance(10);
    gates[0]!.resolve('a'); // rtt 10, 1 in flight of 1: +1
    await clock.flush();
    expect(changes).toEqual([{ from: 1, to: 2 }]);
    expect(l.limit).toBe(2);
    expect([l.executing, l.queued]).toEqual([2, 0]);
    gates[1]!.resolve('b');
    gates[2]!.resolve('c');
    await Promise.all(calls);
  });

  it('the permit outlives an aborted caller and an outer timeout', async () => {
    const clock = new ManualClock();
    const l = adaptiveLimit({ initialLimit: 1, minLimit: 1, maxLimit: 1, clock });
    const p = pipeline(timeout({ durationMs: 10, clock }), l);
    const g = gate();
    const call = p.execute(() => g.promise);
    const out = expect(call).rejects.toBeInstanceOf(TimeoutError);
    await clock.advance(10);
    await out;
    expect(l.executing).toBe(1);
    await expect(l.execute(() => 1)).rejects.toBeInstanceOf(BulkheadRejectedError);
    g.resolve('late');
    await clock.flush();
    expect(l.executing).toBe(0);
  });

  it('dispose rejects waiters and refuses new calls', async () => {
    const l = adaptiveLimit({ initialLimit: 1, minLimit: 1, maxLimit: 1, maxQueue: 1 });
    const g = gate();
    const running = l.execute(() => g.promise);
    const waiting = l.execute(() => 1);
    const out = expect(waiting).rejects.toThrow(/disposed/);
    l.dispose();
    await out;
    await expect(l.execute(() => 1)).rejects.toThrow(/disposed/);
    g.resolve('x');
    await running;
  });
});

describe('adaptiveLimit: what counts as a drop', () => {
  function aimd(clock: ManualClock, initialLimit: number, extra: object = {}): AdaptiveLimitPolicy {
    return adaptiveLimit({ algorithm: 'aimd', initialLimit, minLimit: 1, maxLimit: 100, window: PER_CALL, clock, ...extra });
  }

  it('a handled failure, a failing result and a timeout are drops', async () => {
    const clock = new ManualClock();
    const l = aimd(clock, 10, { handle: (e: unknown) => (e as Error).message === 'overloaded', handleResult: (v: unknown) => v === 503 });
    const fail = l.execute(after(clock, 10, () => {
      throw new Error('overloaded');
    }));
    const failOut = expect(fail).rejects.toThrow('overloaded');
    await clock.advance(10);
    await failOut;
    expect(l.limit).toBe(9);
    const bad = l.execute(after(clock, 10, () => 503));
    await clock.advance(10);
    expect(await bad).toBe(503);
    expect(l.limit).toBe(8);
    // A TimeoutError is a drop even when `handle` would not count it.
    const to = l.execute(after(clock, 10, () => {
      throw new TimeoutError(10);
    }));
    const toOut = expect(to).rejects.toBeInstanceOf(TimeoutError);
    await clock.advance(10);
    await toOut;
    expect(l.limit).toBe(7);
  });

  it('work an outer timeout gave up on is a drop, whatever it returns later', async () => {
    const clock = new ManualClock();
    const l = aimd(clock, 10);
    const p = pipeline(timeout({ durationMs: 10, clock }), l);
    const call = p.execute(after(clock, 30, () => 'late success'));
    const out = expect(call).rejects.toBeInstanceOf(TimeoutError);
    await clock.advance(10);
    await out;
    expect(l.limit).toBe(10);
    await clock.advance(20);
    expect(l.limit).toBe(9);
  });

  it('an unhandled error is a plain sample, not a drop', async () => {
    const clock = new ManualClock();
    const l = aimd(clock, 2, { handle: () => false });
    const call = l.execute(after(clock, 10, () => {
      throw new Error('404');
    }));
    const out = expect(call).rejects.toThrow('404');
    await clock.advance(10);
    await out;
    expect(l.limit).toBe(3); // 1 in flight of 2: additive increase
  });

  it("the caller's abort is no sample at all", async () => {
    const clock = new ManualClock();
    const l = aimd(clock, 2);
    const ac = new AbortController();
    const call = l.execute(
      ({ signal }) =>
        new Promise((_, reject) => {
          clock.setTimeout(() => reject(new Error('late')), 10);
          signal.addEventListener('abort', () => reject(signal.reason));
        }),
      { signal: ac.signal },
    );
    const out = expect(call).rejects.toBe('bye');
    await clock.advance(5);
    ac.abort('bye');
    await out;
    await clock.advance(10);
    expect(l.limit).toBe(2);
    expect(l.executing).toBe(0);
  });

  it("another policy's local rejection is no sample", async () => {
    const clock = new ManualClock();
    const l = aimd(clock, 2);
    const call = l.execute(after(clock, 10, () => {
      throw new BulkheadRejectedError(1, 0);
    }));
    const out = expect(call).rejects.toBeInstanceOf(BulkheadRejectedError);
    await clock.advance(10);
    await out;
    expect(l.limit).toBe(2);
  });

  it('a throwing handle predicate rejects the call with its error, and the permit still comes back', async () => {
    const clock = new ManualClock();
    const oops = new Error('predicate bug');
    const l = aimd(clock, 2, {
      handle: () => {
        throw oops;
      },
    });
    const call = l.execute(after(clock, 10, () => {
      throw new Error('real');
    }));
    const out = expect(call).rejects.toBe(oops);
    await clock.advance(10);
    await out;
    expect(l.executing).toBe(0);
  });

  it('the same for a call that waited in the queue: it settles, nothing is left unhandled', async () => {
    const clock = new ManualClock();
    const oops = new Error('predicate bug');
    const l = adaptiveLimit({
      initialLimit: 1,
      minLimit: 1,
      maxLimit: 1,
      maxQueue: 1,
      clock,
      handleResult: () => {
        throw oops;
      },
    });
    const first = l.execute(after(clock, 10, () => 1));
    const second = l.execute(after(clock, 10, () => 2));
    const outs = [expect(first).rejects.toBe(oops), expect(second).rejects.toBe(oops)];
    await clock.advance(20);
    await Promise.all(outs);
    expect([l.executing, l.queued]).toEqual([0, 0]);
  });

  it('sub-threshold successes (synchronous work) are no sample; sub-threshold drops are', async () => {
    const clock = new ManualClock();
    const l = aimd(clock, 2);
    await l.execute(() => 'instant');
    expect(l.limit).toBe(2);
    await expect(l.execute(() => Promise.reject(new Error('instant failure')))).rejects.toThrow();
    expect(l.limit).toBe(1);
  });
});

// ---------------------------------------------------------------------------------------------
// Convergence: a simulated dependency whose latency rises sharply once more than N calls run at
// once, driven by a steady stream of callers (more than it can serve).

interface Phase {
  readonly n: number;
  readonly ms: number;
  /** Samples from this long after the phase starts must lie within ±30% of n. */
  readonly settleMs: number;
}

async function simulate(
  algorithm: AdaptiveAlgorithm,
  phases: readonly Phase[],
  timeoutMs?: number,
): Promise<Array<{ t: number; n: number; limit: number; check: boolean }>> {
  const clock = new ManualClock();
  const BASE = 100; // ms of latency while the dependency runs at most N calls
  const TICK = 10; // callers arrive every tick ...
  const PER_TICK = 8; // ... this many at once: 800/s, over the ~400/s the dependency serves at N = 40
  const limit = adaptiveLimit({ algorithm, initialLimit: 10, minLimit: 5, clock, metrics: false });
  const policy: Policy = timeoutMs === undefined ? limit : pipeline(timeout({ durationMs: timeoutMs, clock, metrics: false }), limit, { metrics: false });
  let n = phases[0]!.n;
  let running = 0;
  const due = new Map<number, Array<() => void>>();
  const dependency = (): Promise<void> => {
    running++;
    // Sharp knee: past N, every call queues behind the others and takes several times as long.
    const latency = running <= n ? BASE : BASE * (2 + running - n);
    const at = clock.now() + latency;
    return new Promise<void>((resolve) => {
      let list = due.get(at);
      if (list === undefined) due.set(at, (list = []));
      list.push(() => {
        running--;
        resolve();
      });
    });
  };
  let stopped = false;
  const tick = (): void => {
    if (!stopped) for (let i = 0; i < PER_TICK; i++) policy.execute(dependency).catch(() => undefined);
    const list = due.get(clock.now());
    if (list !== undefined) {
      due.delete(clock.now());
      for (const finish of list) finish();
    }
    if (!stopped || due.size > 0) clock.setTimeout(tick, TICK);
  };
  clock.setTimeout(tick, 0);
  const trace: Array<{ t: number; n: number; limit: number; check: boolean }> = [];
  for (const phase of phases) {
    n = phase.n;
    for (let t = 1000; t <= phase.ms; t += 1000) {
      await clock.advance(1000);
      trace.push({ t: clock.now(), n, limit: limit.limit, check: t >= phase.settleMs });
    }
  }
  stopped = true;
  await clock.runAll(1_000_000);
  expect(limit.executing).toBe(0);
  expect(clock.pendingTimers).toBe(0);
  return trace;
}

describe('adaptiveLimit: convergence simulation (ManualClock)', () => {
  const phases: Phase[] = [
    { n: 40, ms: 80_000, settleMs: 50_000 },
    { n: 25, ms: 80_000, settleMs: 30_000 },
    { n: 40, ms: 60_000, settleMs: 30_000 },
  ];
  const cases: Array<[label: string, algorithm: AdaptiveAlgorithm, timeoutMs: number | undefined]> = [
    ['aimd (drops from a 250 ms timeout outside)', 'aimd', 250],
    ['gradient2 (latency only)', 'gradient2', undefined],
    ['vegas (latency only)', 'vegas', undefined],
    ['gradient2 with a timeout outside', 'gradient2', 250],
  ];

  it.each(cases)('%s: the limit settles within 30 percent of N, stays there, and follows N down and up', async (_label, algorithm, timeoutMs) => {
    const trace = await simulate(algorithm, phases, timeoutMs);
    const off = trace.filter((s) => s.check && (s.limit < s.n * 0.7 || s.limit > s.n * 1.3));
    if (off.length > 0) console.log(algorithm, trace.map((s) => `${s.t / 1000}s:${s.limit}/${s.n}`).join(' '));
    expect(off).toEqual([]);
    expect(trace.filter((s) => s.check).length).toBeGreaterThan(80);
  }, 60_000);

  it('gradient2 does not grow while demand keeps fewer than half its permits busy', async () => {
    const clock = new ManualClock();
    const l = adaptiveLimit({ algorithm: 'gradient2', initialLimit: 20, minLimit: 5, clock });
    let stopped = false;
    // 5 callers in a closed loop against a flat 100 ms dependency.
    const loop = async (): Promise<void> => {
      while (!stopped) await l.execute(() => new Promise<void>((r) => clock.setTimeout(r, 100)));
    };
    const loops = Array.from({ length: 5 }, loop);
    for (let i = 0; i < 60; i++) {
      await clock.advance(1000);
      expect(l.limit).toBe(20);
    }
    stopped = true;
    await clock.runAll();
    await Promise.all(loops);
  }, 30_000);
});

describe('adaptiveLimit: bad input', () => {
  const bad = (v: unknown) => v as never;
  type Case = [label: string, make: () => unknown, error: typeof TypeError | typeof RangeError, fragments: string[]];
  const cases: Case[] = [
    ['options not an object', () => adaptiveLimit(bad('x')), TypeError, ['adaptiveLimit:', 'options', '"x"']],
    ['algorithm unknown', () => adaptiveLimit({ algorithm: bad('bbr') }), RangeError, ['adaptiveLimit:', 'algorithm', '"bbr"']],
    ['algorithm number', () => adaptiveLimit({ algorithm: bad(2) }), TypeError, ['algorithm', '2']],
    ['initialLimit string', () => adaptiveLimit({ initialLimit: bad('5') }), TypeError, ['initialLimit', '"5"']],
    ['initialLimit 0', () => adaptiveLimit({ initialLimit: 0 }), RangeError, ['adaptiveLimit:', 'initialLimit', 'got 0']],
    ['initialLimit fraction', () => adaptiveLimit({ initialLimit: 2.5 }), RangeError, ['initialLimit', '2.5']],
    ['initialLimit below minLimit', () => adaptiveLimit({ initialLimit: 5, minLimit: 10 }), RangeError, ['initialLimit', '[10, 200]', 'got 5']],
    ['initialLimit above maxLimit', () => adaptiveLimit({ initialLimit: 50, maxLimit: 40 }), RangeError, ['initialLimit', 'got 50']],
    ['minLimit string', () => adaptiveLimit({ minLimit: bad('1') }), TypeError, ['minLimit', '"1"']],
    ['minLimit 0', () => adaptiveLimit({ minLimit: 0 }), RangeError, ['adaptiveLimit:', 'minLimit', 'got 0']],
    ['minLimit NaN', () => adaptiveLimit({ minLimit: NaN }), RangeError, ['minLimit', 'NaN']],
    ['maxLimit Infinity', () => adaptiveLimit({ maxLimit: Infinity }), RangeError, ['maxLimit', 'Infinity']],
    ['maxLimit below minLimit', () => adaptiveLimit({ minLimit: 10, maxLimit: 5 }), RangeError, ['adaptiveLimit:', 'maxLimit', 'minLimit (10)', 'got 5']],
    ['maxQueue negative', () => adaptiveLimit({ maxQueue: -1 }), RangeError, ['adaptiveLimit:', 'maxQueue', '-1']],
    ['maxQueue string', () => adaptiveLimit({ maxQueue: bad('1') }), TypeError, ['maxQueue', '"1"']],
    ['queueTimeoutMs negative', () => adaptiveLimit({ queueTimeoutMs: -1 }), RangeError, ['adaptiveLimit:', 'queueTimeoutMs', '-1']],
    ['handle not a function', () => adaptiveLimit({ handle: bad(true) }), TypeError, ['adaptiveLimit:', 'handle', 'true']],
    ['handleResult not a function', () => adaptiveLimit({ handleResult: bad({}) }), TypeError, ['handleResult', 'an object']],
    ['window not an object', () => adaptiveLimit({ window: bad(100) }), TypeError, ['adaptiveLimit:', 'window', '100']],
    ['window.minMs 0', () => adaptiveLimit({ window: { minMs: 0 } }), RangeError, ['window.minMs', 'got 0']],
    ['window.maxMs string', () => adaptiveLimit({ window: { maxMs: bad('1') } }), TypeError, ['window.maxMs', '"1"']],
    ['window.maxMs below minMs', () => adaptiveLimit({ window: { minMs: 500, maxMs: 100 } }), RangeError, ['window.maxMs', 'window.minMs (500)', 'got 100']],
    ['window.minSamples 0', () => adaptiveLimit({ window: { minSamples: 0 } }), RangeError, ['window.minSamples', 'got 0']],
    ['window.minSamples fraction', () => adaptiveLimit({ window: { minSamples: 1.5 } }), RangeError, ['window.minSamples', '1.5']],
    ['random not a function', () => adaptiveLimit({ random: bad(4) }), TypeError, ['adaptiveLimit:', 'random', '4']],
    ['clock', () => adaptiveLimit({ clock: bad('now') }), TypeError, ['adaptiveLimit:', 'clock']],
  ];
  it.each(cases)('%s', (_label, make, error, fragments) => expectInvalid(make, error, fragments));

  /**
   * When the limit's windows close: the clock time of each limit change. Every call is a drop
   * (`handleResult`), so each window that closes moves the limit (aimd: 100 → 90 → 81 → …);
   * `calls` are `[start, rtt]` in start order, run concurrently on a ManualClock.
   */
  async function windowCloses(window: AdaptiveWindowOptions, calls: ReadonlyArray<readonly [number, number]>): Promise<number[]> {
    const clock = new ManualClock();
    const limit = adaptiveLimit({ clock, algorithm: 'aimd', initialLimit: 100, minLimit: 1, maxLimit: 100, handleResult: () => true, window: { minSamples: 1, ...window } });
    const closed: number[] = [];
    limit.events.on('limitChange', () => closed.push(clock.now()));
    const running: Array<Promise<string>> = [];
    for (const [start, rtt] of calls) {
      await clock.advance(start - clock.now());
      running.push(limit.execute(after(clock, rtt, () => 'ok')));
    }
    await clock.runAll();
    await Promise.all(running);
    return closed;
  }

  it('window bounds default around the one given', async () => {
    // The first window closes with its first sample; each later one lasts clamp(2 x its fastest
    // RTT, minMs, maxMs) from the close before. Each pair of samples ends 1 ms before and at that.
    // maxMs 200 alone: minMs is 200 too. A fast RTT (1 ms) waits 200 ms, a slow one (150 ms) no
    // more than 200 ms either (2 x 150 would be 300).
    expect(await windowCloses({ maxMs: 200 }, [[0, 1], [199, 1], [200, 1], [250, 150], [251, 150]])).toEqual([1, 201, 401]);
    // minMs 5000 alone: maxMs is 5000 too. A slow RTT (4000 ms, 2 x = 8000) waits 5000 ms, as does
    // a fast one.
    expect(await windowCloses({ minMs: 5000 }, [[0, 1], [1000, 4000], [1001, 4000], [9999, 1], [10000, 1]])).toEqual([1, 5001, 10001]);
    // minMs 50 alone: maxMs keeps its default 1000. A fast RTT waits 50 ms, a slow one (800 ms,
    // 2 x = 1600) 1000 ms.
    expect(await windowCloses({ minMs: 50 }, [[0, 1], [49, 1], [50, 1], [250, 800], [251, 800]])).toEqual([1, 51, 1051]);
  });

  it('never mutates the options object', () => {
    const options = Object.freeze({ algorithm: 'vegas' as const, initialLimit: 5, window: Object.freeze({ minMs: 10 }) });
    adaptiveLimit(options);
    expect(options).toEqual({ algorithm: 'vegas', initialLimit: 5, window: { minMs: 10 } });
  });
});
