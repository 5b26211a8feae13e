// A circuit breaker just outside a timeout in a pipeline runs fused with it: the timeout settles
// the call through the breaker's handlers (see `SettlementSink` in src/internal/settle.ts) and the breaker adds no
// promise of its own. These tests check that the fused pair behaves exactly as the two composed
// by hand (no fusion possible there), on every path.
import { describe, it, expect, vi } from 'vitest';
import fc from 'fast-check';
import { circuitBreaker } from '../../src/circuit-breaker/index.js';
import { pipeline, timeout, fallback, isBreakwaterError, type AttemptContext } from '../../src/index.js';
import { OBSERVE } from '../../src/internal/settle.js';
import { RUN } from '../../src/internal/run.js';
import { ManualClock } from '../../src/testing/index.js';
import { deferred } from './helpers.js';
import { describeFusedPair } from '../kit/fused-pair.js';

// The differential property comes from the conformance kit (test/kit/fused-pair.ts).
describeFusedPair<{ strategy: 'aggressive' | 'cooperative'; predicateThrows: boolean }>('circuitBreaker + timeout', {
  variants: fc.record({ strategy: fc.constantFrom<'aggressive' | 'cooperative'>('aggressive', 'cooperative'), predicateThrows: fc.boolean() }),
  // Hung calls under a cooperative timeout never settle: leave them out of that case.
  excludes: ({ strategy }) => (strategy === 'cooperative' ? ['hang'] : []),
  make(clock, { strategy, predicateThrows }) {
    const breaker = circuitBreaker({
      clock,
      window: { type: 'count', size: 4 },
      minimumCalls: 2,
      openDurationMs: 100,
      halfOpenCalls: 1,
      slowCallDurationMs: 20,
      handleResult: (r) => {
        if (predicateThrows && r === 'bad') throw new Error('predicate');
        return r === 'bad';
      },
    });
    const limit = timeout({ clock, durationMs: 50, strategy });
    const log: string[] = [];
    const timeouts: string[] = [];
    breaker.events.on('stateChange', ({ from, to, at }) => log.push(`state ${from}>${to}@${at}`));
    breaker.events.on('success', ({ durationMs, slow }) => log.push(`success ${durationMs} ${slow}@${clock.now()}`));
    breaker.events.on('failure', ({ durationMs, slow }) => log.push(`failure ${durationMs} ${slow}@${clock.now()}`));
    breaker.events.on('rejected', ({ state }) => log.push(`rejected ${state}@${clock.now()}`));
    // The timeout's events go to a log of their own: fused, the breaker hears of each outcome as
    // the timeout settles it (within the same deadline), composed by hand a microtask later; each
    // policy's own events come in the same order either way.
    limit.events.on('timeout', () => timeouts.push(`timeout@${clock.now()}`));
    return {
      outer: breaker,
      inner: limit,
      observe: () => {
        const { calls, successes, failures, rejections, timeouts: t, slowCalls } = breaker.metrics();
        return { log, timeouts, state: breaker.state, metrics: { calls, successes, failures, rejections, timeouts: t, slowCalls } };
      },
      dispose: () => {
        breaker.dispose();
        limit.dispose();
      },
    };
  },
});

describe('circuit breaker fused with the timeout inside it', () => {
  it('takes the fused path in the closed state with no caller signal, the plain one otherwise', async () => {
    const clock = new ManualClock();
    const breaker = circuitBreaker({ clock, window: { type: 'consecutive', failures: 1 } });
    const observe = vi.spyOn(breaker, OBSERVE);
    const run = vi.spyOn(breaker, RUN);
    const p = pipeline(breaker, timeout({ clock, durationMs: 50 }));
    await p.execute(() => 1);
    expect([observe.mock.calls.length, run.mock.calls.length]).toEqual([1, 0]);
    // A caller's signal: the breaker must see the caller's abort, so it runs its own layer.
    await p.execute(() => 1, { signal: new AbortController().signal });
    expect(run.mock.calls.length).toBe(1);
    await p.execute(() => Promise.reject(new Error('down'))).catch(() => {});
    expect(breaker.state).toBe('open');
    // Open: OBSERVE declines without side effects, RUN refuses (one rejection recorded, not two).
    await expect(p.execute(() => 1)).rejects.toMatchObject({ code: 'ECIRCUITOPEN' });
    expect(breaker.metrics().rejections).toBe(1);
    expect(run.mock.calls.length).toBe(2);
  });

  it('does not fuse a breaker with a policy that is not a timeout', async () => {
    const breaker = circuitBreaker();
    const observe = vi.spyOn(breaker, OBSERVE);
    await pipeline(breaker, fallback(0), timeout(50)).execute(() => 1);
    expect(observe).not.toHaveBeenCalled();
  });

  it('a deadline counts as a breaker failure and opens it, as without fusion', async () => {
    const clock = new ManualClock();
    const breaker = circuitBreaker({ clock, window: { type: 'consecutive', failures: 2 } });
    const p = pipeline(breaker, timeout({ clock, durationMs: 50 }));
    const aborted: unknown[] = [];
    const hung = (ctx: AttemptContext) =>
      new Promise(() => ctx.signal.addEventListener('abort', () => aborted.push(ctx.signal.reason)));
    const a = p.execute(hung);
    const b = p.execute(hung);
    const both = Promise.allSettled([a, b]);
    await clock.advance(50);
    const [ra, rb] = await both;
    expect(ra.status === 'rejected' && isBreakwaterError(ra.reason, 'ETIMEDOUT')).toBe(true);
    expect(rb.status === 'rejected' && isBreakwaterError(rb.reason, 'ETIMEDOUT')).toBe(true);
    expect(aborted).toHaveLength(2);
    expect(breaker.state).toBe('open');
  });

  it('a timeout disposed mid-call rejects through the breaker (counted as a failure)', async () => {
    const clock = new ManualClock();
    const breaker = circuitBreaker({ clock, window: { type: 'consecutive', failures: 1 } });
    const limit = timeout({ clock, durationMs: 50 });
    const p = pipeline(breaker, limit);
    const gate = deferred();
    const call = p.execute(() => gate.promise);
    limit.dispose();
    await expect(call).rejects.toThrow(/disposed/);
    expect(breaker.state).toBe('open');
    // And a call after dispose rejects at once, through the breaker too.
    breaker.reset();
    await expect(p.execute(() => 1)).rejects.toThrow(/disposed/);
    expect(breaker.state).toBe('open');
    gate.resolve(1);
  });

  it('a throwing handleResult rejects the call with its error and counts a failure', async () => {
    const breaker = circuitBreaker({
      window: { type: 'consecutive', failures: 1 },
      handleResult: () => {
        throw new Error('predicate');
      },
    });
    await expect(pipeline(breaker, timeout(1000)).execute(() => 1)).rejects.toThrow('predicate');
    expect(breaker.state).toBe('open');
  });
});
