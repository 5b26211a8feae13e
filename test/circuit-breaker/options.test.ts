import { describe, it, expect } from 'vitest';
import { backoff } from '../../src/backoff.js';
import { circuitBreaker, type CircuitBreakerOptions } from '../../src/circuit-breaker/index.js';
import { ManualClock } from '../../src/testing/index.js';

const make = (options: unknown) => () => circuitBreaker(options as CircuitBreakerOptions);

describe('circuitBreaker options', () => {
  const bad: Array<[string, unknown, ErrorConstructor, RegExp]> = [
    ['options: null', null, TypeError, /^circuitBreaker: options must be an object, got null$/],
    ['options: a number', 5, TypeError, /options must be an object, got 5/],
    ['options: an array', [], TypeError, /options must be an object, got an array/],
    // window
    ['window: a string', { window: 'time' }, TypeError, /window must be an object, got "time"/],
    ['window: null', { window: null }, TypeError, /window must be an object, got null/],
    ['window.type: missing', { window: {} }, TypeError, /window.type must be one of 'consecutive', 'count', 'time', got undefined/],
    ['window.type: unknown', { window: { type: 'sliding' } }, RangeError, /window.type must be one of .* got "sliding"/],
    ['window.failures: missing', { window: { type: 'consecutive' } }, TypeError, /window.failures must be an integer >= 1, got undefined/],
    ['window.failures: 0', { window: { type: 'consecutive', failures: 0 } }, RangeError, /window.failures must be an integer >= 1, got 0/],
    ['window.failures: 1.5', { window: { type: 'consecutive', failures: 1.5 } }, RangeError, /window.failures/],
    ['window.failures: Infinity', { window: { type: 'consecutive', failures: Infinity } }, RangeError, /window.failures/],
    ['window.failures: "3"', { window: { type: 'consecutive', failures: '3' } }, TypeError, /window.failures .* got "3"/],
    ['window.size: missing', { window: { type: 'count' } }, TypeError, /window.size must be an integer in \[1, 1000000\], got undefined/],
    ['window.size: 0', { window: { type: 'count', size: 0 } }, RangeError, /window.size/],
    ['window.size: too big', { window: { type: 'count', size: 2_000_000 } }, RangeError, /window.size .* got 2000000/],
    ['window.size: NaN', { window: { type: 'count', size: NaN } }, RangeError, /window.size .* got NaN/],
    ['window.durationMs: 0', { window: { type: 'time', durationMs: 0 } }, RangeError, /window.durationMs must be a finite number > 0, got 0/],
    ['window.durationMs: -1', { window: { type: 'time', durationMs: -1 } }, RangeError, /window.durationMs/],
    ['window.durationMs: Infinity', { window: { type: 'time', durationMs: Infinity } }, RangeError, /window.durationMs/],
    ['window.durationMs: a string', { window: { type: 'time', durationMs: '10s' } }, TypeError, /window.durationMs/],
    ['window.buckets: 0', { window: { type: 'time', buckets: 0 } }, RangeError, /window.buckets must be an integer in \[1, 1000\], got 0/],
    ['window.buckets: 2.5', { window: { type: 'time', buckets: 2.5 } }, RangeError, /window.buckets/],
    ['window.buckets: 5000', { window: { type: 'time', buckets: 5000 } }, RangeError, /window.buckets/],
    // rates and counts
    ['failureRateThreshold: 1.5', { failureRateThreshold: 1.5 }, RangeError, /^circuitBreaker: failureRateThreshold must be in \(0, 1\], got 1.5$/],
    ['failureRateThreshold: 0', { failureRateThreshold: 0 }, RangeError, /failureRateThreshold .* got 0/],
    ['failureRateThreshold: NaN', { failureRateThreshold: NaN }, RangeError, /failureRateThreshold/],
    ['failureRateThreshold: "50%"', { failureRateThreshold: '50%' }, TypeError, /failureRateThreshold .* got "50%"/],
    ['minimumCalls: 0', { minimumCalls: 0 }, RangeError, /minimumCalls must be an integer >= 1, got 0/],
    ['minimumCalls: 2.5', { minimumCalls: 2.5 }, RangeError, /minimumCalls/],
    ['minimumCalls: null', { minimumCalls: null }, TypeError, /minimumCalls .* got null/],
    ['slowCallDurationMs: 0', { slowCallDurationMs: 0 }, RangeError, /slowCallDurationMs must be a finite number > 0, got 0/],
    ['slowCallDurationMs: Infinity', { slowCallDurationMs: Infinity }, RangeError, /slowCallDurationMs/],
    ['slowCallDurationMs: a string', { slowCallDurationMs: '1s' }, TypeError, /slowCallDurationMs/],
    ['slowCallRateThreshold: 2', { slowCallRateThreshold: 2 }, RangeError, /slowCallRateThreshold must be in \(0, 1\], got 2/],
    ['slowCallRateThreshold: -0.1', { slowCallRateThreshold: -0.1 }, RangeError, /slowCallRateThreshold/],
    ['slowCallRateThreshold: true', { slowCallRateThreshold: true }, TypeError, /slowCallRateThreshold .* got true/],
    // open duration
    ['openDurationMs: -1', { openDurationMs: -1 }, RangeError, /openDurationMs must be in \[0, 2147483647\], got -1/],
    ['openDurationMs: NaN', { openDurationMs: NaN }, RangeError, /openDurationMs .* got NaN/],
    ['openDurationMs: Infinity', { openDurationMs: Infinity }, RangeError, /openDurationMs .* got Infinity/],
    ['openDurationMs: past the timer limit', { openDurationMs: 2 ** 31 }, RangeError, /openDurationMs/],
    ['openDurationMs: a string', { openDurationMs: '30s' }, TypeError, /openDurationMs must be a number or a Backoff, got "30s"/],
    ['openDurationMs: an object without start', { openDurationMs: { next: () => 1 } }, TypeError, /openDurationMs must be a number or a Backoff, got an object/],
    ['openDurationMs: null', { openDurationMs: null }, TypeError, /openDurationMs must be a number or a Backoff, got null/],
    // half-open
    ['halfOpenCalls: 0', { halfOpenCalls: 0 }, RangeError, /halfOpenCalls must be an integer >= 1, got 0/],
    ['halfOpenCalls: 1.5', { halfOpenCalls: 1.5 }, RangeError, /halfOpenCalls/],
    ['halfOpenCalls: "1"', { halfOpenCalls: '1' }, TypeError, /halfOpenCalls/],
    ['halfOpenMaxDurationMs: 0', { halfOpenMaxDurationMs: 0 }, RangeError, /halfOpenMaxDurationMs must be in \(0, 2147483647\], got 0/],
    ['halfOpenMaxDurationMs: Infinity', { halfOpenMaxDurationMs: Infinity }, RangeError, /halfOpenMaxDurationMs/],
    ['halfOpenMaxDurationMs: a string', { halfOpenMaxDurationMs: '1' }, TypeError, /halfOpenMaxDurationMs/],
    // classification
    ['handle: not a function', { handle: true }, TypeError, /^circuitBreaker: handle must be a function, got true$/],
    ['handleResult: not a function', { handleResult: 'x' }, TypeError, /handleResult must be a function, got "x"/],
    // store
    ['store: redis (a string)', { store: 'redis' }, RangeError, /store must be 'memory' or a store object, got "redis"/],
    ['store: an object without attach', { store: { get() {} } }, TypeError, /store must be 'memory' or a store object \(with attach\(\)\), got an object/],
    ['store: a number', { store: 1 }, TypeError, /store must be 'memory' or a store object \(with attach\(\)\), got 1/],
    ['store: null', { store: null }, TypeError, /store must be 'memory' or a store object \(with attach\(\)\), got null/],
    ['a shared store without a name', { store: { attach() {} } }, TypeError, /circuitBreaker: a shared store needs an explicit name/],
    [
      'a shared store with a consecutive window',
      { name: 'x', store: { attach() {} }, window: { type: 'consecutive', failures: 3 } },
      TypeError,
      /circuitBreaker: window must be a count or time window with a shared store, got an object/,
    ],
    // the common options
    ['name: empty', { name: '' }, RangeError, /name must be a non-empty string/],
    ['name: a number', { name: 1 }, TypeError, /name must be a string/],
    ['clock: not a clock', { clock: { now: () => 0 } }, TypeError, /clock must be a Clock/],
    ['registry: not a registry', { registry: {} }, TypeError, /registry must be a registry/],
    ['metrics: a string', { metrics: 'on' }, TypeError, /metrics must be an object/],
    ['metrics.windowMs: 0', { metrics: { windowMs: 0 } }, RangeError, /metrics.windowMs/],
  ];

  it.each(bad)('refuses %s', (_what, options, kind, message) => {
    expect(make(options)).toThrow(kind);
    expect(make(options)).toThrow(message);
  });

  it('accepts every option at its limits, and never mutates the options object', () => {
    const options = Object.freeze({
      clock: new ManualClock(),
      name: 'limits',
      window: Object.freeze({ type: 'count', size: 1 }),
      failureRateThreshold: 1,
      minimumCalls: 1,
      slowCallDurationMs: 0.001,
      slowCallRateThreshold: 1,
      openDurationMs: 0,
      halfOpenCalls: 1,
      halfOpenMaxDurationMs: 2 ** 31 - 1,
      handle: () => true,
      handleResult: () => false,
      store: 'memory',
      metrics: false,
    } as const);
    const copy = JSON.stringify(options);
    expect(() => circuitBreaker(options)).not.toThrow();
    expect(JSON.stringify(options)).toBe(copy);
    expect(() => circuitBreaker({ openDurationMs: backoff.exponential() })).not.toThrow();
    expect(() => circuitBreaker({ window: { type: 'time' } })).not.toThrow(); // durationMs and buckets default
    expect(() => circuitBreaker()).not.toThrow();
    expect(() => circuitBreaker({})).not.toThrow();
  });

  it('refuses unknown options, naming ours (cockatiel users bring halfOpenAfter)', () => {
    expect(() => circuitBreaker({ halfOpenAfter: 5 } as never)).toThrow(
      new TypeError('circuitBreaker: unknown option "halfOpenAfter" (did you mean "openDurationMs"?)'),
    );
  });

  it('openDurationMs: 0 half-opens on the next timer tick', async () => {
    const clock = new ManualClock();
    const breaker = circuitBreaker({ clock, window: { type: 'consecutive', failures: 1 }, openDurationMs: 0 });
    await breaker.execute(() => Promise.reject(new Error('x'))).catch(() => undefined);
    expect(breaker.state).toBe('open');
    await clock.advance(0);
    expect(breaker.state).toBe('halfOpen');
  });
});
