// Retry: a flaky call, a retry budget shared by many callers, Retry-After hints and the caller's
// abort. Run: npx tsx --tsconfig tsconfig.check.json examples/retry.ts
import { backoff, pipeline, RateLimitedError, retry, retryBudget, timeout } from 'breakwater';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// 1. A call that fails twice, then answers. Each attempt gets its own 200 ms time limit.
let calls = 0;
async function flakyLookup(signal: AbortSignal): Promise<string> {
  calls++;
  await sleep(5);
  signal.throwIfAborted();
  if (calls < 3) throw new Error(`transient failure #${calls}`);
  return 'user #1';
}
const lookup = pipeline(
  retry({ maxAttempts: 4, backoff: backoff.exponential({ initialMs: 20, maxMs: 200, jitter: 'full' }) }),
  timeout(200),
);
const [r] = lookup.policies as [ReturnType<typeof retry>];
r.events.on('retry', ({ attempt, delayMs, error }) =>
  console.log(`  attempt ${attempt} failed (${(error as Error).message}); retrying in ${delayMs.toFixed(0)} ms`),
);
r.events.on('success', ({ attempts }) => console.log(`  succeeded after ${attempts} attempts`));
console.log('1. flaky call:');
console.log('  ->', await lookup.execute(({ signal }) => flakyLookup(signal)));

// 2. A dependency that is down, and 50 callers sharing one budget: retries stay near 10% of
//    first attempts (plus a small reserve) instead of multiplying the load by maxAttempts.
console.log('2. fifty callers against a dead dependency, with and without a shared budget:');
for (const withBudget of [false, true]) {
  const budget = retryBudget({ ratio: 0.1, minPerSecond: 5, windowMs: 1000 });
  let firsts = 0;
  let attempts = 0;
  const dead = async ({ attempt }: { attempt: number }): Promise<never> => {
    attempts++;
    if (attempt === 1) firsts++;
    await sleep(1);
    throw new Error('503');
  };
  await Promise.all(
    Array.from({ length: 50 }, async () => {
      const policy = retry({ maxAttempts: 5, backoff: backoff.constant(5), ...(withBudget ? { budget } : {}) });
      for (let i = 0; i < 10; i++) await policy.execute(dead).catch(() => undefined);
    }),
  );
  console.log(`  ${withBudget ? 'with budget   ' : 'without budget'}: ${attempts} attempts for ${firsts} calls (x${(attempts / firsts).toFixed(2)})`);
}

// 3. A Retry-After hint: a rate limiter's error makes the next delay at least retryAfterMs.
console.log('3. Retry-After hint:');
const hinted = retry({ maxAttempts: 2, backoff: backoff.constant(1) });
hinted.events.on('retry', ({ delayMs }) => console.log(`  waiting ${delayMs} ms as the rate limiter asked`));
let limited = true;
console.log(
  '  ->',
  await hinted.execute(() => {
    if (limited) {
      limited = false;
      throw new RateLimitedError(50);
    }
    return 'admitted';
  }),
);

// 4. The caller gives up during the backoff sleep: the call rejects at once, no attempt follows.
console.log('4. abort during the backoff sleep:');
const patient = retry({ maxAttempts: 10, backoff: backoff.constant(10_000) });
const controller = new AbortController();
let attemptsMade = 0;
setTimeout(() => controller.abort(new Error('user navigated away')), 30);
const t0 = Date.now();
await patient
  .execute(
    () => {
      attemptsMade++;
      throw new Error('down');
    },
    { signal: controller.signal },
  )
  .catch((e: Error) => console.log(`  rejected after ${Date.now() - t0} ms with "${e.message}"; attempts made: ${attemptsMade}`));
