// A live dashboard of every policy: serveDashboard() on 127.0.0.1, a pipeline under generated
// traffic, then what a client sees: one snapshot as JSON and one batch of the Hystrix stream.
// Run: npx tsx --tsconfig tsconfig.check.json examples/dashboard.ts   (open the URL it prints)
import { circuitBreaker, createRegistry, fallback, pipeline, timeout, bulkhead } from 'breakwater';
import { serveDashboard, type DashboardSnapshot } from 'breakwater/dashboard';

const fast = process.env['BREAKWATER_EXAMPLE_FAST'] === '1';
const trafficMs = fast ? 500 : 15_000;

const registry = createRegistry();
const prices = pipeline(
  fallback({ price: null }, { name: 'prices-fallback' }),
  circuitBreaker({ name: 'prices-breaker', window: { type: 'count', size: 20 }, minimumCalls: 10, openDurationMs: 2000 }),
  timeout({ name: 'prices-timeout', durationMs: 50 }),
  bulkhead({ name: 'prices-bulkhead', maxConcurrent: 4, maxQueue: 8 }),
  { name: 'prices', registry },
);

// A dependency that is slow or failing some of the time.
const fetchPrice = ({ signal }: { signal: AbortSignal }): Promise<{ price: number }> =>
  new Promise((resolve, reject) => {
    const ms = Math.random() < 0.1 ? 80 : 2 + Math.random() * 20;
    const t = setTimeout(() => (Math.random() < 0.2 ? reject(new Error('HTTP 503')) : resolve({ price: 42 })), ms);
    signal.addEventListener('abort', () => clearTimeout(t), { once: true });
  });

const server = await serveDashboard(registry, { intervalMs: 500 });
console.log(`dashboard: ${server.url}`);

const load = setInterval(() => void prices.execute(fetchPrice), 10);
await new Promise((r) => setTimeout(r, trafficMs));
clearInterval(load);

// What the page reads: the registry's metrics, with each policy's pipeline.
const snap = (await (await fetch(`${server.url}snapshot`)).json()) as DashboardSnapshot;
for (const p of snap.policies) {
  console.log(`${p.name.padEnd(16)} ${p.kind.padEnd(15)} ${String(p.calls).padStart(5)} calls  ${(p.state ?? '').padEnd(8)} group=${p.group ?? '-'}`);
}

// What the Hystrix dashboard reads: the first batch of data: lines.
const res = await fetch(`${server.url}hystrix.stream`);
const reader = res.body!.getReader();
let text = '';
while (!text.includes('HystrixThreadPool')) text += new TextDecoder().decode((await reader.read()).value);
await reader.cancel();
for (const line of text.split('\n').filter((l) => l.startsWith('data: '))) {
  const m = JSON.parse(line.slice(6)) as { type: string; name: string; requestCount?: number; errorPercentage?: number };
  console.log(`${m.type} ${m.name}${m.requestCount === undefined ? '' : `: ${m.requestCount} requests, ${m.errorPercentage}% errors`}`);
}

await server.close();
