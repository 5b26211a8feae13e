// A million calls through a pipeline on ManualClock: every call settles exactly once, with the
// outcome its function chose or a rejection the pipeline explains, and no timer is left behind.
// (The full pipeline, with a bulkhead, a timeout and hanging calls, runs 100,000 of them: on a
// ManualClock those two cost ~10 µs a call here, which would make a million take half a minute.)
import { describe, it, expect } from "vitest";
import {
  backoff,
  bulkhead,
  circuitBreaker,
  fallback,
  pipeline,
  retry,
  timeout,
  isBreakwaterError,
  type Policy,
} from "../../src/index.js";
import { ManualClock } from "../../src/testing/index.js";

const BATCH = 10_000;

type Tally = {
  value: number;
  fallback: number;
  error: number;
  timeout: number;
  open: number;
  other: number;
  once: number;
};

async function run(
  p: Policy,
  clock: ManualClock,
  calls: number,
  kinds: number,
): Promise<Tally> {
  const settled = new Uint8Array(calls);
  const tally: Tally = {
    value: 0,
    fallback: 0,
    error: 0,
    timeout: 0,
    open: 0,
    other: 0,
    once: 0,
  };
  for (let base = 0; base < calls; base += BATCH) {
    const batch: Array<Promise<void>> = [];
    for (let i = base; i < base + BATCH; i++) {
      const kind = i % kinds;
      const call = p.execute((ctx) => {
        switch (kind) {
          case 0:
            return i;
          case 1:
            return Promise.resolve(i);
          case 2:
            throw new Error("soft"); // the fallback answers
          case 3:
            return Promise.reject(new Error("hard"));
          case 4:
            // Now and then a transient failure that the retry repeats after its backoff.
            return i % 400 === 4 && ctx.attempt === 1
              ? Promise.reject(new Error("flaky"))
              : Promise.resolve().then(() => i);
          default:
            return new Promise<number>(() => {}); // hangs: only a timeout ends it
        }
      });
      batch.push(
        call.then(
          (v) => {
            settled[i] = (settled[i] ?? 0) + 1;
            if (v === "fallback") tally.fallback++;
            else if (v === i) tally.value++;
            else tally.other++;
          },
          (e: unknown) => {
            settled[i] = (settled[i] ?? 0) + 1;
            if (isBreakwaterError(e, "ETIMEDOUT")) tally.timeout++;
            else if (isBreakwaterError(e, "ECIRCUITOPEN")) tally.open++;
            else if (e instanceof Error && e.message === "hard") tally.error++;
            else tally.other++;
          },
        ),
      );
    }
    await clock.advance(10);
    await Promise.all(batch);
  }
  for (let i = 0; i < calls; i++) if (settled[i] === 1) tally.once++;
  return tally;
}

function members(clock: ManualClock): Policy[] {
  return [
    fallback("fallback", {
      handle: (e) => e instanceof Error && e.message === "soft",
      metrics: false,
    }),
    retry({
      maxAttempts: 2,
      backoff: backoff.constant(1),
      handle: (e) => e instanceof Error && e.message === "flaky",
      clock,
      metrics: false,
    }),
    circuitBreaker({
      window: { type: "count", size: BATCH },
      minimumCalls: 100,
      failureRateThreshold: 0.9,
      clock,
      metrics: false,
    }),
  ];
}

describe("many calls, each settled exactly once", () => {
  it("1,000,000 calls through fallback, retry and circuit breaker", async () => {
    const clock = new ManualClock();
    const p = pipeline(...members(clock), { metrics: false });
    const t = await run(p, clock, 1_000_000, 5);
    expect(t.once).toBe(1_000_000);
    expect(t.other).toBe(0);
    expect(t.value + t.fallback + t.error).toBe(1_000_000);
    expect(t.fallback).toBe(200_000);
    expect(t.error).toBe(200_000);
    expect(clock.pendingTimers).toBe(0);
  }, 300_000);

  it("100,000 calls through the full pipeline with a timeout, hanging calls included", async () => {
    const clock = new ManualClock();
    // The bulkhead outside the timeout: a hung call holds no permit once the timeout ends it.
    const p = pipeline(
      ...members(clock),
      bulkhead({ maxConcurrent: BATCH, clock, metrics: false }),
      timeout({ durationMs: 5, clock, metrics: false }),
      { metrics: false },
    );
    const t = await run(p, clock, 100_000, 6);
    expect(t.once).toBe(100_000);
    expect(t.other).toBe(0);
    expect(t.value + t.fallback + t.error + t.timeout).toBe(100_000);
    expect(t.timeout).toBeGreaterThan(0);
    expect(clock.pendingTimers).toBe(0);
  }, 120_000);
});
