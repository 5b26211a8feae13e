// `npm run demo`: breakwater in action for about 20 seconds.
//
// A local HTTP service (demo/service.ts) is healthy, then slow, then failing, then healthy again.
// A client calls it 50 times a second through a full pipeline — fallback, retry with a budget,
// circuit breaker, timeout, bulkhead — and prints one line per second from the registry's bus
// and the policies' rolling metrics. Watch the breaker open when the service goes bad and close
// again once it has recovered.
//
// `--fast` (or BREAKWATER_DEMO_FAST=1) runs the same story four times faster, for tests.
import { backoff, createRegistry, fallback, retryBudget, type BusEvent } from 'breakwater';
import { resilientFetch } from 'breakwater/fetch';
import { serveDashboard } from 'breakwater/dashboard';
import { PHASES, startService } from './service.js';

const fast = process.argv.includes('--fast') || process.env['BREAKWATER_DEMO_FAST'] === '1';
const scale = fast ? 0.25 : 1;
const tickMs = 1000 * scale; // one line per (scaled) second
const totalMs = PHASES.reduce((t, p) => t + p.ms, 0) * scale;
const requestEveryMs = 20;

async function main(): Promise<void> {
  const started = performance.now();
  const service = await startService(scale, started);
  const registry = createRegistry();
  // Each line reports the last tick: the policies' rolling windows are one tick long.
  const metrics = { windowMs: tickMs, buckets: 10 };

  // resilientFetch's standard pipeline with the demo's numbers: a retry with a budget (it retries
  // what the service did — a 5xx, a timeout — never local back-pressure or an open breaker), a
  // circuit breaker per origin, a 100 ms timeout per attempt, a bulkhead. `throwOnStatus` hands
  // a 503 the retry gave up on to the fallback, which answers every failure with a stale price.
  const http = resilientFetch({
    name: 'price-api',
    registry,
    metrics,
    throwOnStatus: true,
    standard: {
      totalTimeoutMs: 1000,
      maxAttempts: 3,
      backoff: backoff.exponential({ initialMs: 20, maxMs: 200 }),
      budget: retryBudget({ ratio: 0.2, minPerSecond: 5 }),
      breaker: {
        window: { type: 'time', durationMs: 4000 * scale, buckets: 4 },
        failureRateThreshold: 0.5,
        minimumCalls: 10,
        openDurationMs: 2000 * scale,
        halfOpenCalls: 3,
      },
      attemptTimeoutMs: 100,
      maxConcurrent: 8,
    },
  });
  const stale = fallback(() => ({ price: null, stale: true }), { name: 'fallback', registry, metrics });
  const breakerName = `price-api:${new URL(service.url).origin}`;

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
      `fallback around resilientFetch (retry + budget, breaker per origin, timeout 100 ms, bulkhead 8), ${1000 / requestEveryMs} calls/s\n`,
  );
  console.log(
    [
      'Each line covers the last second (of the demo\'s clock), all columns from that same second:',
      '  time      end of the second          service   the service\'s phase(s) during it (a→b: it changed)',
      '  breaker   the breaker\'s state at the end of the second',
      'per caller call (what the code calling the pipeline got):',
      '  calls     calls that ended           fresh     answered by the service',
      '  fallbk    answered by the fallback   failed    an error reached the caller',
      'per attempt (one call may make up to 3 attempts):',
      '  timeout   attempts cut at 100 ms     http      attempts answered with an HTTP error',
      '  reject    refused at once (open breaker, full bulkhead)',
      '  retry     retries started (the budget caps them at ~20% of calls)',
      '  p50 p99   latency of the calls, as the caller saw it',
      '  bus       what the registry\'s event bus reported: state changes, then event×count',
      '',
    ].join('\n'),
  );
  console.log(
    `${'time'.padStart(6)}  ${'service'.padEnd(17)}  ${'breaker'.padEnd(8)} ${'calls'.padStart(6)} ${'fresh'.padStart(6)} ${'fallbk'.padStart(6)} ${'failed'.padStart(6)} | ${'timeout'.padStart(7)} ${'http'.padStart(6)} ${'reject'.padStart(6)} ${'retry'.padStart(6)} | ${'p50'.padStart(9)} ${'p99'.padStart(9)}  bus`,
  );
  // Per caller call, counted as each call settles, and the phases seen while the second ran.
  const tick = { calls: 0, fresh: 0, fallback: 0, failed: 0, phases: [] as string[] };
  const notePhase = (): void => {
    const name = service.phase().name;
    if (tick.phases.at(-1) !== name) tick.phases.push(name);
  };
  const line = (): void => {
    notePhase();
    const p = get('price-api');
    const to = get('price-api:attempt');
    const cb = get(breakerName);
    const bh = get('price-api:bulkhead');
    const events = [...transitions, ...[...seen].map(([k, v]) => `${k}×${v}`)].join(' ');
    transitions.length = 0;
    seen.clear();
    const t = (performance.now() - started) / 1000 / scale;
    const timeouts = to?.timeouts ?? 0;
    console.log(
      `${t.toFixed(1).padStart(5)}s  ${tick.phases.join('→').padEnd(17)}  ${(cb?.state ?? '?').padEnd(8)} ${n(tick.calls)} ${n(tick.fresh)} ${n(tick.fallback)} ${n(tick.failed)} | ${n(timeouts, 7)} ${n((to?.failures ?? 0) - timeouts)} ${n((cb?.rejections ?? 0) + (bh?.rejections ?? 0))} ${n(get('price-api:retry')?.retries)} | ${ms(p?.latencyMs.p50 ?? 0)} ${ms(p?.latencyMs.p99 ?? 0)}  ${events}`,
    );
    Object.assign(tick, { calls: 0, fresh: 0, fallback: 0, failed: 0, phases: [service.phase().name] });
  };

  // The load: a call every 20 ms, not waiting for the previous ones (as real traffic does).
  const inFlight = new Set<Promise<unknown>>();
  let calls = 0;
  let stales = 0;
  const load = setInterval(() => {
    notePhase();
    calls++;
    const call = stale
      .execute(async () => (await (await http(service.url)).json()) as { price: number | null; stale?: boolean })
      .then(
        (answer) => {
          tick.calls++;
          if (answer.stale === true) {
            stales++;
            tick.fallback++;
          } else tick.fresh++;
        },
        () => {
          tick.calls++;
          tick.failed++;
        },
      )
      .finally(() => inFlight.delete(call));
    inFlight.add(call);
  }, requestEveryMs);
  const ticker = setInterval(line, tickMs);

  await new Promise((resolve) => setTimeout(resolve, totalMs));
  clearInterval(load);
  clearInterval(ticker);
  await Promise.allSettled([...inFlight]);

  await dash.close();
  http.dispose();
  stale.dispose();
  await service.close();
  console.log(
    `\nsummary: opened=${opened} closed=${closed} calls=${calls} fallbacks=${stales} requests=${service.requests}` +
      `\nThe breaker opened ${opened}× while the service was bad and closed again ${closed}× after it recovered;` +
      ` ${stales} of ${calls} calls were answered by the fallback instead of an error.`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
