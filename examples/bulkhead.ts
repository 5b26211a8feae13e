// Bulkhead: at most 2 calls run at once, 2 more wait (for up to 150 ms); the rest are refused at
// once. A waiter whose caller aborts leaves the queue, and its place is free at once. A permit is
// held until the work really settles, even when an outer timeout has walked away from it.
// Run: npx tsx --tsconfig tsconfig.check.json examples/bulkhead.ts
import { bulkhead, isBreakwaterError, pipeline, timeout } from 'breakwater';

const t0 = Date.now();
const at = (): string => `${String(Date.now() - t0).padStart(4)} ms`;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const pool = bulkhead({ maxConcurrent: 2, maxQueue: 2, queueTimeoutMs: 150 });
pool.events.on('rejected', ({ executing, queued }) => console.log(`${at()}  rejected (${executing} running, ${queued} waiting)`));

/** A query that takes `ms`. */
async function query(id: string, ms: number): Promise<string> {
  console.log(`${at()}  ${id} starts  (${pool.executing} running, ${pool.queued} waiting)`);
  await sleep(ms);
  return id;
}

const report = (id: string, p: Promise<string>): Promise<void> =>
  p.then(
    () => console.log(`${at()}  ${id} done`),
    (e: unknown) => console.log(`${at()}  ${id} ${isBreakwaterError(e) ? e.code : (e as Error).message}`),
  );

console.log('-- 6 calls of 100 ms against maxConcurrent 2, maxQueue 2');
const aborter = new AbortController();
const calls = [
  report('a', pool.execute(() => query('a', 100))),
  report('b', pool.execute(() => query('b', 100))),
  report('c', pool.execute(() => query('c', 100), { signal: aborter.signal })), // waits
  report('d', pool.execute(() => query('d', 100))), // waits
  report('e', pool.execute(() => query('e', 100))), // refused: queue full
];
aborter.abort(new Error('aborted by its caller')); // c leaves the queue at once ...
calls.push(report('f', pool.execute(() => query('f', 100)))); // ... so f gets its place
await Promise.all(calls);

console.log('-- a 50 ms timeout outside the bulkhead gives up on a 200 ms call');
const guarded = pipeline(timeout(50), pool);
await report('slow', guarded.execute(() => query('slow', 200)));
console.log(`${at()}  still ${pool.executing} running: the abandoned work keeps its permit`);
await sleep(200);
console.log(`${at()}  ${pool.executing} running once it has settled`);
console.log('metrics:', JSON.stringify((({ calls, successes, failures, rejections }) => ({ calls, successes, failures, rejections }))(pool.metrics())));
