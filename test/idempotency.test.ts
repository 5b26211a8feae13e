// markNonIdempotent: a mark on an attempt that every retry and hedge around it honours, however
// the pipeline is built (their own layers, nested, with timeouts in between, a signal only).
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { retry } from '../src/retry.js';
import { hedge } from '../src/hedge.js';
import { timeout } from '../src/timeout.js';
import { pipeline } from '../src/pipeline.js';
import { backoff } from '../src/backoff.js';
import { markNonIdempotent } from '../src/idempotency.js';
import { isBreakwaterError } from '../src/errors.js';
import { ManualClock } from '../src/testing/index.js';
import type { AttemptContext, Policy } from '../src/contract.js';

class Boom extends Error {}
const quick = backoff.constant(10);

/** A guarded operation that counts its sends and fails each one. */
function failingSend(mark: 'ctx' | 'signal' | 'none', fail: 'throw' | 'wrap' | 'hang' = 'throw') {
  const state = { sends: 0 };
  const fn = async (ctx: AttemptContext): Promise<never> => {
    if (mark === 'ctx') markNonIdempotent(ctx);
    if (mark === 'signal') markNonIdempotent(ctx.signal);
    state.sends++;
    if (fail === 'hang') return new Promise<never>(() => {});
    await Promise.resolve();
    if (fail === 'wrap') throw new Error('wrapped', { cause: new Boom('sent') });
    throw new Boom('sent');
  };
  return { fn, state };
}

/** Runs the clock on, then reports the call's outcome (`undefined` while it is still running). */
async function settle(clock: ManualClock, p: Promise<unknown>): Promise<unknown> {
  let outcome: unknown;
  p.then(
    (v) => (outcome = { ok: true, v }),
    (e: unknown) => (outcome = { ok: false, e }),
  );
  for (let i = 0; i < 20; i++) await clock.advance(100);
  return outcome;
}

describe('markNonIdempotent through retry', () => {
  it('without a mark the failure is retried (the control)', async () => {
    const clock = new ManualClock();
    const { fn, state } = failingSend('none');
    await settle(clock, retry({ maxAttempts: 3, backoff: quick, clock }).execute(fn));
    expect(state.sends).toBe(3);
  });

  it.each(['ctx', 'signal'] as const)('a mark on the %s stops the retry after one send', async (mark) => {
    const clock = new ManualClock();
    const r = retry({ maxAttempts: 3, backoff: quick, clock });
    const gaveUp: number[] = [];
    r.events.on('giveUp', ({ attempts }) => gaveUp.push(attempts));
    const { fn, state } = failingSend(mark);
    const out = (await settle(clock, r.execute(fn))) as { ok: boolean; e: unknown };
    expect(out.ok).toBe(false);
    expect(out.e).toBeInstanceOf(Boom);
    expect(state.sends).toBe(1);
    expect(gaveUp).toEqual([1]);
  });

  it('holds with the caller signal, nested retries and a timeout between them', async () => {
    const clock = new ManualClock();
    const policy = pipeline(
      retry({ maxAttempts: 3, backoff: quick, clock }),
      retry({ maxAttempts: 3, backoff: quick, clock }),
      timeout({ durationMs: 50, clock }),
    );
    const { fn, state } = failingSend('signal', 'wrap');
    const controller = new AbortController();
    await settle(clock, policy.execute(fn, { signal: controller.signal }));
    expect(state.sends).toBe(1);
  });

  it('an attempt timeout of a marked attempt is not retried by a retry that has no signal', async () => {
    const clock = new ManualClock();
    const outer = retry({ maxAttempts: 3, backoff: quick, clock });
    const policy = pipeline(retry({ maxAttempts: 2, backoff: quick, clock }), timeout({ durationMs: 50, clock }));
    const { fn, state } = failingSend('signal', 'hang');
    // The user's own retry around a pipeline it did not build, the hard case: the mark is made
    // deep inside, and only the TimeoutError comes out.
    const out = (await settle(clock, outer.execute(() => policy.execute(fn)))) as { ok: boolean; e: unknown };
    expect(isBreakwaterError(out.e, 'ETIMEDOUT')).toBe(true);
    expect(state.sends).toBe(1);
  });

  it('marks are per call: the next call through the same policies retries again', async () => {
    const clock = new ManualClock();
    const r = retry({ maxAttempts: 2, backoff: quick, clock });
    const once = failingSend('ctx');
    await settle(clock, r.execute(once.fn));
    const plain = failingSend('none');
    await settle(clock, r.execute(plain.fn));
    expect([once.state.sends, plain.state.sends]).toEqual([1, 2]);
  });

  it('a signal that no policy created carries no attempt: marking it changes nothing', async () => {
    const clock = new ManualClock();
    let sends = 0;
    const fn = async (): Promise<never> => {
      markNonIdempotent(new AbortController().signal);
      sends++;
      await Promise.resolve();
      throw new Boom('x');
    };
    await settle(clock, retry({ maxAttempts: 2, backoff: quick, clock }).execute(fn));
    expect(sends).toBe(2);
    expect(() => markNonIdempotent(null as unknown as AbortSignal)).toThrow(TypeError);
  });
});

describe('markNonIdempotent through hedge', () => {
  it('a hedge starts no second attempt beside a marked one that is still running', async () => {
    const clock = new ManualClock();
    const h = hedge({ delayMs: 10, maxHedges: 2, clock });
    let started = 0;
    let finish!: (v: string) => void;
    const p = h.execute((ctx) => {
      started++;
      markNonIdempotent(ctx.signal);
      return new Promise<string>((resolve) => (finish = resolve));
    });
    await clock.advance(100);
    expect(started).toBe(1);
    finish('done');
    await expect(p).resolves.toBe('done');
    expect(clock.pendingTimers).toBe(0);
  });

  it('with a timeout between hedge and work, the mark still reaches the hedge', async () => {
    const clock = new ManualClock();
    const policy = pipeline(hedge({ delayMs: 10, clock }), timeout({ durationMs: 30, clock }));
    const { fn, state } = failingSend('signal', 'hang');
    const out = (await settle(clock, policy.execute(fn))) as { ok: boolean; e: unknown };
    expect(isBreakwaterError(out.e, 'ETIMEDOUT')).toBe(true);
    expect(state.sends).toBe(1);
  });

  it('a failed marked attempt starts no hedge, and a retry outside the hedge stops too', async () => {
    const clock = new ManualClock();
    const outer = retry({ maxAttempts: 3, backoff: quick, clock });
    const h = hedge({ delayMs: Infinity, maxHedges: 2, clock });
    const { fn, state } = failingSend('ctx');
    const out = (await settle(clock, outer.execute(() => h.execute(fn)))) as { ok: boolean; e: unknown };
    expect(out.e).toBeInstanceOf(Boom);
    expect(state.sends).toBe(1);
  });

  it('unmarked work is hedged as before (the control)', async () => {
    const clock = new ManualClock();
    const h = hedge({ delayMs: 10, clock });
    let started = 0;
    const p = h.execute((ctx) => {
      started++;
      return ctx.attempt === 2 ? 'second' : new Promise<string>(() => {});
    });
    await clock.advance(10);
    await expect(p).resolves.toBe('second');
    expect(started).toBe(2);
  });
});

describe('property: a marked attempt is sent once by any stack of retries and hedges', () => {
  it('holds for random stacks, with and without a caller signal', async () => {
    const layer = fc.oneof(
      fc.record({ kind: fc.constant('retry' as const), attempts: fc.integer({ min: 1, max: 4 }) }),
      fc.record({ kind: fc.constant('hedge' as const), delay: fc.constantFrom(0, 5, Infinity), hedges: fc.integer({ min: 0, max: 2 }) }),
      fc.record({ kind: fc.constant('timeout' as const), ms: fc.integer({ min: 20, max: 60 }) }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(layer, { minLength: 1, maxLength: 4 }),
        fc.constantFrom<'ctx' | 'signal'>('ctx', 'signal'),
        fc.constantFrom<'throw' | 'wrap' | 'hang'>('throw', 'wrap', 'hang'),
        fc.boolean(),
        fc.boolean(),
        async (layers, mark, fail, withSignal, userWrapped) => {
          const clock = new ManualClock();
          const policies: Policy[] = layers.map((l) =>
            l.kind === 'retry'
              ? retry({ maxAttempts: l.attempts, backoff: quick, clock })
              : l.kind === 'hedge'
                ? hedge({ delayMs: l.delay, maxHedges: l.hedges, clock })
                : timeout({ durationMs: l.ms, clock }),
          );
          const { fn, state } = failingSend(mark, fail);
          const options = withSignal ? { signal: new AbortController().signal } : undefined;
          // Either one pipeline, or each layer executing the next by hand (the user's own nesting).
          let p: Promise<unknown>;
          if (userWrapped) {
            const run = (i: number, ctx: AttemptContext): Promise<unknown> =>
              i === policies.length ? fn(ctx) : policies[i]!.execute((c) => run(i + 1, c), { signal: ctx.signal });
            p = policies[0]!.execute((c) => run(1, c), options);
          } else {
            p = pipeline(...policies).execute(fn, options);
          }
          await settle(clock, p);
          expect(state.sends).toBe(1);
        },
      ),
      { numRuns: 200 },
    );
  });
});
