// breakwater/fetch against a real node:http server on 127.0.0.1 with scripted faults per path (smoke tier).
// Real time, small delays (the standard pipeline's numbers are injected through `standard`); a
// counting clock proves that no timer is left once each test's clients are disposed.
import { describe, it, expect, beforeAll, afterAll, afterEach, beforeEach, vi } from 'vitest';
import { fetch as undiciFetch, Headers as UndiciHeaders, Request as UndiciRequest } from 'undici';
import { resilientFetch, HttpStatusError, type ResilientFetch, type ResilientFetchOptions } from '../../src/fetch/index.js';
import { backoff } from '../../src/backoff.js';
import { retry } from '../../src/retry.js';
import { hedge } from '../../src/hedge.js';
import { timeout } from '../../src/timeout.js';
import { pipeline } from '../../src/pipeline.js';
import { policyPool } from '../../src/policy-pool.js';
import { createRegistry } from '../../src/registry/index.js';
import { isBreakwaterError } from '../../src/errors.js';
import { type Clock, systemClock } from '../../src/clock.js';
import { ManualClock } from '../../src/testing/index.js';
import { startServer, type ScriptedServer } from './fetch-server.js';

/** systemClock, counting the timers that are armed and not yet fired or cleared. */
function countingClock(): Clock & { readonly live: number } {
  const live = new Set<unknown>();
  return {
    now: () => systemClock.now(),
    setTimeout(fn, ms) {
      const h = systemClock.setTimeout(() => {
        live.delete(h);
        fn();
      }, ms);
      live.add(h);
      return h;
    },
    clearTimeout(h) {
      live.delete(h);
      systemClock.clearTimeout(h);
    },
    get live() {
      return live.size;
    },
  };
}

let server: ScriptedServer;
let other: ScriptedServer;
let clock: ReturnType<typeof countingClock>;
const clients: ResilientFetch[] = [];

/** A client with small real delays, disposed (and checked for timers) after the test. */
function client(options: ResilientFetchOptions = {}): ResilientFetch {
  const rf = resilientFetch({
    clock,
    ...options,
    ...(options.policy === undefined
      ? { standard: { backoff: backoff.constant(5), attemptTimeoutMs: 200, totalTimeoutMs: 3000, ...options.standard } }
      : {}),
  });
  clients.push(rf);
  return rf;
}

beforeAll(async () => {
  server = await startServer();
  other = await startServer();
});
afterAll(async () => {
  await server.close();
  await other.close();
});
afterEach(() => {
  for (const c of clients.splice(0)) c.dispose();
  expect(clock.live).toBe(0);
});
beforeEach(() => {
  clock = countingClock();
});

const text = 'héllo, wörld — ✓ '.repeat(50);

describe('retries what the server or the network did', () => {
  it('5xx then 200: retried, the caller gets the 200', async () => {
    server.script('/flaky', { status: 503 }, { status: 502 }, { status: 200, body: 'fine' });
    const res = await client()(server.url('/flaky'));
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('fine');
    expect(server.hits('/flaky')).toHaveLength(3);
  });

  it('a status outside failureStatuses (404) is an answer, not a failure', async () => {
    server.script('/missing', { status: 404, body: 'nope' });
    const res = await client()(server.url('/missing'));
    expect(res.status).toBe(404);
    expect(server.hits('/missing')).toHaveLength(1);
  });

  it('a connection reset is retried', async () => {
    server.script('/reset', { reset: true }, { status: 200, body: 'back' });
    const res = await client()(server.url('/reset'));
    expect(await res.text()).toBe('back');
    expect(server.hits('/reset')).toHaveLength(2);
  });

  it('an attempt slower than attemptTimeoutMs is aborted (the server sees the socket close) and retried', async () => {
    server.script('/slow', { delayMs: 2000 }, { status: 200, body: 'quick' });
    const res = await client({ standard: { attemptTimeoutMs: 100 } })(server.url('/slow'));
    expect(await res.text()).toBe('quick');
    const [first] = server.hits('/slow');
    await first!.closed;
    expect(first!.closedEarly).toBe(true);
  });

  it('every attempt timing out rejects with the TimeoutError itself', async () => {
    server.script('/slower', { delayMs: 2000 });
    const e = await client({ standard: { attemptTimeoutMs: 50, maxAttempts: 2 } })(server.url('/slower')).catch((x: unknown) => x);
    expect(isBreakwaterError(e, 'ETIMEDOUT')).toBe(true);
    expect(server.hits('/slower')).toHaveLength(2);
  });

  it('a network error that stays rejects with the TypeError itself', async () => {
    server.script('/gone', { reset: true });
    const e = await client({ standard: { maxAttempts: 2 } })(server.url('/gone')).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TypeError);
    expect(server.hits('/gone')).toHaveLength(2);
  });
});

describe('Retry-After', () => {
  /** Runs a call on a ManualClock and returns the delay its retry chose after the first attempt. */
  async function retryDelay(path: string): Promise<{ delayMs: number; call: Promise<Response>; manual: ManualClock; http: ResilientFetch }> {
    const manual = new ManualClock();
    const registry = createRegistry();
    const delays: number[] = [];
    registry.events.on('retry', ({ delayMs }) => delays.push(delayMs));
    const http = client({ clock: manual, registry, name: `ra${path}`, standard: { totalTimeoutMs: 30000 } });
    const call = http(server.url(path));
    call.catch(() => {}); // awaited by the test after advancing the clock
    await vi.waitFor(() => expect(delays).toHaveLength(1));
    return { delayMs: delays[0]!, call, manual, http };
  }

  it('429 with Retry-After in seconds: the retry waits at least that long', async () => {
    server.script('/limited', { status: 429, headers: { 'retry-after': '7' } }, { status: 200 });
    const { delayMs, call, manual, http } = await retryDelay('/limited');
    expect(delayMs).toBe(7000);
    await manual.advance(6999);
    await new Promise((r) => setTimeout(r, 20));
    expect(server.hits('/limited')).toHaveLength(1);
    await manual.advance(1);
    expect((await call).status).toBe(200);
    expect(server.hits('/limited')).toHaveLength(2);
    http.dispose();
    expect(manual.pendingTimers).toBe(0);
  });

  it('429 with Retry-After as an HTTP date: waited for, measured against the wall clock', async () => {
    const at = new Date(Date.now() + 8000);
    server.script('/dated', { status: 429, headers: { 'retry-after': at.toUTCString() } }, { status: 200 });
    const { delayMs, call, manual, http } = await retryDelay('/dated');
    // An HTTP date has whole seconds: 7 to 8 seconds from now.
    expect(delayMs).toBeGreaterThan(6900);
    expect(delayMs).toBeLessThanOrEqual(8000);
    await manual.advance(delayMs);
    expect((await call).status).toBe(200);
    http.dispose();
    expect(manual.pendingTimers).toBe(0);
  });

  it('a Retry-After beyond maxRetryAfterMs is not waited out: the caller gets the 429 at once', async () => {
    server.script('/later', { status: 429, headers: { 'retry-after': '120' }, body: 'come back later' });
    const started = performance.now();
    const res = await client()(server.url('/later'));
    expect(res.status).toBe(429);
    expect(await res.text()).toBe('come back later');
    expect(server.hits('/later')).toHaveLength(1);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe('giving up on a status', () => {
  it('the caller gets the last Response, body readable', async () => {
    server.script('/down', { status: 503, body: 'sorry' });
    const res = await client()(server.url('/down'));
    expect(res.status).toBe(503);
    expect(await res.text()).toBe('sorry');
    expect(server.hits('/down')).toHaveLength(3);
  });

  it('throwOnStatus: HttpStatusError with status, retryAfterMs and a readable response', async () => {
    server.script('/down2', { status: 503, body: 'still sorry', headers: { 'retry-after': '0' } });
    const e = (await client({ throwOnStatus: true })(server.url('/down2')).catch((x: unknown) => x)) as HttpStatusError;
    expect(e).toBeInstanceOf(HttpStatusError);
    expect(isBreakwaterError(e, 'EHTTPSTATUS')).toBe(true);
    expect(e.status).toBe(503);
    expect(e.retryAfterMs).toBe(0);
    expect(await e.response.text()).toBe('still sorry');
  });

  it("a failed response's body is cancelled before the next attempt (the server sees the connection close)", async () => {
    server.script('/partial', { status: 503, partial: true }, { status: 200, body: 'whole' });
    const res = await client()(server.url('/partial'));
    expect(await res.text()).toBe('whole');
    const [first] = server.hits('/partial');
    await first!.closed;
    expect(first!.closedEarly).toBe(true);
  });

  it('failureStatuses replaces the set: 404 retried, 503 returned at once', async () => {
    server.script('/custom', { status: 404 }, { status: 503 });
    const res = await client({ failureStatuses: [404] })(server.url('/custom'));
    expect(res.status).toBe(503);
    expect(server.hits('/custom')).toHaveLength(2);
  });
});

describe('idempotency', () => {
  it('a POST that fails is sent once', async () => {
    server.script('/orders', { status: 503 }, { status: 200 });
    const res = await client()(server.url('/orders'), { method: 'POST', body: '{"id":1}' });
    expect(res.status).toBe(503);
    expect(server.hits('/orders')).toHaveLength(1);
  });

  it.each(['PATCH', 'PURGE'])('%s (not idempotent, or unknown) is sent once too', async (method) => {
    server.script(`/m-${method}`, { reset: true }, { status: 200 });
    const e = await client()(server.url(`/m-${method}`), { method, body: 'x' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TypeError);
    expect(server.hits(`/m-${method}`)).toHaveLength(1);
  });

  it("a POST is sent once even through the user's own retry around the client", async () => {
    const http = client({ throwOnStatus: true });
    const mine = retry({ maxAttempts: 4, backoff: backoff.constant(5), clock });
    for (const [path, step] of [
      ['/pay-status', { status: 503 }],
      ['/pay-reset', { reset: true }],
      ['/pay-slow', { delayMs: 2000 }],
    ] as const) {
      server.script(path, step, { status: 200 });
      // With and without passing the attempt's signal on: the mark reaches the retry either way.
      for (const passSignal of [true, false]) {
        server.script(path, step, { status: 200 });
        const e = await mine
          .execute((ctx) => http(server.url(path), { method: 'POST', body: 'charge', ...(passSignal ? { signal: ctx.signal } : {}) }))
          .catch((x: unknown) => x);
        expect(e).toBeInstanceOf(Error);
        expect(server.hits(path)).toHaveLength(1);
      }
    }
    // A client whose own policy does not repeat: the mark comes out on the failure it rejects with.
    const bare = client({ policy: timeout({ durationMs: 1000, clock }), throwOnStatus: true });
    server.script('/pay-bare', { status: 503 }, { status: 200 });
    await expect(mine.execute(() => bare(server.url('/pay-bare'), { method: 'POST', body: 'charge' }))).rejects.toBeInstanceOf(HttpStatusError);
    expect(server.hits('/pay-bare')).toHaveLength(1);
    mine.dispose();
  });

  it("a POST is not hedged while it runs, by the user's hedge or by one in the client's policy", async () => {
    server.script('/slow-post', { delayMs: 150, body: 'created' });
    const mine = hedge({ delayMs: 10, clock });
    const res = await mine.execute((ctx) => client()(server.url('/slow-post'), { method: 'POST', body: 'x', signal: ctx.signal }));
    expect(await res.text()).toBe('created');
    expect(server.hits('/slow-post')).toHaveLength(1);

    server.script('/slow-post', { delayMs: 150, body: 'created' });
    const hedged = client({ policy: pipeline(hedge({ delayMs: 10, clock }), timeout({ durationMs: 1000, clock })) });
    expect((await hedged(server.url('/slow-post'), { method: 'POST', body: 'x' })).status).toBe(200);
    expect(server.hits('/slow-post')).toHaveLength(1);

    // The control: a GET is hedged.
    server.script('/slow-get', { delayMs: 150, body: 'slow' }, { body: 'fast' });
    expect(await (await hedged(server.url('/slow-get'))).text()).toBe('fast');
    expect(server.hits('/slow-get')).toHaveLength(2);
    mine.dispose();
  });

  it('a POST with an Idempotency-Key is retried, and so is any with retryNonIdempotent', async () => {
    server.script('/keyed', { status: 503 }, { status: 201 });
    const res = await client()(server.url('/keyed'), { method: 'POST', body: 'x', headers: { 'Idempotency-Key': 'k-1' } });
    expect(res.status).toBe(201);
    expect(server.hits('/keyed')).toHaveLength(2);
    expect(server.hits('/keyed')[1]!.headers['idempotency-key']).toBe('k-1');

    server.script('/anyway', { status: 503 }, { status: 201 });
    expect((await client({ retryNonIdempotent: true })(server.url('/anyway'), { method: 'POST', body: 'x' })).status).toBe(201);
    expect(server.hits('/anyway')).toHaveLength(2);
  });
});

describe('bodies', () => {
  it('a string body is sent byte-identical on every attempt', async () => {
    server.script('/echo', { status: 503 }, { status: 500 }, { status: 200 });
    const res = await client()(server.url('/echo'), { method: 'PUT', body: text });
    expect(res.status).toBe(200);
    const bodies = server.hits('/echo').map((h) => h.body);
    expect(bodies).toHaveLength(3);
    for (const b of bodies) expect(b.equals(Buffer.from(text, 'utf8'))).toBe(true);
  });

  it.each([
    ['Blob', () => new Blob([text]), Buffer.from(text)],
    ['ArrayBuffer', () => new TextEncoder().encode(text).buffer, Buffer.from(text)],
    ['Uint8Array', () => new TextEncoder().encode(text), Buffer.from(text)],
    ['URLSearchParams', () => new URLSearchParams({ q: text }), Buffer.from(new URLSearchParams({ q: text }).toString())],
  ] as const)('a %s body is replayed on each attempt', async (kind, make, expected) => {
    server.script(`/body-${kind}`, { status: 503 }, { status: 200 });
    await client()(server.url(`/body-${kind}`), { method: 'PUT', body: make() });
    const hits = server.hits(`/body-${kind}`);
    expect(hits).toHaveLength(2);
    for (const h of hits) expect(h.body.equals(expected)).toBe(true);
  });

  it('a FormData body is replayed on each attempt', async () => {
    server.script('/form', { status: 503 }, { status: 200 });
    const form = new FormData();
    form.set('name', text);
    await client()(server.url('/form'), { method: 'PUT', body: form });
    const hits = server.hits('/form');
    expect(hits).toHaveLength(2);
    for (const h of hits) expect(h.body.toString()).toContain(text);
  });

  it('a ReadableStream body is sent once, even with retryNonIdempotent', async () => {
    server.script('/upload', { status: 503 }, { status: 200 });
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new TextEncoder().encode('chunk'));
        c.close();
      },
    });
    const res = await client({ retryNonIdempotent: true })(server.url('/upload'), {
      method: 'PUT',
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(503);
    expect(server.hits('/upload').map((h) => h.body.toString())).toEqual(['chunk']);
  });
});

describe('signals', () => {
  it("the caller's abort mid-request rejects with its reason, and the server sees the socket close", async () => {
    server.script('/hang', { hang: true });
    const controller = new AbortController();
    const call = client()(server.url('/hang'), { signal: controller.signal });
    const [hit] = await server.waitForHits('/hang', 1);
    const reason = new Error('user left');
    controller.abort(reason);
    await expect(call).rejects.toBe(reason);
    await hit!.closed;
    expect(hit!.closedEarly).toBe(true);
    expect(server.hits('/hang')).toHaveLength(1);
  });

  it('an already aborted signal sends nothing', async () => {
    server.script('/never', {});
    const reason = new Error('before');
    await expect(client()(server.url('/never'), { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(server.hits('/never')).toHaveLength(0);
  });

  it("each attempt's fetch gets that attempt's signal, never the caller's long-lived one", async () => {
    const seen: AbortSignal[] = [];
    server.script('/signals', { status: 503 }, { status: 200 });
    const spy = (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
      seen.push(init?.signal as AbortSignal);
      return fetch(input, init);
    };
    const app = new AbortController();
    await client({ fetch: spy })(server.url('/signals'), { signal: app.signal });
    expect(seen).toHaveLength(2);
    expect(seen[0]).not.toBe(app.signal);
    expect(seen[0]).not.toBe(seen[1]);
    // The first attempt's signal is done with (its attempt timeout was released, not fired).
    expect(seen.every((s) => s instanceof AbortSignal)).toBe(true);
  });
});

describe('one breaker per origin', () => {
  it('the failing origin’s breaker opens; calls to the other go through', async () => {
    server.script('/down-hard', { status: 500 });
    other.script('/fine', { body: 'fine' });
    const registry = createRegistry();
    const http = client({
      name: 'api',
      registry,
      standard: { maxAttempts: 1, breaker: { minimumCalls: 4, window: { type: 'count', size: 4 } } },
    });
    for (let i = 0; i < 4; i++) expect((await http(server.url('/down-hard'))).status).toBe(500);
    const e = await http(server.url('/down-hard')).catch((x: unknown) => x);
    expect(isBreakwaterError(e, 'ECIRCUITOPEN')).toBe(true);
    expect(server.hits('/down-hard')).toHaveLength(4);
    for (let i = 0; i < 5; i++) expect(await (await http(other.url('/fine'))).text()).toBe('fine');
    const breakers = registry.list().filter((p) => p.kind === 'circuitBreaker');
    expect(breakers.map((b) => b.name).sort()).toEqual([`api:${other.origin}`, `api:${server.origin}`].sort());
    expect(registry.get(`api:${server.origin}`)?.metrics().state).toBe('open');
    expect(registry.get(`api:${other.origin}`)?.metrics().state).toBe('closed');
  });
});

describe("undici's fetch as the fetch option", () => {
  it('retries 5xx, replays the body, and honours the caller abort', async () => {
    server.script('/u', { status: 503 }, { status: 200, body: 'undici' });
    const http = client({ fetch: undiciFetch as unknown as typeof fetch });
    const res = await http(server.url('/u'), { method: 'PUT', body: text });
    expect(await res.text()).toBe('undici');
    expect(server.hits('/u').map((h) => h.body.toString())).toEqual([text, text]);

    // undici's own Headers and Request classes (not the global ones) are read by shape.
    server.script('/u-key', { status: 503 }, { status: 201 });
    const keyed = await http(server.url('/u-key'), { method: 'POST', body: 'x', headers: new UndiciHeaders({ 'Idempotency-Key': 'u-1' }) as unknown as Headers });
    expect(keyed.status).toBe(201);
    expect(server.hits('/u-key')).toHaveLength(2);
    server.script('/u-req', { status: 503 }, { status: 201 });
    const once = await http(new UndiciRequest(server.url('/u-req'), { method: 'GET' }) as unknown as Request, { method: 'PATCH', body: 'x' });
    expect(once.status).toBe(503);
    expect(server.hits('/u-req')).toHaveLength(1);

    server.script('/u-hang', { hang: true });
    const controller = new AbortController();
    const call = http(server.url('/u-hang'), { signal: controller.signal });
    const [hit] = await server.waitForHits('/u-hang', 1);
    controller.abort(new Error('stop'));
    await expect(call).rejects.toThrow('stop');
    await hit!.closed;
  });
});

describe('the policy option', () => {
  it("a policy of the user's own gets the request's origin as the call key", async () => {
    server.script('/keyed-pool', { body: 'a' });
    other.script('/keyed-pool', { body: 'b' });
    const keys: string[] = [];
    const pool = policyPool((key) => {
      keys.push(key);
      return retry({ maxAttempts: 1, clock });
    });
    const http = client({ policy: pool });
    expect(await (await http(server.url('/keyed-pool'))).text()).toBe('a');
    expect(await (await http(other.url('/keyed-pool?x=1'))).text()).toBe('b');
    expect(await (await http(new URL(server.url('/keyed-pool')))).text()).toBe('a');
    expect(keys).toEqual([server.origin, other.origin]);
    pool.dispose();
  });


  it('a function of the request chooses the policy per request', async () => {
    server.script('/choose', { status: 503 }, { status: 200 });
    const seen: string[] = [];
    const twice = retry({ maxAttempts: 2, backoff: backoff.constant(1), clock });
    const http = client({
      policy: (request) => {
        seen.push(`${request.method} ${new URL(request.url).pathname}`);
        return twice;
      },
    });
    expect((await http(server.url('/choose'), { method: 'DELETE' })).status).toBe(200);
    expect(seen).toEqual(['DELETE /choose']);
    expect(server.hits('/choose')).toHaveLength(2);
    twice.dispose();
  });
});
