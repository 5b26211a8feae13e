import { describe, it, expect } from 'vitest';
import { gauges, statesOf } from '../../src/exporters/gauges.js';
import { DESCRIPTOR, describePolicy } from '../../src/internal/descriptor.js';
import { bulkhead } from '../../src/bulkhead.js';
import { adaptiveLimit } from '../../src/adaptive-limit.js';
import { circuitBreaker } from '../../src/circuit-breaker/index.js';
import { rateLimiter } from '../../src/rate-limiter.js';
import { timeout } from '../../src/timeout.js';
import { ManualClock } from '../../src/testing/index.js';
import type { Policy } from '../../src/contract.js';

describe('gauges', () => {
  it('reads what each kind of policy exposes', async () => {
    const clock = new ManualClock();
    expect(gauges(timeout(5))).toEqual({});
    expect(gauges(circuitBreaker({ clock }))).toEqual({ state: 'closed' });
    expect(statesOf(circuitBreaker({ clock }))).toEqual(['closed', 'open', 'halfOpen', 'isolated']);
    expect(statesOf(timeout(5))).toEqual([]);
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

  it('reads only what a descriptor declares, and ignores non-finite values', () => {
    // Getters alone are not gauges: a policy from elsewhere without a descriptor has none.
    const bare = { available: 3, maxConcurrent: 10, executing: 1, state: 'closed' } as unknown as Policy;
    expect(gauges(bare)).toEqual({});
    const described = {
      executing: 1,
      [DESCRIPTOR]: describePolicy({
        kind: 'pool',
        events: {},
        gauges: { executing: (p: { executing: number }) => p.executing, limit: () => Infinity, queued: () => NaN, permits: () => 3 },
      }),
    } as unknown as Policy;
    expect(gauges(described)).toEqual({ executing: 1, permits: 3 });
  });
});
