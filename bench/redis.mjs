// breakwater/redis against a local redis-server (started here on a free port, stopped after).
//
// 1. Closed-path overhead: a Redis-backed breaker next to the in-memory one and a naive store
//    that writes every outcome to Redis (one awaited command per call, as the existing
//    Redis-backed breakers do).
// 2. Round trips per call in the closed state at 10,000 calls/s: the commands the client sends
//    (a counter wrapped around the client) and INFO commandstats (which also counts what the
//    scripts run inside Redis).
// 3. The shared rate limiter's admission cost (one script call): median and p99.
//
// `npm run bench:redis` runs it alone; `npm run bench` includes it when redis-server is installed.
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { circuitBreaker, rateLimiter } from '../dist/esm/index.js';
import { redisCircuitStore, redisRateLimiter } from '../dist/esm/redis/index.js';
import { sequential, runGroup, report } from './harness.mjs';

const haveRedis = spawnSync('redis-server', ['--version']).status === 0;

function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

let server;
let client;
let counted = 0;
const work = async () => 1;

async function start() {
  const port = await freePort();
  server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  client = new Redis({ port, host: '127.0.0.1', lazyConnect: true });
  client.on('error', () => {});
  for (let i = 0; i < 100; i++) {
    try {
      await client.connect();
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** A client whose script commands are counted: the round trips breakwater makes. */
function countingClient(c) {
  return new Proxy(c, {
    get(target, prop) {
      const v = Reflect.get(target, prop);
      if (prop === 'evalsha' || prop === 'eval') {
        return (...args) => {
          counted++;
          return v.apply(target, args);
        };
      }
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

/** The naive shared breaker: every outcome is one awaited write to Redis. */
function naiveBreaker(c, name) {
  const inner = circuitBreaker({ metrics: false });
  return {
    execute: (fn) =>
      inner.execute(fn).then(
        async (v) => {
          counted++;
          await c.hincrby(`naive:{${name}}`, 'ok', 1);
          return v;
        },
        async (e) => {
          counted++;
          await c.hincrby(`naive:{${name}}`, 'fail', 1);
          throw e;
        },
      ),
  };
}

async function commandstats() {
  const info = await client.info('commandstats');
  let total = 0;
  for (const m of info.matchAll(/calls=(\d+)/g)) total += Number(m[1]);
  return total;
}

export const groups = [];
let store;
if (haveRedis) {
  await start();
  store = redisCircuitStore({ client: countingClient(client) });
  const memory = circuitBreaker({ metrics: false });
  const shared = circuitBreaker({ name: 'bench', store, metrics: false });
  const naive = naiveBreaker(client, 'bench');
  groups.push({
    title: 'breakwater/redis: closed-path call (success)',
    batch: 5000,
    cases: [
      { name: 'bare await', run: sequential(work) },
      { name: 'in-memory breaker', run: sequential(() => memory.execute(work)) },
      { name: 'redisCircuitStore breaker', run: sequential(() => shared.execute(work)) },
      { name: 'naive store (a write per outcome)', run: sequential(() => naive.execute(work)) },
    ],
    checks: [
      { overhead: ['redisCircuitStore breaker', 'bare await'], versus: ['in-memory breaker', 'bare await'], atMost: 1.5, label: 'Redis-backed closed-path overhead vs the in-memory breaker' },
      { overhead: ['naive store (a write per outcome)', 'bare await'], versus: ['redisCircuitStore breaker', 'bare await'], atMost: Infinity, label: 'naive store overhead vs redisCircuitStore' },
    ],
    teardown: () => {
      shared.dispose();
      memory.dispose();
    },
  });
}

/** Calls at `perSecond` for `ms`, in 1 ms ticks; returns client commands and server commands per call. */
async function paced(breaker, perSecond, ms) {
  const c0 = counted;
  const s0 = await commandstats();
  let calls = 0;
  const t0 = performance.now();
  const pending = [];
  while (performance.now() - t0 < ms) {
    // As many calls as the rate owes by now (timer ticks are coarser than 1 ms on a busy machine).
    const owed = Math.floor(((performance.now() - t0) * perSecond) / 1000) - calls;
    for (let i = 0; i < owed; i++) {
      calls++;
      pending.push(breaker.execute(work));
    }
    await Promise.all(pending.splice(0));
    await new Promise((r) => setTimeout(r, 1));
  }
  await new Promise((r) => setTimeout(r, 200)); // the last flush
  const elapsed = performance.now() - t0;
  const s1 = await commandstats();
  // INFO itself is a command on each read: take both reads out.
  return { calls, rate: (calls / elapsed) * 1000, client: (counted - c0) / calls, server: (s1 - s0 - 1) / calls };
}

async function latency(limiter, n) {
  const times = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await limiter.execute(work);
    times.push((performance.now() - t0) * 1000);
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(n / 2)], p99: times[Math.floor(n * 0.99)] };
}

export async function extra() {
  if (!haveRedis) return ['SKIP  breakwater/redis: redis-server not installed'];
  const lines = [];
  const shared = circuitBreaker({ name: 'paced', store, metrics: false });
  const naive = naiveBreaker(client, 'paced');
  const a = await paced(shared, 10_000, 2000);
  const b = await paced(naive, 10_000, 2000);
  shared.dispose();
  const want = a.client <= 0.05;
  lines.push(
    `${want ? 'MET ' : 'MISS'}  redisCircuitStore round trips per call at ${Math.round(a.rate)} calls/s: ${a.client.toFixed(4)} client commands (want <= 0.05), ${a.server.toFixed(4)} commands in Redis incl. script internals`,
  );
  lines.push(`INFO  naive store at ${Math.round(b.rate)} calls/s: ${b.client.toFixed(3)} client commands per call, ${b.server.toFixed(3)} in Redis (${(b.client / a.client).toFixed(0)}x redisCircuitStore)`);
  const rl = redisRateLimiter({ client, name: 'bench', algorithm: 'tokenBucket', capacity: 1e9, refillPerSecond: 1e9, metrics: false });
  const sw = redisRateLimiter({ client, name: 'bench-sw', algorithm: 'slidingWindow', limit: 1e9, windowMs: 1000, metrics: false });
  const mem = rateLimiter({ algorithm: 'tokenBucket', capacity: 1e9, refillPerSecond: 1e9, metrics: false });
  let downs = 0;
  for (const l of [rl, sw]) l.events.on('storeError', () => downs++);
  // Warm up with a pause between calls: a first command slower than commandTimeoutMs (a loaded
  // machine) would measure the local fallback instead.
  for (let i = 0; i < 50; i++) {
    await rl.execute(work);
    await sw.execute(work);
    await new Promise((r) => setTimeout(r, 2));
  }
  downs = 0;
  await latency(rl, 500);
  const tb = await latency(rl, 5000);
  const sl = await latency(sw, 5000);
  const m = await latency(mem, 5000);
  lines.push(`INFO  redisRateLimiter tokenBucket admission: median ${tb.median.toFixed(0)} µs, p99 ${tb.p99.toFixed(0)} µs (one script call)`);
  lines.push(`INFO  redisRateLimiter slidingWindow admission: median ${sl.median.toFixed(0)} µs, p99 ${sl.p99.toFixed(0)} µs`);
  if (downs > 0) lines.push(`WARN  Redis timed out ${downs} time(s) during the admission measurement: figures include the local fallback`);
  lines.push(`INFO  in-memory rateLimiter admission: median ${m.median.toFixed(2)} µs, p99 ${m.p99.toFixed(2)} µs`);
  rl.dispose();
  sw.dispose();
  mem.dispose();
  for (const l of lines) console.log(`  ${l}`);
  return lines;
}

export async function teardown() {
  store?.dispose();
  client?.disconnect();
  server?.kill('SIGKILL');
}

// Run alone: `node bench/redis.mjs`.
if (import.meta.url === `file://${process.argv[1]}`) {
  const lines = [];
  for (const group of groups) {
    lines.push(...report(group, await runGroup(group)));
    await group.teardown?.();
  }
  console.log('\n## breakwater/redis: round trips and admission cost');
  lines.push(...(await extra()));
  await teardown();
  console.log('\nsummary');
  for (const l of lines) console.log(`  ${l}`);
}
