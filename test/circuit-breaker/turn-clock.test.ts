// With systemClock, a breaker times its calls by the turn clock and shares one pair of handlers
// among the calls that start in one event-loop turn, kept until the turn ends. These tests check
// that a call in a later turn never gets an earlier turn's start time.
import { describe, it, expect } from 'vitest';
import { circuitBreaker } from '../../src/circuit-breaker/index.js';
import { pipeline, timeout } from '../../src/index.js';
import { nextTurn } from '../helpers.js';

/** Burns CPU until the clock has moved `ms` past `from`: time passes inside one turn. */
function spinUntil(from: number, ms: number): void {
  while (performance.now() - from < ms) {
    // busy
  }
}

describe.each([
  ['alone', (b: ReturnType<typeof circuitBreaker>) => b],
  ['fused with a timeout', (b: ReturnType<typeof circuitBreaker>) => pipeline(b, timeout(60_000))],
])('circuit breaker on the turn clock (%s)', (_, wrap) => {
  it('times a call from the turn it started in, not an earlier one', async () => {
    const breaker = circuitBreaker(); // systemClock, metrics on
    const policy = wrap(breaker);
    const durations: number[] = [];
    breaker.events.on('success', ({ durationMs }) => durations.push(durationMs));

    const t0 = performance.now();
    // A starts in this turn and ends two turns later.
    const a = policy.execute(async () => {
      await nextTurn();
      await nextTurn();
      return 'a';
    });
    await nextTurn();
    spinUntil(t0, 4); // 4 ms pass before B starts, in a later turn
    const b = policy.execute(async () => {
      await nextTurn();
      return 'b';
    });
    expect(await Promise.all([a, b])).toEqual(['a', 'b']);
    const end = performance.now(); // no earlier than either call's end time
    // Both end in a later turn, A first (its hops were queued first).
    const [aDuration, bDuration] = durations as [number, number];
    expect(aDuration).toBeGreaterThanOrEqual(3);
    // B started no earlier than t0 + 4 ms, so it cannot have lasted longer than this; with the
    // start time of A's turn (t0 or a hair later) it would read about 4 ms more.
    expect(bDuration).toBeLessThanOrEqual(end - (t0 + 4) + 0.01);
    expect(breaker.metrics().latencyMs.count).toBe(2);
  });

  it('calls that start and end within one turn measure 0 ms', async () => {
    const breaker = circuitBreaker();
    const policy = wrap(breaker);
    for (let i = 0; i < 5; i++) await policy.execute(() => i);
    expect(breaker.metrics()).toMatchObject({ calls: 5, successes: 5, latencyMs: { count: 5, max: 0 } });
  });
});
