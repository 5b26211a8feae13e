// A breaker inside a hedge: the attempts the hedge cancels (losers) count as neither success nor
// failure, so winning hedges never open the breaker. An outer timeout's abort still counts.
import { describe, it, expect } from 'vitest';
import { circuitBreaker, hedge, pipeline, timeout, type AttemptContext } from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';

/** Work that honours its signal: it takes `ms` on the clock, or rejects with the abort reason. */
function work(clock: ManualClock, ms: number, { signal }: AttemptContext): Promise<string> {
  return new Promise((resolve, reject) => {
    const t = clock.setTimeout(() => resolve(`done in ${ms}`), ms);
    signal.addEventListener('abort', () => {
      clock.clearTimeout(t);
      reject(signal.reason);
    });
  });
}

describe('a breaker inside a hedge', () => {
  it('stays closed while hedges keep winning over slow first attempts', async () => {
    const clock = new ManualClock();
    const breaker = circuitBreaker({ window: { type: 'count', size: 10 }, minimumCalls: 5, clock });
    const p = pipeline(hedge({ delayMs: 5, maxHedges: 2, clock }), breaker);
    const failures: unknown[] = [];
    breaker.events.on('failure', (e) => failures.push(e.error));
    for (let i = 0; i < 12; i++) {
      const call = p.execute((ctx) => work(clock, ctx.attempt === 1 ? 40 : 2, ctx));
      await clock.advance(7);
      await expect(call).resolves.toBe('done in 2');
      await clock.advance(40);
    }
    expect(failures).toEqual([]);
    expect(breaker.state).toBe('closed');
    expect(breaker.metrics().failures).toBe(0);
  });

  it('with a caller signal too', async () => {
    const clock = new ManualClock();
    const breaker = circuitBreaker({ window: { type: 'count', size: 4 }, minimumCalls: 2, clock });
    const p = pipeline(hedge({ delayMs: 5, clock }), breaker);
    const controller = new AbortController();
    for (let i = 0; i < 4; i++) {
      const call = p.execute((ctx) => work(clock, ctx.attempt === 1 ? 40 : 2, ctx), { signal: controller.signal });
      await clock.advance(7);
      await expect(call).resolves.toBe('done in 2');
    }
    expect(breaker.state).toBe('closed');
  });

  it('a timeout outside the breaker still counts as a failure', async () => {
    const clock = new ManualClock();
    const breaker = circuitBreaker({ window: { type: 'consecutive', failures: 2 }, clock });
    const p = pipeline(timeout({ durationMs: 10, clock }), breaker);
    for (let i = 0; i < 2; i++) {
      const call = p.execute((ctx) => work(clock, 50, ctx));
      const r = expect(call).rejects.toMatchObject({ code: 'ETIMEDOUT' });
      await clock.advance(10);
      await r;
    }
    expect(breaker.state).toBe('open');
  });

  it('real failures of hedged attempts still count', async () => {
    const clock = new ManualClock();
    const breaker = circuitBreaker({ window: { type: 'consecutive', failures: 2 }, clock });
    const p = pipeline(hedge({ delayMs: 5, clock }), breaker);
    const call = p.execute(() => Promise.reject(new Error('down')));
    await expect(call).rejects.toThrow('down');
    expect(breaker.state).toBe('open');
  });
});
