// An abandoned half-open trial (its caller aborted, its fn never settles) reopens the breaker
// after halfOpenMaxDurationMs, which defaults to the first open duration.
import { describe, it, expect } from 'vitest';
import { backoff, circuitBreaker, type CircuitBreakerPolicy } from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';

async function tripAndHalfOpen(breaker: CircuitBreakerPolicy, clock: ManualClock, openMs: number): Promise<void> {
  await expect(breaker.execute(() => Promise.reject(new Error('down')))).rejects.toThrow('down');
  expect(breaker.state).toBe('open');
  await clock.advance(openMs);
  expect(breaker.state).toBe('halfOpen');
}

describe('an abandoned half-open trial', () => {
  it('reopens the breaker after the first open duration by default', async () => {
    const clock = new ManualClock();
    const breaker = circuitBreaker({ window: { type: 'consecutive', failures: 1 }, openDurationMs: 100, clock });
    await tripAndHalfOpen(breaker, clock, 100);
    const controller = new AbortController();
    const trial = breaker.execute(() => new Promise(() => {}), { signal: controller.signal });
    const aborted = expect(trial).rejects.toBe('gone');
    controller.abort('gone');
    await aborted;
    await expect(breaker.execute(() => 'refused')).rejects.toMatchObject({ code: 'ECIRCUITOPEN' });
    await clock.advance(99);
    expect(breaker.state).toBe('halfOpen');
    await clock.advance(1);
    expect(breaker.state).toBe('open');
    await clock.advance(100);
    expect(breaker.state).toBe('halfOpen');
    await expect(breaker.execute(() => 'recovered')).resolves.toBe('recovered');
    expect(breaker.state).toBe('closed');
  });

  it("a Backoff's first delay is the default; an explicit halfOpenMaxDurationMs wins", async () => {
    const clock = new ManualClock();
    const b = circuitBreaker({
      window: { type: 'consecutive', failures: 1 },
      openDurationMs: backoff.delays([50, 500]),
      clock,
    });
    await tripAndHalfOpen(b, clock, 50);
    void b.execute(() => new Promise(() => {}));
    await clock.advance(49);
    expect(b.state).toBe('halfOpen');
    await clock.advance(1);
    expect(b.state).toBe('open');

    const c = circuitBreaker({ window: { type: 'consecutive', failures: 1 }, openDurationMs: 50, halfOpenMaxDurationMs: 10, clock });
    await tripAndHalfOpen(c, clock, 50);
    void c.execute(() => new Promise(() => {}));
    await clock.advance(10);
    expect(c.state).toBe('open');
  });

  it('openDurationMs 0 gives trials 30 s, not 0', async () => {
    const clock = new ManualClock();
    const b = circuitBreaker({ window: { type: 'consecutive', failures: 1 }, openDurationMs: 0, clock });
    await expect(b.execute(() => Promise.reject(new Error('down')))).rejects.toThrow('down');
    await clock.advance(0);
    expect(b.state).toBe('halfOpen');
    const changes: string[] = [];
    b.events.on('stateChange', ({ from, to }) => changes.push(`${from}->${to}`));
    void b.execute(() => new Promise(() => {}));
    await clock.advance(29_999);
    expect(changes).toEqual([]);
    await clock.advance(1);
    // Reopened; with an open duration of 0 it half-opens again at once, ready for a new trial.
    expect(changes).toEqual(['halfOpen->open', 'open->halfOpen']);
    await expect(b.execute(() => 'recovered')).resolves.toBe('recovered');
    b.dispose();
  });
});
