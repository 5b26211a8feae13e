import { describe, it, expect, vi } from 'vitest';
import fc from 'fast-check';
import { bulkhead, BulkheadRejectedError, isBreakwaterError, pipeline, timeout, TimeoutError } from '../src/index.js';
import { ManualClock } from '../src/testing/index.js';
import { expectInvalid, gate } from './helpers.js';


describe('bulkhead: admission', () => {
  it('runs up to maxConcurrent at once and returns their outcomes', async () => {
    const b = bulkhead({ maxConcurrent: 2 });
    const g1 = gate();
    const g2 = gate();
    const p1 = b.execute(() => g1.promise);
    const p2 = b.execute(() => g2.promise);
    expect(b.executing).toBe(2);
    expect(b.queued).toBe(0);
    g1.resolve('a');
    expect(await p1).toBe('a');
    expect(b.executing).toBe(1);
    const boom = new Error('boom');
    g2.reject(boom);
    await expect(p2).rejects.toBe(boom);
    expect(b.executing).toBe(0);
  });

  it('takes sync values, undefined, sync throws and thenables', async () => {
    const b = bulkhead({ maxConcurrent: 1 });
    expect(await b.execute(() => 7)).toBe(7);
    expect(await b.execute(() => undefined)).toBeUndefined();
    const boom = new Error('sync');
    await expect(
      b.execute(() => {
        throw boom;
      }),
    ).rejects.toBe(boom);
    const thenable = { then: (res: (v: number) => void) => res(9) };
    expect(await b.execute(() => thenable as PromiseLike<number>)).toBe(9);
    expect(b.executing).toBe(0);
  });

  it('rejects overflow at once with BulkheadRejectedError, without calling fn, and emits rejected', async () => {
    const b = bulkhead({ maxConcurrent: 1, maxQueue: 1 });
    const seen: unknown[] = [];
    b.events.on('rejected', (e) => seen.push(e));
    const g = gate();
    const running = b.execute(() => g.promise);
    const waiting = b.execute(() => 'second');
    const fn = vi.fn();
    const error = await b.execute(fn).catch((e: unknown) => e);
    expect(fn).not.toHaveBeenCalled();
    expect(error).toBeInstanceOf(BulkheadRejectedError);
    expect(isBreakwaterError(error, 'EBULKHEADFULL')).toBe(true);
    expect(error).toMatchObject({ executing: 1, queued: 1 });
    expect(seen).toEqual([{ executing: 1, queued: 1 }]);
    expect(b.metrics().rejections).toBe(1);
    g.resolve('first');
    expect(await running).toBe('first');
    expect(await waiting).toBe('second');
  });

  it('maxQueue defaults to 0', async () => {
    const b = bulkhead({ maxConcurrent: 1 });
    const g = gate();
    const p = b.execute(() => g.promise);
    await expect(b.execute(() => 1)).rejects.toBeInstanceOf(BulkheadRejectedError);
    g.resolve('x');
    await p;
  });

  it('maxQueue may be Infinity', async () => {
    const b = bulkhead({ maxConcurrent: 1, maxQueue: Infinity });
    const g = gate();
    const first = b.execute(() => g.promise);
    const rest = Array.from({ length: 1000 }, (_, i) => b.execute(() => i));
    expect(b.queued).toBe(1000);
    g.resolve('x');
    await first;
    expect((await Promise.all(rest)).length).toBe(1000);
  });
});

describe('bulkhead: the queue', () => {
  it('serves waiters in FIFO order as permits free up', async () => {
    const b = bulkhead({ maxConcurrent: 1, maxQueue: 10 });
    const order: number[] = [];
    const gates = [gate(), gate(), gate(), gate()];
    const calls = gates.map((g, i) =>
      b.execute(() => {
        order.push(i);
        return g.promise;
      }),
    );
    expect(b.queued).toBe(3);
    for (const g of gates) {
      g.resolve('ok');
      await Promise.resolve();
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all(calls);
    expect(order).toEqual([0, 1, 2, 3]);
  });

  it("a waiter leaves at once on its caller's abort, with signal.reason, and frees its place at once", async () => {
    const b = bulkhead({ maxConcurrent: 1, maxQueue: 1 });
    const g = gate();
    const running = b.execute(() => g.promise);
    const ac = new AbortController();
    const fn = vi.fn(() => 'never');
    const waiting = b.execute(fn, { signal: ac.signal });
    expect(b.queued).toBe(1);
    const reason = new Error('changed my mind');
    ac.abort(reason);
    await expect(waiting).rejects.toBe(reason);
    expect(b.queued).toBe(0);
    // Its place is free: the next caller queues instead of being rejected, and is served next.
    const next = b.execute(() => 'next');
    expect(b.queued).toBe(1);
    g.resolve('done');
    await running;
    expect(await next).toBe('next');
    expect(fn).not.toHaveBeenCalled();
  });

  it('an abort in the middle of a long queue removes only that waiter', async () => {
    const b = bulkhead({ maxConcurrent: 1, maxQueue: 10_000 });
    const g = gate();
    const first = b.execute(() => g.promise);
    const controllers = Array.from({ length: 10_000 }, () => new AbortController());
    const order: number[] = [];
    const calls = controllers.map((ac, i) =>
      b.execute(
        () => {
          order.push(i);
        },
        { signal: ac.signal },
      ),
    );
    const aborted = new Set([0, 4999, 5000, 9999]);
    for (const i of aborted) controllers[i]!.abort(new Error(`abort ${i}`));
    expect(b.queued).toBe(10_000 - aborted.size);
    g.resolve('go');
    await first;
    const outcomes = await Promise.allSettled(calls);
    expect(outcomes.filter((o) => o.status === 'rejected').length).toBe(aborted.size);
    expect(order.length).toBe(10_000 - aborted.size);
    expect(order.every((v, i) => i === 0 || v > order[i - 1]!)).toBe(true);
  });

  it('queueTimeoutMs: a waiter is rejected with BulkheadRejectedError at its own deadline, with one timer', async () => {
    const clock = new ManualClock();
    const b = bulkhead({ maxConcurrent: 1, maxQueue: 5, queueTimeoutMs: 100, clock });
    const events: unknown[] = [];
    b.events.on('rejected', (e) => events.push(e));
    const g = gate();
    const running = b.execute(() => g.promise);
    const a = b.execute(() => 'a');
    const aOut = a.catch((e: unknown) => e);
    await clock.advance(30);
    const c = b.execute(() => 'c');
    const cOut = c.catch((e: unknown) => e);
    expect(clock.pendingTimers).toBe(1);
    await clock.advance(69);
    expect(b.queued).toBe(2);
    await clock.advance(1); // t = 100: a's deadline
    const ea = await aOut;
    expect(ea).toBeInstanceOf(BulkheadRejectedError);
    expect(ea).toMatchObject({ executing: 1, queued: 1 });
    expect(b.queued).toBe(1);
    await clock.advance(29);
    expect(b.queued).toBe(1);
    await clock.advance(1); // t = 130: c's deadline
    expect(await cOut).toBeInstanceOf(BulkheadRejectedError);
    expect(b.queued).toBe(0);
    expect(clock.pendingTimers).toBe(0);
    expect(events).toEqual([
      { executing: 1, queued: 1 },
      { executing: 1, queued: 0 },
    ]);
    expect(b.metrics().rejections).toBe(2);
    g.resolve('x');
    await running;
  });

  it('queueTimeoutMs: an admitted waiter is not expired, and the timer goes when the queue empties', async () => {
    const clock = new ManualClock();
    const b = bulkhead({ maxConcurrent: 1, maxQueue: 5, queueTimeoutMs: 100, clock });
    const g = gate();
    const running = b.execute(() => g.promise);
    const waiting = b.execute(() => 'w');
    await clock.advance(50);
    g.resolve('x');
    await running;
    expect(await waiting).toBe('w');
    expect(clock.pendingTimers).toBe(0);
    await clock.advance(100);
  });

  it('a timeout outside the bulkhead takes a queued call out of the queue at its deadline', async () => {
    const clock = new ManualClock();
    const b = bulkhead({ maxConcurrent: 1, maxQueue: 1, clock });
    const p = pipeline(timeout({ durationMs: 50, clock }), b);
    const g = gate();
    const running = b.execute(() => g.promise);
    const fn = vi.fn();
    const queued = p.execute(fn);
    const out = expect(queued).rejects.toBeInstanceOf(TimeoutError);
    expect(b.queued).toBe(1);
    await clock.advance(50);
    await out;
    expect(b.queued).toBe(0);
    g.resolve('x');
    await running;
    expect(fn).not.toHaveBeenCalled();
  });
});

describe('bulkhead: permits outlive abandoned work', () => {
  it("an admitted call whose caller aborted keeps its permit until the work settles", async () => {
    const b = bulkhead({ maxConcurrent: 1 });
    const g = gate();
    const ac = new AbortController();
    const call = b.execute(() => g.promise, { signal: ac.signal });
    ac.abort(new Error('bye'));
    await expect(call).rejects.toThrow('bye');
    expect(b.executing).toBe(1);
    await expect(b.execute(() => 1)).rejects.toBeInstanceOf(BulkheadRejectedError);
    g.resolve('late');
    await new Promise((r) => setImmediate(r));
    expect(b.executing).toBe(0);
    expect(await b.execute(() => 2)).toBe(2);
  });

  it('an aggressive timeout outside gives up, but the work still counts as executing', async () => {
    const clock = new ManualClock();
    const b = bulkhead({ maxConcurrent: 1, clock });
    const p = pipeline(timeout({ durationMs: 10, clock }), b);
    const g = gate();
    const call = p.execute(() => g.promise);
    const out = expect(call).rejects.toBeInstanceOf(TimeoutError);
    await clock.advance(10);
    await out;
    expect(b.executing).toBe(1);
    await expect(b.execute(() => 1)).rejects.toBeInstanceOf(BulkheadRejectedError);
    g.reject(new Error('late failure')); // consumed: no unhandled rejection
    await clock.flush();
    expect(b.executing).toBe(0);
  });

  it('an already aborted signal rejects at once without taking a permit', async () => {
    const b = bulkhead({ maxConcurrent: 1 });
    const fn = vi.fn();
    const reason = new Error('early');
    await expect(b.execute(fn, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(fn).not.toHaveBeenCalled();
    expect(b.executing).toBe(0);
  });
});

describe('bulkhead: metrics, events, dispose', () => {
  it('metrics add executing and queued', async () => {
    const b = bulkhead({ maxConcurrent: 1, maxQueue: 2 });
    const g = gate();
    const p1 = b.execute(() => g.promise);
    const p2 = b.execute(() => 'b');
    expect(b.metrics()).toMatchObject({ kind: 'bulkhead', executing: 1, queued: 1 });
    g.resolve('a');
    await Promise.all([p1, p2]);
    await expect(b.execute(() => Promise.reject(new Error('x')))).rejects.toThrow('x');
    expect(b.metrics()).toMatchObject({ calls: 3, successes: 2, failures: 1, executing: 0, queued: 0 });
  });

  it.each([true, false])(
    'queued calls (metrics %s): each caller gets its own outcome after its permit is back, recorded once with its wait',
    async (metrics) => {
      const clock = new ManualClock();
      const b = bulkhead({ maxConcurrent: 1, maxQueue: 3, clock, metrics });
      const g = gate();
      const first = b.execute(() => g.promise);
      const executingSeen: number[] = [];
      const ok = b.execute(() => 'queued').then((v) => {
        executingSeen.push(b.executing);
        return v;
      });
      const bad = b
        .execute(() => Promise.reject(new Error('no')))
        .catch((e: unknown) => {
          executingSeen.push(b.executing);
          return e;
        });
      expect(b.queued).toBe(2);
      await clock.advance(40);
      g.resolve('a');
      expect(await first).toBe('a');
      expect(await ok).toBe('queued');
      expect(await bad).toBeInstanceOf(Error);
      expect((await bad as Error).message).toBe('no');
      // Each caller resumed with no permit held: its call's permit went back first.
      expect(executingSeen).toEqual([0, 0]);
      expect(b.metrics()).toMatchObject(
        metrics
          ? { calls: 3, successes: 2, failures: 1, executing: 0, queued: 0 }
          : { calls: 0, successes: 0, failures: 0, executing: 0, queued: 0 },
      );
      // The queued calls' latency counts from when they joined the queue.
      if (metrics) expect(b.metrics().latencyMs.min).toBe(40);
    },
  );

  it('metrics: false records nothing and still works', async () => {
    const b = bulkhead({ maxConcurrent: 1, metrics: false });
    expect(await b.execute(() => 1)).toBe(1);
    expect(b.metrics()).toMatchObject({ calls: 0, executing: 0, queued: 0 });
  });

  it('a throwing rejected listener does not change the outcome', async () => {
    const b = bulkhead({ maxConcurrent: 1 });
    const errors: unknown[] = [];
    b.events.on('rejected', () => {
      throw new Error('listener');
    });
    b.events.on('listenerError', (e) => errors.push(e));
    const g = gate();
    const p = b.execute(() => g.promise);
    await expect(b.execute(() => 1)).rejects.toBeInstanceOf(BulkheadRejectedError);
    expect(errors.length).toBe(1);
    g.resolve('x');
    await p;
  });

  it('dispose rejects the waiters, clears the timer, lets running work finish, and refuses new calls', async () => {
    const clock = new ManualClock();
    const b = bulkhead({ maxConcurrent: 1, maxQueue: 2, queueTimeoutMs: 1000, clock });
    const g = gate();
    const running = b.execute(() => g.promise);
    const waiting = b.execute(() => 'w');
    const out = expect(waiting).rejects.toThrow(/disposed/);
    expect(clock.pendingTimers).toBe(1);
    b.dispose();
    await out;
    expect(clock.pendingTimers).toBe(0);
    await expect(b.execute(() => 1)).rejects.toThrow(/disposed/);
    g.resolve('finished');
    expect(await running).toBe('finished');
  });

  it('wrap keeps this and the arguments', async () => {
    const b = bulkhead({ maxConcurrent: 1 });
    function mul(this: { k: number }, x: number): number {
      return this.k * x;
    }
    const obj = { k: 2 };
    const wrapped = b.wrap(mul);
    expect(await wrapped.call(obj, 21)).toBe(42);
  });
});

describe('bulkhead: property', () => {
  type Op =
    | { kind: 'arrive' }
    | { kind: 'complete'; pick: number; fail: boolean }
    | { kind: 'abort'; pick: number }
    | { kind: 'advance'; ms: number };

  const op: fc.Arbitrary<Op> = fc.oneof(
    { weight: 4, arbitrary: fc.constant<Op>({ kind: 'arrive' }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('complete' as const), pick: fc.nat(), fail: fc.boolean() }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('abort' as const), pick: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 40 }) }) },
  );

  it('never exceeds maxConcurrent or maxQueue, keeps FIFO, and settles every call exactly once', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 0, max: 4 }),
        fc.option(fc.integer({ min: 10, max: 60 }), { nil: undefined }),
        fc.array(op, { maxLength: 60 }),
        async (maxConcurrent, maxQueue, queueTimeoutMs, ops) => {
          const clock = new ManualClock();
          const b = bulkhead({ maxConcurrent, maxQueue, clock, ...(queueTimeoutMs === undefined ? {} : { queueTimeoutMs }) });
          interface Call {
            id: number;
            ac: AbortController;
            settled: number;
            outcome?: 'value' | 'error';
            finish?: { resolve: (v: string) => void; reject: (e: unknown) => void };
            done: boolean; // fn settled
          }
          const calls: Call[] = [];
          const started: number[] = [];
          const running = (): Call[] => calls.filter((c) => c.finish !== undefined && !c.done);
          const check = (): void => {
            expect(b.executing).toBeLessThanOrEqual(maxConcurrent);
            expect(b.queued).toBeLessThanOrEqual(maxQueue);
            expect(b.executing).toBe(running().length);
            for (const c of calls) expect(c.settled).toBeLessThanOrEqual(1);
          };
          for (const o of ops) {
            if (o.kind === 'arrive') {
              const c: Call = { id: calls.length, ac: new AbortController(), settled: 0, done: false };
              calls.push(c);
              const queuedBefore = b.queued;
              const executingBefore = b.executing;
              b.execute(
                () => {
                  started.push(c.id);
                  const g = gate();
                  c.finish = g;
                  return g.promise.finally(() => (c.done = true));
                },
                { signal: c.ac.signal },
              ).then(
                () => {
                  c.settled++;
                  c.outcome = 'value';
                },
                () => {
                  c.settled++;
                  c.outcome = 'error';
                },
              );
              // Refused on arrival (neither started nor queued) only when everything was full.
              if (c.finish === undefined && b.queued === queuedBefore) {
                expect(queuedBefore).toBe(maxQueue);
                expect(executingBefore).toBe(maxConcurrent);
              }
            } else if (o.kind === 'complete') {
              const r = running();
              const c = r[o.pick % Math.max(1, r.length)];
              if (c !== undefined) {
                if (o.fail) c.finish!.reject(new Error('fail'));
                else c.finish!.resolve('ok');
              }
            } else if (o.kind === 'abort') {
              const open = calls.filter((c) => c.settled === 0 && !c.ac.signal.aborted);
              const c = open[o.pick % Math.max(1, open.length)];
              c?.ac.abort(new Error('abort'));
            } else {
              await clock.advance(o.ms);
            }
            await clock.flush();
            check();
          }
          // Drain: finish everything still running until nothing is left.
          for (let guard = 0; guard < 100; guard++) {
            const r = running();
            if (r.length === 0 && b.queued === 0) break;
            for (const c of r) c.finish!.resolve('ok');
            await clock.flush();
            if (r.length === 0) await clock.advance(100);
          }
          await clock.flush();
          expect(b.executing).toBe(0);
          expect(b.queued).toBe(0);
          expect(clock.pendingTimers).toBe(0);
          for (const c of calls) expect(c.settled).toBe(1);
          // FIFO: calls start in the order they arrived.
          for (let i = 1; i < started.length; i++) expect(started[i]).toBeGreaterThan(started[i - 1]!);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('bulkhead: bad input', () => {
  const bad = (v: unknown) => v as never;
  type Case = [label: string, make: () => unknown, error: typeof TypeError | typeof RangeError, fragments: string[]];
  const cases: Case[] = [
    ['options not an object', () => bulkhead(bad(5)), TypeError, ['bulkhead:', 'options', '5']],
    ['options null', () => bulkhead(bad(null)), TypeError, ['bulkhead:', 'options', 'null']],
    ['no options', () => bulkhead(bad(undefined)), TypeError, ['bulkhead:', 'maxConcurrent', 'undefined']],
    ['maxConcurrent missing', () => bulkhead(bad({})), TypeError, ['bulkhead:', 'maxConcurrent', 'undefined']],
    ['maxConcurrent string', () => bulkhead({ maxConcurrent: bad('2') }), TypeError, ['maxConcurrent', '"2"']],
    ['maxConcurrent 0', () => bulkhead({ maxConcurrent: 0 }), RangeError, ['bulkhead:', 'maxConcurrent', 'got 0']],
    ['maxConcurrent negative', () => bulkhead({ maxConcurrent: -1 }), RangeError, ['maxConcurrent', '-1']],
    ['maxConcurrent fraction', () => bulkhead({ maxConcurrent: 1.5 }), RangeError, ['maxConcurrent', '1.5']],
    ['maxConcurrent NaN', () => bulkhead({ maxConcurrent: NaN }), RangeError, ['maxConcurrent', 'NaN']],
    ['maxConcurrent Infinity', () => bulkhead({ maxConcurrent: Infinity }), RangeError, ['maxConcurrent', 'Infinity']],
    ['maxQueue string', () => bulkhead({ maxConcurrent: 1, maxQueue: bad('1') }), TypeError, ['maxQueue', '"1"']],
    ['maxQueue negative', () => bulkhead({ maxConcurrent: 1, maxQueue: -1 }), RangeError, ['bulkhead:', 'maxQueue', '-1']],
    ['maxQueue fraction', () => bulkhead({ maxConcurrent: 1, maxQueue: 0.5 }), RangeError, ['maxQueue', '0.5']],
    ['maxQueue NaN', () => bulkhead({ maxConcurrent: 1, maxQueue: NaN }), RangeError, ['maxQueue', 'NaN']],
    ['queueTimeoutMs string', () => bulkhead({ maxConcurrent: 1, queueTimeoutMs: bad('10') }), TypeError, ['queueTimeoutMs', '"10"']],
    ['queueTimeoutMs negative', () => bulkhead({ maxConcurrent: 1, queueTimeoutMs: -5 }), RangeError, ['bulkhead:', 'queueTimeoutMs', '-5']],
    ['queueTimeoutMs NaN', () => bulkhead({ maxConcurrent: 1, queueTimeoutMs: NaN }), RangeError, ['queueTimeoutMs', 'NaN']],
    ['queueTimeoutMs Infinity', () => bulkhead({ maxConcurrent: 1, queueTimeoutMs: Infinity }), RangeError, ['queueTimeoutMs', 'Infinity']],
    ['clock', () => bulkhead({ maxConcurrent: 1, clock: bad({}) }), TypeError, ['bulkhead:', 'clock']],
    ['name', () => bulkhead({ maxConcurrent: 1, name: bad(3) }), TypeError, ['bulkhead:', 'name', '3']],
    ['metrics', () => bulkhead({ maxConcurrent: 1, metrics: bad('yes') }), TypeError, ['bulkhead:', 'metrics']],
  ];
  it.each(cases)('%s', (_label, make, error, fragments) => expectInvalid(make, error, fragments));

  it('never mutates the options object', () => {
    const options = Object.freeze({ maxConcurrent: 2, maxQueue: 3, queueTimeoutMs: 10 });
    const b = bulkhead(options);
    expect(b.maxConcurrent).toBe(2);
    expect(options).toEqual({ maxConcurrent: 2, maxQueue: 3, queueTimeoutMs: 10 });
  });
});
