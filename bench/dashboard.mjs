/* global window, document */
// `npm run bench:dashboard`: what the dashboard costs with 200 listed policies and 10 open
// streams. Server: one interval's work (one snapshot of the registry, serialised once, written
// to every connection) and one Hystrix batch. Page: the work of one update inside headless
// Chromium, timed with performance.now() by the page itself. Medians of many intervals.
//
// The streams' timers run on a ManualClock: each `advance` fires exactly one interval. The clock
// given to the dashboard wraps each timer callback in performance.now(), so the figure is the
// interval's own synchronous work (snapshot, JSON, encoding, the writes to every socket) and not
// the clients, which read in this same process.
import { createRegistry, pipeline, fallback, retry, circuitBreaker, timeout, bulkhead } from '../dist/esm/index.js';
import { ManualClock } from '../dist/esm/testing/index.js';
import { serveDashboard } from '../dist/esm/dashboard/index.js';
import { request } from 'node:http';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PIPELINES = 40; // 40 pipelines of 4 members: 200 listed policies
const STREAMS = 10;
const INTERVALS = 200;

const median = (xs) => {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
const pct = (xs, p) => {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const ms = (v) => `${v.toFixed(3)} ms`;

/** 200 policies with a few thousand recorded calls of varied latency and outcome. */
async function fleet(clock) {
  const registry = createRegistry();
  const pipes = [];
  for (let i = 0; i < PIPELINES; i++) {
    pipes.push(
      pipeline(
        fallback(null, { name: `svc-${i}-fallback` }),
        retry({ name: `svc-${i}-retry`, maxAttempts: 2, clock }),
        circuitBreaker({ name: `svc-${i}-breaker`, clock, minimumCalls: 1e9 }),
        i % 2 === 0 ? timeout({ name: `svc-${i}-timeout`, durationMs: 500, clock }) : bulkhead({ name: `svc-${i}-bulkhead`, maxConcurrent: 50, clock }),
        { name: `svc-${i}`, registry, clock },
      ),
    );
  }
  for (let round = 0; round < 20; round++) {
    const calls = [];
    for (const p of pipes) {
      for (let k = 0; k < 5; k++) {
        const ms = 1 + Math.floor(Math.random() * 200);
        const fail = Math.random() < 0.1;
        calls.push(p.execute(() => new Promise((res, rej) => clock.setTimeout(() => (fail ? rej(new Error('x')) : res(1)), ms))));
      }
    }
    let settled = false;
    void Promise.allSettled(calls).then(() => (settled = true));
    while (!settled) await clock.advance(50); // retries sleep on the clock too
  }
  return registry;
}

function openStream(url) {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false }, (res) => {
      let bytes = 0;
      res.on('data', (d) => (bytes += d.length));
      resolve({ close: () => req.destroy(), bytes: () => bytes });
    });
    req.on('error', reject);
    req.end();
  });
}

/** `clock`, with every timer callback timed into `times`. */
function timedClock(clock, times) {
  return {
    now: () => clock.now(),
    setTimeout: (fn, ms) =>
      clock.setTimeout(() => {
        const t0 = performance.now();
        fn();
        times.push(performance.now() - t0);
      }, ms),
    clearTimeout: (h) => clock.clearTimeout(h),
  };
}

async function serverCost(registry, clock, path, everyMs) {
  const ticks = [];
  const server = await serveDashboard(registry, { clock: timedClock(clock, ticks), intervalMs: everyMs, maxConnections: STREAMS });
  const streams = [];
  for (let i = 0; i < STREAMS; i++) streams.push(await openStream(server.url + path));
  // Interleaved with each interval, on the same registry: the registry's own snapshot() and its
  // JSON, so the three figures share the machine's noise.
  const snap = [];
  const ser = [];
  for (let i = 0; i < INTERVALS + 20; i++) {
    await clock.advance(everyMs);
    await new Promise((r) => setImmediate(r)); // let the sockets drain between intervals
    let t0 = performance.now();
    const s = registry.snapshot();
    const t1 = performance.now();
    JSON.stringify(s);
    const t2 = performance.now();
    if (i >= 20) {
      snap.push(t1 - t0);
      ser.push(t2 - t1);
    }
    await new Promise((r) => setImmediate(r));
  }
  const times = ticks.slice(20); // after warm-up
  const bytes = streams[0].bytes();
  for (const s of streams) s.close();
  await server.close();
  return { times, bytes, snap, ser };
}


async function pageCost(registry) {
  const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!existsSync(chromiumPath)) {
    console.log(`page: skipped, no Chromium at ${chromiumPath} (apt-get install chromium / npm run deps:system)`);
    return undefined;
  }
  const { chromium } = await import('playwright-core');
  const profile = mkdtempSync(join(tmpdir(), 'breakwater-bench-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1360, height: 900 },
  });
  // Real time here: the page needs real updates. 250 ms apart, 120 of them (about 30 s).
  const server = await serveDashboard(registry, { intervalMs: 250 });
  const page = await context.newPage();
  await page.goto(server.url);
  await page.waitForFunction(() => (window.breakwaterDashboard?.stats.updates ?? 0) >= 120, undefined, { timeout: 120_000, polling: 500 });
  const stats = await page.evaluate(() => window.breakwaterDashboard.stats);
  const cards = await page.evaluate(() => document.querySelectorAll('article.card').length);
  await server.close();
  await context.close();
  rmSync(profile, { recursive: true, force: true });
  // The first update builds the 200 cards; the rest are the steady state.
  return { first: stats.recent[0], steady: stats.recent.slice(1), max: stats.maxMs, cards };
}

const clock = new ManualClock();
const registry = await fleet(clock);
console.log(`breakwater dashboard benchmark — Node ${process.version}, ${registry.list().length} listed policies, ${STREAMS} open streams`);

const sse = await serverCost(registry, clock, 'stream', 1000);
const hys = await serverCost(registry, clock, 'hystrix.stream?delay=500', 500);
const row = (label, xs, base) =>
  console.log(`  ${label.padEnd(42)} ${ms(median(xs)).padStart(10)}  p90 ${ms(pct(xs, 90)).padStart(10)}${base === undefined ? '' : `  x${(median(xs) / median(base)).toFixed(2)} of snapshot()`}`);
console.log(`\n## Server, per interval (median and p90 of ${INTERVALS} intervals; interleaved with registry.snapshot())`);
row('registry.snapshot()', sse.snap);
row('JSON.stringify of it', sse.ser, sse.snap);
row(`/stream interval, ${STREAMS} connections`, sse.times, sse.snap);
row(`/hystrix.stream batch, ${STREAMS} connections`, hys.times, hys.snap);
console.log(`  (/stream message ${(sse.bytes / (INTERVALS + 21) / 1024).toFixed(1)} KiB)`);
const target = median(sse.times);
console.log(`  @target /stream interval under 1 ms: ${target < 1 ? 'MET' : 'MISS'} (${ms(target)})`);

const page = await pageCost(registry);
if (page !== undefined) {
  console.log(`\n## Page in Chromium, per update (${page.cards} cards, ${page.steady.length} updates 250 ms apart)`);
  console.log(`  first update (builds every card)          ${ms(page.first)}`);
  console.log(`  steady update                             ${ms(median(page.steady))}  p90 ${ms(pct(page.steady, 90))}  max ${ms(page.max)}`);
  console.log(`  @target page update under 10 ms: ${median(page.steady) < 10 ? 'MET' : 'MISS'} (${ms(median(page.steady))})`);
}
process.exit(0);
