import { afterEach, describe, expect, it, vi } from 'vitest';
import { createRegistry, pipeline, retry, retryBudget, timeout, TimeoutError, backoff, policyPool, cache } from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';

const never = (): Promise<never> => new Promise(() => {});
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
    // A budget of one retry a window: spent, it refills only when the installed clock moves on.
    const budget = retryBudget({ ratio: 0, minPerSecond: 1, windowMs: 1000 });
    expect([budget.tryRetry(), budget.tryRetry()]).toEqual([true, false]);
    await clock.advance(1000);
    expect(budget.tryRetry()).toBe(true);
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
    const mine = timeout({ durationMs: 1, clock: own }).execute(never);
    const timedOut = expect(mine).rejects.toBeInstanceOf(TimeoutError);
    expect([own.pendingTimers, clock.pendingTimers]).toEqual([1, 0]);
    await own.advance(1);
    await timedOut;
    clock.uninstall();
    installed.pop();
    clock.uninstall(); // idempotent
    // The system clock again: the deadline is a timer of the runtime's own (faked here), on
    // neither manual clock.
    vi.useFakeTimers();
    try {
      const sys = expect(timeout(1).execute(never)).rejects.toBeInstanceOf(TimeoutError);
      expect([own.pendingTimers, clock.pendingTimers, vi.getTimerCount()]).toEqual([0, 0, 1]);
      await vi.advanceTimersByTimeAsync(1);
      await sys;
    } finally {
      vi.useRealTimers();
    }
  });

  it('nests: the inner one first, then the outer is the default again', async () => {
    const outer = install();
    const inner = install();
    expect(() => outer.uninstall()).toThrow(/uninstall the clock installed after this one first/);
    /** Which clock a new retry's backoff sleep waits on: [inner's timers, outer's]; then ends it. */
    const sleepsOn = async (): Promise<number[]> => {
      let n = 0;
      const call = retry({ maxAttempts: 2, backoff: backoff.constant(10) }).execute(() => (n++ === 0 ? Promise.reject(new Error('x')) : 'ok'));
      await inner.flush();
      const timers = [inner.pendingTimers, outer.pendingTimers];
      await (timers[0] === 1 ? inner : outer).advance(10);
      expect(await call).toBe('ok');
      return timers;
    };
    expect(await sleepsOn()).toEqual([1, 0]);
    inner.uninstall();
    installed.pop();
    expect(await sleepsOn()).toEqual([0, 1]);
  });
});
