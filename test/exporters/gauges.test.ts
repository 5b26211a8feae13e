import { describe, it, expect } from 'vitest';
import { gauges, BREAKER_STATES } from '../../src/exporters/gauges.js';
import { bulkhead } from '../../src/bulkhead.js';
import { adaptiveLimit } from '../../src/adaptive-limit.js';
import { circuitBreaker } from '../../src/circuit-breaker/index.js';
import { rateLimiter } from '../../src/rate-limiter.js';
import { timeout } from '../../src/timeout.js';
import { ManualClock } from '../../src/testing/index.js';
import type { Policy } from '../../src/policy-base.js';

describe('gauges', () => {
  it('reads what each kind of policy exposes', async () => {
    const clock = new ManualClock();
    expect(gauges(timeout(5))).toEqual({});
    expect(gauges(circuitBreaker({ clock }))).toEqual({ state: 'closed' });
    expect(BREAKER_STATES).toContain(circuitBreaker({ clock }).state);
    const bh = bulkhead({ maxConcurrent: 3, maxQueue: 1, clock });
    let release = (): void => {};
    const held = bh.execute(() => new Promise<void>((r) => (release = r)));
    expect(gauges(bh)).toEqual({ executing: 1, queued: 0, permits: 2 });
    release();
    await held;
    expect(gauges(adaptiveLimit({ algorithm: 'aimd', initialLimit: 5, minLimit: 1, maxLimit: 10, clock }))).toEqual({
      executing: 0,
      queued: 0,
      limit: 5,
      permits: 5,
    });
    expect(gauges(rateLimiter({ algorithm: 'tokenBucket', capacity: 2, refillPerSecond: 1, clock }))).toMatchObject({ queued: 0 });
  });

  it('prefers a policy’s own `available`, and ignores non-finite values', () => {
    const fake = { available: 3, maxConcurrent: 10, executing: 1, limit: Infinity, queued: NaN } as unknown as Policy;
    expect(gauges(fake)).toEqual({ executing: 1, permits: 3 });
  });
});
