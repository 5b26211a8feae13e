// Very long or deeply nested pipelines: refused at construction past 256 policies, with a clear
// RangeError; up to the limit a call runs and settles without overflowing the stack.
import { describe, it, expect } from 'vitest';
import { bulkhead, circuitBreaker, fallback, pipeline, retry, timeout, type Policy } from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';
import { expectInvalid } from '../helpers.js';

const clock = new ManualClock();
const members = [
  () => fallback('fallback'),
  () => retry({ maxAttempts: 1, clock }),
  () => circuitBreaker({ clock }),
  () => timeout({ durationMs: 1000, clock }),
  () => bulkhead({ maxConcurrent: 10, clock }),
];
const mixed = (n: number): Policy[] => Array.from({ length: n }, (_, i) => (members[i % members.length] as () => Policy)());

describe('pipeline depth', () => {
  it('a 3000-member pipeline is a RangeError at construction, not a crash at the first call', () => {
    expectInvalid(() => pipeline(...mixed(3000)), RangeError, ['pipeline', 'at most 256', 'got 3001']);
  });

  it('10,000-deep nesting is refused while it is built, never a synchronous throw from execute', () => {
    let p: Policy = timeout({ durationMs: 1000, clock });
    let thrown: unknown;
    for (let i = 0; i < 10_000 && thrown === undefined; i++) {
      try {
        p = pipeline(p);
      } catch (error) {
        thrown = error;
      }
    }
    expect(thrown).toBeInstanceOf(RangeError);
    expect(String(thrown)).toContain('got 257');
    expect(p.execute(() => 1)).toBeInstanceOf(Promise);
  });

  it('nested pipelines count themselves and their members: 1 + 128 + 128 = 257 is refused, 256 is not', () => {
    const inner = pipeline(...mixed(127));
    expect(() => pipeline(inner, pipeline(...mixed(127)))).toThrow(RangeError);
    expect(() => pipeline(inner, ...mixed(127))).not.toThrow();
  });

  it('a pipeline at the limit settles values, errors and fallbacks', async () => {
    const deepest = pipeline(...mixed(255).slice(1), fallback('fallback'));
    await expect(deepest.execute(() => 'value')).resolves.toBe('value');
    await expect(deepest.execute(() => Promise.reject(new Error('inner')))).resolves.toBe('fallback');
    const noFallback = pipeline(...Array.from({ length: 255 }, () => timeout({ durationMs: 1000, clock })));
    await expect(noFallback.execute(() => Promise.reject(new Error('inner')))).rejects.toThrow('inner');
    await expect(noFallback.execute(async () => 'late')).resolves.toBe('late');
  });
});
