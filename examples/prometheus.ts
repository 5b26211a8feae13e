// Prometheus metrics for every policy: a /metrics endpoint on node:http, a pipeline under
// generated traffic, and a scrape of our own endpoint to show what Prometheus would see.
// Run: npx tsx --tsconfig tsconfig.check.json examples/prometheus.ts   (then curl the URL it prints)
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { circuitBreaker, createRegistry, fallback, pipeline, retry, timeout, backoff } from 'breakwater';
import { collectPrometheus } from 'breakwater/prometheus';

const fast = process.env['BREAKWATER_EXAMPLE_FAST'] === '1';
const trafficMs = fast ? 600 : 3000;

// One breakwater registry for the policies, one prom-client registry for the endpoint.
const registry = createRegistry();
const metrics = new Registry();
const exporter = collectPrometheus(registry, { register: metrics, prefix: 'shop_' });

const quotes = pipeline(
  fallback({ price: null }, { name: 'quotes-fallback' }),
  retry({ name: 'quotes-retry', maxAttempts: 2, backoff: backoff.constant(5) }),
  circuitBreaker({ name: 'quotes-breaker', window: { type: 'count', size: 20 }, minimumCalls: 10, failureRateThreshold: 0.3, openDurationMs: 100 }),
  timeout({ name: 'quotes-timeout', durationMs: 30 }),
  { name: 'quotes', registry },
);

// A dependency that is slow or failing some of the time.
async function fetchQuote(signal: AbortSignal): Promise<{ price: number }> {
  const roll = Math.random();
  const ms = roll < 0.1 ? 60 : 2 + Math.random() * 10;
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(t), reject(signal.reason as Error)), { once: true });
  });
  if (roll > 0.8) throw new Error('upstream 503');
  return { price: 42 };
}

const server = http.createServer((req, res) => {
  if (req.url !== '/metrics') {
    res.statusCode = 404;
    res.end();
    return;
  }
  metrics.metrics().then(
    (text) => {
      res.setHeader('content-type', metrics.contentType);
      res.end(text);
    },
    (error: unknown) => {
      res.statusCode = 500;
      res.end(String(error));
    },
  );
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
console.log(`serving ${url} while generating traffic for ${trafficMs} ms`);

// Traffic: a call every 5 ms until the time is up.
const calls: Array<Promise<unknown>> = [];
const load = setInterval(() => calls.push(quotes.execute(({ signal }) => fetchQuote(signal))), 5);
await new Promise((resolve) => setTimeout(resolve, trafficMs));
clearInterval(load);
await Promise.allSettled(calls);

// Scrape ourselves, as Prometheus would, and show a few series.
const text = await (await fetch(url)).text();
const show = text.split('\n').filter((l) => /^shop_(calls_total|state|state_transitions_total)\{policy="quotes-breaker"/.test(l));
console.log(show.join('\n'));

exporter.stop();
quotes.dispose();
for (const p of quotes.policies) p.dispose();
server.close();
server.closeAllConnections();
