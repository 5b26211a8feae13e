import { describe, expect, it } from 'vitest';
import { backoff, circuitBreaker, createRegistry, fallback, pipeline, retry, timeout } from '../src/index.js';
import { ManualClock } from '../src/testing/index.js';

const listenerCount = (p: { events: { listenerCount(e: string): number } }, e: string): number => p.events.listenerCount(e);

describe('pipeline events', () => {
  it("re-emits its members' events with { policy, kind } of the member", async () => {
    const clock = new ManualClock();
    const r = retry({ name: 'r', clock, maxAttempts: 2, backoff: backoff.constant(10) });
    const t = timeout({ name: 't', durationMs: 5, clock });
    const p = pipeline(fallback('fb', { name: 'f' }), r, t);
    const seen: unknown[] = [];
    p.events.on('retry', (e) => seen.push(['retry', e.policy, e.kind, e['attempt'], e['delayMs']]));
    p.events.on('timeout', (e) => seen.push(['timeout', e.policy, e.kind, e['timeoutMs']]));
    p.events.on('fallback', (e) => seen.push(['fallback', e.policy, e.kind]));
    const call = p.execute(() => new Promise(() => {}));
    await clock.advance(5);
    await clock.advance(10);
    await clock.advance(5);
    expect(await call).toBe('fb');
    expect(seen).toEqual([
      ['timeout', 't', 'timeout', 5],
      ['retry', 'r', 'retry', 1, 10],
      ['timeout', 't', 'timeout', 5],
      ['fallback', 'f', 'fallback'],
    ]);
  });

  it('subscribes members only while someone listens (nothing per call otherwise)', () => {
    const r = retry();
    const cb = circuitBreaker();
    const p = pipeline(r, cb);
    expect(listenerCount(r, 'retry')).toBe(0);
    const fn = (): void => {};
    p.events.on('retry', fn);
    p.events.on('retry', () => {});
    expect(listenerCount(r, 'retry')).toBe(1);
    expect(listenerCount(cb, 'retry')).toBe(1);
    p.events.off('retry', fn);
    expect(listenerCount(r, 'retry')).toBe(1);
    p.events.removeAllListeners('retry');
    expect(listenerCount(r, 'retry')).toBe(0);
    expect(listenerCount(cb, 'retry')).toBe(0);
    p.events.once('stateChange', () => {});
    expect(listenerCount(cb, 'stateChange')).toBe(1);
    p.dispose();
    expect(listenerCount(cb, 'stateChange')).toBe(0);
  });

  it('a nested pipeline names the member that emitted', async () => {
    const clock = new ManualClock();
    const inner = pipeline(retry({ name: 'inner-retry', clock, maxAttempts: 2, backoff: backoff.constant(1) }));
    const outer = pipeline(inner);
    const seen: string[] = [];
    outer.events.on('retry', (e) => seen.push(`${e.policy}/${e.kind}`));
    let n = 0;
    const call = outer.execute(() => (n++ === 0 ? Promise.reject(new Error('x')) : 'ok'));
    await clock.advance(1);
    expect(await call).toBe('ok');
    expect(seen).toEqual(['inner-retry/retry']);
  });

  it('a listed pipeline does not double the events on the registry bus', async () => {
    const clock = new ManualClock();
    const registry = createRegistry({ clock });
    const p = pipeline(retry({ name: 'rr', clock, maxAttempts: 2, backoff: backoff.constant(1) }), { name: 'pp', registry });
    const bus: string[] = [];
    registry.events.on('retry', (e) => bus.push(e.policy));
    const local: string[] = [];
    p.events.on('retry', (e) => local.push(e.policy));
    let n = 0;
    const call = p.execute(() => (n++ === 0 ? Promise.reject(new Error('x')) : 'ok'));
    await clock.advance(1);
    await call;
    expect(bus).toEqual(['rr']);
    expect(local).toEqual(['rr']);
  });
});
