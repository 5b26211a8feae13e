// HttpStatusError, Retry-After parsing and option validation of resilientFetch (no network).
import { describe, it, expect, expectTypeOf } from 'vitest';
import fc from 'fast-check';
import { resilientFetch, HttpStatusError, parseRetryAfter } from '../../src/fetch/index.js';
import { isBreakwaterError, BreakwaterError } from '../../src/errors.js';
import { retry } from '../../src/retry.js';
import { createRegistry } from '../../src/registry/index.js';
import { expectInvalid } from '../helpers.js';

describe('parseRetryAfter', () => {
  const now = Date.UTC(2026, 0, 1, 12, 0, 0);
  it.each([
    ['0', 0],
    ['5', 5000],
    [' 120 ', 120000],
    [new Date(now + 30000).toUTCString(), 30000],
    [new Date(now - 30000).toUTCString(), 0],
    ['Thu, 01 Jan 2026 12:00:10 GMT', 10000],
  ])('%j is %d ms', (value, ms) => {
    expect(parseRetryAfter(value, now)).toBe(ms);
  });
  it.each([null, undefined, '', 'soon', '1.5', '-3', 'Mon, 99 Foo 2026'])('%j is undefined', (value) => {
    expect(parseRetryAfter(value, now)).toBeUndefined();
  });
  it('is never negative or NaN, whatever the header', () => {
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: 0, max: 2 ** 40 }), (value, at) => {
        const ms = parseRetryAfter(value, at);
        expect(ms === undefined || (ms >= 0 && Number.isFinite(ms))).toBe(true);
      }),
    );
  });
});

describe('HttpStatusError', () => {
  it('carries status, response and retryAfterMs, and is a BreakwaterError with code EHTTPSTATUS', async () => {
    const res = new Response('busy', { status: 503, statusText: 'Service Unavailable', headers: { 'retry-after': '2' } });
    const e = new HttpStatusError(res);
    expect(e).toBeInstanceOf(BreakwaterError);
    expect(isBreakwaterError(e, 'EHTTPSTATUS')).toBe(true);
    expect(e.name).toBe('HttpStatusError');
    expect(e.message).toBe('HTTP 503 Service Unavailable');
    expect([e.status, e.retryAfterMs]).toEqual([503, 2000]);
    expect(await e.response.text()).toBe('busy');
    expect(new HttpStatusError(new Response(null, { status: 500 })).retryAfterMs).toBeUndefined();
  });

  it("makes breakwater's retry wait at least its retryAfterMs", async () => {
    const delays: number[] = [];
    const r = retry({ maxAttempts: 2, clock: { now: () => 0, setTimeout: (fn, ms) => (delays.push(ms), setTimeout(fn, 0)), clearTimeout } });
    let n = 0;
    await r.execute(() => {
      if (n++ === 0) throw new HttpStatusError(new Response(null, { status: 429, headers: { 'retry-after': '3' } }));
      return 'ok';
    });
    expect(delays).toEqual([3000]);
  });
});

describe('resilientFetch options', () => {
  const fetch = (): Promise<Response> => Promise.resolve(new Response('x'));

  it('refuses unknown options with the nearest name, and the names of other clients with ours', () => {
    expectInvalid(() => resilientFetch({ fetch, throwOnStatuses: true } as never), TypeError, ['resilientFetch', '"throwOnStatuses"', '"throwOnStatus"']);
    expectInvalid(() => resilientFetch({ fetch, retries: 3 } as never), TypeError, ['"retries"', 'standard.maxAttempts']);
    expectInvalid(() => resilientFetch({ fetch, standard: { maxAttempt: 3 } } as never), TypeError, ['standard option "maxAttempt"', '"maxAttempts"']);
  });

  it.each([
    [{ fetch: 'nope' }, TypeError, ['fetch', '"nope"']],
    [{ fetch, policy: 'retry' }, TypeError, ['policy']],
    [{ fetch, policy: {} }, TypeError, ['policy']],
    [{ fetch, failureStatuses: 503 }, TypeError, ['failureStatuses', '503']],
    [{ fetch, failureStatuses: [503, 99] }, RangeError, ['failureStatuses', '99']],
    [{ fetch, failureStatuses: [503.5] }, RangeError, ['failureStatuses', '503.5']],
    [{ fetch, retryNonIdempotent: 'yes' }, TypeError, ['retryNonIdempotent']],
    [{ fetch, throwOnStatus: 1 }, TypeError, ['throwOnStatus', '1']],
    [{ fetch, name: '' }, RangeError, ['name']],
    [{ fetch, clock: {} }, TypeError, ['clock']],
    [{ fetch, registry: {} }, TypeError, ['registry']],
    [{ fetch, standard: { totalTimeoutMs: -1 } }, RangeError, ['standard.totalTimeoutMs', '-1']],
    [{ fetch, standard: { attemptTimeoutMs: '5' } }, TypeError, ['standard.attemptTimeoutMs', '"5"']],
    [{ fetch, standard: { maxAttempts: 0 } }, RangeError, ['standard.maxAttempts', '0']],
    [{ fetch, standard: { maxConcurrent: 1.5 } }, RangeError, ['standard.maxConcurrent', '1.5']],
    [{ fetch, standard: { maxRetryAfterMs: -5 } }, RangeError, ['standard.maxRetryAfterMs', '-5']],
    [{ fetch, standard: { backoff: 100 } }, TypeError, ['standard.backoff', '100']],
    [{ fetch, standard: { budget: true } }, TypeError, ['standard.budget', 'true']],
    [{ fetch, standard: { breaker: { failureRateThreshold: 1.5 } } }, RangeError, ['circuitBreaker', 'failureRateThreshold', '1.5']],
    [{ fetch, standard: { breaker: { name: 'x' } } }, TypeError, ['standard.breaker.name']],
  ] as const)('%j is refused', (options, error, fragments) => {
    expectInvalid(() => resilientFetch(options as never), error, fragments);
  });

  it('refuses standard together with policy', () => {
    expectInvalid(() => resilientFetch({ fetch, policy: retry(), standard: {} }), TypeError, ['standard', 'policy']);
  });

  it('never mutates its options, and lists the standard policies in the registry', () => {
    const registry = createRegistry();
    const options = Object.freeze({ fetch, name: 'svc', registry, standard: Object.freeze({ maxAttempts: 2 }) });
    const http = resilientFetch(options);
    expect(registry.list().map((p) => p.name).sort()).toEqual(['svc', 'svc:attempt', 'svc:breakers', 'svc:bulkhead', 'svc:retry', 'svc:total']);
    http.dispose();
  });

  it('a policy function that returns something else rejects the call with a TypeError', async () => {
    const http = resilientFetch({ fetch, policy: () => ({}) as never });
    await expect(http('http://127.0.0.1:1/')).rejects.toThrow(TypeError);
  });
});

describe('runs anywhere', () => {
  it('imports no node: module (nor anything outside the package)', async () => {
    const { readdirSync, readFileSync } = await import('node:fs');
    const dir = new URL('../../src/fetch/', import.meta.url);
    const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const imports = [...readFileSync(new URL(f, dir), 'utf8').matchAll(/^(?:import|export|\})[^\n]*from '([^']+)'/gm)].map((m) => m[1]);
      for (const i of imports) expect(i, `${f} imports ${i}`).toMatch(/^\.\.?\//);
    }
  });
});

describe('types', () => {
  it("has fetch's signature", () => {
    const http = resilientFetch({ fetch: () => Promise.resolve(new Response(null)) });
    expectTypeOf(http).toMatchTypeOf<(input: RequestInfo | URL, init?: RequestInit) => Promise<Response>>();
    expectTypeOf(http).parameters.toEqualTypeOf<[input: RequestInfo | URL, init?: RequestInit]>();
    http.dispose();
  });
});
