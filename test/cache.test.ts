import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cache, circuitBreaker, pipeline, retry, timeout } from '../src/index.js';
import { ManualClock } from '../src/testing/index.js';
import { expectInvalid } from './helpers.js';

describe('cache', () => {
  it('keeps a successful value per key for ttlMs, then runs fn again', async () => {
    const clock = new ManualClock();
    const c = cache({ ttlMs: 100, clock });
    let runs = 0;
    const fn = (): number => ++runs;
    const events: string[] = [];
    c.events.on('hit', ({ key }) => events.push(`hit ${key}`));
    c.events.on('miss', ({ key }) => events.push(`miss ${key}`));
    expect(await c.execute(fn, { key: 'a' })).toBe(1);
    expect(await c.execute(fn, { key: 'a' })).toBe(1);
    expect(await c.execute(fn, { key: 'b' })).toBe(2);
    await clock.advance(99);
    expect(await c.execute(fn, { key: 'a' })).toBe(1);
    await clock.advance(1); // a expired at 100
    expect(await c.execute(fn, { key: 'a' })).toBe(3);
    expect(events).toEqual(['miss a', 'hit a', 'miss b', 'hit a', 'miss a']);
    const m = c.metrics();
    expect([m.hits, m.misses, m.stale, m.size]).toEqual([2, 3, 0, 2]);
    expect(m.calls).toBe(5);
  });

  it('never caches a failure', async () => {
    const c = cache({ ttlMs: 1000 });
    let runs = 0;
    await expect(c.execute(() => Promise.reject(new Error(`fail ${++runs}`)), { key: 'k' })).rejects.toThrow('fail 1');
    await expect(c.execute(() => Promise.reject(new Error(`fail ${++runs}`)), { key: 'k' })).rejects.toThrow('fail 2');
    expect(c.size).toBe(0);
    // A handled result is a failure too: not cached.
    const r = cache({ ttlMs: 1000, handleResult: (v) => v === 'bad' });
    expect(await r.execute(() => 'bad', { key: 'k' })).toBe('bad');
    expect(r.size).toBe(0);
  });

  it('evicts the least recently used entry beyond maxEntries', async () => {
    const c = cache({ ttlMs: 1000, maxEntries: 2 });
    await c.execute(() => 'a', { key: 'a' });
    await c.execute(() => 'b', { key: 'b' });
    await c.execute(() => 'x', { key: 'a' }); // hit: a is now the most recent
    await c.execute(() => 'c', { key: 'c' });
    expect(c.size).toBe(2);
    expect(await c.execute(() => 'b2', { key: 'b' })).toBe('b2'); // b was evicted
    expect(await c.execute(() => 'c2', { key: 'c' })).toBe('c'); // c kept
  });

  it('staleIfErrorMs: a handled failure within the window returns the stale value (event stale)', async () => {
    const clock = new ManualClock();
    const c = cache({ ttlMs: 100, staleIfErrorMs: 50, clock, handle: (e) => !(e instanceof TypeError) });
    const stale: string[] = [];
    c.events.on('stale', ({ key }) => stale.push(key));
    await c.execute(() => 'v1', { key: 'k' });
    await clock.advance(120);
    const down = (): Promise<string> => Promise.reject(new Error('down'));
    expect(await c.execute(down, { key: 'k' })).toBe('v1');
    expect(stale).toEqual(['k']);
    // An unhandled error is not answered.
    await expect(c.execute(() => Promise.reject(new TypeError('bug')), { key: 'k' })).rejects.toThrow('bug');
    await clock.advance(30); // 150 = expiry + staleIfErrorMs: out of the window
    await expect(c.execute(down, { key: 'k' })).rejects.toThrow('down');
    expect(c.size).toBe(0);
    expect(c.metrics().stale).toBe(1);
  });

  it("the caller's own abort is never answered by a stale entry", async () => {
    const clock = new ManualClock();
    const c = cache({ ttlMs: 10, staleIfErrorMs: 1000, clock });
    await c.execute(() => 'old', { key: 'k' });
    await clock.advance(20);
    const ctl = new AbortController();
    const p = c.execute(() => new Promise<string>(() => {}), { key: 'k', signal: ctl.signal });
    ctl.abort('mine');
    await expect(p).rejects.toBe('mine');
  });

  it('outside an open breaker: fresh entries answer, stale ones answer its rejections', async () => {
    const clock = new ManualClock();
    const breaker = circuitBreaker({ clock, window: { type: 'consecutive', failures: 1 }, openDurationMs: 10_000 });
    const c = cache({ ttlMs: 100, staleIfErrorMs: 60_000, clock });
    const p = pipeline(c, breaker, timeout({ durationMs: 50, clock }));
    await p.execute(() => 'fresh', { key: 'a' });
    await p.execute(() => 'b-old', { key: 'b' });
    await clock.advance(100); // both expired
    await p.execute(() => 'a2', { key: 'a' }); // refreshed
    await expect(p.execute(() => Promise.reject(new Error('down')), { key: 'c' })).rejects.toThrow('down');
    expect(breaker.state).toBe('open');
    let ran = false;
    expect(await p.execute(() => ((ran = true), 'x'), { key: 'a' })).toBe('a2'); // fresh hit
    expect(await p.execute(() => ((ran = true), 'x'), { key: 'b' })).toBe('b-old'); // stale answer of ECIRCUITOPEN
    expect(ran).toBe(false);
  });

  it('delete and clear forget entries; a call without a key runs through uncached', async () => {
    const c = cache({ ttlMs: 1000 });
    await c.execute(() => 1, { key: 'a' });
    await c.execute(() => 2, { key: 'b' });
    expect(c.delete('a')).toBe(true);
    expect(c.delete('a')).toBe(false);
    expect(await c.execute(() => 3, { key: 'a' })).toBe(3);
    c.clear();
    expect(c.size).toBe(0);
    let runs = 0;
    await c.execute(() => runs++);
    await c.execute(() => runs++);
    expect(runs).toBe(2);
  });

  it('in front of retries: a hit skips them', async () => {
    const clock = new ManualClock();
    const p = pipeline(cache({ ttlMs: 1000, clock }), retry({ clock }));
    let runs = 0;
    await p.execute(() => ++runs, { key: 'k' });
    expect(await p.execute(() => ++runs, { key: 'k' })).toBe(1);
  });

  it('validates its options', () => {
    expectInvalid(() => cache(undefined as never), TypeError, ['cache', 'ttlMs', 'undefined']);
    expectInvalid(() => cache({ ttlMs: 0 }), RangeError, ['cache', 'ttlMs', '0']);
    expectInvalid(() => cache({ ttlMs: 1, maxEntries: 0 }), RangeError, ['cache', 'maxEntries', '0']);
    expectInvalid(() => cache({ ttlMs: 1, staleIfErrorMs: -1 }), RangeError, ['cache', 'staleIfErrorMs', '-1']);
    expectInvalid(() => cache({ ttl: 5 } as never), TypeError, ['cache', '"ttl"', 'did you mean "ttlMs"']);
  });

  // Never an expired entry except as a stale fallback within staleIfErrorMs; size never above
  // maxEntries. The model is a plain list of (key, value, storedAt) with the same LRU order.
  it('property: no expired answer outside the stale window; size within maxEntries', async () => {
    type Op = { t: 'call'; key: number; fail: boolean } | { t: 'wait'; ms: number } | { t: 'delete'; key: number };
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ t: fc.constant('call' as const), key: fc.integer({ min: 0, max: 5 }), fail: fc.boolean() }),
      fc.record({ t: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 80 }) }),
      fc.record({ t: fc.constant('delete' as const), key: fc.integer({ min: 0, max: 5 }) }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 0, max: 60 }),
        fc.array(op, { maxLength: 50 }),
        async (maxEntries, ttlMs, staleIfErrorMs, ops) => {
          const clock = new ManualClock();
          const c = cache({ ttlMs, maxEntries, staleIfErrorMs, clock, metrics: false });
          /** When each value was produced (values are unique). */
          const producedAt = new Map<string, number>();
          let n = 0;
          for (const o of ops) {
            if (o.t === 'wait') {
              await clock.advance(o.ms);
              continue;
            }
            if (o.t === 'delete') {
              c.delete(`k${o.key}`);
              continue;
            }
            const key = `k${o.key}`;
            let ran = false;
            const outcome = await c
              .execute(() => {
                ran = true;
                if (o.fail) throw new Error('down');
                const v = `${key}#${n++}`;
                producedAt.set(v, clock.now());
                return v;
              }, { key })
              .then(
                (v) => ({ ok: true as const, v }),
                () => ({ ok: false as const }),
              );
            expect(c.size).toBeLessThanOrEqual(maxEntries);
            if (!outcome.ok) continue;
            const at = producedAt.get(outcome.v) as number;
            expect(outcome.v.startsWith(`${key}#`)).toBe(true);
            const age = clock.now() - at;
            if (!ran) expect(age).toBeLessThan(ttlMs); // a hit is fresh
            else if (o.fail) {
              // fn failed and a value came back: a stale answer, within the window.
              expect(age).toBeGreaterThanOrEqual(0);
              expect(age).toBeLessThan(ttlMs + staleIfErrorMs);
            } else expect(age).toBe(0);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
