import { describe, it, expect, vi } from 'vitest';
import { BrokenCircuitError, isBreakwaterError } from '../../src/errors.js';
import { backoff } from '../../src/backoff.js';
import { ManualClock } from '../../src/testing/index.js';
import { circuitBreaker } from '../../src/circuit-breaker/index.js';
import { boom, deferred, fail, ok, setup, succeed } from './helpers.js';

describe('closed → open', () => {
  it('a consecutive window opens after `failures` handled failures in a row', async () => {
    const { breaker, changes } = setup({ window: { type: 'consecutive', failures: 3 } });
    await fail(breaker, 2);
    await succeed(breaker);
    await fail(breaker, 2);
    expect(breaker.state).toBe('closed');
    await fail(breaker);
    expect(breaker.state).toBe('open');
    expect(changes).toEqual(['closed>open@0']);
  });

  it('a count window opens at failureRateThreshold once minimumCalls calls ran', async () => {
    const { breaker } = setup({ window: { type: 'count', size: 10 }, minimumCalls: 4, failureRateThreshold: 0.5 });
    await fail(breaker, 3);
    expect(breaker.state).toBe('closed'); // 3 calls < minimumCalls
    await succeed(breaker);
    expect(breaker.state).toBe('open'); // 3 of 4: a success can complete the sample
  });

  it('a time window forgets failures older than durationMs, also after idle time', async () => {
    const { clock, breaker } = setup({ window: { type: 'time', durationMs: 1000, buckets: 10 }, minimumCalls: 3, failureRateThreshold: 1 });
    await fail(breaker, 2);
    await clock.advance(1000);
    await fail(breaker, 2);
    expect(breaker.state).toBe('closed'); // the first two are gone
    await fail(breaker);
    expect(breaker.state).toBe('open');
  });

  it('the default window is a 10 s time window with minimumCalls 20 and threshold 0.5', async () => {
    const { clock, breaker } = setup();
    await fail(breaker, 10);
    await succeed(breaker, 9);
    expect(breaker.state).toBe('closed');
    await clock.advance(9999);
    await succeed(breaker);
    expect(breaker.state).toBe('open'); // 10 of 20 within 10 s
  });

  it('rejections never count toward the window', async () => {
    const { clock, breaker } = setup({ window: { type: 'count', size: 4 }, minimumCalls: 4, openDurationMs: 100 });
    await fail(breaker, 2);
    await succeed(breaker, 2);
    expect(breaker.state).toBe('open');
    await clock.advance(100);
    await succeed(breaker); // the trial closes it, with an empty window
    expect(breaker.state).toBe('closed');
    await fail(breaker, 3);
    expect(breaker.state).toBe('closed'); // 3 calls: the window started over
  });
});

describe('open', () => {
  it('rejects at once with BrokenCircuitError and retryAfterMs = time left, without calling fn', async () => {
    const { clock, breaker } = setup({ window: { type: 'consecutive', failures: 1 }, openDurationMs: 1000 });
    const rejected: unknown[] = [];
    breaker.events.on('rejected', (e) => rejected.push(e));
    await fail(breaker);
    await clock.advance(250.5);
    const fn = vi.fn(ok);
    const error = await breaker.execute(fn).catch((e: unknown) => e);
    expect(fn).not.toHaveBeenCalled();
    expect(error).toBeInstanceOf(BrokenCircuitError);
    expect(isBreakwaterError(error, 'ECIRCUITOPEN')).toBe(true);
    expect(error).toMatchObject({ state: 'open', retryAfterMs: 750 }); // rounded up
    expect(rejected).toEqual([{ state: 'open' }]);
    expect(breaker.metrics()).toMatchObject({ rejections: 1, failures: 1, state: 'open' });
  });

  it('moves to half-open on a timer, emitting stateChange without any traffic', async () => {
    const { clock, breaker, changes } = setup({ window: { type: 'consecutive', failures: 1 }, openDurationMs: 1000 });
    await fail(breaker);
    expect(clock.pendingTimers).toBe(1);
    await clock.advance(999);
    expect(breaker.state).toBe('open');
    await clock.advance(1);
    expect(breaker.state).toBe('halfOpen');
    expect(changes).toEqual(['closed>open@0', 'open>halfOpen@1000']);
    expect(clock.pendingTimers).toBe(0);
  });

  it('admits a trial when the time has passed even if the timer is late (a busy event loop)', async () => {
    const manual = new ManualClock();
    // A clock whose timers never fire: only the time moves.
    const clock = { now: () => manual.now(), setTimeout: () => 1, clearTimeout: () => {} };
    const breaker = circuitBreaker({ clock, window: { type: 'consecutive', failures: 1 }, openDurationMs: 100 });
    await fail(breaker);
    await manual.advance(100);
    expect(breaker.state).toBe('open');
    await succeed(breaker);
    expect(breaker.state).toBe('closed');
  });

  it('openDurationMs may be a Backoff that grows per consecutive reopening and restarts once closed', async () => {
    const { clock, breaker, changes } = setup({
      window: { type: 'consecutive', failures: 1 },
      openDurationMs: backoff.delays([100, 200, 400]),
    });
    await fail(breaker); // open for 100
    await clock.advance(100);
    await fail(breaker); // the trial fails: open for 200
    await clock.advance(200);
    await fail(breaker); // 400
    await clock.advance(400);
    await fail(breaker); // the schedule ran out: the last duration again
    await clock.advance(400);
    expect(breaker.state).toBe('halfOpen');
    await succeed(breaker); // closes: the schedule starts over
    await fail(breaker);
    await clock.advance(100);
    expect(breaker.state).toBe('halfOpen');
    expect(changes.filter((c) => c.startsWith('closed>open') || c.startsWith('halfOpen>open'))).toEqual([
      'closed>open@0',
      'halfOpen>open@100',
      'halfOpen>open@300',
      'halfOpen>open@700',
      'closed>open@1100',
    ]);
  });

  it('a Backoff that throws or gives nonsense keeps the last good duration', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    let n = 0;
    const odd = {
      start: () => ({
        next: (): number | undefined => {
          n++;
          if (n === 1) return 50;
          if (n === 2) return Number.NaN;
          throw new Error('bad schedule');
        },
      }),
    };
    const { clock, breaker, changes } = setup({ window: { type: 'consecutive', failures: 1 }, openDurationMs: odd });
    await fail(breaker);
    await clock.advance(50);
    await fail(breaker); // NaN: 50 again
    await clock.advance(50);
    await fail(breaker); // throws: 50 again
    await clock.advance(50);
    expect(changes.at(-1)).toBe('open>halfOpen@150');
    expect(warn).toHaveBeenCalledTimes(1);
    warn.mockRestore();
  });
});

describe('half-open', () => {
  const opened = async (halfOpenCalls: number, extra = {}) => {
    const s = setup({ window: { type: 'consecutive', failures: 1 }, openDurationMs: 100, halfOpenCalls, ...extra });
    await fail(s.breaker);
    await s.clock.advance(100);
    expect(s.breaker.state).toBe('halfOpen');
    return s;
  };

  it('runs up to halfOpenCalls trials at once and rejects the rest', async () => {
    const { breaker } = await opened(2);
    const a = deferred<string>();
    const b = deferred<string>();
    const pa = breaker.execute(() => a.promise);
    const pb = breaker.execute(() => b.promise);
    const fn = vi.fn(ok);
    const third = await breaker.execute(fn).catch((e: unknown) => e);
    expect(fn).not.toHaveBeenCalled();
    expect(third).toMatchObject({ code: 'ECIRCUITOPEN', state: 'halfOpen', retryAfterMs: 0 });
    a.resolve('a');
    await pa;
    expect(breaker.state).toBe('halfOpen'); // one of two
    b.resolve('b');
    await pb;
    expect(breaker.state).toBe('closed');
  });

  it('one failed trial reopens, with the next open duration', async () => {
    const { clock, breaker, changes } = await opened(3);
    await succeed(breaker);
    await fail(breaker);
    expect(breaker.state).toBe('open');
    await clock.advance(100);
    expect(changes).toEqual(['closed>open@0', 'open>halfOpen@100', 'halfOpen>open@100', 'open>halfOpen@200']);
  });

  it('a trial the caller aborts gives its slot back and decides nothing', async () => {
    const { breaker } = await opened(1);
    const controller = new AbortController();
    const d = deferred<string>();
    const trial = breaker.execute(() => d.promise, { signal: controller.signal });
    const r = expect(trial).rejects.toBe('bye');
    controller.abort('bye');
    await r;
    d.reject(new Error('aborted'));
    await d.promise.catch(() => undefined);
    await new Promise((res) => setImmediate(res));
    expect(breaker.state).toBe('halfOpen');
    await succeed(breaker);
    expect(breaker.state).toBe('closed');
  });

  it('halfOpenMaxDurationMs reopens a breaker whose trial hangs', async () => {
    const { clock, breaker, changes } = await opened(1, { halfOpenMaxDurationMs: 500 });
    const hung = deferred<string>();
    const trial = breaker.execute(() => hung.promise);
    await clock.advance(499);
    expect(breaker.state).toBe('halfOpen');
    await clock.advance(1);
    expect(breaker.state).toBe('open');
    expect(changes.at(-1)).toBe('halfOpen>open@600');
    // Its late success is stale: it cannot close the breaker.
    await clock.advance(100);
    expect(breaker.state).toBe('halfOpen');
    hung.resolve('late');
    await trial;
    expect(breaker.state).toBe('halfOpen');
  });

  it('halfOpenMaxDurationMs does nothing while no trial runs, and is cleared when trials end', async () => {
    const { clock, breaker } = await opened(1, { halfOpenMaxDurationMs: 500 });
    await clock.advance(10_000);
    expect(breaker.state).toBe('halfOpen');
    expect(clock.pendingTimers).toBe(0);
    const d = deferred<string>();
    const trial = breaker.execute(() => d.promise);
    expect(clock.pendingTimers).toBe(1);
    d.resolve('x');
    await trial;
    expect(clock.pendingTimers).toBe(0);
    expect(breaker.state).toBe('closed');
  });
});

describe('generations: a call never decides a later state', () => {
  it('an old success cannot close a half-open breaker', async () => {
    const { clock, breaker } = setup({ window: { type: 'consecutive', failures: 1 }, openDurationMs: 100 });
    const old = deferred<string>();
    const slowCall = breaker.execute(() => old.promise); // started while closed
    await fail(breaker);
    await clock.advance(100);
    expect(breaker.state).toBe('halfOpen');
    old.resolve('stale');
    await slowCall;
    expect(breaker.state).toBe('halfOpen');
  });

  it('an old failure cannot reopen a half-open or closed breaker', async () => {
    const { clock, breaker } = setup({ window: { type: 'consecutive', failures: 1 }, openDurationMs: 100 });
    const old = deferred<string>();
    const slowCall = breaker.execute(() => old.promise);
    const r = expect(slowCall).rejects.toThrow('stale');
    await fail(breaker);
    await clock.advance(100);
    old.reject(new Error('stale'));
    await r;
    expect(breaker.state).toBe('halfOpen');
    await succeed(breaker);
    expect(breaker.state).toBe('closed');
  });

  it('a call from before reset() does not count in the new window', async () => {
    const { breaker } = setup({ window: { type: 'consecutive', failures: 1 } });
    const old = deferred<string>();
    const call = breaker.execute(() => old.promise);
    const r = expect(call).rejects.toThrow('old');
    breaker.reset();
    old.reject(new Error('old'));
    await r;
    expect(breaker.state).toBe('closed');
  });
});

describe('slow calls', () => {
  it('a slow call counts toward the slow-call rate whether it succeeded or failed', async () => {
    const { clock, breaker } = setup({
      window: { type: 'count', size: 4 },
      minimumCalls: 4,
      failureRateThreshold: 1,
      slowCallDurationMs: 100,
      slowCallRateThreshold: 0.5,
    });
    const events: unknown[] = [];
    breaker.events.on('success', (e) => events.push(['success', e]));
    breaker.events.on('failure', (e) => events.push(['failure', e.durationMs, e.slow]));
    const a = deferred<string>();
    const b = deferred<string>();
    const pa = breaker.execute(() => a.promise);
    const pb = breaker.execute(() => b.promise);
    const rb = expect(pb).rejects.toThrow('slow failure');
    await succeed(breaker);
    await clock.advance(100);
    a.resolve('slow');
    b.reject(new Error('slow failure'));
    await pa;
    await rb;
    expect(breaker.state).toBe('closed'); // 3 calls so far
    await succeed(breaker);
    expect(breaker.state).toBe('open'); // 2 slow of 4 >= 0.5
    expect(events).toEqual([
      ['success', { durationMs: 0, slow: false }],
      ['success', { durationMs: 100, slow: true }],
      ['failure', 100, true],
      ['success', { durationMs: 0, slow: false }],
    ]);
    expect(breaker.metrics()).toMatchObject({ slowCalls: 2, successes: 3, failures: 1 });
  });

  it('slow trials reopen a half-open breaker when their rate reaches the threshold', async () => {
    const { clock, breaker } = setup({
      window: { type: 'count', size: 2 },
      minimumCalls: 2,
      slowCallDurationMs: 10,
      openDurationMs: 100,
      halfOpenCalls: 2,
    });
    await fail(breaker, 2);
    await clock.advance(100);
    const a = deferred<string>();
    const pa = breaker.execute(() => a.promise);
    const pb = breaker.execute(() => a.promise);
    await clock.advance(10);
    a.resolve('slow');
    await Promise.all([pa, pb]);
    expect(breaker.state).toBe('open'); // 2 of 2 trials slow >= 1
  });

  it('a consecutive window decides on failures alone', async () => {
    const { clock, breaker } = setup({ window: { type: 'consecutive', failures: 2 }, slowCallDurationMs: 1 });
    for (let i = 0; i < 3; i++) {
      const d = deferred<string>();
      const p = breaker.execute(() => d.promise);
      await clock.advance(5);
      d.resolve('slow');
      await p;
    }
    expect(breaker.state).toBe('closed');
    expect(breaker.metrics().slowCalls).toBe(3);
  });
});

describe('synchronous functions', () => {
  it('a synchronous throw is a failure and a plain value a success', async () => {
    const { breaker } = setup({ window: { type: 'consecutive', failures: 2 } });
    await expect(breaker.execute(boom)).rejects.toThrow('boom');
    await expect(breaker.execute(() => undefined)).resolves.toBeUndefined();
    await expect(breaker.execute(boom)).rejects.toThrow('boom');
    expect(breaker.state).toBe('closed');
    await expect(breaker.execute(boom)).rejects.toThrow('boom');
    expect(breaker.state).toBe('open');
  });
});
