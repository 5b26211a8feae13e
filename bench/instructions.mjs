// `npm run bench:instructions [-- scenario ...]`: instructions per call, counted by valgrind.
//
// Wall-clock figures on a shared 2-vCPU machine swing by 2x between minutes (every case at
// once) and by 10–30% between processes. Instruction counts do not: each scenario runs under
// `valgrind --tool=cachegrind` with V8's `--predictable` (no concurrent compilation, fixed
// seeds), once with 30,000 warm-up calls and once with 100,000 more; the difference over
// 100,000 is the cost of one call, repeatable to within ~0.5%. Use it to compare two versions of
// a hot path; it is not a speed target (instructions are not time: promise builtins and GC
// weigh differently), which stays with `npm run bench`. Needs valgrind (Debian: valgrind).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const WARM = 30_000;
const MORE = 100_000;
const work = async () => 1;

/** An op of `n` calls started at once (`op.calls = n`: the runner divides by it). */
function inFlight(p, n) {
  const batch = new Array(n);
  const op = () => {
    for (let i = 0; i < n; i++) batch[i] = p.execute(work);
    return Promise.all(batch);
  };
  op.calls = n;
  return op;
}

/** A hand-written bulkhead of `max` permits with an unbounded FIFO queue. */
function handQueue(max) {
  let running = 0;
  let head = 0;
  const queue = [];
  const next = () => {
    running--;
    if (head === queue.length) return;
    const w = queue[head];
    queue[head++] = undefined;
    if (head === queue.length) queue.length = head = 0;
    running++;
    const p = w.fn();
    p.then(next, next);
    p.then(w.resolve, w.reject);
  };
  const released = (v) => {
    next();
    return v;
  };
  const failed = (e) => {
    next();
    throw e;
  };
  return {
    execute(fn) {
      if (running < max && head === queue.length) {
        running++;
        return fn().then(released, failed);
      }
      return new Promise((resolve, reject) => queue.push({ fn, resolve, reject }));
    },
  };
}

async function scenarios() {
  // BREAKWATER_DIST=<dir> counts another build (a copy of an older dist/esm) for before/after.
  const bw = await import(process.env.BREAKWATER_DIST ? `${process.env.BREAKWATER_DIST}/index.js` : '../dist/esm/index.js');
  const Opossum = createRequire(import.meta.url)('opossum');
  const { floor } = await import('./floor.mjs');
  const off = { metrics: false };
  return {
    'bare await': () => work,
    'circuitBreaker': () => {
      const p = bw.circuitBreaker();
      return () => p.execute(work);
    },
    'circuitBreaker (metrics off)': () => {
      const p = bw.circuitBreaker(off);
      return () => p.execute(work);
    },
    'timeout': () => {
      const p = bw.timeout(1000);
      return () => p.execute(work);
    },
    'timeout (metrics off)': () => {
      const p = bw.timeout({ durationMs: 1000, ...off });
      return () => p.execute(work);
    },
    'pipeline(circuitBreaker, timeout)': () => {
      const p = bw.pipeline(bw.circuitBreaker(), bw.timeout(1000));
      return () => p.execute(work);
    },
    'pipeline(circuitBreaker, timeout) (metrics off)': () => {
      const p = bw.pipeline(bw.circuitBreaker(off), bw.timeout({ durationMs: 1000, ...off }), off);
      return () => p.execute(work);
    },
    // A caller's signal: one shared abort listener per signal (issue #11).
    'timeout, with a caller signal': () => {
      const p = bw.timeout(1000);
      const { signal } = new globalThis.AbortController();
      return () => p.execute(work, { signal });
    },
    // A breaker inside a timeout judges with the call's token (issue #11).
    'pipeline(timeout, circuitBreaker)': () => {
      const p = bw.pipeline(bw.timeout(1000), bw.circuitBreaker());
      return () => p.execute(work);
    },
    'bulkhead': () => {
      const p = bw.bulkhead({ maxConcurrent: 10 });
      return () => p.execute(work);
    },
    'retry': () => {
      const p = bw.retry({ maxAttempts: 3 });
      return () => p.execute(work);
    },
    // The first attempt wins before the delay: the call waits in the hedge's deadline queue.
    'hedge': () => {
      const p = bw.hedge({ delayMs: 1000 });
      return () => p.execute(work);
    },
    'fallback': () => {
      const p = bw.fallback(0);
      return () => p.execute(work);
    },
    'pipeline of five (fallback, retry, breaker, timeout, bulkhead)': () => {
      const p = bw.pipeline(
        bw.fallback(0),
        bw.retry({ maxAttempts: 3 }),
        bw.circuitBreaker({ window: { type: 'consecutive', failures: 5 } }),
        bw.timeout(1000),
        bw.bulkhead({ maxConcurrent: 10 }),
      );
      return () => p.execute(work);
    },
    'pipeline of five (metrics off)': () => {
      const p = bw.pipeline(
        bw.fallback(0, off),
        bw.retry({ maxAttempts: 3, ...off }),
        bw.circuitBreaker({ window: { type: 'consecutive', failures: 5 }, ...off }),
        bw.timeout({ durationMs: 1000, ...off }),
        bw.bulkhead({ maxConcurrent: 10, ...off }),
        off,
      );
      return () => p.execute(work);
    },
    // bench/floor.mjs's hand-written five, the reference of the pipeline's target.
    'hand-written floor of five': () => () => floor(work),
    'bulkhead (maxQueue 1000)': () => {
      const p = bw.bulkhead({ maxConcurrent: 10, maxQueue: 1000 });
      return () => p.execute(work);
    },
    // bench/limits.mjs's queued target: 1000 started at once, 10 run, 990 wait. One op is the
    // batch of 1000, so it runs 1/1000 as many ops; the count printed is per call.
    'bulkhead, 1000 in flight (990 queued)': () => inFlight(bw.bulkhead({ maxConcurrent: 10, maxQueue: 1000 }), 1000),
    'bulkhead, 1000 in flight (990 queued) (metrics off)': () =>
      inFlight(bw.bulkhead({ maxConcurrent: 10, maxQueue: 1000, ...off }), 1000),
    'bare await, 1000 in flight': () => inFlight({ execute: (f) => f() }, 1000),
    // The same queue written by hand in its simplest form (a counter, an array, a promise per
    // waiter): what a queued call costs when nothing is general, as bench/floor.mjs is for the
    // pipeline of five.
    'hand-written queue, 1000 in flight (990 queued)': () => inFlight(handQueue(10), 1000),
    'bulkhead, 20 in flight (10 queued)': () => {
      const p = bw.bulkhead({ maxConcurrent: 10, maxQueue: 1000 });
      const batch = new Array(20);
      // One op is 20 calls: the count printed is per batch of 20.
      return () => {
        for (let i = 0; i < 20; i++) batch[i] = p.execute(work);
        return Promise.all(batch);
      };
    },
    'policyPool(circuitBreaker), one key': () => {
      const p = bw.policyPool(() => bw.circuitBreaker());
      const o = { key: 'api.example.com' };
      return () => p.execute(work, o);
    },
    'cache hit': () => {
      const p = bw.cache({ ttlMs: 3_600_000 });
      const o = { key: 'user:1' };
      return () => p.execute(work, o);
    },
    'coalesce, one caller': () => {
      const p = bw.coalesce();
      const o = { key: 'user:1' };
      return () => p.execute(work, o);
    },
    'timeout.wrap': () => {
      const f = bw.timeout(1000).wrap(work);
      return () => f();
    },
    'usePolicy(timeout) method': () => {
      const f = bw.usePolicy(bw.timeout(1000))(work, { kind: 'method', name: 'm' });
      return () => f.call({});
    },
    'opossum fire()': () => {
      const o = new Opossum(work, { timeout: 1000 });
      return () => o.fire();
    },
  };
}

const args = process.argv.slice(2);
if (args[0] === '--child') {
  const [, name, extra] = args;
  const op = (await scenarios())[name]();
  const per = op.calls ?? 1;
  for (let i = 0; i < WARM / per; i++) await op();
  for (let i = 0, n = Number(extra) / per; i < n; i++) await op();
  process.exit(0);
}

const self = fileURLToPath(import.meta.url);
function instructions(name, extra) {
  const run = spawnSync(
    'valgrind',
    ['--tool=cachegrind', '--cache-sim=no', '--cachegrind-out-file=/dev/null', process.execPath, '--predictable', '--random-seed=1', '--hash-seed=1', self, '--child', name, String(extra)],
    { encoding: 'utf8' },
  );
  if (run.error !== undefined) throw new Error(`valgrind is needed (apt-get install valgrind): ${run.error.message}`);
  const m = /I\s+refs:\s+([\d,]+)/.exec(run.stderr);
  if (run.status !== 0 || m === null) throw new Error(`${name}: valgrind run failed\n${run.stderr}`);
  return Number(m[1].replaceAll(',', ''));
}

const names = Object.keys(await scenarios());
// A name matches a substring, or exactly with a leading `=` (`-- =circuitBreaker`).
const chosen = args.length > 0 ? names.filter((n) => args.some((a) => (a.startsWith('=') ? n === a.slice(1) : n.includes(a)))) : names;
console.log(`instructions per call (valgrind cachegrind, node ${process.version} --predictable)`);
for (const name of chosen) {
  const perCall = (instructions(name, MORE) - instructions(name, 0)) / MORE;
  console.log(`  ${name.padEnd(50)} ${perCall.toFixed(0).padStart(6)}`);
}
process.exit(0);
