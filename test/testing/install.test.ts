import { afterEach, describe, expect, it } from 'vitest';
import { createRegistry, pipeline, retry, retryBudget, systemClock, timeout, backoff, policyPool, cache } from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';

const installed: ManualClock[] = [];
afterEach(() => {
  while (installed.length > 0) installed.pop()?.uninstall();
});
const install = (start?: number): ManualClock => {
  const c = ManualClock.install(start);
  installed.push(c);
  return c;
};

/** A module under test that builds its own pipeline: no clock option anywhere. */
function makeClient(): { get(): Promise<string> } {
  let n = 0;
  const policy = pipeline(retry({ maxAttempts: 3, backoff: backoff.constant(1000) }), timeout(500));
  return { get: () => policy.execute(() => (++n < 3 ? Promise.reject(new Error('flaky')) : 'ok')) };
}

describe('ManualClock.install()', () => {
  it('is the default clock of every policy created until uninstall()', async () => {
    const clock = install();
    const client = makeClient();
    const call = client.get();
    // Advance while the call waits in its backoff sleeps (awaiting it first would wait for ever).
    await clock.advance(1000);
    await clock.advance(1000);
    expect(await call).toBe('ok');
    expect(clock.now()).toBe(2000);
  });

  it('applies to timeouts, pools, caches, budgets and registries too', async () => {
    const clock = install(100);
    const t = timeout(50);
    const hang = t.execute(() => new Promise(() => {}));
    const r = expect(hang).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    await clock.advance(50);
    await r;
    const c = cache({ ttlMs: 10 });
    await c.execute(() => 1, { key: 'k' });
    await clock.advance(10);
    expect(await c.execute(() => 2, { key: 'k' })).toBe(2);
    const pool = policyPool(() => retry(), { idleMs: 100 });
    await pool.execute(() => 1, { key: 'k' });
    expect(clock.pendingTimers).toBe(1);
    await clock.advance(200);
    expect(pool.size).toBe(0);
    expect((retryBudget() as unknown as { clock: unknown }).clock).toBe(clock);
    const reg = createRegistry();
    const at: number[] = [];
    reg.events.on('retry', (e) => at.push(e.at));
    const rr = retry({ registry: reg, backoff: backoff.constant(1), maxAttempts: 2 });
    let n = 0;
    const call = rr.execute(() => (n++ === 0 ? Promise.reject(new Error('x')) : 1));
    await clock.advance(1);
    await call;
    expect(at).toEqual([clock.now() - 1]);
  });

  it('a policy given its own clock keeps it; uninstall restores the system clock', async () => {
    const clock = install();
    const own = new ManualClock(5);
    expect((timeout({ durationMs: 1, clock: own }) as unknown as { clock: unknown }).clock).toBe(own);
    clock.uninstall();
    installed.pop();
    expect((timeout(1) as unknown as { clock: unknown }).clock).toBe(systemClock);
    clock.uninstall(); // idempotent
  });

  it('nests: the inner one first, then the outer is the default again', () => {
    const outer = install();
    const inner = install();
    expect(() => outer.uninstall()).toThrow(/uninstall the clock installed after this one first/);
    expect((retry() as unknown as { clock: unknown }).clock).toBe(inner);
    inner.uninstall();
    installed.pop();
    expect((retry() as unknown as { clock: unknown }).clock).toBe(outer);
  });
});
