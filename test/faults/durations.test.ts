// Durations and the 32-bit timer limit: every duration option that arms a timer is refused past
// 2^31 − 1 ms at construction; a wait computed at run time past it is armed in steps.
import { describe, it, expect } from 'vitest';
import { bulkhead, chaos, circuitBreaker, hedge, rateLimiter, timeout, systemClock, type Clock } from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';
import { expectInvalid } from '../helpers.js';

const MAX = 2 ** 31 - 1;

/** A ManualClock that remembers every delay it was asked for. */
function recording(): { clock: ManualClock & Clock; delays: number[] } {
  const clock = new ManualClock();
  const delays: number[] = [];
  const set = clock.setTimeout.bind(clock);
  clock.setTimeout = (fn: () => void, ms: number) => {
    delays.push(ms);
    return set(fn, ms);
  };
  return { clock, delays };
}

describe('duration options are refused past the timer limit', () => {
  const cases: Array<[string, (ms: number) => unknown, boolean]> = [
    ['timeout durationMs', (ms) => timeout(ms), false],
    ['timeout { durationMs }', (ms) => timeout({ durationMs: ms }), false],
    ['hedge delayMs', (ms) => hedge({ delayMs: ms }), true],
    ['bulkhead queueTimeoutMs', (ms) => bulkhead({ maxConcurrent: 1, maxQueue: 1, queueTimeoutMs: ms }), false],
    ['rateLimiter maxWaitMs', (ms) => rateLimiter({ algorithm: 'tokenBucket', capacity: 1, refillPerSecond: 1, maxWaitMs: ms }), true],
    ['chaos latencyMs', (ms) => chaos({ latencyRate: 1, latencyMs: ms }), false],
    ['circuitBreaker openDurationMs', (ms) => circuitBreaker({ openDurationMs: ms }), false],
    ['circuitBreaker halfOpenMaxDurationMs', (ms) => circuitBreaker({ halfOpenMaxDurationMs: ms }), false],
  ];
  for (const [name, make, infinity] of cases) {
    it(`${name}: 2^31 − 1 is accepted, 2^31 + 1000 is a RangeError${infinity ? ', Infinity means never' : ''}`, () => {
      const option = name.split(' ').pop()?.replace(/[{}]/g, '') ?? '';
      const policy = make(MAX) as { dispose(): void };
      policy.dispose();
      expectInvalid(() => make(2 ** 31 + 1000), RangeError, [option, '2147484648']);
      if (infinity) (make(Infinity) as { dispose(): void }).dispose();
      else expectInvalid(() => make(Infinity), RangeError, [option, 'Infinity']);
    });
  }
});

describe('waits computed past the timer limit are armed in steps', () => {
  it('a rate limiter wait of 2^32 ms never asks for a longer timer and serves the call on time', async () => {
    const { clock, delays } = recording();
    const r = rateLimiter({ algorithm: 'slidingWindow', limit: 1, windowMs: 2 ** 32, maxWaitMs: Infinity, clock });
    await r.execute(() => 1);
    let ran = false;
    const p = r.execute(() => {
      ran = true;
      return 2;
    });
    await clock.advance(MAX);
    expect(ran).toBe(false);
    await clock.advance(2 ** 32 - MAX - 1);
    expect(ran).toBe(false);
    await clock.advance(1);
    await expect(p).resolves.toBe(2);
    expect(delays.length).toBeGreaterThan(1);
    expect(Math.max(...delays)).toBeLessThanOrEqual(MAX);
  });

  it('a hedge delay function returning 2^32 hedges at 2^32 ms, not at once', async () => {
    const { clock, delays } = recording();
    const h = hedge({ delayMs: () => 2 ** 32, clock });
    const attempts: number[] = [];
    const p = h.execute(({ attempt }) => {
      attempts.push(attempt);
      return attempt === 1 ? new Promise<number>(() => {}) : attempt;
    });
    await clock.advance(2 ** 32 - 1);
    expect(attempts).toEqual([1]);
    await clock.advance(1);
    await expect(p).resolves.toBe(2);
    expect(Math.max(...delays)).toBeLessThanOrEqual(MAX);
  });

  it('with the system clock a long wait prints no TimeoutOverflowWarning and does not run early', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => void warnings.push(w);
    process.on('warning', onWarning);
    try {
      const r = rateLimiter({ algorithm: 'slidingWindow', limit: 1, windowMs: 2 ** 32, maxWaitMs: Infinity, clock: systemClock });
      await r.execute(() => 1);
      let ran = false;
      const controller = new AbortController();
      const p = r.execute(
        () => {
          ran = true;
        },
        { signal: controller.signal },
      );
      const rejected = expect(p).rejects.toBe('stop');
      await new Promise((res) => setTimeout(res, 30));
      controller.abort('stop');
      await rejected;
      expect(ran).toBe(false);
      await new Promise((res) => setImmediate(res));
      expect(warnings.filter((w) => w.name === 'TimeoutOverflowWarning')).toEqual([]);
      r.dispose();
    } finally {
      process.off('warning', onWarning);
    }
  });
});
