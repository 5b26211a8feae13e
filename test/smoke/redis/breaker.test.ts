// breakwater/redis's circuit store against a real redis-server (smoke tier: real time, small delays).
import { describe, expect, it } from 'vitest';
import { circuitBreaker, type CircuitBreakerPolicy, type CircuitState } from '../../../src/index.js';
import { redisCircuitStore, type RedisCircuitStore } from '../../../src/redis/index.js';
import { startRedis, sleep, within } from './server.js';
import { type Client, type ClientKind, kinds } from './clients.js';
import { useRedis } from './harness.js';

const SYNC = 20;
const FLUSH = 10;
const TIMEOUT = 50;
const MARGIN = 400;

const redis = useRedis();
const client = (kind: ClientKind): Promise<Client> => redis.client(kind);

// A loaded CI machine can take longer than 50 ms to answer: only the outage tests use the tight default.
function store(c: Client, extra: Record<string, unknown> = {}): RedisCircuitStore {
  const s = redisCircuitStore({ client: c.client, syncMs: SYNC, flushMs: FLUSH, commandTimeoutMs: 500, ...extra });
  redis.cleanup(() => s.dispose());
  return s;
}

function breaker(s: RedisCircuitStore, name: string, extra: Record<string, unknown> = {}): CircuitBreakerPolicy {
  const b = circuitBreaker({
    name,
    store: s,
    window: { type: 'count', size: 10 },
    minimumCalls: 4,
    failureRateThreshold: 0.5,
    openDurationMs: 300,
    ...extra,
  });
  redis.cleanup(() => b.dispose());
  return b;
}

const fail = (): Promise<never> => Promise.reject(new Error('boom'));
const ok = (): number => 1;

function states(b: CircuitBreakerPolicy): CircuitState[] {
  const seen: CircuitState[] = [];
  b.events.on('stateChange', ({ to }) => seen.push(to));
  return seen;
}

describe.each(kinds)('redisCircuitStore with %s', (kind) => {
  it('failures split across two breakers open both (a fleet-wide window)', async () => {
    const [a, b] = [breaker(store(await client(kind)), 'split'), breaker(store(await client(kind)), 'split')];
    await sleep(SYNC);
    // Two failures each: neither reaches minimumCalls (4) alone.
    for (const p of [a, b]) for (let i = 0; i < 2; i++) await expect(p.execute(fail)).rejects.toThrow('boom');
    expect(a.state === 'closed' || b.state === 'closed').toBe(true);
    await within(FLUSH + SYNC + MARGIN, () => a.state === 'open' && b.state === 'open');
    await expect(b.execute(ok)).rejects.toMatchObject({ code: 'ECIRCUITOPEN' });
  });

  it('one opening reaches the other within syncMs plus a margin; one trial success closes both', async () => {
    const a = breaker(store(await client(kind)), 'spread');
    const b = breaker(store(await client(kind)), 'spread');
    const seenB = states(b);
    await sleep(SYNC);
    for (let i = 0; i < 4; i++) await a.execute(fail).catch(() => undefined);
    const t0 = Date.now();
    await within(FLUSH + SYNC + MARGIN, () => b.state === 'open');
    expect(Date.now() - t0).toBeLessThan(FLUSH + SYNC + MARGIN);
    // Open period over: both half-open; one trial (halfOpenCalls 1) runs fleet-wide.
    await within(300 + MARGIN, () => a.state === 'halfOpen' && b.state === 'halfOpen');
    let release!: () => void;
    const trial = a.execute(() => new Promise<number>((r) => (release = () => r(1))));
    await sleep(FLUSH);
    await expect(b.execute(ok)).rejects.toMatchObject({ code: 'ECIRCUITOPEN', state: 'halfOpen' });
    release();
    await trial;
    await within(SYNC + MARGIN, () => a.state === 'closed' && b.state === 'closed');
    expect(seenB).toEqual(['open', 'halfOpen', 'closed']);
  });

  it('a trial lease not released within halfOpenMaxDurationMs reopens the breaker fleet-wide', async () => {
    const extra = { openDurationMs: 100, halfOpenMaxDurationMs: 100 };
    const a = breaker(store(await client(kind)), 'hung', extra);
    const b = breaker(store(await client(kind)), 'hung', extra);
    await sleep(SYNC);
    for (let i = 0; i < 4; i++) await a.execute(fail).catch(() => undefined);
    await within(100 + FLUSH + SYNC + MARGIN, () => a.state === 'halfOpen' && b.state === 'halfOpen');
    const seenB = states(b);
    // A trial that never ends: its lease expires after 100 ms.
    let release!: () => void;
    const hung = a.execute(() => new Promise<number>((r) => (release = () => r(1))));
    await within(100 + SYNC + MARGIN, () => seenB.includes('open'));
    release();
    await hung;
  });

  it('works on after SCRIPT FLUSH (NOSCRIPT: the script is sent again)', async () => {
    const a = breaker(store(await client(kind)), 'flushed');
    const errors: unknown[] = [];
    a.events.on('storeError', ({ error }) => errors.push(error));
    await sleep(SYNC);
    await a.execute(ok);
    await sleep(FLUSH * 3);
    await redis.server.command('SCRIPT', 'FLUSH');
    for (let i = 0; i < 4; i++) await a.execute(fail).catch(() => undefined);
    await within(FLUSH + SYNC + MARGIN, () => a.state === 'open');
    expect(errors).toEqual([]);
    expect(await redis.server.command('HGET', 'breakwater:{flushed}:state', 'st')).toContain('open');
  });

  it('Redis killed mid-traffic: every call settles without waiting on Redis, one storeError, storeRecovered, sharing resumes', async () => {
    const a = breaker(store(await client(kind), { commandTimeoutMs: TIMEOUT }), 'killed');
    const b = breaker(store(await client(kind), { commandTimeoutMs: TIMEOUT }), 'killed');
    const events: string[] = [];
    a.events.on('storeError', () => events.push('storeError'));
    a.events.on('storeRecovered', () => events.push('storeRecovered'));
    await sleep(SYNC);
    let slowest = 0;
    let settled = 0;
    const traffic = async (ms: number): Promise<void> => {
      const end = Date.now() + ms;
      while (Date.now() < end) {
        const t0 = performance.now();
        await a.execute(ok);
        settled++;
        slowest = Math.max(slowest, performance.now() - t0);
        await sleep(2);
      }
    };
    const running = traffic(600);
    await sleep(100);
    await redis.server.kill();
    await sleep(200);
    await redis.server.restart();
    await running;
    expect(settled).toBeGreaterThan(50);
    expect(slowest).toBeLessThan(TIMEOUT);
    await within(1000, () => events.includes('storeRecovered'));
    expect(events).toEqual(['storeError', 'storeRecovered']);
    // Sharing resumes: failures in `a` (a whole count window of them) open `b`.
    for (let i = 0; i < 10; i++) await a.execute(fail).catch(() => undefined);
    await within(FLUSH + SYNC + MARGIN + 200, () => b.state === 'open');
  });

  it('Redis paused (SIGSTOP) for a second: no call waits past commandTimeoutMs, then it recovers', async () => {
    const a = breaker(store(await client(kind), { commandTimeoutMs: TIMEOUT }), 'paused');
    const events: string[] = [];
    a.events.on('storeError', () => events.push('storeError'));
    a.events.on('storeRecovered', () => events.push('storeRecovered'));
    await sleep(SYNC);
    redis.server.pause();
    let slowest = 0;
    try {
      const end = Date.now() + 1000;
      while (Date.now() < end) {
        const t0 = performance.now();
        await a.execute(ok);
        slowest = Math.max(slowest, performance.now() - t0);
        await sleep(5);
      }
    } finally {
      redis.server.resume();
    }
    expect(slowest).toBeLessThan(TIMEOUT);
    await within(1000, () => events.includes('storeRecovered'));
    expect(events).toEqual(['storeError', 'storeRecovered']);
  });

  it('outcomes recorded while Redis is paused are flushed after it resumes: none is lost', async () => {
    const a = breaker(store(await client(kind), { commandTimeoutMs: TIMEOUT }), 'kept', { minimumCalls: 6 });
    const b = breaker(store(await client(kind)), 'kept', { minimumCalls: 6 });
    await sleep(SYNC);
    await a.execute(fail).catch(() => undefined);
    await sleep(FLUSH * 3);
    redis.server.pause();
    try {
      // Three failures while Redis cannot answer: counted locally, kept for the fleet.
      await sleep(TIMEOUT * 2);
      for (let i = 0; i < 3; i++) await a.execute(fail).catch(() => undefined);
      await sleep(TIMEOUT * 2);
    } finally {
      redis.server.resume();
    }
    expect(b.state).toBe('closed');
    // Two more after recovery make six in the fleet's window only if the three were kept.
    await sleep(SYNC * 5);
    for (let i = 0; i < 2; i++) await a.execute(fail).catch(() => undefined);
    await within(FLUSH + SYNC + MARGIN + 500, () => b.state === 'open');
  });

  it('a process whose clock is ten minutes off shares the same decisions', async () => {
    const offset = 10 * 60_000;
    const skewed = {
      now: () => performance.now() + offset,
      setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms),
      clearTimeout: (h: unknown) => clearTimeout(h as ReturnType<typeof setTimeout>),
    };
    const a = breaker(store(await client(kind)), 'skew', { window: { type: 'time', durationMs: 5000, buckets: 5 } });
    const b = breaker(store(await client(kind)), 'skew', { window: { type: 'time', durationMs: 5000, buckets: 5 }, clock: skewed });
    await sleep(SYNC);
    for (let i = 0; i < 2; i++) await a.execute(fail).catch(() => undefined);
    for (let i = 0; i < 2; i++) await b.execute(fail).catch(() => undefined);
    await within(FLUSH + SYNC + MARGIN, () => a.state === 'open' && b.state === 'open');
    const err = await b.execute(ok).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ECIRCUITOPEN' });
    // The time left is Redis's, not the skewed clock's idea of it.
    expect((err as { retryAfterMs: number }).retryAfterMs).toBeLessThanOrEqual(300);
    await within(300 + MARGIN, () => b.state === 'halfOpen');
  });

  it('one store serves many breakers and closes its pub/sub connection on dispose, never the client', async () => {
    const c = await client(kind);
    const s = store(c);
    const x = breaker(s, 'many-x');
    const y = breaker(s, 'many-y');
    await sleep(SYNC * 2);
    const subscribers = async (): Promise<number> => ((await redis.server.command('CLIENT', 'LIST')).match(/ sub=[1-9]/g) ?? []).length;
    expect(await subscribers()).toBe(1);
    x.dispose();
    y.dispose();
    await within(500, async () => (await subscribers()) === 0);
    // The user's client still works.
    const again = breaker(s, 'many-x');
    await again.execute(ok);
    await sleep(SYNC * 2);
    expect(await subscribers()).toBe(1);
  });
});

describe('keys', () => {
  it('every key is hash-tagged to one Cluster slot and carries a TTL', async () => {
    const c = await client('ioredis');
    const s = store(c);
    const a = breaker(s, 'keys', { halfOpenCalls: 1, openDurationMs: 50 });
    await sleep(SYNC);
    for (let i = 0; i < 4; i++) await a.execute(fail).catch(() => undefined);
    await within(FLUSH + SYNC + MARGIN, () => a.state === 'open');
    await within(50 + MARGIN, () => a.state === 'halfOpen');
    // A trial running: the lease key exists too.
    let release!: () => void;
    const trial = a.execute(() => new Promise<number>((r) => (release = () => r(1))));
    await sleep(FLUSH * 2);
    const keys = (await redis.server.command('KEYS', '*')).split('\r\n').filter((l) => l.startsWith('breakwater:'));
    expect(keys.length).toBeGreaterThanOrEqual(3);
    for (const key of keys) expect(Number((await redis.server.command('PTTL', key)).slice(1))).toBeGreaterThan(60_000);
    release();
    await trial;
    const cluster = await startRedis(['--cluster-enabled', 'yes', '--cluster-config-file', `/tmp/breakwater-cluster-${redis.server.port}.conf`]);
    redis.cleanup(() => cluster.stop());
    // A plain server refuses CLUSTER KEYSLOT; a cluster-enabled one answers.
    expect(await redis.server.command('CLUSTER', 'KEYSLOT', 'x')).toMatch(/^-ERR/);
    const slots = new Set<string>();
    for (const key of keys) {
      expect(key).toMatch(/^breakwater:\{keys\}:/);
      slots.add(await cluster.command('CLUSTER', 'KEYSLOT', key));
    }
    expect(slots.size).toBe(1);
  });
});

describe('bad input', () => {
  it('refuses a missing client, a shared store without a name, a consecutive window', async () => {
    expect(() => redisCircuitStore({} as never)).toThrow(TypeError);
    expect(() => redisCircuitStore({} as never)).toThrow('redisCircuitStore: client is required');
    expect(() => redisCircuitStore({ client: {} as never })).toThrow(/client must be an ioredis or node-redis client/);
    const s = store(await client('ioredis'));
    expect(() => redisCircuitStore({ client: {} as never, syncMs: 0 })).toThrow(TypeError);
    expect(() => circuitBreaker({ store: s })).toThrow(/a shared store needs an explicit name/);
    expect(() => circuitBreaker({ name: 'c', store: s, window: { type: 'consecutive', failures: 2 } })).toThrow(TypeError);
    const c = await client('ioredis');
    expect(() => redisCircuitStore({ client: c.client, syncMs: 0 })).toThrow(RangeError);
    expect(() => redisCircuitStore({ client: c.client, syncMs: 0 })).toThrow('redisCircuitStore: syncMs must be');
    expect(() => redisCircuitStore({ client: c.client, flushMS: 1 } as never)).toThrow('redisCircuitStore: unknown option "flushMS"');
  });
});
