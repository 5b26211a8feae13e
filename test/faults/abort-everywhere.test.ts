// A caller's abort at every millisecond of a full pipeline's call (queued behind a bulkhead,
// delayed by chaos, in an attempt, in the backoff sleep, in a hedge): the call rejects at once
// with the abort reason (or had already settled with its own outcome), no attempt starts after
// it, the breaker never counts it, and no timer is left behind.
import { describe, it, expect } from 'vitest';
import {
  backoff,
  bulkhead,
  chaos,
  circuitBreaker,
  hedge,
  pipeline,
  rateLimiter,
  retry,
  timeout,
  type AttemptContext,
} from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';

function build(clock: ManualClock) {
  const breaker = circuitBreaker({ window: { type: 'consecutive', failures: 100 }, clock });
  const gate = bulkhead({ maxConcurrent: 1, maxQueue: 5, queueTimeoutMs: 500, clock });
  const p = pipeline(
    retry({ maxAttempts: 3, backoff: backoff.constant(20), clock }),
    breaker,
    timeout({ durationMs: 200, clock }),
    hedge({ delayMs: 15, clock }),
    rateLimiter({ algorithm: 'tokenBucket', capacity: 2, refillPerSecond: 100, maxWaitMs: 100, clock }),
    chaos({ latencyRate: 1, latencyMs: 5, clock }),
    gate,
  );
  return { p, breaker, gate, members: p.policies };
}

/** Work that honours its signal: fails the first two attempts after 30 ms, then succeeds after 10. */
function work(clock: ManualClock, started: { n: number; at: number[] }) {
  return ({ signal, attempt }: AttemptContext): Promise<string> => {
    started.n++;
    started.at.push(clock.now());
    return new Promise((resolve, reject) => {
      const t = clock.setTimeout(() => (started.n <= 2 ? reject(new Error(`attempt ${attempt} failed`)) : resolve('done')), started.n <= 2 ? 30 : 10);
      signal.addEventListener('abort', () => {
        clock.clearTimeout(t);
        reject(signal.reason);
      });
    });
  };
}

describe('abort at every point of a full pipeline', () => {
  it('settles at once with the reason, starts nothing after, counts nothing, leaves no timer', async () => {
    // Without an abort, for reference: when the call settles.
    const ref = new ManualClock();
    const r = build(ref);
    const refStarted = { n: 0, at: [] as number[] };
    let refEnd = -1;
    void r.p.execute(work(ref, refStarted)).then(() => (refEnd = ref.now()));
    for (let i = 0; i < 400 && refEnd < 0; i++) await ref.advance(1);
    // Queue, chaos latency, two failed attempts with backoff and hedges, then the success.
    expect(refEnd).toBeGreaterThan(60);

    for (let t = 0; t <= refEnd + 1; t++) {
      const clock = new ManualClock();
      const { p, breaker, gate, members } = build(clock);
      // A blocker holds the bulkhead for the first 12 ms, so the call starts in its queue.
      const blocker = gate.execute(() => new Promise((res) => clock.setTimeout(() => res('blocker'), 12)));
      const started = { n: 0, at: [] as number[] };
      const controller = new AbortController();
      let outcome: { ok: boolean; value: unknown; at: number } | undefined;
      p.execute(work(clock, started), { signal: controller.signal }).then(
        (value) => (outcome = { ok: true, value, at: clock.now() }),
        (value: unknown) => (outcome = { ok: false, value, at: clock.now() }),
      );
      await clock.advance(t);
      const reason = new Error(`aborted at ${t}`);
      const settledBefore = outcome !== undefined;
      controller.abort(reason);
      await clock.advance(0);
      expect(outcome, `abort at ${t}`).toBeDefined();
      if (!settledBefore) expect(outcome, `abort at ${t}`).toEqual({ ok: false, value: reason, at: t });
      else expect(outcome?.value, `settled before ${t}`).toBe('done');
      const attempts = started.n;
      await clock.advance(2000);
      await blocker;
      expect(started.n, `no attempt after the abort at ${t}`).toBe(attempts);
      expect(breaker.metrics().failures + breaker.metrics().successes).toBeLessThanOrEqual(3);
      expect(breaker.state).toBe('closed');
      expect(gate.executing + gate.queued).toBe(0);
      expect(clock.pendingTimers, `timers left after the abort at ${t}`).toBe(0);
      for (const m of members) m.dispose();
    }
  });
});
