// maxRetryAfterMs: a retryAfterMs hint longer than the cap (default 5 s) ends the retrying at
// once with that error, so a fallback outside answers at once while a breaker is open.
import { describe, expect, it, vi } from 'vitest';
import { backoff, BrokenCircuitError, circuitBreaker, fallback, pipeline, RateLimitedError, retry, timeout } from '../src/index.js';
import { ManualClock } from '../src/testing/index.js';
import { expectInvalid } from './helpers.js';

describe('retry: maxRetryAfterMs', () => {
  it('defaults to 5000: a longer hint gives up at once with that error (giveUp)', async () => {
    const clock = new ManualClock();
    const r = retry({ clock, maxAttempts: 5, backoff: backoff.constant(10) });
    expect(r.maxRetryAfterMs).toBe(5000);
    const giveUp = vi.fn();
    r.events.on('giveUp', giveUp);
    const hour = new RateLimitedError(3_600_000); // an HTTP 429 with Retry-After: 3600
    const fn = vi.fn(() => Promise.reject(hour));
    await expect(r.execute(fn)).rejects.toBe(hour);
    expect(fn).toHaveBeenCalledTimes(1);
    expect(clock.pendingTimers).toBe(0);
    expect(clock.now()).toBe(0);
    expect(giveUp).toHaveBeenCalledWith({ attempts: 1, error: hour });
  });

  it('a hint at the cap is still waited for', async () => {
    const clock = new ManualClock();
    const r = retry({ clock, maxAttempts: 2, backoff: backoff.constant(10), maxRetryAfterMs: 2000 });
    let n = 0;
    const call = r.execute(() => (n++ === 0 ? Promise.reject(new RateLimitedError(2000)) : 'ok'));
    await clock.advance(1999);
    expect(n).toBe(1);
    await clock.advance(1);
    expect(await call).toBe('ok');
  });

  it('Infinity waits for any finite hint', async () => {
    const clock = new ManualClock();
    const r = retry({ clock, maxAttempts: 2, backoff: backoff.constant(10), maxRetryAfterMs: Infinity });
    let n = 0;
    const call = r.execute(() => (n++ === 0 ? Promise.reject(new BrokenCircuitError('open', 60_000)) : 'ok'));
    await clock.advance(60_000);
    expect(await call).toBe('ok');
  });

  it("the README's pipeline answers from the fallback at once while the breaker is open", async () => {
    const clock = new ManualClock();
    const breaker = circuitBreaker({ clock, window: { type: 'consecutive', failures: 1 }, openDurationMs: 30_000 });
    const p = pipeline(fallback(null), retry({ clock, maxAttempts: 3, backoff: backoff.constant(100) }), breaker, timeout({ durationMs: 1000, clock }));
    const first = p.execute(() => Promise.reject(new Error('down')));
    // Attempt 1 fails and opens the breaker; attempt 2 (at 100 ms) is refused with a 29.9 s
    // hint, past the cap: the retrying ends and the fallback answers.
    await clock.advance(100);
    expect(await first).toBeNull();
    expect(clock.now()).toBe(100);
    const fn = vi.fn(() => 1);
    const second = p.execute(fn);
    await clock.advance(0);
    expect(await second).toBeNull();
    expect(fn).not.toHaveBeenCalled();
    expect(clock.now()).toBe(100);
  });

  it('validates it', () => {
    expectInvalid(() => retry({ maxRetryAfterMs: -1 }), RangeError, ['retry', 'maxRetryAfterMs', '-1']);
    expectInvalid(() => retry({ maxRetryAfterMs: '5s' as never }), TypeError, ['retry', 'maxRetryAfterMs', '"5s"']);
  });
});
