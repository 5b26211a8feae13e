import { describe, it, expect, vi, afterEach } from 'vitest';
import { PolicyEmitter } from '../src/index.js';

interface Ev {
  ping: { n: number };
}

describe('PolicyEmitter', () => {
  afterEach(() => vi.restoreAllMocks());

  it('delivers payloads to every listener, once-listeners once', () => {
    const e = new PolicyEmitter<Ev>();
    const a = vi.fn();
    const b = vi.fn();
    e.on('ping', a);
    e.once('ping', b);
    expect(e.emit('ping', { n: 1 })).toBe(true);
    e.emit('ping', { n: 2 });
    expect(a.mock.calls).toEqual([[{ n: 1 }], [{ n: 2 }]]);
    expect(b.mock.calls).toEqual([[{ n: 1 }]]);
    expect(e.listenerCount('ping')).toBe(1);
  });

  it('reports false and does nothing without listeners', () => {
    const e = new PolicyEmitter<Ev>();
    expect(e.has('ping')).toBe(false);
    expect(e.emit('ping', { n: 1 })).toBe(false);
  });

  it('a throwing listener is isolated: the others run, listenerError carries { event, error }', () => {
    const e = new PolicyEmitter<Ev>();
    const boom = new Error('listener bug');
    const after = vi.fn();
    const errors = vi.fn();
    e.on('ping', () => {
      throw boom;
    });
    e.on('ping', after);
    e.on('listenerError', errors);
    expect(() => e.emit('ping', { n: 1 })).not.toThrow();
    expect(after).toHaveBeenCalledTimes(1);
    expect(errors).toHaveBeenCalledWith({ event: 'ping', error: boom });
  });

  it('without a listenerError listener, reports once with console.warn', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const e = new PolicyEmitter<Ev>();
    e.on('ping', () => {
      throw new Error('x');
    });
    e.emit('ping', { n: 1 });
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]?.[0])).toMatch(/'ping'/);
  });

  it('a throwing listenerError listener falls back to console.warn, without recursion', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const e = new PolicyEmitter<Ev>();
    e.on('ping', () => {
      throw new Error('first');
    });
    e.on('listenerError', () => {
      throw new Error('second');
    });
    e.emit('ping', { n: 1 });
    expect(warn).toHaveBeenCalledTimes(1);
  });

  it('a listener that removes another during emit does not break the loop', () => {
    const e = new PolicyEmitter<Ev>();
    const b = vi.fn();
    e.on('ping', () => e.off('ping', b));
    e.on('ping', b);
    e.emit('ping', { n: 1 });
    e.emit('ping', { n: 2 });
    expect(b).toHaveBeenCalledTimes(1);
  });
});
