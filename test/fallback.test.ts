import { describe, it, expect, vi } from 'vitest';
import { fallback, handleErrors, TimeoutError } from '../src/index.js';
import { ManualClock } from '../src/testing/index.js';
import { gate } from './helpers.js';

class NotFound extends Error {}

describe('fallback', () => {
  it('answers a handled error with a value', async () => {
    const f = fallback('default');
    expect(await f.execute(() => Promise.reject(new Error('x')))).toBe('default');
    expect(await f.execute(() => 'real')).toBe('real');
  });

  it('calls a handler with { error, signal } and returns its result', async () => {
    const error = new Error('down');
    const handler = vi.fn(({ error: e }: { error?: unknown }) => `fallback for ${(e as Error).message}`);
    const f = fallback(handler);
    expect(await f.execute(() => Promise.reject(error))).toBe('fallback for down');
    const arg = handler.mock.calls[0]?.[0] as { error?: unknown; result?: unknown; signal: AbortSignal };
    expect(arg.error).toBe(error);
    expect('result' in arg).toBe(false);
    expect(arg.signal).toBeInstanceOf(AbortSignal);
  });

  it('answers a handled result, passing { result }', async () => {
    const handler = vi.fn((_ctx: { result?: unknown }) => 'replaced');
    const f = fallback(handler, { handleResult: (v) => v === null });
    expect(await f.execute(() => null)).toBe('replaced');
    expect(handler.mock.calls[0]?.[0]).toMatchObject({ result: null });
    expect(await f.execute(() => 'fine')).toBe('fine');
  });

  it('lets unhandled errors through', async () => {
    const f = fallback('x', { handle: handleErrors(TimeoutError) });
    const other = new NotFound('nope');
    await expect(f.execute(() => Promise.reject(other))).rejects.toBe(other);
    expect(await f.execute(() => Promise.reject(new TimeoutError(5)))).toBe('x');
  });

  it("never answers the caller's own abort", async () => {
    const handler = vi.fn(() => 'should not');
    const f = fallback(handler);
    const controller = new AbortController();
    const call = f.execute(
      ({ signal }) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
      { signal: controller.signal },
    );
    controller.abort(new Error('caller left'));
    await expect(call).rejects.toThrow('caller left');
    await Promise.resolve();
    expect(handler).not.toHaveBeenCalled();
  });

  it('propagates a handler that throws', async () => {
    const f = fallback(() => {
      throw new Error('handler broke');
    });
    await expect(f.execute(() => Promise.reject(new Error('x')))).rejects.toThrow('handler broke');
    expect(f.metrics().failures).toBe(1);
  });

  it('emits fallback { error } / { result } and counts fallbacks', async () => {
    const f = fallback(0, { handleResult: (v) => v === -1 });
    const seen: unknown[] = [];
    f.events.on('fallback', (e) => seen.push(e));
    const error = new Error('e');
    await f.execute(() => Promise.reject(error));
    await f.execute(() => -1);
    expect(seen).toEqual([{ error }, { result: -1 }]);
    expect(f.metrics()).toMatchObject({ fallbacks: 2, successes: 2, failures: 0 });
  });

  it('a listener that throws does not change the outcome', async () => {
    const f = fallback('safe');
    const errors: unknown[] = [];
    f.events.on('fallback', () => {
      throw new Error('listener bug');
    });
    f.events.on('listenerError', (e) => errors.push(e));
    expect(await f.execute(() => Promise.reject(new Error('x')))).toBe('safe');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ event: 'fallback' });
  });

  it('calls started at different times each record their own latency, overlapping or not', async () => {
    const clock = new ManualClock();
    const f = fallback(0, { clock });
    const slow = gate<number>();
    const first = f.execute(() => slow.promise);
    await clock.advance(10);
    const second = f.execute(async () => {
      await clock.advance(5);
      return 2;
    });
    expect(await second).toBe(2);
    await clock.advance(15);
    slow.resolve(1);
    expect(await first).toBe(1);
    expect(f.metrics()).toMatchObject({ calls: 2, successes: 2, failures: 0 });
    expect(f.metrics().latencyMs).toMatchObject({ count: 2, min: 5, max: 30 });
  });

  it('validates handle and handleResult', () => {
    expect(() => fallback(1, { handle: 'all' as never })).toThrow(/^fallback: handle must be a function, got "all"$/);
    expect(() => fallback(1, { handleResult: 1 as never })).toThrow(TypeError);
    expect(() => fallback(1, 'x' as never)).toThrow(/fallback: options must be an object/);
  });

  it('a predicate that throws rejects the call with that error', async () => {
    const f = fallback(1, {
      handle: () => {
        throw new Error('predicate bug');
      },
    });
    await expect(f.execute(() => Promise.reject(new Error('x')))).rejects.toThrow('predicate bug');
  });
});
