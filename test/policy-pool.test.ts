import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import {
  bulkhead,
  circuitBreaker,
  createRegistry,
  pipeline,
  policyPool,
  retry,
  timeout,
  type CircuitBreakerPolicy,
  type Policy,
} from '../src/index.js';
import { ManualClock } from '../src/testing/index.js';
import { expectInvalid, gate } from './helpers.js';

const consecutive = (clock: ManualClock, name: string): CircuitBreakerPolicy =>
  circuitBreaker({ name, clock, window: { type: 'consecutive', failures: 1 }, openDurationMs: 1000 });

describe('policyPool', () => {
  it('builds one policy per key on first use, named `${name}:${key}`', async () => {
    const names: string[] = [];
    const pool = policyPool(
      (key, name) => {
        names.push(`${key}=${name}`);
        return bulkhead({ maxConcurrent: 1, name });
      },
      { name: 'hosts' },
    );
    await pool.execute(() => 1, { key: 'a' });
    await pool.execute(() => 1, { key: 'b' });
    await pool.execute(() => 1, { key: 'a' });
    expect(names).toEqual(['a=hosts:a', 'b=hosts:b']);
    expect(pool.size).toBe(2);
    expect(pool.get('a')?.name).toBe('hosts:a');
    expect(pool.get('zzz')).toBeUndefined();
  });

  it('isolates keys: one open breaker does not refuse another key', async () => {
    const clock = new ManualClock();
    const pool = policyPool((_k, name) => consecutive(clock, name), { clock });
    await expect(pool.execute(() => Promise.reject(new Error('down')), { key: 'bad' })).rejects.toThrow('down');
    await expect(pool.execute(() => 1, { key: 'bad' })).rejects.toMatchObject({ code: 'ECIRCUITOPEN' });
    expect(await pool.execute(() => 2, { key: 'good' })).toBe(2);
  });

  it('a call without a key is a TypeError', async () => {
    const pool = policyPool(() => retry());
    await expect(pool.execute(() => 1)).rejects.toThrow(TypeError);
    await expect(pipeline(retry(), pool).execute(() => 1)).rejects.toThrow(/needs a key/);
  });

  it('evicts the least recently used idle key beyond maxKeys, disposing it', async () => {
    const built: Policy[] = [];
    const pool = policyPool(
      () => {
        const p = retry();
        built.push(p);
        return p;
      },
      { maxKeys: 2 },
    );
    const evicted: string[] = [];
    pool.events.on('evicted', ({ key }) => evicted.push(key));
    await pool.execute(() => 1, { key: 'a' });
    await pool.execute(() => 1, { key: 'b' });
    await pool.execute(() => 1, { key: 'a' }); // a is now the most recently used
    await pool.execute(() => 1, { key: 'c' });
    expect(evicted).toEqual(['b']);
    expect(pool.keys()).toEqual(['c', 'a']);
    await expect(built[1]?.execute(() => 1)).rejects.toMatchObject({ code: 'EDISPOSED' });
  });

  it('never evicts a key with a call running or an open breaker: overflows, then shrinks back', async () => {
    const clock = new ManualClock();
    const pool = policyPool((_k, name) => consecutive(clock, name), { maxKeys: 1, clock });
    const overflow: number[] = [];
    pool.events.on('overflow', ({ size }) => overflow.push(size));
    const g = gate<number>();
    const running = pool.execute(() => g.promise, { key: 'busy' });
    await pool.execute(() => 1, { key: 'other' });
    expect(overflow).toEqual([2]);
    expect(pool.size).toBe(1); // 'other' finished and went; 'busy' stays
    expect(pool.keys()).toEqual(['busy']);
    // An open breaker holds state a user relies on: not evicted either.
    await expect(pool.execute(() => Promise.reject(new Error('x')), { key: 'open' })).rejects.toThrow('x');
    expect(pool.get('open')?.state).toBe('open');
    expect(pool.size).toBe(2);
    g.resolve(1);
    expect(await running).toBe(1);
    // 'busy' is idle now and evicted to get back to maxKeys; 'open' stays.
    expect(pool.keys()).toEqual(['open']);
    await clock.advance(1000); // half-open: still holds state
    expect(pool.get('open')?.state).toBe('halfOpen');
    expect(await pool.execute(() => 1, { key: 'open' })).toBe(1);
    expect(pool.get('open')?.state).toBe('closed');
  });

  it('disposes a key idle for idleMs, within idleMs / 2 more, never before', async () => {
    const clock = new ManualClock();
    const pool = policyPool(() => retry({ clock }), { idleMs: 1000, clock });
    const evicted: Array<[string, number]> = [];
    pool.events.on('evicted', ({ key }) => evicted.push([key, clock.now()]));
    await pool.execute(() => 1, { key: 'a' });
    await clock.advance(600);
    await pool.execute(() => 1, { key: 'a' }); // last use at 600
    await clock.advance(999); // 1599
    expect(evicted).toEqual([]);
    await clock.advance(501); // 2100 = 600 + 1000 + 500
    expect(evicted.length).toBe(1);
    const at = evicted[0]?.[1] as number;
    expect(at).toBeGreaterThanOrEqual(1600);
    expect(at).toBeLessThanOrEqual(2100);
    expect(pool.size).toBe(0);
    expect(clock.pendingTimers).toBe(0); // the sweeper stops with the last key
  });

  it('idle eviction never happens while a call runs', async () => {
    const clock = new ManualClock();
    const pool = policyPool(() => timeout({ durationMs: 100_000, clock }), { idleMs: 100, clock });
    const g = gate<number>();
    const call = pool.execute(() => g.promise, { key: 'slow' });
    await clock.advance(1000);
    expect(pool.size).toBe(1);
    g.resolve(5);
    expect(await call).toBe(5);
    await clock.advance(200);
    expect(pool.size).toBe(0);
  });

  it('lists each key in its registry while it lives', async () => {
    const registry = createRegistry();
    const pool = policyPool((_k, name) => circuitBreaker({ name }), { name: 'api', registry, maxKeys: 1 });
    await pool.execute(() => 1, { key: 'h1' });
    expect(registry.list().map((p) => p.name).sort()).toEqual(['api', 'api:h1']);
    await pool.execute(() => 1, { key: 'h2' });
    expect(registry.list().map((p) => p.name).sort()).toEqual(['api', 'api:h2']);
    // A factory that lists the policy itself is fine too.
    const p2 = policyPool((_k, name) => circuitBreaker({ name, registry }), { name: 'api2', registry });
    await p2.execute(() => 1, { key: 'x' });
    expect(registry.get('api2:x')).toBeDefined();
    expect(p2.delete('x')).toBe(true);
    expect(registry.get('api2:x')).toBeUndefined();
    expect(p2.delete('x')).toBe(false);
  });

  it('dispose disposes every key and the sweeper; later calls reject with EDISPOSED', async () => {
    const clock = new ManualClock();
    const pool = policyPool(() => retry({ clock }), { clock });
    await pool.execute(() => 1, { key: 'a' });
    const inner = pool.get('a');
    expect(clock.pendingTimers).toBe(1);
    pool.dispose();
    expect(clock.pendingTimers).toBe(0);
    await expect(inner?.execute(() => 1)).rejects.toMatchObject({ code: 'EDISPOSED' });
    await expect(pool.execute(() => 1, { key: 'a' })).rejects.toMatchObject({ code: 'EDISPOSED', policy: pool.name });
  });

  it('metrics add up the live keys by default', async () => {
    const pool = policyPool(() => retry({ maxAttempts: 1 }));
    await pool.execute(() => 1, { key: 'a' });
    await pool.execute(() => 1, { key: 'b' });
    await pool.execute(() => Promise.reject(new Error('x')), { key: 'b' }).catch(() => undefined);
    const m = pool.metrics();
    expect(m.kind).toBe('policyPool');
    expect(m.calls).toBe(3);
    expect(m.successes).toBe(2);
    expect(m.failures).toBe(1);
  });

  it('the factory must return a fresh policy', async () => {
    await expect(policyPool(() => retry as never).execute(() => 1, { key: 'a' })).rejects.toThrow(/did you mean retry\(\)\?/);
    const shared = retry();
    const pool = policyPool(() => shared);
    await pool.execute(() => 1, { key: 'a' });
    await expect(pool.execute(() => 1, { key: 'b' })).rejects.toThrow(/a new policy per key/);
  });

  it('validates its options', () => {
    expectInvalid(() => policyPool(5 as never), TypeError, ['policyPool', 'factory']);
    expectInvalid(() => policyPool(() => retry(), { maxKeys: 0 }), RangeError, ['policyPool', 'maxKeys', '0']);
    expectInvalid(() => policyPool(() => retry(), { idleMs: -1 }), RangeError, ['policyPool', 'idleMs', '-1']);
    expectInvalid(() => policyPool(() => retry(), { maxkeys: 3 } as never), TypeError, ['policyPool', '"maxkeys"', 'did you mean "maxKeys"']);
  });

  // A heap measurement (seconds a run): not run per mutant by `npm run mutation`.
  it.skipIf(process.env.BREAKWATER_MUTATION === '1')('100,000 distinct keys keep at most maxKeys live and the heap flat', async () => {
    const registry = createRegistry();
    const pool = policyPool((_k, name) => circuitBreaker({ name, registry }), { maxKeys: 100, registry });
    const run = async (from: number, n: number): Promise<void> => {
      for (let i = from; i < from + n; i++) {
        await pool.execute(() => i, { key: `k${i}` });
        if (pool.size > 100) throw new Error(`size ${pool.size}`);
        // Let each event-loop turn end, as a server's would (the turn clock drops its hooks then).
        if (i % 1000 === 0) await new Promise((r) => setImmediate(r));
      }
      await new Promise((r) => setImmediate(r));
    };
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    await run(0, 20_000);
    gc();
    const before = process.memoryUsage().heapUsed;
    await run(20_000, 80_000);
    gc();
    const after = process.memoryUsage().heapUsed;
    expect(pool.size).toBe(100);
    expect(registry.list().length).toBe(101);
    // 80,000 more breakers built and disposed: a leak of even 200 bytes each would show as 16 MB.
    expect(after - before).toBeLessThan(8 * 1024 * 1024);
  }, 120_000); // ~4 s alone; far more on a machine shared with other suites
});
