// A listener that returns a rejected promise is isolated like one that throws: `listenerError`,
// never an unhandled rejection (which ends a Node process under its defaults).
/* eslint-disable @typescript-eslint/no-misused-promises -- async listeners are the subject here */
import { describe, it, expect, vi, afterEach } from 'vitest';
import { PolicyEmitter, retry, timeout } from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';

interface Ev {
  ping: { n: number };
}

describe('async listeners', () => {
  afterEach(() => vi.restoreAllMocks());

  it('a rejected promise from a listener becomes listenerError, the others still run', async () => {
    const e = new PolicyEmitter<Ev>();
    const boom = new Error('async listener bug');
    const errors = vi.fn();
    const after = vi.fn();
    e.on('ping', () => Promise.reject(boom));
    e.on('ping', after);
    e.on('listenerError', errors);
    expect(e.emit('ping', { n: 1 })).toBe(true);
    expect(after).toHaveBeenCalledTimes(1);
    await new Promise((r) => setImmediate(r));
    expect(errors.mock.calls).toEqual([[{ event: 'ping', error: boom }]]);
  });

  it('without a listenerError listener the rejection is reported with console.warn', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const e = new PolicyEmitter<Ev>();
    e.on('ping', async () => {
      await Promise.resolve();
      throw new Error('late');
    });
    e.emit('ping', { n: 1 });
    await new Promise((r) => setImmediate(r));
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]?.[0])).toContain("'ping'");
  });

  it('a listener returning a thenable whose then throws is reported, not thrown', async () => {
    const e = new PolicyEmitter<Ev>();
    const errors = vi.fn();
    const bad = new Error('then getter');
    e.on('ping', () => ({
      then() {
        throw bad;
      },
    }));
    e.on('listenerError', errors);
    expect(() => e.emit('ping', { n: 1 })).not.toThrow();
    await new Promise((r) => setImmediate(r));
    expect(errors.mock.calls).toEqual([[{ event: 'ping', error: bad }]]);
  });

  it('policy calls settle with their own outcome whatever async listeners do', async () => {
    const clock = new ManualClock();
    const r = retry({ maxAttempts: 2, backoff: { start: () => ({ next: () => 10 }) }, clock });
    const t = timeout({ durationMs: 5, clock });
    const errors = vi.fn();
    r.events.on('retry', () => Promise.reject(new Error('retry listener')));
    r.events.on('success', () => Promise.reject(new Error('success listener')));
    r.events.on('listenerError', errors);
    t.events.on('timeout', () => Promise.reject(new Error('timeout listener')));
    t.events.on('listenerError', errors);
    let n = 0;
    const p = r.execute(() => (++n === 1 ? Promise.reject(new Error('first')) : 'ok'));
    await clock.advance(10);
    await expect(p).resolves.toBe('ok');
    const q = t.execute(() => new Promise(() => {}));
    const qr = expect(q).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    await clock.advance(5);
    await qr;
    await new Promise((r2) => setImmediate(r2));
    expect(errors.mock.calls.map((c) => (c[0] as { event: string }).event).sort()).toEqual(['retry', 'success', 'timeout']);
  });
});
