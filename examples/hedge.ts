// Hedging: a replica read with a slow tail. When the first attempt has not answered after 50 ms,
// a second starts; the first answer wins and the loser's signal aborts.
// Run: npx tsx --tsconfig tsconfig.check.json examples/hedge.ts
import { hedge, retryBudget } from 'breakwater';

/** A replica whose first answer is slow (300 ms) and whose later answers are fast (20 ms). */
function replicaRead(attempt: number, signal: AbortSignal): Promise<string> {
  const latency = attempt === 1 ? 300 : 20;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve(`answer from attempt ${attempt} (${latency} ms)`), latency);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      console.log(`  attempt ${attempt} cancelled: ${(signal.reason as Error).message}`);
      reject(signal.reason as Error);
    });
  });
}

const read = hedge({ delayMs: 50, maxHedges: 2, budget: retryBudget({ ratio: 0.1 }) });
read.events.on('hedge', ({ attempt }) => console.log(`  attempt 1 is slow: starting attempt ${attempt}`));

const t0 = Date.now();
const answer = await read.execute(({ attempt, signal }) => replicaRead(attempt, signal));
console.log(`  -> ${answer}, after ${Date.now() - t0} ms instead of 300`);

// A failure starts the next attempt at once, without waiting for the delay.
let failed = false;
const t1 = Date.now();
const second = await hedge({ delayMs: 1000 }).execute(({ attempt }) => {
  if (!failed) {
    failed = true;
    return Promise.reject(new Error('connection reset'));
  }
  return `attempt ${attempt} answered`;
});
console.log(`  -> ${second} after ${Date.now() - t1} ms (a failure does not wait for delayMs)`);
console.log('metrics:', JSON.stringify({ calls: read.metrics().calls, hedges: read.metrics().retries }));
