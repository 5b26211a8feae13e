import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { backoff, isBackoff, type Backoff, type BackoffIterator, type Jitter } from '../src/backoff.js';
import { expectInvalid } from './helpers.js';

const JITTERS: readonly Jitter[] = ['none', 'full', 'equal', 'decorrelated'];

function take(it: BackoffIterator, n: number): (number | undefined)[] {
  const out: (number | undefined)[] = [];
  for (let i = 0; i < n; i++) out.push(it.next());
  return out;
}

/** A deterministic `random` that cycles through `values`. */
function cycle(values: readonly number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length]!;
}

describe('backoff.constant', () => {
  it('gives the same delay for ever', () => {
    const it = backoff.constant(250).start();
    expect(take(it, 5)).toEqual([250, 250, 250, 250, 250]);
    for (let i = 0; i < 10_000; i++) it.next();
    expect(it.next()).toBe(250);
  });

  it('allows 0', () => {
    expect(take(backoff.constant(0).start(), 3)).toEqual([0, 0, 0]);
  });
});

describe('backoff.linear', () => {
  it('defaults to stepMs 100, initialMs = stepMs, maxMs 30000', () => {
    const it = backoff.linear().start();
    expect(take(it, 4)).toEqual([100, 200, 300, 400]);
    for (let i = 4; i < 299; i++) it.next();
    expect(take(it, 3)).toEqual([30_000, 30_000, 30_000]);
  });

  it('initialMs defaults to stepMs', () => {
    expect(take(backoff.linear({ stepMs: 500 }).start(), 3)).toEqual([500, 1000, 1500]);
  });

  it('grows from initialMs by stepMs up to maxMs', () => {
    const it = backoff.linear({ initialMs: 1000, stepMs: 500, maxMs: 3000 }).start();
    expect(take(it, 7)).toEqual([1000, 1500, 2000, 2500, 3000, 3000, 3000]);
  });

  it('clamps a step that passes maxMs', () => {
    expect(take(backoff.linear({ initialMs: 0, stepMs: 400, maxMs: 1000 }).start(), 5)).toEqual([
      0, 400, 800, 1000, 1000,
    ]);
  });

  it('stepMs 0 is constant', () => {
    expect(take(backoff.linear({ initialMs: 50, stepMs: 0 }).start(), 3)).toEqual([50, 50, 50]);
  });

  it('initialMs equal to maxMs is constant', () => {
    expect(take(backoff.linear({ initialMs: 70, stepMs: 10, maxMs: 70 }).start(), 3)).toEqual([70, 70, 70]);
  });
});

describe('backoff.delays', () => {
  it('gives the listed delays, then stops for good', () => {
    const it = backoff.delays([100, 0, 2500]).start();
    expect(take(it, 6)).toEqual([100, 0, 2500, undefined, undefined, undefined]);
  });

  it('an empty list stops at once', () => {
    expect(backoff.delays([]).start().next()).toBeUndefined();
  });

  it('copies the list', () => {
    const list = [1, 2, 3];
    const schedule = backoff.delays(list);
    list[0] = 99;
    list.push(4);
    expect(take(schedule.start(), 4)).toEqual([1, 2, 3, undefined]);
  });
});

describe('backoff.exponential', () => {
  it("jitter 'none' doubles from 100 up to 30000 by default", () => {
    const it = backoff.exponential({ jitter: 'none' }).start();
    expect(take(it, 11)).toEqual([100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 30000, 30000]);
  });

  it('uses initialMs, factor and maxMs', () => {
    const it = backoff.exponential({ initialMs: 100, factor: 1.5, maxMs: 400, jitter: 'none' }).start();
    expect(take(it, 6)).toEqual([100, 150, 225, 337.5, 400, 400]);
  });

  it('factor 1 is constant', () => {
    expect(take(backoff.exponential({ factor: 1, jitter: 'none' }).start(), 3)).toEqual([100, 100, 100]);
  });

  it("jitter 'full' is random · ceiling and is the default", () => {
    const random = cycle([0.5, 0, 0.25]);
    const it = backoff.exponential({ random }).start();
    expect(take(it, 6)).toEqual([50, 0, 100, 400, 0, 800]);
  });

  it("jitter 'equal' is ceiling/2 + random · ceiling/2", () => {
    const random = cycle([0.5, 0, 0.9999999]);
    const it = backoff.exponential({ jitter: 'equal', random }).start();
    const got = take(it, 3) as number[];
    expect(got[0]).toBe(75);
    expect(got[1]).toBe(100);
    expect(got[2]).toBeCloseTo(400, 3);
    expect(got[2]).toBeLessThanOrEqual(400);
  });

  it("jitter 'decorrelated' is min(cap, U(base, 3 · previous)) and ignores factor", () => {
    const it = backoff.exponential({ jitter: 'decorrelated', factor: 7, maxMs: 500, random: () => 0.5 }).start();
    // 100 + 0.5·(300 − 100) = 200; 100 + 0.5·(600 − 100) = 350; 100 + 0.5·(1050 − 100) = 575 → 500
    expect(take(it, 5)).toEqual([200, 350, 500, 500, 500]);
    const low = backoff.exponential({ jitter: 'decorrelated', random: () => 0 }).start();
    expect(take(low, 3)).toEqual([100, 100, 100]);
  });

  it("jitter 'decorrelated' at a huge cap: 3 · previous overflows, random() 0 still gives initialMs", () => {
    let calls = 0;
    const random = (): number => (calls++ < 2000 ? 0.9999999 : 0);
    const it = backoff.exponential({ jitter: 'decorrelated', maxMs: Number.MAX_VALUE, random }).start();
    for (let i = 0; i < 2000; i++) it.next();
    expect(it.next()).toBe(100);
  });

  it("jitter 'none' never calls random; the others call it once per delay", () => {
    let calls = 0;
    const random = (): number => {
      calls++;
      return 0.5;
    };
    take(backoff.exponential({ jitter: 'none', random }).start(), 10);
    expect(calls).toBe(0);
    for (const jitter of ['full', 'equal', 'decorrelated'] as const) {
      calls = 0;
      take(backoff.exponential({ jitter, random }).start(), 10);
      expect(calls).toBe(10);
    }
  });

  it('treats a random() result outside [0, 1) defensively', () => {
    for (const jitter of JITTERS) {
      const random = cycle([1, 2, -1, NaN, Infinity, -Infinity, 1e300]);
      const it = backoff.exponential({ jitter, maxMs: 1000, random }).start();
      for (let i = 0; i < 100; i++) {
        const d = it.next()!;
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThanOrEqual(1000);
      }
    }
    // NaN counts as 0, anything >= 1 as 1.
    const it = backoff.exponential({ jitter: 'full', random: cycle([NaN, 5]) }).start();
    expect(take(it, 2)).toEqual([0, 200]);
  });

  it('stays at the cap after 100,000 attempts, also from initialMs 0 (no Infinity · 0 = NaN)', () => {
    const cases: [Jitter, number, number][] = [
      ['none', 100, 30_000],
      ['none', 0, 0],
      ['full', 0, 0],
      ['equal', 0, 0],
      ['decorrelated', 0, 0],
    ];
    for (const [jitter, initialMs, expected] of cases) {
      const it = backoff.exponential({ jitter, initialMs, factor: 10, random: () => 0.9999999 }).start();
      for (let i = 0; i < 100_000; i++) it.next();
      expect(it.next()).toBe(expected);
    }
  });
});

describe('schedules are immutable values with independent runs', () => {
  const schedules: [string, () => Backoff][] = [
    ['constant', () => backoff.constant(5)],
    ['linear', () => backoff.linear({ initialMs: 10, stepMs: 10, maxMs: 55 })],
    ['delays', () => backoff.delays([1, 2, 3])],
    ...JITTERS.map((jitter): [string, () => Backoff] => [
      `exponential ${jitter}`,
      // A stateless random, so that any difference between runs comes from iterator state.
      () => backoff.exponential({ jitter, initialMs: 10, maxMs: 1000, random: () => 0.7 }),
    ]),
  ];

  for (const [name, make] of schedules) {
    it(`${name}: two start() iterators do not share state, and a schedule can be reused`, () => {
      const schedule = make();
      const expected = take(schedule.start(), 8);
      const a = schedule.start();
      const b = schedule.start();
      const fromA: (number | undefined)[] = [];
      const fromB: (number | undefined)[] = [];
      // Interleave unevenly: a runs ahead of b.
      fromA.push(a.next(), a.next(), a.next());
      fromB.push(b.next());
      fromA.push(...take(a, 5));
      fromB.push(...take(b, 7));
      expect(fromA).toEqual(expected);
      expect(fromB).toEqual(expected);
      // Exhausting or advancing a run leaves the schedule as it was.
      expect(take(schedule.start(), 8)).toEqual(expected);
    });

    it(`${name}: the schedule is frozen`, () => {
      const schedule = make();
      expect(Object.isFrozen(schedule)).toBe(true);
      expect(isBackoff(schedule)).toBe(true);
    });
  }

  it('start() does not depend on this', () => {
    // Detaching the method is the point of this test.
    // eslint-disable-next-line @typescript-eslint/unbound-method
    const { start } = backoff.delays([7]);
    expect(start().next()).toBe(7);
  });

  it('the backoff namespace is frozen', () => {
    expect(Object.isFrozen(backoff)).toBe(true);
  });
});

describe('isBackoff', () => {
  it('accepts any object with a start function', () => {
    expect(isBackoff(backoff.constant(1))).toBe(true);
    expect(isBackoff({ start: () => ({ next: () => 1 }) })).toBe(true);
  });

  it('rejects everything else', () => {
    for (const v of [undefined, null, 0, 100, 'start', {}, { start: 1 }, [], () => 1]) {
      expect(isBackoff(v)).toBe(false);
    }
  });
});

describe('no delay is ever negative, NaN or above maxMs (property, 10,000 attempts per run)', () => {
  const ATTEMPTS = 10_000;
  const finite = (min: number, max: number): fc.Arbitrary<number> =>
    fc.double({ min, max, noNaN: true, noDefaultInfinity: true });
  const maxMsArb = fc.oneof(
    fc.constantFrom(0, 1, 30_000, 2 ** 31 - 1, Number.MAX_SAFE_INTEGER, Number.MAX_VALUE),
    finite(0, 1e6),
    finite(0, Number.MAX_VALUE),
  );
  /** initialMs as a fraction of maxMs, so that initialMs <= maxMs. */
  const shareArb = fc.oneof(fc.constantFrom(0, 1, 1e-9, 0.5), finite(0, 1));
  const factorArb = fc.oneof(fc.constantFrom(1, 1 + Number.EPSILON, 2, 3, 10, 1e300, Number.MAX_VALUE), finite(1, 1e6));
  const randomValuesArb = fc.array(
    fc.oneof(
      fc.constantFrom(0, 0.9999999, 1 - Number.EPSILON / 2, 0.5, Number.MIN_VALUE),
      fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
    ),
    { minLength: 1, maxLength: 20 },
  );

  function check(it: BackoffIterator, maxMs: number): void {
    for (let i = 0; i < ATTEMPTS; i++) {
      const d = it.next();
      if (typeof d !== 'number' || !(d >= 0) || !(d <= maxMs)) {
        throw new Error(`attempt ${i}: delay ${String(d)} outside [0, ${maxMs}]`);
      }
    }
  }

  for (const jitter of JITTERS) {
    it(`exponential, jitter '${jitter}'`, () => {
      fc.assert(
        fc.property(maxMsArb, shareArb, factorArb, randomValuesArb, (maxMs, share, factor, values) => {
          const initialMs = Math.min(maxMs, maxMs * share);
          check(backoff.exponential({ jitter, initialMs, factor, maxMs, random: cycle(values) }).start(), maxMs);
        }),
        { numRuns: 100 },
      );
    });

    it(`exponential, jitter '${jitter}', with a misbehaving random()`, () => {
      const wild = fc.oneof(fc.double(), fc.constantFrom(1, -0, NaN, Infinity, -Infinity, 1e300));
      fc.assert(
        fc.property(maxMsArb, shareArb, factorArb, fc.array(wild, { minLength: 1, maxLength: 20 }), (maxMs, share, factor, values) => {
          const initialMs = Math.min(maxMs, maxMs * share);
          check(backoff.exponential({ jitter, initialMs, factor, maxMs, random: cycle(values) }).start(), maxMs);
        }),
        { numRuns: 30 },
      );
    });
  }

  it('linear', () => {
    fc.assert(
      fc.property(maxMsArb, shareArb, fc.oneof(fc.constantFrom(0, Number.MIN_VALUE, Number.MAX_VALUE), finite(0, 1e6), finite(0, Number.MAX_VALUE)), (maxMs, share, stepMs) => {
        const initialMs = Math.min(maxMs, maxMs * share);
        check(backoff.linear({ initialMs, stepMs, maxMs }).start(), maxMs);
      }),
      { numRuns: 100 },
    );
  });
});

describe('invalid options throw at construction', () => {
  type Case = [label: string, call: () => unknown, error: typeof TypeError | typeof RangeError, fragments: string[]];
  const bad = (v: unknown): never => v as never;
  const holey: number[] = [1];
  holey[2] = 2; // index 1 is a hole

  const cases: Case[] = [
    // constant
    ['constant string', () => backoff.constant(bad('100')), TypeError, ['backoff.constant:', 'ms', '"100"']],
    ['constant undefined', () => backoff.constant(bad(undefined)), TypeError, ['backoff.constant:', 'ms', 'undefined']],
    ['constant negative', () => backoff.constant(-1), RangeError, ['backoff.constant:', 'ms', '-1']],
    ['constant NaN', () => backoff.constant(NaN), RangeError, ['ms', 'NaN']],
    ['constant Infinity', () => backoff.constant(Infinity), RangeError, ['ms', 'Infinity']],
    // delays
    ['delays not an array', () => backoff.delays(bad('100')), TypeError, ['backoff.delays:', 'list', '"100"']],
    ['delays null', () => backoff.delays(bad(null)), TypeError, ['backoff.delays:', 'list', 'null']],
    ['delays wrong entry type', () => backoff.delays(bad([1, '2'])), TypeError, ['list[1]', '"2"']],
    ['delays hole', () => backoff.delays(holey), TypeError, ['list[1]', 'undefined']],
    ['delays negative', () => backoff.delays([1, 2, -3]), RangeError, ['backoff.delays:', 'list[2]', '-3']],
    ['delays NaN', () => backoff.delays([NaN]), RangeError, ['list[0]', 'NaN']],
    ['delays Infinity', () => backoff.delays([Infinity]), RangeError, ['list[0]', 'Infinity']],
  ];

  const numberOptions: [factory: 'linear' | 'exponential', option: string, range: unknown[]][] = [
    ['linear', 'initialMs', [-1, NaN, Infinity]],
    ['linear', 'stepMs', [-5, NaN, Infinity, -Infinity]],
    ['linear', 'maxMs', [-1, NaN, Infinity]],
    ['exponential', 'initialMs', [-1, NaN, Infinity]],
    ['exponential', 'factor', [0.5, 0, -2, NaN, Infinity]],
    ['exponential', 'maxMs', [-1, NaN, Infinity]],
  ];
  for (const [factory, option, range] of numberOptions) {
    const make = (v: unknown): unknown => backoff[factory](bad({ [option]: v }));
    cases.push([`${factory} ${option} string`, () => make('7'), TypeError, [`backoff.${factory}:`, option, '"7"']]);
    cases.push([`${factory} ${option} null`, () => make(null), TypeError, [`backoff.${factory}:`, option, 'null']]);
    for (const v of range) {
      cases.push([`${factory} ${option} ${String(v)}`, () => make(v), RangeError, [`backoff.${factory}:`, option, String(v)]]);
    }
  }

  cases.push(
    ['exponential maxMs below initialMs', () => backoff.exponential({ initialMs: 100, maxMs: 50 }), RangeError, ['backoff.exponential:', 'maxMs', 'initialMs', 'got 50']],
    ['exponential initialMs above default maxMs', () => backoff.exponential({ initialMs: 60_000 }), RangeError, ['maxMs', '60000', 'got 30000']],
    ['linear maxMs below initialMs', () => backoff.linear({ initialMs: 100, maxMs: 50 }), RangeError, ['backoff.linear:', 'maxMs', 'initialMs', 'got 50']],
    ['linear maxMs below defaulted initialMs', () => backoff.linear({ stepMs: 500, maxMs: 200 }), RangeError, ['maxMs', '500', 'got 200']],
    ['exponential jitter type', () => backoff.exponential(bad({ jitter: 1 })), TypeError, ['backoff.exponential:', 'jitter', 'got 1']],
    ['exponential jitter unknown', () => backoff.exponential(bad({ jitter: 'partial' })), RangeError, ['jitter', '"partial"', "'decorrelated'"]],
    ['exponential random type', () => backoff.exponential(bad({ random: 0.5 })), TypeError, ['backoff.exponential:', 'random', '0.5']],
    ['exponential options string', () => backoff.exponential(bad('fast')), TypeError, ['backoff.exponential:', 'options', '"fast"']],
    ['exponential options null', () => backoff.exponential(bad(null)), TypeError, ['options', 'null']],
    ['exponential options array', () => backoff.exponential(bad([])), TypeError, ['options', 'an array']],
    ['linear options number', () => backoff.linear(bad(5)), TypeError, ['backoff.linear:', 'options', '5']],
  );

  for (const [label, call, error, fragments] of cases) {
    it(`${label}: ${error.name}`, () => expectInvalid(call, error, fragments));
  }

  it('uses the house message', () => {
    expect(() => backoff.exponential({ factor: 0.5 })).toThrow(
      new RangeError('backoff.exponential: factor must be a finite number >= 1, got 0.5'),
    );
    expect(() => backoff.constant(-0.5)).toThrow(new RangeError('backoff.constant: ms must be a finite number >= 0, got -0.5'));
  });

  it('accepts the boundaries', () => {
    expect(() => backoff.constant(0)).not.toThrow();
    expect(() => backoff.delays([0, Number.MAX_VALUE])).not.toThrow();
    expect(() => backoff.linear({ initialMs: 0, stepMs: 0, maxMs: 0 })).not.toThrow();
    expect(() => backoff.exponential({ initialMs: 0, factor: 1, maxMs: 0 })).not.toThrow();
    expect(() => backoff.exponential({ initialMs: 5, maxMs: 5 })).not.toThrow();
    expect(() => backoff.exponential({})).not.toThrow();
    expect(() => backoff.linear(undefined)).not.toThrow();
  });
});

describe('options are never mutated', () => {
  it('frozen options objects and lists are accepted and left as they were', () => {
    const exp = Object.freeze({ initialMs: 10, factor: 3, maxMs: 100, jitter: 'equal' as const, random: () => 0.5 });
    const expCopy = { ...exp };
    const lin = Object.freeze({ initialMs: 1, stepMs: 2, maxMs: 9 });
    const linCopy = { ...lin };
    const list = Object.freeze([3, 2, 1]);
    const partial = Object.freeze({ jitter: 'none' as const });

    take(backoff.exponential(exp).start(), 5);
    take(backoff.linear(lin).start(), 5);
    take(backoff.delays(list).start(), 5);
    take(backoff.exponential(partial).start(), 5);

    expect(exp).toEqual(expCopy);
    expect(lin).toEqual(linCopy);
    expect(list).toEqual([3, 2, 1]);
    // Defaults are not written back into the caller's object.
    expect(Object.keys(partial)).toEqual(['jitter']);
  });

  it('unfrozen options are not written to either', () => {
    const options: { initialMs?: number; maxMs?: number } = {};
    backoff.exponential(options);
    backoff.linear(options);
    expect(options).toEqual({});
  });
});
