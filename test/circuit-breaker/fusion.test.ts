// A circuit breaker just outside a timeout in a pipeline runs fused with it: the timeout settles
// the call through the breaker's handlers (see `Outcome` in src/policy-base.ts) and the breaker adds no
// promise of its own. These tests check that the fused pair behaves exactly as the two composed
// by hand (no fusion possible there), on every path.
import { describe, it, expect, vi } from 'vitest';
import fc from 'fast-check';
import { circuitBreaker, type CircuitBreakerPolicy } from '../../src/circuit-breaker/index.js';
import { pipeline, timeout, fallback, isBreakwaterError, type AttemptContext } from '../../src/index.js';
import { OBSERVE } from '../../src/internal/settle.js';
import { RUN } from '../../src/internal/run.js';
import { ManualClock } from '../../src/testing/index.js';
import { deferred } from './helpers.js';

type Behaviour = 'ok' | 'fail' | 'flagged' | 'hang' | 'late-ok' | 'late-fail' | 'throws-sync';

/** What a call of `behaviour` does, on `clock`: late ones settle 30 ms later, hung ones never. */
function work(behaviour: Behaviour, clock: ManualClock): (ctx: AttemptContext) => unknown {
  return () => {
    switch (behaviour) {
      case 'ok':
        return Promise.resolve('ok');
      case 'flagged':
        return Promise.resolve('bad');
      case 'fail':
        return Promise.reject(new Error('down'));
      case 'throws-sync':
        throw new Error('sync');
      case 'hang':
        return new Promise(() => {});
      case 'late-ok':
        return new Promise((resolve) => clock.setTimeout(() => resolve('late'), 30));
      case 'late-fail':
        return new Promise((_, reject) => clock.setTimeout(() => reject(new Error('late down')), 30));
    }
  };
}

const describeOutcome = (settled: PromiseSettledResult<unknown>): string =>
  settled.status === 'fulfilled'
    ? `ok:${String(settled.value)}`
    : `err:${(settled.reason as Error).constructor.name}:${(settled.reason as Error).message}`;

interface Rig {
  clock: ManualClock;
  breaker: CircuitBreakerPolicy;
  run: (fn: (ctx: AttemptContext) => unknown) => Promise<unknown>;
  log: string[];
  timeouts: string[];
  dispose(): void;
}

/** The breaker and timeout either fused in a pipeline or composed by hand. */
function rig(fused: boolean, strategy: 'aggressive' | 'cooperative', predicateThrows: boolean): Rig {
  const clock = new ManualClock();
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
  const p = pipeline(breaker, limit);
  const run = fused
    ? (fn: (ctx: AttemptContext) => unknown) => p.execute(fn)
    : (fn: (ctx: AttemptContext) => unknown) => breaker.execute(() => limit.execute(fn));
  return {
    clock,
    breaker,
    run,
    log,
    timeouts,
    dispose: () => {
      breaker.dispose();
      limit.dispose();
    },
  };
}

type Step = { call: Behaviour } | { advance: number };

async function play(r: Rig, steps: readonly Step[]): Promise<Record<string, unknown>> {
  const calls: Array<Promise<PromiseSettledResult<unknown>>> = [];
  for (const step of steps) {
    // Settled at once into a result, so no rejection waits unhandled for the clock.
    if ('call' in step) calls.push(Promise.allSettled([r.run(work(step.call, r.clock))]).then(([s]) => s));
    else await r.clock.advance(step.advance);
  }
  await r.clock.advance(1000); // every late call and deadline is due by now
  const outcomes = (await Promise.all(calls)).map(describeOutcome);
  const { calls: n, successes, failures, rejections, timeouts, slowCalls } = r.breaker.metrics();
  return {
    outcomes,
    log: r.log,
    timeouts: r.timeouts,
    state: r.breaker.state,
    metrics: { n, successes, failures, rejections, timeouts, slowCalls },
  };
}

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

  it('behaves exactly like the two composed by hand (property)', async () => {
    const behaviour = fc.constantFrom<Behaviour>('ok', 'fail', 'flagged', 'hang', 'late-ok', 'late-fail', 'throws-sync');
    const step: fc.Arbitrary<Step> = fc.oneof(
      { weight: 3, arbitrary: behaviour.map((call) => ({ call })) },
      { weight: 1, arbitrary: fc.integer({ min: 1, max: 120 }).map((advance) => ({ advance })) },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(step, { maxLength: 40 }),
        fc.constantFrom<'aggressive' | 'cooperative'>('aggressive', 'cooperative'),
        fc.boolean(),
        async (steps, strategy, predicateThrows) => {
          const fusedRig = rig(true, strategy, predicateThrows);
          const plainRig = rig(false, strategy, predicateThrows);
          try {
            // Hung calls under a cooperative timeout never settle: leave them out of that case.
            const playable = strategy === 'cooperative' ? steps.filter((s) => !('call' in s) || s.call !== 'hang') : steps;
            expect(await play(fusedRig, playable)).toEqual(await play(plainRig, playable));
          } finally {
            fusedRig.dispose();
            plainRig.dispose();
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
