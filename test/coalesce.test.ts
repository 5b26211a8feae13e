import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { coalesce, pipeline, retry, timeout, type AttemptContext } from '../src/index.js';
import { ManualClock } from '../src/testing/index.js';
import { expectInvalid, gate } from './helpers.js';

const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('coalesce', () => {
  it('concurrent calls with the same key share one execution; different keys do not', async () => {
    const c = coalesce();
    let runs = 0;
    const g = gate<string>();
    const fn = (): Promise<string> => {
      runs++;
      return g.promise;
    };
    const waiting: number[] = [];
    c.events.on('coalesced', ({ waiting: w }) => waiting.push(w));
    const a = c.execute(fn, { key: 'u1' });
    const b = c.execute(fn, { key: 'u1' });
    const d = c.execute(() => 'other', { key: 'u2' });
    expect(c.inFlight).toBe(2);
    await flush();
    expect(c.inFlight).toBe(1); // u2's fn returned a value: its flight is over
    expect(runs).toBe(1);
    expect(waiting).toEqual([2]);
    g.resolve('v');
    expect(await Promise.all([a, b, d])).toEqual(['v', 'v', 'other']);
    expect(c.inFlight).toBe(0);
  });

  it('errors are shared by the waiting callers and never remembered', async () => {
    const c = coalesce();
    let runs = 0;
    const g = gate<string>();
    const a = c.execute(() => (runs++, g.promise), { key: 'k' });
    const b = c.execute(() => (runs++, g.promise), { key: 'k' });
    g.reject(new Error('down'));
    await expect(a).rejects.toThrow('down');
    await expect(b).rejects.toThrow('down');
    expect(await c.execute(() => (runs++, 'fresh'), { key: 'k' })).toBe('fresh');
    expect(runs).toBe(2);
  });

  it('a call without a key runs on its own', async () => {
    const c = coalesce();
    let runs = 0;
    await Promise.all([c.execute(() => runs++), c.execute(() => runs++)]);
    expect(runs).toBe(2);
  });

  it('a caller that aborts leaves alone; the shared signal aborts only when every caller has left', async () => {
    const c = coalesce();
    let shared: AbortSignal | undefined;
    const g = gate<string>();
    const fn = ({ signal }: AttemptContext): Promise<string> => {
      shared = signal;
      return g.promise;
    };
    const c1 = new AbortController();
    const c2 = new AbortController();
    const a = c.execute(fn, { key: 'k', signal: c1.signal });
    const b = c.execute(fn, { key: 'k', signal: c2.signal });
    c1.abort('a left');
    await expect(a).rejects.toBe('a left');
    expect(shared?.aborted).toBe(false);
    c2.abort('b left');
    await expect(b).rejects.toBe('b left');
    expect(shared?.aborted).toBe(true);
    expect(shared?.reason).toBe('b left');
    g.resolve('late'); // the late outcome goes nowhere, without an unhandled rejection
    await flush();
  });

  it('a caller that comes while the shared call is being cancelled starts a fresh one', async () => {
    const c = coalesce();
    const signals: AbortSignal[] = [];
    const gates = [gate<string>(), gate<string>()];
    const fn = ({ signal }: AttemptContext): Promise<string> => {
      signals.push(signal);
      return (gates[signals.length - 1] as ReturnType<typeof gate<string>>).promise;
    };
    const ctl = new AbortController();
    const first = c.execute(fn, { key: 'k', signal: ctl.signal });
    ctl.abort('gone');
    await expect(first).rejects.toBe('gone');
    // The first flight is still running (its fn ignores the signal), but it is cancelled.
    expect(c.inFlight).toBe(1);
    const second = c.execute(fn, { key: 'k' });
    expect(signals.length).toBe(2);
    expect(signals[1]?.aborted).toBe(false);
    gates[0]?.reject(new Error('cancelled'));
    gates[1]?.resolve('fresh');
    expect(await second).toBe('fresh');
    expect(c.inFlight).toBe(0);
  });

  it('a caller without a signal keeps the flight alive when the others leave', async () => {
    const c = coalesce();
    let shared: AbortSignal | undefined;
    const g = gate<number>();
    const ctl = new AbortController();
    const a = c.execute(({ signal }) => ((shared = signal), g.promise), { key: 'k', signal: ctl.signal });
    const b = c.execute(() => g.promise, { key: 'k' });
    ctl.abort('x');
    await expect(a).rejects.toBe('x');
    expect(shared?.aborted).toBe(false);
    g.resolve(3);
    expect(await b).toBe(3);
  });

  it('inside a pipeline: a timeout outside gives up for its caller only, retries share flights', async () => {
    const clock = new ManualClock();
    const c = coalesce();
    const p = pipeline(retry({ maxAttempts: 2, clock }), timeout({ durationMs: 100, clock }), c);
    let runs = 0;
    const g = gate<string>();
    const fn = (): Promise<string> => {
      runs++;
      return g.promise;
    };
    const a = p.execute(fn, { key: 'k' });
    const b = p.execute(fn, { key: 'k' });
    expect(runs).toBe(1);
    g.resolve('ok');
    expect(await Promise.all([a, b])).toEqual(['ok', 'ok']);
  });

  it('dispose rejects every waiting caller with EDISPOSED and aborts the shared signal', async () => {
    const c = coalesce({ name: 'co' });
    let shared: AbortSignal | undefined;
    const a = c.execute(({ signal }) => {
      shared = signal;
      return new Promise<never>(() => {});
    }, { key: 'k' });
    const r = expect(a).rejects.toMatchObject({ code: 'EDISPOSED', policy: 'co' });
    c.dispose();
    await r;
    expect(shared?.aborted).toBe(true);
    expect(c.inFlight).toBe(0);
  });

  it('validates its options', () => {
    expectInvalid(() => coalesce({ ttlMs: 5 } as never), TypeError, ['coalesce', '"ttlMs"']);
    expectInvalid(() => coalesce(5 as never), TypeError, ['coalesce', 'options']);
  });

  // For any interleaving of calls (with or without a signal), aborts and settlements:
  // fn runs once per key per flight, every caller settles exactly once (with its flight's
  // outcome, or its own abort reason), and a flight's signal aborts exactly when its last caller
  // has left.
  it('property: singleflight invariants under any interleaving', async () => {
    type Op =
      | { t: 'call'; key: number; signal: boolean }
      | { t: 'abort'; i: number }
      | { t: 'settle'; i: number; ok: boolean };
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ t: fc.constant('call' as const), key: fc.integer({ min: 0, max: 2 }), signal: fc.boolean() }),
      fc.record({ t: fc.constant('abort' as const), i: fc.nat() }),
      fc.record({ t: fc.constant('settle' as const), i: fc.nat(), ok: fc.boolean() }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 40 }), async (ops) => {
        const c = coalesce({ metrics: false });
        interface ModelFlight {
          key: string;
          signal: AbortSignal;
          resolve: (v: string) => void;
          reject: (e: unknown) => void;
          callers: number[];
          left: number;
          joinable: boolean;
          settled: boolean;
          cancelled: boolean;
        }
        interface Caller {
          flight: number;
          ctl: AbortController | undefined;
          aborted: boolean;
          settlements: Array<{ ok: boolean; v: unknown }>;
        }
        const flights: ModelFlight[] = [];
        const callers: Caller[] = [];
        let fnRuns = 0;
        let pendingStart: ModelFlight | undefined;
        const fn = ({ signal }: AttemptContext): Promise<string> => {
          fnRuns++;
          return new Promise<string>((resolve, reject) => {
            pendingStart = { key: '', signal, resolve, reject, callers: [], left: 0, joinable: true, settled: false, cancelled: false };
          });
        };
        const check = (): void => {
          for (const f of flights) {
            // Aborted exactly when every caller has left before it settled.
            expect(f.signal.aborted).toBe(f.cancelled);
          }
          for (const cl of callers) expect(cl.settlements.length).toBeLessThanOrEqual(1);
        };
        for (const o of ops) {
          if (o.t === 'call') {
            const key = `k${o.key}`;
            const joinable = flights.findIndex((f) => f.key === key && f.joinable);
            const ctl = o.signal ? new AbortController() : undefined;
            const before = fnRuns;
            const p = c.execute(fn, ctl === undefined ? { key } : { key, signal: ctl.signal });
            let fi = joinable;
            if (joinable < 0) {
              expect(fnRuns).toBe(before + 1);
              const f = pendingStart as ModelFlight;
              f.key = key;
              flights.push(f);
              fi = flights.length - 1;
            } else {
              expect(fnRuns).toBe(before);
            }
            const cl: Caller = { flight: fi, ctl, aborted: false, settlements: [] };
            callers.push(cl);
            flights[fi]?.callers.push(callers.length - 1);
            p.then(
              (v) => cl.settlements.push({ ok: true, v }),
              (e: unknown) => cl.settlements.push({ ok: false, v: e }),
            );
          } else if (o.t === 'abort') {
            const live = callers.filter((cl) => cl.ctl !== undefined && !cl.aborted && cl.settlements.length === 0 && !flights[cl.flight]?.settled);
            const cl = live[o.i % Math.max(1, live.length)];
            if (cl === undefined) continue;
            cl.aborted = true;
            const f = flights[cl.flight] as ModelFlight;
            f.left++;
            if (f.left === f.callers.length) {
              f.joinable = false;
              f.cancelled = true;
            }
            cl.ctl?.abort(`abort-${callers.indexOf(cl)}`);
          } else {
            const open = flights.filter((f) => !f.settled);
            const f = open[o.i % Math.max(1, open.length)];
            if (f === undefined) continue;
            f.settled = true;
            f.joinable = false;
            if (o.ok) f.resolve(`v-${flights.indexOf(f)}`);
            else f.reject(`e-${flights.indexOf(f)}`);
          }
          await flush();
          check();
        }
        for (const f of flights) {
          if (!f.settled) {
            f.settled = true;
            f.resolve(`v-${flights.indexOf(f)}`);
          }
        }
        await flush();
        // Every caller settled exactly once, with its own abort or its flight's outcome.
        callers.forEach((cl, i) => {
          expect(cl.settlements.length).toBe(1);
          const s = cl.settlements[0] as { ok: boolean; v: unknown };
          if (cl.aborted) expect(s).toEqual({ ok: false, v: `abort-${i}` });
          else expect(String(s.v).slice(2)).toBe(String(cl.flight));
        });
        // One flight per run of fn.
        expect(fnRuns).toBe(flights.length);
        expect(c.inFlight).toBe(0);
      }),
      { numRuns: 150 },
    );
  });
});
