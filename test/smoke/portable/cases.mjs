// The portable smoke suite: small real-time checks that run unchanged on Node (vitest, also with
// `setImmediate` and `MessageChannel` removed), Deno, Bun and headless Chromium. Plain
// JavaScript with no imports, so every runtime loads it as it is; each runner imports the
// package's entries and passes them in.
//
// To cover another entry, add one line to ENTRIES below (and its cases beside the others).
//
// Timing bounds are generous on the late side (a shared 2-core machine, Chromium's timer
// clamping) and tight on the early side: a deadline may fire at most EARLY_MS before its time
// by `performance.now()`, because a runtime's timers count from the event loop's cached time
// (Node's do), which can lag `performance.now()` by up to a millisecond.

const SLACK_MS = 250;
const EARLY_MS = 1.5;

function check(condition, message) {
  if (!condition) throw new Error(message);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const now = () => performance.now();

/** @type {Case[]} */
const core = [
  {
    name: 'a timeout fires at its deadline, not before',
    async run({ breakwater: bw }) {
      const limit = bw.timeout(40);
      let aborted = false;
      const started = now();
      const error = await limit
        .execute(({ signal }) => {
          // Work that takes 1 s unless aborted (its own timer keeps a Node process alive: the
          // timeout's guard timer does not, by design).
          return new Promise((resolve) => {
            const work = setTimeout(resolve, 1000);
            signal.addEventListener('abort', () => {
              aborted = true;
              globalThis.clearTimeout(work);
              resolve('aborted');
            });
          });
        })
        .then(
          () => undefined,
          (e) => e,
        );
      const elapsed = now() - started;
      check(bw.isBreakwaterError(error, 'ETIMEDOUT'), `expected a TimeoutError, got ${error}`);
      check(aborted, 'the attempt signal did not abort at the deadline');
      check(elapsed >= 40 - EARLY_MS, `fired early: after ${elapsed.toFixed(1)} ms of 40`);
      check(elapsed < 40 + SLACK_MS, `fired late: after ${elapsed.toFixed(1)} ms of 40`);
    },
  },
  {
    name: 'a timeout counts its deadline from the call, also long after the last call',
    async run({ breakwater: bw }) {
      const limit = bw.timeout(60);
      // Calls that settle within their turn, then a quiet spell longer than the limit: a stale
      // time would put the next call's deadline in the past.
      for (let i = 0; i < 3; i++) await limit.execute(() => i);
      await sleep(100);
      const started = now();
      const value = await limit.execute(() => sleep(15).then(() => 'done'));
      check(value === 'done', `a 15 ms call under timeout(60) failed: ${String(value)}`);
      check(now() - started >= 14, 'the call did not really take 15 ms');
    },
  },
  {
    name: 'a latency is recorded',
    async run({ breakwater: bw }) {
      const limit = bw.timeout(1000);
      await limit.execute(() => 1); // a call within one turn first: 0 ms
      await sleep(20);
      await limit.execute(() => sleep(30));
      const { latencyMs, calls } = limit.metrics();
      check(calls === 2, `expected 2 calls, got ${calls}`);
      check(latencyMs.max >= 25, `a 30 ms call was recorded as ${latencyMs.max} ms`);
      check(latencyMs.max < 30 + SLACK_MS, `a 30 ms call was recorded as ${latencyMs.max} ms`);
    },
  },
  {
    name: 'a time window forgets',
    async run({ breakwater: bw }) {
      const breaker = bw.circuitBreaker({
        window: { type: 'time', durationMs: 200, buckets: 2 },
        minimumCalls: 4,
        failureRateThreshold: 0.5,
      });
      const fail = () => breaker.execute(() => Promise.reject(new Error('down'))).catch(() => undefined);
      for (let i = 0; i < 3; i++) await fail();
      check(breaker.state === 'closed', 'opened below minimumCalls');
      await sleep(450); // more than the window: those three are forgotten
      await fail();
      check(breaker.state === 'closed', 'opened on failures older than its 200 ms window');
      for (let i = 0; i < 3; i++) await fail();
      check(breaker.state === 'open', `4 failures in the window did not open it (${breaker.state})`);
      breaker.dispose();
    },
  },
  {
    name: 'a retry backs off',
    async run({ breakwater: bw }) {
      const policy = bw.retry({ maxAttempts: 3, backoff: bw.backoff.constant(30) });
      const starts = [];
      const value = await policy.execute(({ attempt }) => {
        starts.push(now());
        if (attempt < 3) throw new Error(`attempt ${attempt}`);
        return attempt;
      });
      check(value === 3, `expected the third attempt to win, got ${value}`);
      for (let i = 1; i < starts.length; i++) {
        const gap = starts[i] - starts[i - 1];
        check(gap >= 30 - EARLY_MS, `attempt ${i + 1} started ${gap.toFixed(1)} ms after the one before, not 30`);
        check(gap < 30 + SLACK_MS, `attempt ${i + 1} waited ${gap.toFixed(1)} ms`);
      }
    },
  },
  {
    name: 'a hedge starts after its delay',
    async run({ breakwater: bw }) {
      const policy = bw.hedge({ delayMs: 40 });
      for (let i = 0; i < 2; i++) await policy.execute(() => i); // calls within one turn first
      await sleep(60);
      const started = now();
      let second = -1;
      const value = await policy.execute(({ attempt, signal }) => {
        if (attempt === 1) {
          // Slow work with a timer of its own, as real work holds a socket: it keeps a Node
          // process alive while the hedge's delay timer (a guard) does not.
          return new Promise((resolve) => {
            const work = setTimeout(resolve, 1000, 'slow');
            signal.addEventListener('abort', () => {
              globalThis.clearTimeout(work);
              resolve('lost');
            });
          });
        }
        second = now() - started;
        return 'hedged';
      });
      check(value === 'hedged', `expected the hedge to win, got ${value}`);
      check(second >= 40 - EARLY_MS, `the hedge started after ${second.toFixed(1)} ms of 40`);
      check(second < 40 + SLACK_MS, `the hedge started after ${second.toFixed(1)} ms`);
    },
  },
];

/** @type {Case[]} */
const testing = [
  {
    name: 'ManualClock drives a timeout and a retry without real time',
    async run({ breakwater: bw, 'breakwater/testing': t }) {
      const clock = new t.ManualClock();
      const limit = bw.timeout({ durationMs: 100, clock });
      const call = limit.execute(() => new Promise(() => {})).then(
        () => 'resolved',
        (e) => (bw.isBreakwaterError(e, 'ETIMEDOUT') ? 'timed out' : String(e)),
      );
      check(clock.pendingTimers === 1, `expected one timer, got ${clock.pendingTimers}`);
      await clock.advance(99);
      await clock.advance(1);
      check((await call) === 'timed out', 'the timeout did not fire at 100 virtual ms');
      check(clock.now() === 100, `the clock reads ${clock.now()}`);

      const attempts = [];
      const retry = bw.retry({ maxAttempts: 2, backoff: bw.backoff.constant(1000), clock });
      const retried = retry.execute(({ attempt }) => {
        attempts.push(clock.now());
        if (attempt === 1) throw new Error('first');
        return 'second';
      });
      await clock.advance(1000);
      check((await retried) === 'second', 'the retry did not run its second attempt');
      check(attempts.join() === '100,1100', `attempts at ${attempts.join()}`);
    },
  },
];

/* global Response, AbortSignal -- every runtime the suite covers has them */
const fetchCases = [
  {
    name: 'resilientFetch retries a 503 with the attempt signal, and sends a POST once',
    async run({ breakwater: bw, 'breakwater/fetch': f }) {
      const seen = [];
      // The runtime's own Response and AbortSignal; no server needed. The first request and
      // every POST get a 503, the rest a 200.
      const fakeFetch = async (input, init) => {
        seen.push(init?.signal);
        const fail = seen.length === 1 || init?.method === 'POST';
        return new Response(fail ? 'busy' : 'ok', { status: fail ? 503 : 200 });
      };
      const http = f.resilientFetch({ fetch: fakeFetch, standard: { backoff: bw.backoff.constant(5) } });
      try {
        const res = await http('https://example.test/items');
        check(res.status === 200 && (await res.text()) === 'ok', `expected the 200, got ${res.status}`);
        check(seen.length === 2, `expected 2 attempts, saw ${seen.length}`);
        check(seen.every((s) => s instanceof AbortSignal), 'an attempt got no AbortSignal');
        check(seen[0] !== seen[1], 'two attempts shared a signal');
        const post = await http('https://example.test/orders', { method: 'POST', body: '{}' });
        check(post.status === 503 && (await post.text()) === 'busy', `expected the 503 back, got ${post.status}`);
        check(seen.length === 3, `the POST was sent ${seen.length - 2} times`);
      } finally {
        http.dispose();
      }
    },
  },
  {
    name: 'resilientFetch aborts a hanging attempt at its timeout',
    async run({ breakwater: bw, 'breakwater/fetch': f }) {
      // A request that takes 1 s unless aborted (its own timer keeps a Node process alive, as a
      // real socket would: the timeout's guard timer does not, by design).
      const hang = (input, init) =>
        new Promise((resolve, reject) => {
          const work = setTimeout(() => resolve(new Response('late')), 1000);
          init.signal.addEventListener('abort', () => {
            globalThis.clearTimeout(work);
            reject(init.signal.reason);
          });
        });
      const http = f.resilientFetch({ fetch: hang, standard: { attemptTimeoutMs: 30, maxAttempts: 1 } });
      const started = now();
      try {
        const error = await http('https://example.test/slow').then(() => undefined, (e) => e);
        check(bw.isBreakwaterError(error, 'ETIMEDOUT'), `expected a TimeoutError, got ${error}`);
        check(now() - started < 30 + SLACK_MS, 'the attempt timeout fired late');
      } finally {
        http.dispose();
      }
    },
  },
];

/**
 * Each entry the suite covers, and its cases. A case receives every entry listed here (a
 * `breakwater/testing` case builds policies from `breakwater` too).
 *
 * @type {Array<{ entry: string, cases: Case[] }>}
 */
export const ENTRIES = [
  { entry: 'breakwater', cases: core },
  { entry: 'breakwater/testing', cases: testing },
  { entry: 'breakwater/fetch', cases: fetchCases },
];

/**
 * Runs every case in order with the imported entries; never throws. Results: one per case.
 *
 * @param {Entries} entries
 * @returns {Promise<Array<{ entry: string, name: string, ok: boolean, error?: string, ms: number }>>}
 */
export async function runAll(entries) {
  const results = [];
  for (const { entry, cases } of ENTRIES) {
    for (const c of cases) {
      const started = now();
      try {
        await c.run(entries);
        results.push({ entry, name: c.name, ok: true, ms: now() - started });
      } catch (error) {
        results.push({ entry, name: c.name, ok: false, error: String(error?.stack ?? error), ms: now() - started });
      }
    }
  }
  return results;
}
