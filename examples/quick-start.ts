// The 30-second tour: a flaky, sometimes slow function behind a fallback and a timeout.
// Run: npx tsx --tsconfig tsconfig.check.json examples/quick-start.ts
import { pipeline, fallback, timeout, isBreakwaterError } from 'breakwater';

let calls = 0;
/** Answers fast, fails, or hangs, in turn. */
async function flakyPrice(signal: AbortSignal): Promise<number> {
  calls++;
  if (calls % 3 === 2) throw new Error('503 from upstream');
  if (calls % 3 === 0) {
    // A slow upstream: 10 s, unless the signal aborts first (as the timeout will).
    await new Promise((resolve, reject) => {
      const slow = setTimeout(resolve, 10_000);
      signal.addEventListener('abort', () => {
        clearTimeout(slow);
        reject(signal.reason);
      });
    });
  }
  return 42;
}

const limit = timeout({ durationMs: 50, name: 'price-timeout' });
limit.events.on('timeout', ({ timeoutMs }) => console.log(`  (timed out after ${timeoutMs} ms)`));

const price = pipeline(
  fallback(({ error }) => {
    console.log(`  (fallback for: ${isBreakwaterError(error) ? error.code : String(error)})`);
    return -1;
  }),
  limit,
);

for (let i = 1; i <= 3; i++) {
  const value = await price.execute(({ signal }) => flakyPrice(signal));
  console.log(`call ${i}: ${value}`);
}
const m = price.metrics();
console.log(`pipeline: ${m.calls} calls, ${m.successes} successes, p99 ${m.latencyMs.p99.toFixed(1)} ms`);
