// Type tests (checked by `npm run typecheck`; the runtime part only confirms the values): a
// fallback widens the result type, and a pipeline joins every member's fallback type, in
// execute and in wrap.
import { describe, expectTypeOf, it, expect } from 'vitest';
import {
  bulkhead,
  cache,
  circuitBreaker,
  coalesce,
  fallback,
  pipeline,
  policyPool,
  retry,
  timeout,
  type FallbackPolicy,
  type Pipeline,
  type Policy,
  type PolicyAnswer,
} from '../../src/index.js';

describe('typed fallback results', () => {
  it('fallback<F>(v) executes to Promise<T | F>', async () => {
    const f = fallback(null);
    expectTypeOf(f).toEqualTypeOf<FallbackPolicy<null>>();
    const r = f.execute(async (): Promise<number> => 1);
    expectTypeOf(r).toEqualTypeOf<Promise<number | null>>();
    expect(await r).toBe(1);
    const h = fallback(() => 'degraded' as const);
    expectTypeOf(h.execute(() => 1)).toEqualTypeOf<Promise<number | 'degraded'>>();
  });

  it("a pipeline's result joins every member's fallback type", async () => {
    const p = pipeline(fallback(null), retry());
    expectTypeOf(p).toEqualTypeOf<Pipeline<null>>();
    const r = p.execute(async () => 1);
    expectTypeOf(r).toEqualTypeOf<Promise<number | null>>();
    expect(await pipeline(fallback(null), retry({ maxAttempts: 1 })).execute(() => Promise.reject(new Error('x')))).toBeNull();
    const two = pipeline(fallback('none' as const), retry(), fallback(0), timeout(100));
    expectTypeOf(two.execute(() => true)).toEqualTypeOf<Promise<boolean | 'none' | number>>();
    const nested = pipeline(pipeline(fallback(undefined), retry()), circuitBreaker(), { name: 'n' });
    expectTypeOf(nested.execute(() => 's')).toEqualTypeOf<Promise<string | undefined>>();
  });

  it('without a fallback the result is exact', () => {
    const p = pipeline(retry(), circuitBreaker(), timeout(10), bulkhead({ maxConcurrent: 1 }));
    expectTypeOf(p.execute(() => 1)).toEqualTypeOf<Promise<number>>();
    expectTypeOf(retry().execute(() => 'a')).toEqualTypeOf<Promise<string>>();
    expectTypeOf(cache({ ttlMs: 1 }).execute(() => 1)).toEqualTypeOf<Promise<number>>();
    expectTypeOf(coalesce().execute(() => 1)).toEqualTypeOf<Promise<number>>();
    expectTypeOf<PolicyAnswer<typeof p>>().toEqualTypeOf<never>();
  });

  it('in wrap, too', () => {
    const p = pipeline(fallback([] as string[]), retry());
    const list = p.wrap((n: number): Promise<string[] | number> => Promise.resolve(n));
    expectTypeOf(list).toEqualTypeOf<(n: number) => Promise<string[] | number>>();
    const nul = pipeline(fallback(null), timeout(10)).wrap(async (id: string) => ({ id }));
    expectTypeOf(nul).toEqualTypeOf<(id: string) => Promise<{ id: string } | null>>();
  });

  it('a pool answers what its policies answer', () => {
    const pool = policyPool(() => pipeline(fallback(-1), circuitBreaker()));
    expectTypeOf(pool.execute(() => 1, { key: 'k' })).toEqualTypeOf<Promise<number>>();
    const pool2 = policyPool(() => pipeline(fallback('x' as const), circuitBreaker()));
    expectTypeOf(pool2.execute(() => 1, { key: 'k' })).toEqualTypeOf<Promise<number | 'x'>>();
  });

  it('the bare Policy type accepts any policy; what it may answer is unknown', () => {
    const any: Policy = pipeline(fallback(null), retry());
    expectTypeOf(any.execute(() => 1)).toEqualTypeOf<Promise<unknown>>();
    const policies: Policy[] = [fallback(1), retry(), pipeline(fallback('a'))];
    expect(policies.length).toBe(3);
  });
});
