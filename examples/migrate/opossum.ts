// Migrating from opossum: the same client written both ways, run side by side on the same
// functions. Each `check` is a difference that docs/migrate-from-opossum.md describes; the
// program fails if one of them does not hold. Real time, short durations: about a second.
// Run: npx tsx --tsconfig tsconfig.check.json examples/migrate/opossum.ts
import CircuitBreaker from 'opossum';
import { bulkhead, circuitBreaker, fallback, isBreakwaterError, pipeline, timeout } from 'breakwater';

const keepAlive = setInterval(() => {}, 1000); // breakwater's timers never hold the process open
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
function check(what: string, ok: boolean): void {
  console.log(`${ok ? 'ok  ' : 'FAIL'}  ${what}`);
  if (!ok) process.exitCode = 1;
}
const settle = <T>(p: Promise<T>): Promise<unknown> => p.then((v) => v, (e: unknown) => e);

class HttpError extends Error {
  constructor(readonly status: number) {
    super(`HTTP ${status}`);
  }
}
// The dependency: answers by a script of outcomes.
let script: ('ok' | 'fail' | '404')[] = [];
async function getStock(sku: string): Promise<string> {
  await sleep(1);
  const next = script.shift() ?? 'ok';
  if (next === 'fail') throw new HttpError(503);
  if (next === '404') throw new HttpError(404);
  return `${sku}: 7 in stock`;
}

// --- 1. The port --------------------------------------------------------------------------------
// opossum
const legacy = new CircuitBreaker(getStock, {
  name: 'inventory',
  timeout: 50, // per call, ms (opossum's default: 10 s)
  errorThresholdPercentage: 50, // percent
  volumeThreshold: 4,
  resetTimeout: 100,
  rollingCountTimeout: 1000,
  rollingCountBuckets: 10,
  capacity: 5,
  errorFilter: (e: HttpError) => e.status === 404, // true: not a failure
});
legacy.fallback(() => 'stock unknown');
const legacyEvents: string[] = [];
legacy.on('open', () => legacyEvents.push('open'));
legacy.on('halfOpen', () => legacyEvents.push('halfOpen'));
legacy.on('close', () => legacyEvents.push('close'));
legacy.on('fallback', () => legacyEvents.push('fallback'));
legacy.on('reject', () => legacyEvents.push('reject'));

// breakwater: each opossum feature is a policy of its own, outermost first
const notFound = (e: unknown): boolean => e instanceof HttpError && e.status === 404;
const breaker = circuitBreaker({
  name: 'inventory',
  window: { type: 'time', durationMs: 1000, buckets: 10 }, // rollingCountTimeout, rollingCountBuckets
  failureRateThreshold: 0.5, // a fraction, not a percentage
  minimumCalls: 4, // volumeThreshold
  openDurationMs: 100, // resetTimeout
  handle: (e) => !notFound(e), // errorFilter, inverted: true means "counts as a failure"
});
const answer = fallback(() => 'stock unknown', { handle: (e) => !notFound(e) }); // .fallback(...)
const inventory = pipeline(
  answer,
  breaker,
  timeout(50), // timeout
  bulkhead({ maxConcurrent: 5 }), // capacity
);
const getStockSafely = inventory.wrap(getStock); // breaker.fire(sku) -> getStockSafely(sku)
const newEvents: string[] = [];
breaker.events.on('stateChange', ({ to }) => newEvents.push(to));
answer.events.on('fallback', () => newEvents.push('fallback'));
// What the breaker counted for its health: success and failure events.
const health = { success: 0, failure: 0 };
breaker.events.on('success', () => health.success++);
breaker.events.on('failure', () => health.failure++);

// --- 2. Thresholds: breakwater opens at >=, opossum above ---------------------------------------
for (const outcome of ['ok', 'ok', 'fail', 'fail'] as const) {
  script = [outcome];
  await legacy.fire('sku-1');
  script = [outcome];
  await getStockSafely('sku-1');
}
check(`2 failures in 4 calls at 50 %: opossum is ${legacy.opened ? 'open' : 'closed'}, breakwater is ${breaker.state}`, !legacy.opened && breaker.state === 'open');
script = ['fail'];
await legacy.fire('sku-1'); // 3 of 5: above 50 %, opossum opens too
check('one more failure opens opossum (3 of 5)', legacy.opened);

// --- 3. Open: both fail fast into the fallback; both half-open by timer ------------------------
const answers = [await legacy.fire('sku-2'), await getStockSafely('sku-2')];
check(`open: both answer from the fallback without calling (${answers.join(' / ')})`, answers.every((a) => a === 'stock unknown'));
await sleep(180); // no calls meanwhile
check(`after resetTimeout / openDurationMs with no calls: opossum ${legacy.halfOpen ? 'halfOpen' : 'not halfOpen'}, breakwater ${breaker.state}`, legacy.halfOpen && breaker.state === 'halfOpen');
await legacy.fire('sku-3');
await getStockSafely('sku-3');
check('a successful trial closes both', legacy.closed && breaker.state === 'closed');
console.log(`      opossum events:    ${legacyEvents.join(', ')}`);
console.log(`      breakwater events: ${newEvents.join(', ')}`);

// --- 4. errorFilter / handle: a 404 is the caller's error, not the dependency's ----------------
script = ['404'];
const e404a = await settle(legacy.fire('missing'));
script = ['404'];
const before404 = { ...health };
const e404b = await settle(getStockSafely('missing'));
check(`a 404 reaches the caller from both, no fallback; breakwater's breaker counted it as a ${health.success > before404.success ? 'success' : 'failure'}`,
  e404a instanceof HttpError && e404b instanceof HttpError && health.success === before404.success + 1 && health.failure === before404.failure);

// --- 5. capacity vs bulkhead: breakwater keeps the permit of work a timeout gave up on ---------
{
  let release: () => void = () => {};
  const hang = (): Promise<string> => new Promise((resolve) => (release = () => resolve('late')));
  const small = new CircuitBreaker((f: () => Promise<string>) => f(), { timeout: 30, capacity: 1, volumeThreshold: 10 });
  const smallNew = pipeline(timeout(30), bulkhead({ maxConcurrent: 1 }));
  await settle(small.fire(hang));
  const releaseOld = release;
  await settle(smallNew.execute(hang)); // both time out; the work goes on
  const o = await settle(small.fire(() => Promise.resolve('next')));
  const n = await settle(smallNew.execute(() => 'next'));
  check(`while timed-out work still runs: opossum answers ${String(o)}, breakwater rejects with ${isBreakwaterError(n) ? n.code : String(n)}`, o === 'next' && isBreakwaterError(n, 'EBULKHEADFULL'));
  releaseOld();
  release();
  await sleep(1);
  check('once the work settles breakwater admits again', (await smallNew.execute(() => 'next')) === 'next');
  small.shutdown();
  smallNew.dispose();
}

// --- 6. Per-call cancellation: the caller's abort counts as neither ----------------------------
{
  const c = new AbortController();
  const call = settle(inventory.execute(({ signal }) => new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error))), { signal: c.signal }));
  const counted = { ...health };
  c.abort(new Error('user left'));
  const e = await call;
  check(`an aborted call rejects with the caller's reason (${(e as Error).message}), no fallback, and the breaker counts it as neither`,
    (e as Error).message === 'user left' && health.success === counted.success && health.failure === counted.failure);
}

legacy.shutdown();
inventory.dispose();
breaker.dispose();
clearInterval(keepAlive);
