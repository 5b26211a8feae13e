import { describe, it, expect, vi } from 'vitest';
import { IsolatedCircuitError, isBreakwaterError } from '../../src/errors.js';
import { circuitBreaker } from '../../src/circuit-breaker/index.js';
import { ManualClock } from '../../src/testing/index.js';
import { deferred, fail, ok, setup, succeed } from './helpers.js';

describe('isolate()', () => {
  it('holds the breaker open with IsolatedCircuitError until the handle is released', async () => {
    const { breaker, changes } = setup();
    const hold = breaker.isolate();
    expect(breaker.state).toBe('isolated');
    const fn = vi.fn(ok);
    const error = await breaker.execute(fn).catch((e: unknown) => e);
    expect(fn).not.toHaveBeenCalled();
    expect(error).toBeInstanceOf(IsolatedCircuitError);
    expect(isBreakwaterError(error, 'ECIRCUITISOLATED')).toBe(true);
    expect(error).toMatchObject({ state: 'isolated', retryAfterMs: Infinity });
    hold.release();
    expect(breaker.state).toBe('closed');
    expect(changes).toEqual(['closed>isolated@0', 'isolated>closed@0']);
  });

  it('is reference-counted, and release() is idempotent per handle', () => {
    const { breaker } = setup();
    const a = breaker.isolate();
    const b = breaker.isolate();
    a.release();
    a.release(); // a second release of the same handle must not release b's hold
    expect(breaker.state).toBe('isolated');
    b.release();
    expect(breaker.state).toBe('closed');
  });

  it('overrides open and half-open, clears the open timer, and closes with an empty window', async () => {
    const { clock, breaker } = setup({ window: { type: 'consecutive', failures: 2 }, openDurationMs: 100 });
    await fail(breaker, 2);
    expect(clock.pendingTimers).toBe(1);
    const hold = breaker.isolate();
    expect(clock.pendingTimers).toBe(0);
    await clock.advance(1000);
    expect(breaker.state).toBe('isolated');
    hold.release();
    await fail(breaker);
    expect(breaker.state).toBe('closed'); // the window started over
  });

  it('calls that started before isolation never decide', async () => {
    const { breaker } = setup({ window: { type: 'consecutive', failures: 1 } });
    const d = deferred<string>();
    const call = breaker.execute(() => d.promise);
    const r = expect(call).rejects.toThrow('late');
    const hold = breaker.isolate();
    d.reject(new Error('late'));
    await r;
    expect(breaker.state).toBe('isolated');
    hold.release();
    expect(breaker.state).toBe('closed');
  });
});

describe('reset()', () => {
  it('closes the breaker, empties the window, restarts the backoff and drops isolations', async () => {
    const { clock, breaker, changes } = setup({ window: { type: 'consecutive', failures: 2 }, openDurationMs: 100 });
    await fail(breaker, 2);
    breaker.reset();
    expect(breaker.state).toBe('closed');
    expect(clock.pendingTimers).toBe(0);
    await fail(breaker);
    expect(breaker.state).toBe('closed');
    const hold = breaker.isolate();
    breaker.reset();
    expect(breaker.state).toBe('closed');
    const again = breaker.isolate();
    hold.release(); // from before the reset: no effect on the new isolation
    expect(breaker.state).toBe('isolated');
    again.release();
    expect(breaker.state).toBe('closed');
    expect(changes).toEqual(['closed>open@0', 'open>closed@0', 'closed>isolated@0', 'isolated>closed@0', 'closed>isolated@0', 'isolated>closed@0']);
  });

  it('emits no stateChange when already closed', () => {
    const { breaker, changes } = setup();
    breaker.reset();
    expect(changes).toEqual([]);
  });
});

describe('dispose()', () => {
  it('clears the open timer, rejects later calls and lets in-flight calls settle without deciding', async () => {
    const { clock, breaker } = setup({ window: { type: 'consecutive', failures: 1 }, openDurationMs: 100 });
    const d = deferred<string>();
    const call = breaker.execute(() => d.promise);
    const r = expect(call).rejects.toThrow('late');
    breaker.dispose();
    d.reject(new Error('late'));
    await r;
    expect(clock.pendingTimers).toBe(0);
    expect(breaker.state).toBe('closed');
    await expect(breaker.execute(ok)).rejects.toThrow(/disposed/);

    const open = setup({ window: { type: 'consecutive', failures: 1 }, openDurationMs: 100, halfOpenMaxDurationMs: 50 });
    await fail(open.breaker);
    await open.clock.advance(100);
    const hung = open.breaker.execute(() => new Promise(() => {}));
    void hung;
    expect(open.clock.pendingTimers).toBe(1); // halfOpenMaxDurationMs
    open.breaker.dispose();
    expect(open.clock.pendingTimers).toBe(0);
  });
});

describe('state, metrics, events', () => {
  it('metrics() adds the state and counts calls, outcomes and rejections', async () => {
    const { breaker } = setup({ window: { type: 'consecutive', failures: 1 } });
    await succeed(breaker);
    await fail(breaker);
    await breaker.execute(ok).catch(() => undefined);
    expect(breaker.metrics()).toMatchObject({
      kind: 'circuitBreaker',
      state: 'open',
      calls: 3,
      successes: 1,
      failures: 1,
      rejections: 1,
    });
  });

  it('with metrics off, metrics() reads zeros but still reports the state', async () => {
    const { breaker } = setup({ window: { type: 'consecutive', failures: 1 }, metrics: false });
    await fail(breaker);
    expect(breaker.metrics()).toMatchObject({ calls: 0, failures: 0, state: 'open' });
  });

  it('success and failure events carry durationMs and slow; failure carries the error', async () => {
    const { clock, breaker } = setup({ window: { type: 'consecutive', failures: 5 }, slowCallDurationMs: 100, metrics: false });
    const seen: unknown[] = [];
    breaker.events.on('success', (e) => seen.push(e));
    breaker.events.on('failure', (e) => seen.push(e));
    const d = deferred<string>();
    const call = breaker.execute(() => d.promise);
    await clock.advance(150);
    d.resolve('x');
    await call;
    const error = new Error('bad');
    await breaker.execute(() => Promise.reject(error)).catch(() => undefined);
    expect(seen).toEqual([
      { durationMs: 150, slow: true },
      { error, durationMs: 0, slow: false },
    ]);
  });

  it('events are emitted with metrics off and no slow calls too (the duration is then measured for them)', async () => {
    const { clock, breaker } = setup({ window: { type: 'consecutive', failures: 5 }, metrics: false });
    const seen: unknown[] = [];
    breaker.events.on('success', (e) => seen.push(e));
    const d = deferred<string>();
    const call = breaker.execute(() => d.promise);
    await clock.advance(20);
    d.resolve('x');
    await call;
    expect(seen).toEqual([{ durationMs: 20, slow: false }]);
  });

  it('a throwing listener changes no outcome and no state', async () => {
    const { breaker } = setup({ window: { type: 'consecutive', failures: 1 } });
    const errors: unknown[] = [];
    breaker.events.on('listenerError', (e) => errors.push(e.event));
    breaker.events.on('failure', () => {
      throw new Error('listener');
    });
    breaker.events.on('stateChange', () => {
      throw new Error('listener');
    });
    await expect(breaker.execute(() => Promise.reject(new Error('real')))).rejects.toThrow('real');
    expect(breaker.state).toBe('open');
    expect(errors).toEqual(['failure', 'stateChange']);
  });

  it('a stateChange listener that resets the breaker leaves no timer behind', async () => {
    const { clock, breaker } = setup({ window: { type: 'consecutive', failures: 1 }, openDurationMs: 100 });
    breaker.events.once('stateChange', () => breaker.reset());
    await fail(breaker);
    expect(breaker.state).toBe('closed');
    expect(clock.pendingTimers).toBe(0);
  });

  it('wrap keeps this and the arguments', async () => {
    const { breaker } = setup();
    const add = breaker.wrap(function (this: { base: number }, n: number) {
      return this.base + n;
    });
    await expect(add.call({ base: 10 }, 5)).resolves.toBe(15);
  });

  it('has kind circuitBreaker and a default name; a name option is used', () => {
    const clock = new ManualClock();
    expect(circuitBreaker({ clock }).kind).toBe('circuitBreaker');
    expect(circuitBreaker({ clock }).name).toMatch(/^circuitBreaker-\d+$/);
    expect(circuitBreaker({ clock, name: 'payments' }).name).toBe('payments');
  });

  it('lists itself in a registry given as option', () => {
    const added: unknown[] = [];
    const breaker = circuitBreaker({ registry: { add: (p) => added.push(p) } });
    expect(added).toEqual([breaker]);
  });
});

describe('per-call cost', () => {
  /** A ManualClock that counts reads and timers. */
  const counting = () => {
    const clock = new ManualClock();
    const counts = { now: 0, timers: 0 };
    const now = clock.now.bind(clock);
    const set = clock.setTimeout.bind(clock);
    clock.now = () => {
      counts.now++;
      return now();
    };
    clock.setTimeout = (fn, ms) => {
      counts.timers++;
      return set(fn, ms);
    };
    return { clock, counts };
  };

  it('the closed success path reads no clock and sets no timer unless something needs the time', async () => {
    const { clock, counts } = counting();
    const breaker = circuitBreaker({ clock, window: { type: 'consecutive', failures: 3 }, metrics: false });
    breaker.events.on('stateChange', () => {}); // a listener that needs no duration
    for (let i = 0; i < 10; i++) await breaker.execute(ok);
    await breaker.execute(() => Promise.reject(new Error('x'))).catch(() => undefined);
    expect(counts).toEqual({ now: 0, timers: 0 });
  });

  it('a count window with metrics reads the clock twice per call; a time window once per bucket without', async () => {
    const a = counting();
    const count = circuitBreaker({ clock: a.clock, window: { type: 'count', size: 10 } });
    for (let i = 0; i < 5; i++) await count.execute(ok);
    expect(a.counts.now).toBe(10);
    const b = counting();
    const time = circuitBreaker({ clock: b.clock, metrics: false });
    // The first call of a bucket reads the clock and arms the window's edge timer; the others
    // of that bucket read nothing.
    for (let i = 0; i < 5; i++) await time.execute(ok);
    expect(b.counts.now).toBe(1);
    await b.clock.advance(1000); // the edge timer fires (one read) and is not re-armed
    expect(b.counts.now).toBe(2);
    for (let i = 0; i < 5; i++) await time.execute(ok);
    expect(b.counts.now).toBe(3);
  });

  it('a success or failure listener added while a call runs does not hear about that call', async () => {
    const { breaker } = setup({ metrics: false, window: { type: 'consecutive', failures: 3 } });
    const d = deferred<string>();
    const call = breaker.execute(() => d.promise);
    const seen: unknown[] = [];
    breaker.events.on('success', (e) => seen.push(e));
    d.resolve('x');
    await call;
    expect(seen).toEqual([]);
    await breaker.execute(ok);
    expect(seen).toEqual([{ durationMs: 0, slow: false }]);
  });

  it('rejected events carry the state that refused', async () => {
    const { clock, breaker } = setup({ window: { type: 'consecutive', failures: 1 }, openDurationMs: 10 });
    const states: string[] = [];
    breaker.events.on('rejected', ({ state }) => states.push(state));
    await fail(breaker);
    await breaker.execute(ok).catch(() => undefined);
    await clock.advance(10);
    const trial = deferred<string>();
    const running = breaker.execute(() => trial.promise);
    await breaker.execute(ok).catch(() => undefined);
    const hold = breaker.isolate();
    await breaker.execute(ok).catch(() => undefined);
    hold.release();
    trial.resolve('x');
    await running;
    expect(states).toEqual(['open', 'halfOpen', 'isolated']);
    expect(breaker.metrics().rejections).toBe(3);
  });
});
