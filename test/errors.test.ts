import { describe, it, expect, vi } from 'vitest';
import {
  BreakwaterError,
  BrokenCircuitError,
  IsolatedCircuitError,
  TimeoutError,
  BulkheadRejectedError,
  RateLimitedError,
  isBreakwaterError,
} from '../src/index.js';

describe('errors', () => {
  it('carry their codes, fields and names', () => {
    const open = new BrokenCircuitError('open', 250);
    expect(open).toMatchObject({ code: 'ECIRCUITOPEN', state: 'open', retryAfterMs: 250, name: 'BrokenCircuitError' });
    const isolated = new IsolatedCircuitError();
    expect(isolated).toMatchObject({ code: 'ECIRCUITISOLATED', state: 'isolated', retryAfterMs: Infinity, name: 'IsolatedCircuitError' });
    expect(isolated).toBeInstanceOf(BrokenCircuitError);
    const cause = new Error('root');
    const t = new TimeoutError(100, { cause });
    expect(t).toMatchObject({ code: 'ETIMEDOUT', timeoutMs: 100, name: 'TimeoutError' });
    expect(t.cause).toBe(cause);
    expect('cause' in new TimeoutError(1)).toBe(false);
    expect(new BulkheadRejectedError(3, 7)).toMatchObject({ code: 'EBULKHEADFULL', executing: 3, queued: 7, name: 'BulkheadRejectedError' });
    expect(new RateLimitedError(40)).toMatchObject({ code: 'ERATELIMITED', retryAfterMs: 40, name: 'RateLimitedError' });
    for (const e of [open, isolated, t, new BulkheadRejectedError(1, 1), new RateLimitedError(1)]) {
      expect(e).toBeInstanceOf(BreakwaterError);
      expect(e).toBeInstanceOf(Error);
      expect(typeof e.stack).toBe('string');
      expect(e.message.length).toBeGreaterThan(0);
    }
  });

  it('isBreakwaterError recognises ours, with or without a code', () => {
    expect(isBreakwaterError(new TimeoutError(1))).toBe(true);
    expect(isBreakwaterError(new TimeoutError(1), 'ETIMEDOUT')).toBe(true);
    expect(isBreakwaterError(new TimeoutError(1), 'ECIRCUITOPEN')).toBe(false);
    expect(isBreakwaterError(new IsolatedCircuitError(), 'ECIRCUITISOLATED')).toBe(true);
  });

  it("never takes a foreign error with the same code for ours (Node's own ETIMEDOUT)", () => {
    const socket = Object.assign(new Error('connect ETIMEDOUT 10.0.0.1:443'), { code: 'ETIMEDOUT', errno: -110 });
    expect(isBreakwaterError(socket)).toBe(false);
    expect(isBreakwaterError(socket, 'ETIMEDOUT')).toBe(false);
    expect(isBreakwaterError({ code: 'EBULKHEADFULL' })).toBe(false);
    for (const v of [null, undefined, 'ETIMEDOUT', 42, () => {}]) expect(isBreakwaterError(v)).toBe(false);
  });

  it('recognises errors from a second copy of the module (dual-package hazard)', async () => {
    vi.resetModules();
    // A query string makes the module loader evaluate the file again: a second set of classes.
    const path: string = '../src/errors.js?copy';
    const copy = (await import(path)) as typeof import('../src/errors.js');
    const foreign = new copy.TimeoutError(5);
    expect(foreign).not.toBeInstanceOf(TimeoutError); // really another class
    expect(isBreakwaterError(foreign, 'ETIMEDOUT')).toBe(true);
    expect(copy.isBreakwaterError(new RateLimitedError(1), 'ERATELIMITED')).toBe(true);
  });
});
