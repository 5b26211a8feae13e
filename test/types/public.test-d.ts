// Type tests of the public surface (vitest's typecheck project runs tsc on these files): what
// the factories return, that the policy classes are types only, the Clock contract.
import { describe, expectTypeOf, it } from 'vitest';
import {
  type Clock,
  type CircuitBreakerPolicy,
  type HedgePolicy,
  type Policy,
  type PolicyMetrics,
  type RetryPolicy,
  type TimeoutPolicy,
  circuitBreaker,
  hedge,
  pipeline,
  retry,
  systemClock,
  timeout,
} from 'breakwater';
import * as breakwater from 'breakwater';
import { ManualClock } from 'breakwater/testing';

describe('factories', () => {
  it('return the policy types', () => {
    expectTypeOf(timeout(100)).toEqualTypeOf<TimeoutPolicy>();
    expectTypeOf(retry()).toEqualTypeOf<RetryPolicy>();
    expectTypeOf(circuitBreaker()).toEqualTypeOf<CircuitBreakerPolicy>();
    expectTypeOf(hedge({ delayMs: 10 })).toEqualTypeOf<HedgePolicy>();
    expectTypeOf(timeout(100)).toExtend<Policy>();
    expectTypeOf(timeout(100).durationMs).toEqualTypeOf<number>();
    expectTypeOf(timeout(100).metrics()).toEqualTypeOf<PolicyMetrics>();
  });

  it('execute resolves to what fn returns', () => {
    expectTypeOf(timeout(100).execute(() => 1)).toEqualTypeOf<Promise<number>>();
    expectTypeOf(pipeline(retry(), timeout(5)).execute(async () => 'x')).toEqualTypeOf<Promise<string>>();
    expectTypeOf(timeout(100).wrap((a: string, b: number) => a.length + b)).toEqualTypeOf<(a: string, b: number) => Promise<number>>();
  });

  it('policy classes are types only: a factory is the only way to build one', () => {
    // @ts-expect-error TimeoutPolicy is exported as a type
    void new breakwater.TimeoutPolicy(5);
    // @ts-expect-error CircuitBreakerPolicy is exported as a type
    void breakwater.CircuitBreakerPolicy;
    expectTypeOf(breakwater).not.toHaveProperty('TimeoutPolicy');
    expectTypeOf(breakwater).not.toHaveProperty('RetryPolicy');
    expectTypeOf(breakwater).not.toHaveProperty('Pipeline');
    expectTypeOf(breakwater).toHaveProperty('timeout');
  });
});

describe('Clock', () => {
  it('is three functions, and both clocks implement it', () => {
    expectTypeOf<keyof Clock>().toEqualTypeOf<'now' | 'setTimeout' | 'clearTimeout'>();
    expectTypeOf(systemClock).toEqualTypeOf<Clock>();
    expectTypeOf(new ManualClock()).toExtend<Clock>();
    expectTypeOf(new ManualClock().advance(10)).toEqualTypeOf<Promise<void>>();
    expectTypeOf(timeout).parameter(0).extract<{ durationMs: number }>().toHaveProperty('clock');
  });
});
