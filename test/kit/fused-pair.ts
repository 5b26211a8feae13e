// The conformance kit for a fused pair: an outer policy with `[OBSERVE]` directly outside an
// inner policy marked `[SETTLES]` runs fused in a pipeline (the inner settles the call through
// the outer's settlement sink). `describeFusedPair` checks, for any such pair, that the pipeline
// really takes the fused path, and that the fused pair behaves exactly like the two composed by
// hand (`outer.execute(() => inner.execute(fn))`, where no fusion is possible) on every path:
// values, errors, synchronous throws, late outcomes, hung calls, deadlines, disposal — a
// differential property test. A new fused pair gets its test by describing its rig.
import { describe, it, expect, vi } from 'vitest';
import fc from 'fast-check';
import type { AttemptContext, Policy } from '../../src/contract.js';
import { pipeline } from '../../src/pipeline.js';
import { OBSERVE, SETTLES } from '../../src/internal/settle.js';
import { ManualClock } from '../../src/testing/index.js';

/** What one call's work does: late ones settle 30 ms later, hung ones never. */
export type Behaviour = 'ok' | 'fail' | 'flagged' | 'hang' | 'late-ok' | 'late-fail' | 'throws-sync';
const BEHAVIOURS: readonly Behaviour[] = ['ok', 'fail', 'flagged', 'hang', 'late-ok', 'late-fail', 'throws-sync'];

/** A pair built for one run of the property. */
export interface Pair {
  readonly outer: Policy;
  readonly inner: Policy;
  /** Everything observable about the pair after a run (events, state, metrics), compared as is. */
  observe(): Record<string, unknown>;
  dispose(): void;
}

/** How to build the pair under test. */
export interface FusedPairRig<V> {
  /** Settings of the pair, drawn per run (a strategy, a predicate that throws, …). */
  readonly variants: fc.Arbitrary<V>;
  /** A fresh pair on `clock`. A `'flagged'` call returns `'bad'`, which a result predicate may flag. */
  make(clock: ManualClock, variant: V): Pair;
  /** Behaviours that cannot be played under `variant` (a hung call under a cooperative timeout never settles). */
  excludes?(variant: V): readonly Behaviour[];
  /** Property runs. @defaultValue 150 */
  readonly numRuns?: number;
}

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

const outcomeOf = (settled: PromiseSettledResult<unknown>): string =>
  settled.status === 'fulfilled'
    ? `ok:${String(settled.value)}`
    : `err:${(settled.reason as Error).constructor.name}:${(settled.reason as Error).message}`;

type Step = { call: Behaviour } | { advance: number };

async function play(clock: ManualClock, run: (fn: (ctx: AttemptContext) => unknown) => Promise<unknown>, pair: Pair, steps: readonly Step[]) {
  const calls: Array<Promise<PromiseSettledResult<unknown>>> = [];
  for (const step of steps) {
    // Settled at once into a result, so no rejection waits unhandled for the clock.
    if ('call' in step) calls.push(Promise.allSettled([run(work(step.call, clock))]).then(([s]) => s));
    else await clock.advance(step.advance);
  }
  await clock.advance(1000); // every late call and deadline is due by now
  const outcomes = (await Promise.all(calls)).map(outcomeOf);
  return { outcomes, ...pair.observe() };
}

/** Registers the kit's tests for the fused pair that `rig` builds. */
export function describeFusedPair<V>(title: string, rig: FusedPairRig<V>): void {
  describe(`fused pair conformance: ${title}`, () => {
    it('the pair is a fused pair, and a pipeline takes the fused path for a plain call', async () => {
      const clock = new ManualClock();
      const variant = fc.sample(rig.variants, { numRuns: 1, seed: 1 })[0] as V;
      const pair = rig.make(clock, variant);
      try {
        expect((pair.inner as { [SETTLES]?: unknown })[SETTLES]).toBe(true);
        const observe = vi.spyOn(pair.outer as unknown as Record<typeof OBSERVE, () => unknown>, OBSERVE);
        await pipeline(pair.outer, pair.inner).execute(() => 'ok');
        expect(observe).toHaveBeenCalledTimes(1);
        expect(observe.mock.results[0]?.value).toBeDefined();
      } finally {
        pair.dispose();
      }
    });

    it('behaves exactly like the two composed by hand (property)', async () => {
      const step = (excluded: readonly Behaviour[]): fc.Arbitrary<Step> =>
        fc.oneof(
          { weight: 3, arbitrary: fc.constantFrom(...BEHAVIOURS.filter((b) => !excluded.includes(b))).map((call) => ({ call })) },
          { weight: 1, arbitrary: fc.integer({ min: 1, max: 120 }).map((advance) => ({ advance })) },
        );
      await fc.assert(
        fc.asyncProperty(
          rig.variants.chain((variant) => fc.tuple(fc.constant(variant), fc.array(step(rig.excludes?.(variant) ?? []), { maxLength: 40 }))),
          async ([variant, steps]) => {
            const fusedClock = new ManualClock();
            const plainClock = new ManualClock();
            const fused = rig.make(fusedClock, variant);
            const plain = rig.make(plainClock, variant);
            try {
              const p = pipeline(fused.outer, fused.inner);
              const a = await play(fusedClock, (fn) => p.execute(fn), fused, steps);
              const b = await play(plainClock, (fn) => plain.outer.execute(() => plain.inner.execute(fn)), plain, steps);
              expect(a).toEqual(b);
            } finally {
              fused.dispose();
              plain.dispose();
            }
          },
        ),
        { numRuns: rig.numRuns ?? 150 },
      );
    });
  });
}
