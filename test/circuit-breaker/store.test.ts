// The store seam, with a scripted store in place of Redis (the Redis store itself is tested against
// a real redis-server in test/smoke/redis): what the breaker tells a store, and what a store may
// impose. Deterministic: ManualClock.
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/testing/index.js';
import { circuitBreaker, type CircuitStore, type CircuitStoreBreaker, type CircuitStoreSession } from '../../src/index.js';
import { boom, deferred, ok } from './helpers.js';

interface Scripted {
  store: CircuitStore;
  view: () => CircuitStoreBreaker;
  log: string[];
  /** What `record` answers while "offline" (the local window's verdict) or online (false). */
  online: boolean;
  trial: boolean | Promise<boolean>;
}

function scripted(): Scripted {
  const s: Scripted = { store: undefined as never, view: undefined as never, log: [], online: true, trial: true };
  let view: CircuitStoreBreaker | undefined;
  const session: CircuitStoreSession = {
    record: (failure, _slow, _now, local) => {
      s.log.push(`record ${failure ? 'fail' : 'ok'} local=${String(local)}`);
      return s.online ? false : local;
    },
    acquireTrial: () => {
      s.log.push('acquire');
      return s.trial;
    },
    trialEnded: (_slow, neither) => {
      s.log.push(`trialEnded ${neither ? 'none' : 'ok'}`);
      return false;
    },
    transitioned: (from, to) => s.log.push(`${from}->${to}`),
    reset: () => s.log.push('reset'),
    dispose: () => s.log.push('dispose'),
  };
  s.store = {
    attach: (b) => {
      view = b;
      return session;
    },
  };
  s.view = () => view as CircuitStoreBreaker;
  return s;
}

const options = { name: 'seam', window: { type: 'count', size: 4 }, minimumCalls: 2, openDurationMs: 100 } as const;

describe('circuit breaker store seam', () => {
  it('gives the store every counted outcome; online, the store (not the local window) decides', async () => {
    const s = scripted();
    const clock = new ManualClock();
    const b = circuitBreaker({ ...options, store: s.store, clock });
    await b.execute(boom).catch(() => undefined);
    await b.execute(boom).catch(() => undefined);
    expect(s.log).toEqual(['record fail local=false', 'record fail local=true']);
    expect(b.state).toBe('closed');
    s.online = false;
    await b.execute(boom).catch(() => undefined);
    expect(b.state).toBe('open');
    expect(s.log.at(-1)).toBe('closed->open');
    b.dispose();
    expect(s.log.at(-1)).toBe('dispose');
  });

  it('a state the store imposes moves the breaker, with stateChange, and no transition echoes back', async () => {
    const s = scripted();
    const clock = new ManualClock();
    const b = circuitBreaker({ ...options, store: s.store, clock });
    const seen: string[] = [];
    b.events.on('stateChange', ({ to }) => seen.push(to));
    s.view().impose('open', 50);
    expect(b.state).toBe('open');
    await expect(b.execute(ok)).rejects.toMatchObject({ code: 'ECIRCUITOPEN', retryAfterMs: 50 });
    await clock.advance(50);
    expect(b.state).toBe('halfOpen');
    s.view().impose('closed', 0);
    expect(seen).toEqual(['open', 'halfOpen', 'closed']);
    // An isolated breaker stays isolated whatever the store says.
    const hold = b.isolate();
    s.view().impose('open', 10);
    expect(b.state).toBe('isolated');
    hold.release();
    b.dispose();
  });

  it('a half-open trial runs only when the store grants it; a refusal gives the slot back', async () => {
    const s = scripted();
    const clock = new ManualClock();
    const b = circuitBreaker({ ...options, store: s.store, clock, halfOpenCalls: 1 });
    s.view().impose('halfOpen', 0);
    s.trial = false;
    await expect(b.execute(ok)).rejects.toMatchObject({ code: 'ECIRCUITOPEN', state: 'halfOpen' });
    const answer = deferred<boolean>();
    s.trial = answer.promise;
    let ran = false;
    const call = b.execute(() => {
      ran = true;
      return 1;
    });
    expect(ran).toBe(false);
    answer.resolve(true);
    await expect(call).resolves.toBe(1);
    expect(ran).toBe(true);
    expect(s.log.filter((l) => l.startsWith('acquire') || l.startsWith('trial'))).toEqual(['acquire', 'acquire', 'trialEnded ok']);
    expect(b.state).toBe('closed');
    b.dispose();
  });

  it('storeError and storeRecovered reach the breaker events', () => {
    const s = scripted();
    const b = circuitBreaker({ ...options, store: s.store, clock: new ManualClock() });
    const seen: unknown[] = [];
    b.events.on('storeError', ({ error }) => seen.push(error));
    b.events.on('storeRecovered', () => seen.push('recovered'));
    const e = new Error('down');
    s.view().storeEvent('storeError', e);
    s.view().storeEvent('storeRecovered');
    expect(seen).toEqual([e, 'recovered']);
    expect(s.view().name).toBe('seam');
    expect(s.view().config).toMatchObject({ window: { type: 'count', size: 4 }, minimumCalls: 2, openDurationsMs: [100], halfOpenCalls: 1 });
    b.dispose();
  });
});
