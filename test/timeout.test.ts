import { describe, it, expect, vi } from 'vitest';
import { timeout, TimeoutError, isBreakwaterError, pipeline, fallback } from '../src/index.js';
import { ManualClock } from '../src/testing/index.js';
import { nextTurn } from './helpers.js';

const never = () => new Promise<never>(() => {});

describe('timeout', () => {
  it('returns the value of a fast call and leaves no timer behind', async () => {
    const clock = new ManualClock();
    const t = timeout({ durationMs: 100, clock });
    expect(await t.execute(() => 42)).toBe(42);
    expect(await t.execute(async () => 'x')).toBe('x');
    expect(await t.execute(() => undefined)).toBeUndefined();
    expect(clock.pendingTimers).toBe(0);
  });

  it('passes a fast failure through untouched', async () => {
    const clock = new ManualClock();
    const t = timeout({ durationMs: 100, clock });
    const boom = new Error('boom');
    await expect(t.execute(() => Promise.reject(boom))).rejects.toBe(boom);
    await expect(
      t.execute(() => {
        throw boom;
      }),
    ).rejects.toBe(boom);
    expect(clock.pendingTimers).toBe(0);
  });

  it('aggressive: rejects at the deadline with TimeoutError, and aborts the signal with it', async () => {
    const clock = new ManualClock();
    const t = timeout({ durationMs: 100, clock });
    let seen: AbortSignal | undefined;
    const call = t.execute(({ signal }) => {
      seen = signal;
      return never();
    });
    const outcome = call.catch((e: unknown) => e);
    await clock.advance(99);
    expect(seen?.aborted).toBe(false);
    await clock.advance(1);
    const error = await outcome;
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as TimeoutError).timeoutMs).toBe(100);
    expect(isBreakwaterError(error, 'ETIMEDOUT')).toBe(true);
    expect(seen?.aborted).toBe(true);
    expect(seen?.reason).toBe(error);
    expect(clock.pendingTimers).toBe(0);
  });

  it('aggressive: a late rejection after the deadline is discarded without an unhandled rejection', async () => {
    const clock = new ManualClock();
    const t = timeout({ durationMs: 10, clock });
    let rejectLate!: (e: Error) => void;
    const call = t.execute(() => new Promise<never>((_, reject) => (rejectLate = reject)));
    const outcome = expect(call).rejects.toBeInstanceOf(TimeoutError);
    await clock.advance(10);
    await outcome;
    rejectLate(new Error('late'));
    await clock.flush(); // test/setup.ts fails the test if this became unhandled
  });

  it('aggressive: a late value after the deadline is discarded', async () => {
    const clock = new ManualClock();
    const t = timeout({ durationMs: 10, clock });
    let resolveLate!: (v: number) => void;
    const call = t.execute(() => new Promise<number>((resolve) => (resolveLate = resolve)));
    const outcome = expect(call).rejects.toBeInstanceOf(TimeoutError);
    await clock.advance(10);
    await outcome;
    resolveLate(1);
    await clock.flush();
    expect(t.metrics().successes).toBe(0);
  });

  it('cooperative: waits for fn; a rejection after the deadline becomes TimeoutError with cause', async () => {
    const clock = new ManualClock();
    const t = timeout({ durationMs: 50, strategy: 'cooperative', clock });
    const call = t.execute(
      ({ signal }) =>
        new Promise<never>((_, reject) => {
          signal.addEventListener('abort', () => reject(new Error('stopped')));
        }),
    );
    const outcome = call.catch((e: unknown) => e);
    await clock.advance(50);
    const error = (await outcome) as TimeoutError;
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error.cause as Error).message).toBe('stopped');
    expect(clock.pendingTimers).toBe(0);
  });

  it('cooperative: a value after the deadline is returned', async () => {
    const clock = new ManualClock();
    const t = timeout({ durationMs: 50, strategy: 'cooperative', clock });
    let resolveLate!: (v: string) => void;
    let aborted = false;
    const call = t.execute(({ signal }) => {
      signal.addEventListener('abort', () => (aborted = true));
      return new Promise<string>((resolve) => (resolveLate = resolve));
    });
    await clock.advance(60);
    expect(aborted).toBe(true);
    resolveLate('late but fine');
    expect(await call).toBe('late but fine');
  });

  it('emits timeout { timeoutMs } and counts it in metrics', async () => {
    const clock = new ManualClock();
    const t = timeout({ durationMs: 5, clock });
    const events: unknown[] = [];
    t.events.on('timeout', (e) => events.push(e));
    const outcome = t.execute(never).catch(() => 'timed out');
    await clock.advance(5);
    expect(await outcome).toBe('timed out');
    expect(events).toEqual([{ timeoutMs: 5 }]);
    const m = t.metrics();
    expect(m.timeouts).toBe(1);
    expect(m.failures).toBe(1);
    expect(m.calls).toBe(1);
    expect(m.latencyMs.max).toBe(5);
  });

  it("the caller's abort rejects with the caller's reason, never a TimeoutError, and clears the timer", async () => {
    const clock = new ManualClock();
    const t = timeout({ durationMs: 100, clock });
    const controller = new AbortController();
    let inner: AbortSignal | undefined;
    const call = t.execute(
      ({ signal }) => {
        inner = signal;
        return never();
      },
      { signal: controller.signal },
    );
    const outcome = call.catch((e: unknown) => e);
    await clock.advance(10);
    const reason = new Error('user left');
    controller.abort(reason);
    expect(await outcome).toBe(reason);
    expect(inner?.aborted).toBe(true);
    expect(inner?.reason).toBe(reason);
    expect(clock.pendingTimers).toBe(0);
    await clock.advance(200); // nothing fires later
    expect(t.metrics().timeouts).toBe(0);
  });

  it('accepts a bare number', async () => {
    const t = timeout(1000);
    expect(t.durationMs).toBe(1000);
    expect(t.strategy).toBe('aggressive');
    expect(t.kind).toBe('timeout');
    expect(await t.execute(() => 1)).toBe(1);
  });

  it('dispose() ends calls in flight and clears their timers; later calls reject', async () => {
    const clock = new ManualClock();
    const t = timeout({ durationMs: 100, clock });
    let signal: AbortSignal | undefined;
    const call = t.execute((ctx) => {
      signal = ctx.signal;
      return never();
    });
    const outcome = call.catch((e: unknown) => e);
    await clock.flush();
    expect(clock.pendingTimers).toBe(1);
    t.dispose();
    expect(clock.pendingTimers).toBe(0);
    expect(String(await outcome)).toMatch(/disposed/);
    expect(signal?.aborted).toBe(true);
    await expect(t.execute(() => 1)).rejects.toThrow(/disposed/);
  });

  it('timeout of 0 fires on the next tick', async () => {
    const clock = new ManualClock();
    const t = timeout({ durationMs: 0, clock });
    const outcome = expect(t.execute(never)).rejects.toBeInstanceOf(TimeoutError);
    await clock.advance(0);
    await outcome;
  });

  it('sits inside a pipeline: fallback answers a timeout', async () => {
    const clock = new ManualClock();
    const p = pipeline(fallback('cached'), timeout({ durationMs: 10, clock }));
    const call = p.execute(never);
    await clock.advance(10);
    expect(await call).toBe('cached');
  });

  it('runs with the system clock too (real timers, unref)', async () => {
    vi.useFakeTimers();
    try {
      const t = timeout(20);
      const outcome = expect(t.execute(never)).rejects.toBeInstanceOf(TimeoutError);
      await vi.advanceTimersByTimeAsync(20);
      await outcome;
    } finally {
      vi.useRealTimers();
    }
  });

  describe('bad input', () => {
    const cases: Array<[unknown, 'TypeError' | 'RangeError', RegExp]> = [
      [-5, 'RangeError', /^timeout: durationMs must be a number in \[0, 2147483647\] ms, got -5$/],
      [NaN, 'RangeError', /durationMs.*NaN/],
      [Infinity, 'RangeError', /durationMs.*Infinity/],
      [{ durationMs: '5' }, 'TypeError', /durationMs.*"5"/],
      [{}, 'TypeError', /durationMs.*undefined/],
      [{ durationMs: 5, strategy: 'eager' }, 'RangeError', /strategy.*"eager"/],
      [{ durationMs: 5, strategy: 1 }, 'TypeError', /strategy.*1/],
      [{ durationMs: 5, name: '' }, 'RangeError', /name.*""/],
      [{ durationMs: 5, name: 3 }, 'TypeError', /name.*3/],
      [{ durationMs: 5, clock: {} }, 'TypeError', /clock.*an object/],
      [{ durationMs: 5, registry: {} }, 'TypeError', /registry/],
      [{ durationMs: 5, metrics: 'yes' }, 'TypeError', /metrics.*"yes"/],
      [{ durationMs: 5, metrics: { windowMs: 0 } }, 'RangeError', /metrics.windowMs.*0/],
      [{ durationMs: 5, metrics: { buckets: 1.5 } }, 'RangeError', /metrics.buckets.*1.5/],
      [null, 'TypeError', /timeout: options must be an object, got null/],
      ['5', 'TypeError', /options.*"5"/],
    ];
    it.each(cases)('%s → %s', (options, kind, message) => {
      let thrown: unknown;
      try {
        timeout(options as number);
      } catch (e) {
        thrown = e;
      }
      expect((thrown as Error).constructor.name).toBe(kind);
      expect((thrown as Error).message).toMatch(message);
      expect((thrown as Error).message.startsWith('timeout: ')).toBe(true);
    });

    it('never mutates its options', () => {
      const options = Object.freeze({ durationMs: 5, strategy: 'cooperative' as const });
      const t = timeout(options);
      expect(t.strategy).toBe('cooperative');
      expect(options).toEqual({ durationMs: 5, strategy: 'cooperative' });
    });
  });
});

describe('timeout: one timer for all calls in flight', () => {
  it('arms a single timer for many concurrent calls, each timing out at its own deadline', async () => {
    const clock = new ManualClock();
    const t = timeout({ durationMs: 100, clock });
    const outcomes: Array<Promise<unknown>> = [];
    for (let i = 0; i < 5; i++) {
      outcomes.push(t.execute(() => new Promise(() => {})).catch((e: unknown) => [clock.now(), e]));
      await clock.advance(10);
    }
    expect(clock.pendingTimers).toBe(1);
    await clock.advance(100);
    const settled = (await Promise.all(outcomes)) as Array<[number, unknown]>;
    expect(settled.map(([at]) => at)).toEqual([100, 110, 120, 130, 140]);
    for (const [, e] of settled) expect(e).toBeInstanceOf(TimeoutError);
    expect(clock.pendingTimers).toBe(0);
  });

  it('a settled head does not time out the next call early', async () => {
    const clock = new ManualClock();
    const t = timeout({ durationMs: 100, clock });
    let finishFirst!: () => void;
    const first = t.execute(() => new Promise<void>((r) => (finishFirst = r)));
    await clock.advance(50);
    const second = t.execute(() => new Promise(() => {})).catch((e: unknown) => [clock.now(), e]);
    await clock.flush();
    finishFirst();
    await first;
    await clock.advance(60); // t = 110: the first deadline (100) has passed, the second (150) not
    expect(clock.pendingTimers).toBe(1);
    await clock.advance(40);
    const [at, e] = (await second) as [number, unknown];
    expect(at).toBe(150);
    expect(e).toBeInstanceOf(TimeoutError);
    expect(clock.pendingTimers).toBe(0);
  });

  it('clears the timer at once when the last call settles (ManualClock)', async () => {
    const clock = new ManualClock();
    const t = timeout({ durationMs: 100, clock });
    const a = t.execute(() => 1);
    const b = t.execute(async () => 2);
    expect(await Promise.all([a, b])).toEqual([1, 2]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('with systemClock, clears the shared timer at the end of the turn', async () => {
    const t = timeout(60_000);
    // systemClock is frozen; it calls the global timer functions at call time.
    const set = vi.spyOn(globalThis, 'setTimeout');
    const clear = vi.spyOn(globalThis, 'clearTimeout');
    for (let i = 0; i < 100; i++) await t.execute(() => i);
    expect(set).toHaveBeenCalledTimes(1); // one timer for the whole run of fast calls
    expect(clear).not.toHaveBeenCalled();
    await nextTurn();
    expect(clear).toHaveBeenCalledTimes(1);
    set.mockRestore();
    clear.mockRestore();
  });
});
