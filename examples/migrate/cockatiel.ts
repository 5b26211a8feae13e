// Migrating from cockatiel: the same client written both ways, run side by side on the same
// functions. Each `check` is a difference that docs/migrate-from-cockatiel.md describes; the
// program fails if one of them does not hold. Real time, short durations: about a second.
// Run: npx tsx --tsconfig tsconfig.check.json examples/migrate/cockatiel.ts
import * as cockatiel from 'cockatiel';
import { backoff, bulkhead, circuitBreaker, fallback, isBreakwaterError, pipeline, retry, timeout } from 'breakwater';

const keepAlive = setInterval(() => {}, 1000); // breakwater's timers never hold the process open
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
function check(what: string, ok: boolean): void {
  console.log(`${ok ? 'ok  ' : 'FAIL'}  ${what}`);
  if (!ok) process.exitCode = 1;
}
const fail = (): Promise<never> => Promise.reject(new Error('503'));
const settle = <T>(p: Promise<T>): Promise<unknown> => p.then((v) => v, (e: unknown) => e);

// --- 1. The port: a client with fallback, retry, breaker, timeout -------------------------------
{
  // cockatiel
  const before = cockatiel.wrap(
    cockatiel.fallback(cockatiel.handleAll, () => 'cached'),
    cockatiel.retry(cockatiel.handleAll, { maxAttempts: 2, backoff: new cockatiel.ExponentialBackoff({ initialDelay: 10, maxDelay: 100 }) }),
    cockatiel.circuitBreaker(cockatiel.handleAll, { halfOpenAfter: 100, breaker: new cockatiel.ConsecutiveBreaker(5) }),
    cockatiel.timeout(50, cockatiel.TimeoutStrategy.Aggressive),
  );
  // breakwater: same order, outermost first; maxAttempts counts the first attempt
  const after = pipeline(
    fallback(() => 'cached'),
    retry({ maxAttempts: 3, backoff: backoff.exponential({ initialMs: 10, maxMs: 100 }) }),
    circuitBreaker({ window: { type: 'consecutive', failures: 5 }, openDurationMs: 100 }),
    timeout({ durationMs: 50, strategy: 'aggressive' }),
  );
  const a = await before.execute(() => fail());
  const b = await after.execute(() => fail());
  check(`the port answers the same: cockatiel ${String(a)}, breakwater ${String(b)}`, a === 'cached' && b === 'cached');
  after.dispose();
}

// --- 2. maxAttempts: cockatiel counts retries, breakwater counts every attempt ------------------
{
  const seenBefore: number[] = [];
  const seenAfter: number[] = [];
  const before = cockatiel.retry(cockatiel.handleAll, { maxAttempts: 2, backoff: new cockatiel.ConstantBackoff(1) });
  const after = retry({ maxAttempts: 3, backoff: backoff.constant(1) });
  await settle(before.execute(({ attempt }) => (seenBefore.push(attempt), fail())));
  await settle(after.execute(({ attempt }) => (seenAfter.push(attempt), fail())));
  check(`cockatiel maxAttempts: 2 ran ${seenBefore.length} calls (attempt ${seenBefore.join(', ')}); breakwater maxAttempts: 3 ran ${seenAfter.length} (attempt ${seenAfter.join(', ')})`,
    seenBefore.length === 3 && seenAfter.length === 3 && seenAfter.join() === '1,2,3');
  after.dispose();
}

// --- 3. Half-open by timer: breakwater moves (and says so) without waiting for a call -----------
{
  const before = cockatiel.circuitBreaker(cockatiel.handleAll, { halfOpenAfter: 100, breaker: new cockatiel.ConsecutiveBreaker(2) });
  const after = circuitBreaker({ window: { type: 'consecutive', failures: 2 }, openDurationMs: 100 });
  const changes: string[] = [];
  after.events.on('stateChange', ({ to }) => changes.push(to));
  for (let i = 0; i < 2; i++) {
    await settle(before.execute(() => fail()));
    await settle(after.execute(() => fail()));
  }
  await sleep(180); // no calls meanwhile
  check(`after halfOpenAfter with no calls: cockatiel is ${cockatiel.CircuitState[before.state]}, breakwater is ${after.state} (events: ${changes.join(' -> ')})`,
    before.state === cockatiel.CircuitState.Open && after.state === 'halfOpen' && changes.join() === 'open,halfOpen');
  after.dispose();
}

// --- 4. Thresholds: breakwater opens at >=, cockatiel above --------------------------------------
{
  const before = cockatiel.circuitBreaker(cockatiel.handleAll, { halfOpenAfter: 1000, breaker: new cockatiel.CountBreaker({ threshold: 0.5, size: 4 }) });
  const after = circuitBreaker({ window: { type: 'count', size: 4 }, minimumCalls: 4, failureRateThreshold: 0.5, openDurationMs: 1000 });
  for (const outcome of ['ok', 'ok', 'fail', 'fail']) {
    const fn = (): Promise<string> => (outcome === 'ok' ? Promise.resolve('ok') : fail());
    await settle(before.execute(fn));
    await settle(after.execute(fn));
  }
  check(`2 failures in 4 calls at threshold 0.5: cockatiel ${cockatiel.CircuitState[before.state]}, breakwater ${after.state}`,
    before.state === cockatiel.CircuitState.Closed && after.state === 'open');
  after.dispose();
}

// --- 5. The caller's abort counts as neither success nor failure --------------------------------
{
  const before = cockatiel.circuitBreaker(cockatiel.handleAll, { halfOpenAfter: 1000, breaker: new cockatiel.ConsecutiveBreaker(1) });
  const after = circuitBreaker({ window: { type: 'consecutive', failures: 1 }, openDurationMs: 1000 });
  const hang = ({ signal }: { signal: AbortSignal }): Promise<never> =>
    new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true }));
  const c1 = new AbortController();
  const c2 = new AbortController();
  const p1 = settle(before.execute(hang, c1.signal));
  const p2 = settle(after.execute(hang, { signal: c2.signal }));
  c1.abort(new Error('user left'));
  c2.abort(new Error('user left'));
  await Promise.all([p1, p2]);
  check(`a call its caller aborted: cockatiel is ${cockatiel.CircuitState[before.state]}, breakwater is ${after.state}`,
    before.state === cockatiel.CircuitState.Open && after.state === 'closed');
  after.dispose();
}

// --- 6. An abort during the backoff sleep ends the call at once --------------------------------
{
  const before = cockatiel.retry(cockatiel.handleAll, { maxAttempts: 3, backoff: new cockatiel.ConstantBackoff(300) });
  const after = retry({ maxAttempts: 3, backoff: backoff.constant(300) });
  const time = async (run: (signal: AbortSignal) => Promise<unknown>): Promise<number> => {
    const c = new AbortController();
    const started = Date.now();
    const p = settle(run(c.signal));
    await sleep(20); // the first attempt has failed; the retry sleeps
    c.abort(new Error('user left'));
    await p;
    return Date.now() - started;
  };
  const msBefore = await time((signal) => before.execute(() => fail(), signal));
  const msAfter = await time((signal) => after.execute(() => fail(), { signal }));
  check(`aborted 20 ms into a 300 ms backoff: cockatiel settled after ${msBefore} ms, breakwater after ${msAfter} ms`, msAfter < 150 && msBefore >= 250);
  after.dispose();
}

// --- 7. Timeouts and rejections: error types ----------------------------------------------------
{
  const before = cockatiel.timeout(30, cockatiel.TimeoutStrategy.Aggressive);
  const after = timeout({ durationMs: 30 });
  const never = (): Promise<never> => new Promise(() => {});
  const e1 = await settle(before.execute(never));
  const e2 = await settle(after.execute(never));
  check(`a timeout: cockatiel throws ${(e1 as Error).constructor.name}, breakwater ${(e2 as Error).name} (code ETIMEDOUT)`,
    e1 instanceof cockatiel.TaskCancelledError && isBreakwaterError(e2, 'ETIMEDOUT'));
}

// --- 8. Permits of abandoned work: both bulkheads hold them until the work settles -------------
{
  const before = cockatiel.wrap(cockatiel.timeout(30, cockatiel.TimeoutStrategy.Aggressive), cockatiel.bulkhead(1));
  const after = pipeline(timeout({ durationMs: 30 }), bulkhead({ maxConcurrent: 1 }));
  const slow = (): Promise<string> => sleep(150).then(() => 'late');
  await Promise.all([settle(before.execute(slow)), settle(after.execute(slow))]); // both time out at 30 ms
  const e1 = await settle(before.execute(() => 'next'));
  const e2 = await settle(after.execute(() => 'next'));
  check(`while timed-out work still runs: cockatiel says ${(e1 as Error).constructor.name}, breakwater says ${(e2 as Error).name}`,
    e1 instanceof cockatiel.BulkheadRejectedError && isBreakwaterError(e2, 'EBULKHEADFULL'));
  await sleep(150);
  check('once it settles both admit again', (await before.execute(() => 'next')) === 'next' && (await after.execute(() => 'next')) === 'next');
  after.dispose();
}

// --- 9. Failure classification: handleType / handleWhen become handle predicates ---------------
{
  class HttpError extends Error {
    constructor(readonly status: number) {
      super(`HTTP ${status}`);
    }
  }
  const before = cockatiel.retry(cockatiel.handleType(HttpError, (e) => e.status >= 500), { maxAttempts: 2, backoff: new cockatiel.ConstantBackoff(1) });
  const after = retry({ maxAttempts: 3, backoff: backoff.constant(1), handle: (e) => e instanceof HttpError && e.status >= 500 });
  let calls = 0;
  await settle(before.execute(() => (calls++, Promise.reject(new HttpError(404)))));
  await settle(after.execute(() => (calls++, Promise.reject(new HttpError(404)))));
  check(`a 404 is not retried by either (${calls} calls in all)`, calls === 2);
  after.dispose();
}

clearInterval(keepAlive);
