import { describe, it, expect } from 'vitest';
import { pipeline, timeout, fallback, TimeoutError, type Policy, type AttemptContext, type ExecuteOptions } from '../src/index.js';
import { ManualClock } from '../src/testing/index.js';

/** A foreign policy with only the public contract, recording the order it runs in. */
function tracer(label: string, log: string[]): Policy {
  const p = fallback(undefined, { handle: () => false, name: `trace-${label}-${Math.random()}` });
  return {
    ...p,
    name: p.name,
    kind: 'trace',
    events: p.events,
    metrics: () => p.metrics(),
    dispose: () => p.dispose(),
    wrap: (fn) => p.wrap(fn),
    async execute<T>(fn: (ctx: AttemptContext) => T | PromiseLike<T>, options?: ExecuteOptions): Promise<T> {
      log.push(`${label} in`);
      try {
        return (await p.execute(fn, options)) as T; // handle: () => false: never the fallback
      } finally {
        log.push(`${label} out`);
      }
    },
  };
}

describe('pipeline', () => {
  it('runs the first policy outermost and the last innermost', async () => {
    const log: string[] = [];
    const p = pipeline(tracer('a', log), tracer('b', log), tracer('c', log));
    expect(
      await p.execute(() => {
        log.push('fn');
        return 1;
      }),
    ).toBe(1);
    expect(log).toEqual(['a in', 'b in', 'c in', 'fn', 'c out', 'b out', 'a out']);
  });

  it('fallback outside timeout answers the timeout; timeout outside fallback does not see the failure', async () => {
    const clock = new ManualClock();
    const outer = pipeline(fallback('fb'), timeout({ durationMs: 5, clock }));
    const a = outer.execute(() => new Promise(() => {}));
    await clock.advance(5);
    expect(await a).toBe('fb');

    const inner = pipeline(timeout({ durationMs: 5, clock }), fallback('fb'));
    expect(await inner.execute(() => Promise.reject(new Error('x')))).toBe('fb');
    const b = inner.execute(() => new Promise(() => {}));
    const outcome = expect(b).rejects.toBeInstanceOf(TimeoutError);
    await clock.advance(5);
    await outcome;
  });

  it('lists its members in order, frozen', () => {
    const a = timeout(1);
    const b = fallback(1);
    const p = pipeline(a, b);
    expect(p.policies).toEqual([a, b]);
    expect(Object.isFrozen(p.policies)).toBe(true);
    expect(p.kind).toBe('pipeline');
  });

  it('nests: a pipeline is a policy', async () => {
    const log: string[] = [];
    const p = pipeline(tracer('outer', log), pipeline(tracer('x', log), tracer('y', log)));
    await p.execute(() => log.push('fn'));
    expect(log).toEqual(['outer in', 'x in', 'y in', 'fn', 'y out', 'x out', 'outer out']);
  });

  it('passes the caller signal through to foreign members and to fn', async () => {
    const log: string[] = [];
    const controller = new AbortController();
    const p = pipeline(tracer('t', log), timeout(1000));
    let inner: AbortSignal | undefined;
    const call = p.execute(
      ({ signal }) => {
        inner = signal;
        return new Promise(() => {});
      },
      { signal: controller.signal },
    );
    const outcome = call.catch((e: unknown) => e);
    await new Promise((r) => setImmediate(r));
    controller.abort('stop');
    expect(await outcome).toBe('stop');
    expect(inner?.aborted).toBe(true);
  });

  it('an empty pipeline runs fn directly', async () => {
    expect(await pipeline().execute(() => 3)).toBe(3);
  });

  it('takes an options object last', () => {
    const p = pipeline(timeout(1), { name: 'checkout' });
    expect(p.name).toBe('checkout');
    expect(p.policies).toHaveLength(1);
  });

  it('keeps its own metrics', async () => {
    const p = pipeline(fallback(0, { handle: () => false }));
    await p.execute(() => 1);
    await p.execute(() => Promise.reject(new Error('x'))).catch(() => undefined);
    expect(p.metrics()).toMatchObject({ kind: 'pipeline', calls: 2, successes: 1, failures: 1 });
  });

  it('reads its calls off its outermost member and adds up the members\' timeouts and fallbacks', async () => {
    const clock = new ManualClock();
    const p = pipeline(fallback('fb', { clock }), timeout({ durationMs: 10, clock }), { name: 'sums' });
    expect(await p.execute(() => 'ok')).toBe('ok');
    const slow = p.execute(() => new Promise(() => {}));
    await clock.advance(10);
    expect(await slow).toBe('fb');
    const m = p.metrics();
    expect(m).toMatchObject({ name: 'sums', kind: 'pipeline', calls: 2, successes: 2, failures: 0, timeouts: 1, fallbacks: 1 });
    expect(m.latencyMs.max).toBe(10);
  });

  it('records its own calls when the outermost member does not (metrics off, or not ours)', async () => {
    const clock = new ManualClock();
    const p = pipeline(fallback(0, { metrics: false, handle: () => false }), timeout({ durationMs: 10, clock }), { clock });
    await p.execute(() => 1);
    await p.execute(() => Promise.reject(new Error('x'))).catch(() => undefined);
    expect(p.metrics()).toMatchObject({ calls: 2, successes: 1, failures: 1 });
    const log: string[] = [];
    const q = pipeline(tracer('t', log), { clock });
    await q.execute(() => 1);
    expect(q.metrics().calls).toBe(1);
  });

  it('rejects members that are not policies', () => {
    expect(() => pipeline(timeout(1), null as never)).toThrow(/^pipeline: argument 2 must be a policy, got null$/);
    expect(() => pipeline(5 as never)).toThrow(TypeError);
  });

  it('dispose() leaves shared members working', async () => {
    const shared = fallback(1);
    const p = pipeline(shared);
    p.dispose();
    expect(await shared.execute(() => 2)).toBe(2);
  });
});
