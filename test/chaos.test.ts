import { describe, it, expect, vi } from 'vitest';
import { chaos, fallback, pipeline, timeout, TimeoutError } from '../src/index.js';
import { ManualClock } from '../src/testing/index.js';
import { expectInvalid } from './helpers.js';

/** A deterministic `random` that returns `values` in turn (and fails the test if it runs out). */
function seq(...values: number[]): () => number {
  let i = 0;
  return () => {
    if (i >= values.length) throw new Error('random called too often');
    return values[i++]!;
  };
}

describe('chaos', () => {
  it('with the default rates passes every call through without drawing', async () => {
    const random = vi.fn(() => 0);
    const c = chaos({ random });
    expect(await c.execute(() => 1)).toBe(1);
    await expect(c.execute(() => Promise.reject(new Error('real')))).rejects.toThrow('real');
    expect(random).not.toHaveBeenCalled();
  });

  it('faultRate: a draw below the rate rejects with fault without calling fn', async () => {
    const boom = new Error('injected');
    const c = chaos({ faultRate: 0.1, fault: boom, random: seq(0.05, 0.1, 0.5) });
    const seen: unknown[] = [];
    c.events.on('chaos', (e) => seen.push(e));
    const fn = vi.fn(() => 'real');
    await expect(c.execute(fn)).rejects.toBe(boom);
    expect(await c.execute(fn)).toBe('real'); // 0.1 is not < 0.1
    expect(await c.execute(fn)).toBe('real');
    expect(fn).toHaveBeenCalledTimes(2);
    expect(seen).toEqual([{ fault: boom }]);
    expect(c.metrics()).toMatchObject({ calls: 3, failures: 1, successes: 2 });
  });

  it('a fault function is called per injection with the context; its throw is the fault too', async () => {
    let n = 0;
    const c = chaos({ faultRate: 1, fault: ({ attempt }) => new Error(`fault ${++n} on attempt ${attempt}`), random: () => 0 });
    await expect(c.execute(() => 1)).rejects.toThrow('fault 1 on attempt 1');
    await expect(c.execute(() => 1)).rejects.toThrow('fault 2 on attempt 1');
    const thrower = chaos({
      faultRate: 1,
      fault: () => {
        throw new Error('thrown');
      },
      random: () => 0,
    });
    await expect(thrower.execute(() => 1)).rejects.toThrow('thrown');
  });

  it('latencyRate: fn starts after latencyMs on the clock, and the timer is gone after', async () => {
    const clock = new ManualClock();
    const c = chaos({ latencyRate: 0.5, latencyMs: 100, clock, random: seq(0.2) });
    const seen: unknown[] = [];
    c.events.on('chaos', (e) => seen.push(e));
    let startedAt = -1;
    const call = c.execute(() => {
      startedAt = clock.now();
      return 'late';
    });
    await clock.advance(99);
    expect(startedAt).toBe(-1);
    await clock.advance(1);
    expect(await call).toBe('late');
    expect(startedAt).toBe(100);
    expect(seen).toEqual([{ latencyMs: 100 }]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('draws for the fault first, then for the latency', async () => {
    const clock = new ManualClock();
    const c = chaos({ faultRate: 0.5, fault: new Error('f'), latencyRate: 0.5, latencyMs: 10, clock, random: seq(0.9, 0.1, 0.9, 0.9) });
    const first = c.execute(() => 'a');
    await clock.advance(10);
    expect(await first).toBe('a');
    expect(await c.execute(() => 'b')).toBe('b'); // no fault, no latency: no timer needed
    expect(clock.pendingTimers).toBe(0);
  });

  it('enabled: false injects nothing; a function is read on every call', async () => {
    const off = chaos({ faultRate: 1, fault: new Error('x'), enabled: false, random: seq() });
    expect(await off.execute(() => 'ok')).toBe('ok');
    let flag = false;
    const c = chaos({ faultRate: 1, fault: new Error('x'), enabled: () => flag, random: () => 0 });
    expect(await c.execute(() => 'ok')).toBe('ok');
    flag = true;
    await expect(c.execute(() => 'ok')).rejects.toThrow('x');
    flag = false;
    expect(await c.execute(() => 'ok')).toBe('ok');
  });

  it('an enabled() that throws rejects the call with its error, without calling fn', async () => {
    const c = chaos({
      faultRate: 1,
      fault: new Error('x'),
      enabled: () => {
        throw new Error('flag service down');
      },
    });
    const fn = vi.fn();
    await expect(c.execute(fn)).rejects.toThrow('flag service down');
    expect(fn).not.toHaveBeenCalled();
  });

  it('is deterministic with an injected random', async () => {
    const run = async (): Promise<string[]> => {
      let s = 42;
      const random = (): number => ((s = (s * 16807) % 2147483647) - 1) / 2147483646;
      const c = chaos({ faultRate: 0.3, fault: () => new Error('f'), random });
      const out: string[] = [];
      for (let i = 0; i < 50; i++) out.push(await c.execute(() => 'ok').catch(() => 'fault'));
      return out;
    };
    const a = await run();
    expect(await run()).toEqual(a);
    expect(a).toContain('fault');
    expect(a).toContain('ok');
  });

  it("the caller's abort during an injected delay rejects at once and clears the timer", async () => {
    const clock = new ManualClock();
    const c = chaos({ latencyRate: 1, latencyMs: 1000, clock, random: () => 0 });
    const ac = new AbortController();
    const fn = vi.fn();
    const call = c.execute(fn, { signal: ac.signal });
    await clock.advance(10);
    expect(clock.pendingTimers).toBe(1);
    ac.abort('stop');
    await expect(call).rejects.toBe('stop');
    await clock.flush();
    expect(clock.pendingTimers).toBe(0);
    await clock.advance(2000);
    expect(fn).not.toHaveBeenCalled();
  });

  it('a timeout outside cuts an injected delay short', async () => {
    const clock = new ManualClock();
    const p = pipeline(timeout({ durationMs: 50, clock }), chaos({ latencyRate: 1, latencyMs: 1000, clock, random: () => 0 }));
    const fn = vi.fn();
    const call = p.execute(fn);
    const out = expect(call).rejects.toBeInstanceOf(TimeoutError);
    await clock.advance(50);
    await out;
    await clock.flush();
    expect(clock.pendingTimers).toBe(0);
    expect(fn).not.toHaveBeenCalled();
  });

  it('dispose clears pending delays and rejects their calls', async () => {
    const clock = new ManualClock();
    const c = chaos({ latencyRate: 1, latencyMs: 1000, clock, random: () => 0 });
    const call = c.execute(() => 1);
    const out = expect(call).rejects.toThrow(/disposed/);
    await clock.flush();
    c.dispose();
    await out;
    expect(clock.pendingTimers).toBe(0);
    await expect(c.execute(() => 1)).rejects.toThrow(/disposed/);
  });

  it('lets a pipeline prove its fallback works', async () => {
    const p = pipeline(fallback('cached'), chaos({ faultRate: 1, fault: new Error('down'), random: () => 0 }));
    expect(await p.execute(() => 'live')).toBe('cached');
  });
});

describe('chaos: bad input', () => {
  const bad = (v: unknown) => v as never;
  type Case = [label: string, make: () => unknown, error: typeof TypeError | typeof RangeError, fragments: string[]];
  const cases: Case[] = [
    ['options not an object', () => chaos(bad(1)), TypeError, ['chaos:', 'options', '1']],
    ['faultRate string', () => chaos({ faultRate: bad('0.1'), fault: new Error() }), TypeError, ['chaos:', 'faultRate', '"0.1"']],
    ['faultRate above 1', () => chaos({ faultRate: 1.5, fault: new Error() }), RangeError, ['chaos:', 'faultRate', '1.5']],
    ['faultRate negative', () => chaos({ faultRate: -0.1, fault: new Error() }), RangeError, ['faultRate', '-0.1']],
    ['faultRate NaN', () => chaos({ faultRate: NaN, fault: new Error() }), RangeError, ['faultRate', 'NaN']],
    ['fault missing', () => chaos({ faultRate: 0.5 }), TypeError, ['chaos:', 'fault', 'undefined']],
    ['fault a string', () => chaos({ faultRate: 0.5, fault: bad('boom') }), TypeError, ['chaos:', 'fault', '"boom"']],
    ['fault a plain object', () => chaos({ fault: bad({ message: 'x' }) }), TypeError, ['fault', 'an object']],
    ['latencyRate string', () => chaos({ latencyRate: bad('1'), latencyMs: 1 }), TypeError, ['chaos:', 'latencyRate', '"1"']],
    ['latencyRate above 1', () => chaos({ latencyRate: 2, latencyMs: 1 }), RangeError, ['latencyRate', '2']],
    ['latencyMs missing', () => chaos({ latencyRate: 0.5 }), TypeError, ['chaos:', 'latencyMs', 'undefined']],
    ['latencyMs negative', () => chaos({ latencyRate: 0.5, latencyMs: -1 }), RangeError, ['chaos:', 'latencyMs', '-1']],
    ['latencyMs Infinity', () => chaos({ latencyRate: 0.5, latencyMs: Infinity }), RangeError, ['latencyMs', 'Infinity']],
    ['latencyMs string', () => chaos({ latencyMs: bad('5') }), TypeError, ['latencyMs', '"5"']],
    ['enabled string', () => chaos({ enabled: bad('yes') }), TypeError, ['chaos:', 'enabled', '"yes"']],
    ['enabled null', () => chaos({ enabled: bad(null) }), TypeError, ['chaos:', 'enabled', 'null']],
    ['random not a function', () => chaos({ random: bad(0.5) }), TypeError, ['chaos:', 'random', '0.5']],
    ['clock', () => chaos({ clock: bad(Date) }), TypeError, ['chaos:', 'clock']],
  ];
  it.each(cases)('%s', (_label, make, error, fragments) => expectInvalid(make, error, fragments));

  it('never mutates the options object', () => {
    const options = Object.freeze({ faultRate: 0.2, fault: new Error('x'), latencyRate: 0.1, latencyMs: 5 });
    chaos(options);
    expect(Object.keys(options)).toEqual(['faultRate', 'fault', 'latencyRate', 'latencyMs']);
  });
});
