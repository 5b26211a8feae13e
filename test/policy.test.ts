import { describe, it, expect, vi } from 'vitest';
import { timeout, fallback, pipeline, type Policy } from '../src/index.js';
import { ManualClock } from '../src/testing/index.js';

// Every policy shares the execute skeleton; these run it through the foundation's three.
const makers: Array<[string, () => Policy]> = [
  ['timeout', () => timeout({ durationMs: 1000, clock: new ManualClock() })],
  ['fallback', () => fallback('fb', { handle: () => false })],
  ['pipeline', () => pipeline(fallback('fb', { handle: () => false }), timeout({ durationMs: 1000, clock: new ManualClock() }))],
];

describe.each(makers)('the policy contract: %s', (_kind, make) => {
  it('always returns a promise; a synchronous throw of fn is a rejection', async () => {
    const p = make();
    const boom = new Error('sync');
    const result = p.execute(() => {
      throw boom;
    });
    expect(result).toBeInstanceOf(Promise);
    await expect(result).rejects.toBe(boom);
  });

  it('a non-thenable return, undefined included, is a success; thenables are awaited', async () => {
    const p = make();
    expect(await p.execute(() => 7)).toBe(7);
    expect(await p.execute(() => undefined)).toBeUndefined();
    expect(await p.execute(() => null)).toBeNull();
    const thenable = { then: (ok: (v: string) => void) => ok('from thenable') };
    expect(await p.execute(() => thenable as PromiseLike<string>)).toBe('from thenable');
  });

  it('gives fn an attempt context: attempt 1 and a signal', async () => {
    const p = make();
    const ctx = await p.execute((c) => ({ attempt: c.attempt, aborted: c.signal.aborted, isSignal: c.signal instanceof AbortSignal }));
    expect(ctx).toEqual({ attempt: 1, aborted: false, isSignal: true });
  });

  it("an already aborted caller's signal rejects at once with its reason, without calling fn", async () => {
    const p = make();
    const fn = vi.fn(() => 1);
    const reason = new Error('already gone');
    await expect(p.execute(fn, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(fn).not.toHaveBeenCalled();
  });

  it("a caller's abort during the call rejects with signal.reason and aborts ctx.signal", async () => {
    const p = make();
    const controller = new AbortController();
    let inner: AbortSignal | undefined;
    const call = p.execute(
      ({ signal }) => {
        inner = signal;
        return new Promise(() => {});
      },
      { signal: controller.signal },
    );
    const outcome = call.catch((e: unknown) => e);
    await Promise.resolve();
    controller.abort('bye');
    expect(await outcome).toBe('bye');
    expect(inner?.aborted).toBe(true);
  });

  it('a signal that never aborts changes nothing, and its listener is removed after the call', async () => {
    const p = make();
    const controller = new AbortController();
    const add = vi.spyOn(controller.signal, 'addEventListener');
    const remove = vi.spyOn(controller.signal, 'removeEventListener');
    expect(await p.execute(() => 'ok', { signal: controller.signal })).toBe('ok');
    expect(add).toHaveBeenCalledTimes(1);
    expect(remove).toHaveBeenCalledTimes(1);
  });

  it('rejects a non-function and a non-signal with a TypeError, as a rejection', async () => {
    const p = make();
    await expect(p.execute(42 as never)).rejects.toBeInstanceOf(TypeError);
    await expect(p.execute(() => 1, { signal: {} as AbortSignal })).rejects.toBeInstanceOf(TypeError);
  });

  it('wrap keeps this and the arguments', async () => {
    const p = make();
    const client = {
      base: 10,
      add(this: { base: number }, a: number, b: number) {
        return this.base + a + b;
      },
    };
    // eslint-disable-next-line @typescript-eslint/unbound-method -- the point: wrap keeps `this`
    const wrapped = p.wrap(client.add);
    const bound = { base: 100, add: wrapped };
    expect(await bound.add(1, 2)).toBe(103);
    expect(() => p.wrap(5 as never)).toThrow(TypeError);
  });

  it('has a default name `${kind}-${n}`, a kind, events, metrics and dispose', async () => {
    const p = make();
    expect(p.name).toMatch(new RegExp(`^${p.kind}-\\d+$`));
    await p.execute(() => 1);
    const m = p.metrics();
    expect(m).toMatchObject({ name: p.name, kind: p.kind, windowMs: 10000, calls: 1, successes: 1, failures: 0, failureRate: 0 });
    expect(m.latencyMs.count).toBe(1);
    const disposed = vi.fn();
    p.events.on('dispose', disposed);
    p.dispose();
    p.dispose();
    expect(disposed).toHaveBeenCalledTimes(1);
    expect(p.events.listenerCount('dispose')).toBe(0);
    await expect(p.execute(() => 1)).rejects.toThrow(/disposed/);
  });
});

describe('metrics option', () => {
  it('metrics: false records nothing and reads no clock', async () => {
    const clock = new ManualClock();
    const now = vi.spyOn(clock, 'now');
    const f = fallback(0, { clock, metrics: false });
    await f.execute(() => 1);
    await f.execute(() => Promise.reject(new Error('x')));
    expect(now).not.toHaveBeenCalled();
    expect(f.metrics()).toMatchObject({ calls: 0, successes: 0, windowMs: 0 });
  });

  it('a custom window forgets calls by the clock', async () => {
    const clock = new ManualClock();
    const t = timeout({ durationMs: 10, clock, metrics: { windowMs: 1000, buckets: 4 } });
    await t.execute(() => 1);
    expect(t.metrics()).toMatchObject({ windowMs: 1000, calls: 1 });
    await clock.advance(1500);
    expect(t.metrics().calls).toBe(0);
  });

  it('failureRate is failures over completed calls', async () => {
    const f = fallback(0, { handle: () => false });
    await f.execute(() => 1);
    await f.execute(() => Promise.reject(new Error('x'))).catch(() => undefined);
    expect(f.metrics().failureRate).toBe(0.5);
  });
});

describe('name option', () => {
  it('is used as given', () => {
    expect(timeout({ durationMs: 1, name: 'db-timeout' }).name).toBe('db-timeout');
  });
  it('numbers defaults per kind', () => {
    const a = fallback(1);
    const b = fallback(1);
    const na = Number(a.name.split('-')[1]);
    expect(b.name).toBe(`fallback-${na + 1}`);
  });
});
