// redisRateLimiter against a real redis-server (smoke tier: real time, small delays).
import { describe, expect, it } from 'vitest';
import { isBreakwaterError } from '../../../src/index.js';
import { redisRateLimiter, type RedisRateLimiterPolicy, DENIED_WHEN_DOWN_RETRY_MS } from '../../../src/redis/index.js';
import { sleep, within } from './server.js';
import { type Client, type ClientKind, kinds } from './clients.js';
import { useRedis } from './harness.js';

const redis = useRedis();
const client = (kind: ClientKind): Promise<Client> => redis.client(kind);

function limiter(options: Record<string, unknown>): RedisRateLimiterPolicy {
  const l = redisRateLimiter({ commandTimeoutMs: 500, ...options } as never);
  redis.cleanup(() => l.dispose());
  return l;
}

const outcome = (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'ok',
    (e: unknown) => (isBreakwaterError(e, 'ERATELIMITED') ? `limited:${e.retryAfterMs}` : `error:${String(e)}`),
  );

describe.each(kinds)('redisRateLimiter with %s', (kind) => {
  it('a token bucket shared by two limiters: capacity at once, then RateLimitedError with retryAfterMs', async () => {
    const options = { name: 'tb', algorithm: 'tokenBucket', capacity: 3, refillPerSecond: 10 };
    const a = limiter({ client: (await client(kind)).client, ...options });
    const b = limiter({ client: (await client(kind)).client, ...options });
    const results = [];
    for (const l of [a, b, a, b]) results.push(await outcome(l.execute(() => 1)));
    expect(results.slice(0, 3)).toEqual(['ok', 'ok', 'ok']);
    expect(results[3]).toMatch(/^limited:\d+$/);
    const retry = Number((results[3] as string).split(':')[1]);
    expect(retry).toBeGreaterThan(0);
    expect(retry).toBeLessThanOrEqual(100);
    await sleep(retry + 20);
    expect(await outcome(b.execute(() => 1))).toBe('ok');
    const ttl = Number((await redis.server.command('PTTL', 'breakwater:{tb}:tokenBucket')).slice(1));
    expect(ttl).toBeGreaterThan(60_000);
  });

  it('an exact sliding window: limit calls per windowMs, fleet-wide', async () => {
    const options = { name: 'sw', algorithm: 'slidingWindow', limit: 3, windowMs: 200 };
    const a = limiter({ client: (await client(kind)).client, ...options });
    const b = limiter({ client: (await client(kind)).client, ...options });
    const results = [];
    for (const l of [a, b, a, b]) results.push(await outcome(l.execute(() => 1)));
    expect(results.slice(0, 3)).toEqual(['ok', 'ok', 'ok']);
    expect(results[3]).toMatch(/^limited:/);
    await sleep(220);
    expect(await outcome(a.execute(() => 1))).toBe('ok');
  });

  it('waiting calls are served FIFO within maxWaitMs; past it they are refused at once', async () => {
    const l = limiter({ client: (await client(kind)).client, name: 'fifo', algorithm: 'tokenBucket', capacity: 1, refillPerSecond: 20, maxWaitMs: 400 });
    const order: number[] = [];
    const calls = [1, 2, 3, 4].map((i) => l.execute(() => order.push(i)));
    await Promise.all(calls);
    expect(order).toEqual([1, 2, 3, 4]);
    const tight = limiter({ client: (await client(kind)).client, name: 'tight', algorithm: 'tokenBucket', capacity: 1, refillPerSecond: 1, maxWaitMs: 50 });
    expect(await outcome(tight.execute(() => 1))).toBe('ok');
    const t0 = Date.now();
    expect(await outcome(tight.execute(() => 1))).toMatch(/^limited:/);
    expect(Date.now() - t0).toBeLessThan(300);
  });
});

describe('whenDown', () => {
  it("'local' limits in-process by capacity / localShare, 'allow' lets calls through, 'deny' refuses; storeError once, storeRecovered after", async () => {
    const c = await client('ioredis');
    const common = { client: c.client, algorithm: 'tokenBucket', capacity: 4, refillPerSecond: 0.001, commandTimeoutMs: 30 };
    const local = limiter({ ...common, name: 'down-local', localShare: 2 });
    const allow = limiter({ ...common, name: 'down-allow', whenDown: 'allow' });
    const deny = limiter({ ...common, name: 'down-deny', whenDown: 'deny' });
    const events: string[] = [];
    local.events.on('storeError', () => events.push('storeError'));
    local.events.on('storeRecovered', () => events.push('storeRecovered'));
    // Redis takes one token from each first.
    for (const l of [local, allow, deny]) expect(await outcome(l.execute(() => 1))).toBe('ok');
    redis.server.pause();
    try {
      const t0 = performance.now();
      const localResults = [];
      for (let i = 0; i < 4; i++) localResults.push(await outcome(local.execute(() => 1)));
      // The local bucket: 4 / 2 = 2 permits, starting full.
      expect(localResults.slice(0, 2)).toEqual(['ok', 'ok']);
      expect(localResults.slice(2).every((r) => r.startsWith('limited:'))).toBe(true);
      for (let i = 0; i < 5; i++) expect(await outcome(allow.execute(() => 1))).toBe('ok');
      expect(await outcome(deny.execute(() => 1))).toBe(`limited:${DENIED_WHEN_DOWN_RETRY_MS}`);
      // No call waited on Redis longer than commandTimeoutMs (one timeout each at most).
      expect(performance.now() - t0).toBeLessThan(4 * 30 + 200);
    } finally {
      redis.server.resume();
    }
    await within(2000, async () => {
      await outcome(local.execute(() => 1));
      return events.includes('storeRecovered');
    });
    expect(events).toEqual(['storeError', 'storeRecovered']);
  });
});

describe('bad input', () => {
  it('refuses a missing client, a missing name, unknown options and out-of-range values', async () => {
    const c = await client('ioredis');
    const tb = { algorithm: 'tokenBucket', capacity: 1, refillPerSecond: 1 };
    expect(() => redisRateLimiter({ name: 'x', ...tb } as never)).toThrow('redisRateLimiter: client is required');
    expect(() => redisRateLimiter({ client: c.client, ...tb } as never)).toThrow(TypeError);
    expect(() => redisRateLimiter({ client: c.client, ...tb } as never)).toThrow('redisRateLimiter: name is required');
    expect(() => redisRateLimiter({ client: c.client, name: 'x', ...tb, whenDwn: 'allow' } as never)).toThrow('redisRateLimiter: unknown option "whenDwn"');
    expect(() => redisRateLimiter({ client: c.client, name: 'x', ...tb, localShare: 0 } as never)).toThrow(RangeError);
    expect(() => redisRateLimiter({ client: c.client, name: 'x', ...tb, whenDown: 'maybe' } as never)).toThrow(/whenDown/);
    expect(() => redisRateLimiter({ client: c.client, name: 'x', algorithm: 'tokenBucket', capacity: 0, refillPerSecond: 1 } as never)).toThrow(RangeError);
  });
});
