// A service client class with decorators, and its plain-function twin with `wrap`.
// The catalog service is a local HTTP server that fails now and then.
// Run: npx tsx --tsconfig tsconfig.check.json examples/service-client.ts
// (decorators need a compiler: tsc, tsx, esbuild, swc or Babel; Node's type stripping skips them)
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  backoff,
  cache,
  circuitBreaker,
  coalesce,
  fallback,
  pipeline,
  policyPool,
  retry,
  timeout,
  usePolicy,
} from 'breakwater';

// --- a small catalog service: every third request fails with 503 -------------------------
let served = 0;
const server = createServer((req, res) => {
  served++;
  if (served % 3 === 0) {
    res.writeHead(503).end('busy');
    return;
  }
  const id = req.url?.split('/').pop() ?? '';
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id, name: `Product ${id}`, price: 10 + id.length }));
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

interface Product {
  id: string;
  name: string;
  price: number;
}

async function getJson<T>(url: string, signal?: AbortSignal): Promise<T> {
  const res = await fetch(url, signal === undefined ? {} : { signal });
  if (!res.ok) throw new Error(`HTTP ${res.status} from ${url}`);
  return (await res.json()) as T;
}

// --- the policies, outermost first ---------------------------------------------------------
// The cache sits outside the breakers, so fresh entries answer while a breaker is open;
// coalesce shares one request between concurrent callers of the same product; retries go
// through one breaker per host (a pool), each attempt time-limited.
const products = cache({ ttlMs: 30_000, staleIfErrorMs: 300_000, name: 'products-cache' });
const resilient = pipeline(
  coalesce(),
  retry({ maxAttempts: 3, backoff: backoff.exponential({ initialMs: 20, maxMs: 200 }) }),
  policyPool((_host, name) => circuitBreaker({ name, window: { type: 'consecutive', failures: 5 } })),
  timeout(2000),
);

class CatalogClient {
  requests = 0;
  constructor(private readonly baseUrl: string) {}

  /** Cached and resilient; the key is the product id (the breaker pool's key too). */
  @usePolicy(pipeline(products, resilient), { key: (id: string) => id, signal: 'last' })
  async product(id: string, signal?: AbortSignal): Promise<Product> {
    this.requests++;
    return getJson<Product>(`${this.baseUrl}/products/${id}`, signal);
  }

  /** Recommendations are optional: a fallback answers an empty list once retries give up. */
  @usePolicy(pipeline(fallback([] as Product[]), retry({ maxAttempts: 2, backoff: backoff.constant(10) }), timeout(500)), {
    signal: 'last',
  })
  async recommended(signal?: AbortSignal): Promise<Product[]> {
    this.requests++;
    const one = await getJson<Product>(`${this.baseUrl}/products/rec`, signal);
    return [one];
  }
}

const client = new CatalogClient(base);
// Ten concurrent callers of the same product: one request goes out (coalesce), later ones hit the cache.
const burst = await Promise.all(Array.from({ length: 10 }, () => client.product('42')));
console.log(`burst: ${burst.length} answers, ${client.requests} request(s), first: ${burst[0]?.name}`);
const again = await client.product('42');
console.log(`again: ${again.name} (cache hits ${products.metrics().hits})`);
for (const id of ['1', '2', '3', '4']) {
  const p = await client.product(id);
  console.log(`product ${id}: ${p.name} for ${p.price}`);
}
console.log(`recommended: ${(await client.recommended()).length} item(s)`);
console.log(`client made ${client.requests} requests; the service saw ${served}`);

// --- the same without decorators: wrap a plain function ------------------------------------
const productOf = pipeline(products, resilient).wrap(
  (id: string, signal?: AbortSignal) => getJson<Product>(`${base}/products/${id}`, signal),
  { key: (id) => id, signal: 'last' },
);
const ctl = new AbortController();
console.log(`wrap twin: ${(await productOf('7', ctl.signal)).name}`);

server.close();
