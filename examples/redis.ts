// breakwater/redis: two "instances" of a service (two Redis connections here; in production, two
// processes or machines) share one circuit breaker and one rate limit through Redis. Failures
// seen by instance A open the breaker of instance B too, and the token bucket holds for both.
// It starts its own redis-server on a free local port (and skips, saying so, if none is
// installed). Real time, short durations: it finishes in about a second.
// Run: npx tsx --tsconfig tsconfig.check.json examples/redis.ts
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { circuitBreaker, isBreakwaterError } from 'breakwater';
import { redisCircuitStore, redisRateLimiter } from 'breakwater/redis';

if (spawnSync('redis-server', ['--version']).status !== 0) {
  console.log('skipped: redis-server is not installed (Debian/Ubuntu: apt-get install redis-server)');
  process.exit(0);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const port = await new Promise<number>((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const address = s.address();
    s.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
  });
});
const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });

async function instance(label: string) {
  const client = new Redis({ port, host: '127.0.0.1', retryStrategy: () => 50 });
  client.on('error', () => {}); // until redis-server is up; ioredis keeps retrying
  await new Promise((resolve) => client.once('ready', resolve));
  // One store per client; it may serve any number of breakers.
  const store = redisCircuitStore({ client, flushMs: 10, syncMs: 20 });
  const breaker = circuitBreaker({
    name: 'payments', // the shared identity: same name, same Redis, one breaker
    store,
    window: { type: 'count', size: 20 },
    minimumCalls: 6,
    openDurationMs: 300,
  });
  breaker.events.on('stateChange', ({ from, to }) => console.log(`${label}: breaker ${from} -> ${to}`));
  breaker.events.on('storeError', ({ error }) => console.log(`${label}: Redis unreachable, going on locally`, error));
  const limit = redisRateLimiter({ client, name: 'partner-api', algorithm: 'tokenBucket', capacity: 5, refillPerSecond: 10, localShare: 2 });
  return { label, client, store, breaker, limit };
}

const a = await instance('A');
const b = await instance('B');
try {
  // A's dependency fails: three failures in each instance, six in the fleet's window.
  for (const x of [a, b]) {
    for (let i = 0; i < 3; i++) await x.breaker.execute(() => Promise.reject(new Error('503'))).catch(() => {});
  }
  await sleep(100);
  for (const x of [a, b]) {
    const e = await x.breaker.execute(() => 'ok').catch((error: unknown) => error);
    if (isBreakwaterError(e, 'ECIRCUITOPEN')) console.log(`${x.label}: rejected at once, retry in ${e.retryAfterMs} ms`);
  }
  // The open period ends; one trial call (the fleet's only one) succeeds and closes both.
  await sleep(350);
  console.log(`A: trial call -> ${await a.breaker.execute(() => 'ok')}`);
  await sleep(100);
  console.log(`states now: A ${a.breaker.state}, B ${b.breaker.state}`);

  // The shared token bucket: 5 at once for the two instances together, then 10 per second.
  let admitted = 0;
  let limited = 0;
  for (let i = 0; i < 10; i++) {
    const x = i % 2 === 0 ? a : b;
    await x.limit.execute(() => admitted++).catch((e: unknown) => {
      if (isBreakwaterError(e, 'ERATELIMITED')) limited++;
    });
  }
  console.log(`rate limit: ${admitted} admitted, ${limited} limited across both instances`);
} finally {
  for (const x of [a, b]) {
    x.breaker.dispose();
    x.limit.dispose();
    x.store.dispose(); // closes the store's pub/sub connection
    x.client.disconnect(); // the client is yours: breakwater never closes it
  }
  server.kill('SIGKILL');
}
