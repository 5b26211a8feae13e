// The recipes of docs/cookbook.md, each run once on a ManualClock with a scripted dependency and
// checked, so the pipelines in the guide are known to behave as it says.
// Run: npx tsx --tsconfig tsconfig.check.json examples/cookbook.ts
import assert from 'node:assert/strict';
import {
  BulkheadRejectedError,
  backoff,
  bulkhead,
  cache,
  circuitBreaker,
  fallback,
  handleErrors,
  hedge,
  pipeline,
  rateLimiter,
  retry,
  retryBudget,
  policyPool,
  timeout,
} from 'breakwater';
import { ManualClock } from 'breakwater/testing';

const clock = new ManualClock();
const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    const t = clock.setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clock.clearTimeout(t), reject(signal.reason as Error)), { once: true });
  });
async function run<T>(p: Promise<T>, ms = 60_000): Promise<T> {
  await clock.advance(ms);
  return p;
}

// 1. A flaky dependency: retry outside the breaker, a timeout per attempt.
{
  const budget = retryBudget({ clock });
  const flaky = pipeline(
    retry({ maxAttempts: 3, backoff: backoff.exponential({ initialMs: 100, maxMs: 2_000 }), budget, clock }),
    circuitBreaker({ window: { type: 'count', size: 20 }, minimumCalls: 10, openDurationMs: 5_000, clock }),
    timeout({ durationMs: 1_000, clock }),
  );
  let calls = 0;
  const value = await run(flaky.execute(() => (++calls < 3 ? Promise.reject(new Error('ECONNRESET')) : 'ok')));
  assert.equal(value, 'ok');
  assert.equal(calls, 3);
  flaky.dispose();
}

// 2. A slow dependency: a total deadline, a hedge after the usual latency, a timeout per attempt.
{
  const slow = pipeline(
    timeout({ durationMs: 2_000, clock }),
    hedge({ delayMs: 200, maxHedges: 1, clock }),
    timeout({ durationMs: 1_000, clock }),
  );
  const answer = slow.execute(async ({ attempt, signal }) => {
    await sleep(attempt === 1 ? 900 : 50, signal); // the first attempt hit the latency tail
    return `attempt ${attempt}`;
  });
  await clock.advance(250);
  assert.equal(await answer, 'attempt 2'); // at 250 ms instead of 900
  slow.dispose();
}

// 3. An overloaded dependency: shed load with a bulkhead, answer the refusals with a degraded value.
{
  const shed = pipeline(
    fallback(() => 'degraded', { handle: handleErrors(BulkheadRejectedError) }),
    bulkhead({ maxConcurrent: 2, maxQueue: 1, queueTimeoutMs: 100, clock }),
    timeout({ durationMs: 1_000, clock }),
  );
  const calls = Array.from({ length: 5 }, () => shed.execute(({ signal }) => sleep(50, signal).then(() => 'fresh')));
  await clock.advance(200);
  assert.deepEqual(await Promise.all(calls), ['fresh', 'fresh', 'fresh', 'degraded', 'degraded']);
  shed.dispose();
}

// 4. A rate-limited API: the limiter inside the retry, so each attempt takes a permit and a
// refusal's retryAfterMs tells the retry how long to wait.
{
  const quota = pipeline(
    retry({ maxAttempts: 3, backoff: backoff.constant(10), maxElapsedMs: 5_000, clock }),
    rateLimiter({ algorithm: 'tokenBucket', capacity: 2, refillPerSecond: 1, clock }),
    timeout({ durationMs: 1_000, clock }),
  );
  const started: number[] = [];
  const calls = [1, 2, 3].map(() => quota.execute(() => (started.push(clock.now()), 'ok')));
  await clock.advance(5_000);
  assert.deepEqual(await Promise.all(calls), ['ok', 'ok', 'ok']);
  assert.ok((started[2] ?? 0) >= 1_000, `the third call waited for a token (started at ${started[2]} ms)`);
  quota.dispose();
}

// 5. A fan-out: one shared bulkhead caps the calls in flight across the fan-out, each item has its
// own timeout and fallback, and a pool keeps one breaker per downstream host (the call's key).
{
  const shared = bulkhead({ maxConcurrent: 4, maxQueue: 100, clock });
  const perHost = policyPool((_host, name) => circuitBreaker({ name, window: { type: 'consecutive', failures: 2 }, openDurationMs: 10_000, clock }), { clock });
  const part = pipeline(fallback(() => null), perHost, timeout({ durationMs: 100, clock }), shared);
  const hosts = ['a', 'a', 'a', 'bad', 'bad', 'bad', 'b', 'b'];
  let badCalls = 0;
  const load = (host: string, i: number, signal: AbortSignal): Promise<string> =>
    host === 'bad' ? (badCalls++, Promise.reject(new Error('503'))) : sleep(10, signal).then(() => `${host}${i}`);
  const results = hosts.map((host, i) => part.execute(({ signal }) => load(host, i, signal), { key: host }));
  await clock.advance(1_000);
  assert.deepEqual(await Promise.all(results), ['a0', 'a1', 'a2', null, null, null, 'b6', 'b7']);
  assert.equal(badCalls, 3, 'all three started together, before the first failure was known');
  // Now the bad host's breaker is open: the next call is answered without calling it, and the
  // other hosts are unaffected.
  assert.equal(await part.execute(() => (badCalls++, 'called'), { key: 'bad' }), null);
  assert.equal(badCalls, 3);
  assert.equal(perHost.get('bad')?.state, 'open');
  assert.equal(await run(part.execute(() => 'still fine', { key: 'a' })), 'still fine');
  for (const p of [part, ...part.policies]) p.dispose();
}

// 6. A cache in front of a breaker: fresh entries are served while the breaker is open, and an
// expired one is served stale when the call fails.
{
  const cached = pipeline(
    cache({ ttlMs: 1_000, staleIfErrorMs: 60_000, clock }),
    circuitBreaker({ window: { type: 'consecutive', failures: 1 }, openDurationMs: 10_000, clock }),
    timeout({ durationMs: 100, clock }),
  );
  let up = true;
  const load = (): Promise<string> => (up ? Promise.resolve('profile v1') : Promise.reject(new Error('503')));
  assert.equal(await cached.execute(load, { key: 'profile:1' }), 'profile v1');
  up = false;
  await clock.advance(2_000); // the entry has expired
  assert.equal(await cached.execute(load, { key: 'profile:1' }), 'profile v1'); // stale on failure; the breaker opened
  assert.equal(await cached.execute(load, { key: 'profile:1' }), 'profile v1'); // stale on the open breaker's refusal
  for (const p of [cached, ...cached.policies]) p.dispose();
}

assert.equal(clock.pendingTimers, 0, 'no timer left behind');
console.log('cookbook recipes: all checks passed');
