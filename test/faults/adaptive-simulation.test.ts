// Forty workers against a dependency that serves 20 calls at once (10 ms each; a call beyond 20
// in flight fails at once): after warm-up each algorithm's limit must average within 0.5–1.5×
// the capacity and never exceed 2.5× it. Deterministic: ManualClock, seeded randomness.
import { describe, it, expect } from 'vitest';
import { adaptiveLimit, type AdaptiveAlgorithm } from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';

const CAPACITY = 20;
const WORKERS = 40;
const SERVICE_MS = 10;

async function simulate(algorithm: AdaptiveAlgorithm, seconds: number, warmupSeconds: number): Promise<{ mean: number; max: number; served: number }> {
  const clock = new ManualClock();
  let seed = 42;
  const random = (): number => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
  const policy = adaptiveLimit({ algorithm, minLimit: 1, maxLimit: 200, initialLimit: 5, maxQueue: WORKERS, window: { minMs: 100, maxMs: 100 }, random, clock });
  let atDependency = 0;
  let served = 0;
  const dependency = (): Promise<void> => {
    atDependency++;
    const overloaded = atDependency > CAPACITY;
    return new Promise<void>((resolve, reject) => {
      if (overloaded) {
        atDependency--;
        reject(new Error('overloaded'));
        return;
      }
      clock.setTimeout(() => {
        atDependency--;
        served++;
        resolve();
      }, SERVICE_MS);
    });
  };
  let running = true;
  const pause = (): Promise<void> => new Promise((resolve) => clock.setTimeout(resolve, 1));
  const worker = async (): Promise<void> => {
    while (running) {
      try {
        await policy.execute(dependency);
      } catch {
        await pause();
      }
    }
  };
  const workers = Array.from({ length: WORKERS }, worker);
  let sum = 0;
  let samples = 0;
  let max = 0;
  for (let t = 0; t < seconds * 1000; t += SERVICE_MS) {
    await clock.advance(SERVICE_MS);
    if (t >= warmupSeconds * 1000) {
      sum += policy.limit;
      samples++;
      if (policy.limit > max) max = policy.limit;
    }
  }
  running = false;
  await clock.advance(1000);
  await Promise.all(workers);
  policy.dispose();
  return { mean: sum / samples, max, served };
}

describe('adaptive limits find the capacity', () => {
  for (const algorithm of ['aimd', 'gradient2', 'vegas'] as const) {
    it(`${algorithm}: average within 0.5–1.5× capacity after warm-up, never above 2.5×`, { timeout: 120_000 }, async () => {
      const r = await simulate(algorithm, 12, 4);
      expect(r.mean, `mean limit ${r.mean}`).toBeGreaterThanOrEqual(0.5 * CAPACITY);
      expect(r.mean, `mean limit ${r.mean}`).toBeLessThanOrEqual(1.5 * CAPACITY);
      expect(r.max, `max limit ${r.max}`).toBeLessThanOrEqual(2.5 * CAPACITY);
      // The dependency was kept busy: at least half its capacity served on average.
      expect(r.served).toBeGreaterThan((0.5 * CAPACITY * 12_000) / SERVICE_MS);
    });
  }
});
