// `npm run demo`: breakwater in action for about 20 seconds.
//
// A local HTTP service (demo/service.ts) is healthy, then slow, then failing, then healthy again.
// A client calls it 50 times a second through a full pipeline — fallback, retry with a budget,
// circuit breaker, timeout, bulkhead — and prints one line per second from the registry's bus
// and the policies' rolling metrics. Watch the breaker open when the service goes bad and close
// again once it has recovered.
//
// `--fast` (or BREAKWATER_DEMO_FAST=1) runs the same story four times faster, for tests.
import {
  backoff,
  bulkhead,
  circuitBreaker,
  createRegistry,
  fallback,
  isBreakwaterError,
  pipeline,
  retry,
  retryBudget,
  timeout,
  type BusEvent,
} from 'breakwater';
import { serveDashboard } from 'breakwater/dashboard';
import { PHASES, startService } from './service.js';

const fast = process.argv.includes('--fast') || process.env['BREAKWATER_DEMO_FAST'] === '1';
const scale = fast ? 0.25 : 1;
const tickMs = 1000 * scale; // one line per (scaled) second
const totalMs = PHASES.reduce((t, p) => t + p.ms, 0) * scale;
const requestEveryMs = 20;

class HttpError extends Error {
  constructor(readonly status: number) {
    super(`HTTP ${status}`);
    this.name = 'HttpError';
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  const service = await startService(scale, started);
  const registry = createRegistry();
  // Each line reports the last tick: the policies' rolling windows are one tick long.
  const metrics = { windowMs: tickMs, buckets: 10 };

  const api = pipeline(
    fallback(() => ({ price: null, stale: true }), { name: 'fallback', metrics }),
    retry({
      name: 'retry',
      maxAttempts: 3,
      backoff: backoff.exponential({ initialMs: 20, maxMs: 200 }),
      budget: retryBudget({ ratio: 0.2, minPerSecond: 5 }),
      // Retry what the service did (an HTTP error, a timeout), never local back-pressure or an
      // open breaker: those should reach the fallback at once.
      handle: (e) => !isBreakwaterError(e) || e.code === 'ETIMEDOUT',
      metrics,
    }),
    circuitBreaker({
      name: 'breaker',
      window: { type: 'time', durationMs: 4000 * scale, buckets: 4 },
      failureRateThreshold: 0.5,
      minimumCalls: 10,
      openDurationMs: 2000 * scale,
      halfOpenCalls: 3,
      metrics,
    }),
    timeout({ name: 'timeout', durationMs: 100, metrics }),
    bulkhead({ name: 'bulkhead', maxConcurrent: 8, maxQueue: 16, metrics }),
    { name: 'price-api', registry, metrics },
  );

  // The bus: everything every policy says, from one place.
  let opened = 0;
  let closed = 0;
  const seen = new Map<string, number>();
  const transitions: string[] = [];
  registry.events.on('stateChange', (e) => {
    if (e.initial === true) return;
    transitions.push(`${e.from}→${e.to}`);
    if (e.to === 'open') opened++;
    if (e.from === 'halfOpen' && e.to === 'closed') closed++;
  });
  registry.events.on('event', (e: BusEvent) => {
    // Per-call outcomes are in the metrics; the bus line shows what policies did about them.
    if (e.event === 'success' || e.event === 'failure' || e.event === 'stateChange') return;
    const k = `${e.event}`;
    seen.set(k, (seen.get(k) ?? 0) + 1);
  });

  // The live dashboard of the same registry (BREAKWATER_DASHBOARD_PORT picks the port).
  const dash = await serveDashboard(registry, { port: Number(process.env['BREAKWATER_DASHBOARD_PORT'] ?? 0) });
  console.log(`dashboard: ${dash.url}  (open it now: it is live for the ${(totalMs / 1000).toFixed(0)} s of the demo)`);

  const get = (name: string) => registry.get(name)?.metrics();
  const ms = (v: number): string => `${v.toFixed(1)} ms`.padStart(9);
  const n = (v: number | undefined, w = 6): string => String(v ?? 0).padStart(w);
  console.log(
    `breakwater demo: ${service.url}, ${fast ? 'fast mode, ' : ''}${(totalMs / 1000).toFixed(0)} s\n` +
      `pipeline(fallback, retry + budget, circuitBreaker, timeout 100 ms, bulkhead 8+16), ${1000 / requestEveryMs} calls/s\n`,
  );
  console.log(
    `${'time'.padStart(6)}  ${'service'.padEnd(9)}  ${'breaker'.padEnd(8)} ${'calls'.padStart(6)} ${'failed'.padStart(6)} ${'timeout'.padStart(7)} ${'reject'.padStart(6)} ${'fallbk'.padStart(6)} ${'retry'.padStart(6)} ${'p50'.padStart(9)} ${'p99'.padStart(9)}  bus`,
  );
  const line = (): void => {
    const p = get('price-api');
    const to = get('timeout');
    const cb = get('breaker');
    const bh = get('bulkhead');
    const events = [...transitions, ...[...seen].map(([k, v]) => `${k}×${v}`)].join(' ');
    transitions.length = 0;
    seen.clear();
    const t = (performance.now() - started) / 1000 / scale;
    console.log(
      `${t.toFixed(1).padStart(5)}s  ${service.phase().name.padEnd(9)}  ${(cb?.state ?? '?').padEnd(8)} ${n(p?.calls)} ${n(to?.failures)} ${n(to?.timeouts, 7)} ${n((cb?.rejections ?? 0) + (bh?.rejections ?? 0))} ${n(get('fallback')?.fallbacks)} ${n(get('retry')?.retries)} ${ms(p?.latencyMs.p50 ?? 0)} ${ms(p?.latencyMs.p99 ?? 0)}  ${events}`,
    );
  };

  // The load: a call every 20 ms, not waiting for the previous ones (as real traffic does).
  const inFlight = new Set<Promise<unknown>>();
  let calls = 0;
  let stale = 0;
  const load = setInterval(() => {
    calls++;
    const call = api
      .execute(async ({ signal }) => {
        const res = await fetch(service.url, { signal });
        if (!res.ok) throw new HttpError(res.status);
        return (await res.json()) as { price: number | null; stale?: boolean };
      })
      .then((answer) => {
        if (answer.stale === true) stale++;
      })
      .finally(() => inFlight.delete(call));
    inFlight.add(call);
  }, requestEveryMs);
  const ticker = setInterval(line, tickMs);

  await new Promise((resolve) => setTimeout(resolve, totalMs));
  clearInterval(load);
  clearInterval(ticker);
  await Promise.allSettled([...inFlight]);

  await dash.close();
  for (const p of [api, ...api.policies]) p.dispose();
  await service.close();
  console.log(
    `\nsummary: opened=${opened} closed=${closed} calls=${calls} fallbacks=${stale} requests=${service.requests}` +
      `\nThe breaker opened ${opened}× while the service was bad and closed again ${closed}× after it recovered;` +
      ` ${stale} of ${calls} calls were answered by the fallback instead of an error.`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
