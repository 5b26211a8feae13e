// breakwater/fetch against a local flaky server: retries that honour Retry-After, a POST that is
// never sent twice, a circuit breaker per origin, and the registry's view of it all.
// Run: npx tsx --tsconfig tsconfig.check.json examples/fetch.ts
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { backoff, createRegistry, isBreakwaterError, retry } from 'breakwater';
import { resilientFetch, HttpStatusError } from 'breakwater/fetch';

// A server that fails in scripted ways, per path: each request takes the next answer.
const scripts: Record<string, Array<[number, Record<string, string>?]>> = {
  '/prices': [[503], [502], [200]],
  '/limited': [[429, { 'retry-after': '1' }], [200]],
  '/orders': [[503], [201]],
  '/keyed-orders': [[503], [201]],
};
const seen: Record<string, number> = {};
const server = http.createServer((req, res) => {
  const path = req.url ?? '/';
  const n = (seen[path] = (seen[path] ?? 0) + 1);
  const script = scripts[path] ?? [[200]];
  const [status, headers] = script[Math.min(n, script.length) - 1] ?? [200];
  req.resume();
  req.on('end', () => {
    res.writeHead(status, { 'content-type': 'text/plain', ...headers });
    res.end(status < 400 ? `ok (${path}, request ${n})` : `failed (${path}, request ${n})`);
  });
});
// A second origin that is down: 500 to everything.
const down = http.createServer((req, res) => {
  seen['down'] = (seen['down'] ?? 0) + 1;
  req.resume();
  res.writeHead(500).end('down');
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
await new Promise<void>((resolve) => down.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const downBase = `http://127.0.0.1:${(down.address() as AddressInfo).port}`;

const registry = createRegistry();
registry.events.on('retry', ({ policy, attempt, delayMs, error }) =>
  console.log(`  [${policy}] attempt ${attempt} failed (${(error as Error).message}); next in ${delayMs.toFixed(0)} ms`),
);
registry.events.on('stateChange', ({ policy, from, to, initial }) => {
  if (initial !== true) console.log(`  [${policy}] ${from} -> ${to}`);
});

// The standard pipeline, with smaller numbers than the defaults so the example runs fast.
const api = resilientFetch({
  name: 'shop',
  registry,
  standard: {
    backoff: backoff.exponential({ initialMs: 20, maxMs: 200 }),
    attemptTimeoutMs: 1000,
    breaker: { minimumCalls: 10, window: { type: 'count', size: 10 } },
  },
});

console.log('1. a GET that fails twice is retried:');
const prices = await api(`${base}/prices`);
console.log(`  -> ${prices.status} ${await prices.text()}`);

console.log('2. a 429 with Retry-After: 1 waits a second before the next attempt:');
const t0 = performance.now();
const limited = await api(`${base}/limited`);
console.log(`  -> ${limited.status} after ${((performance.now() - t0) / 1000).toFixed(1)} s`);

console.log('3. a POST is sent once; the caller gets the 503 back, body readable:');
const order = await api(`${base}/orders`, { method: 'POST', body: JSON.stringify({ sku: 'A1' }) });
console.log(`  -> ${order.status} ${await order.text()} (the server saw ${seen['/orders']} request)`);

console.log("   ...even through the caller's own retry around the client:");
const strict = resilientFetch({ name: 'strict', throwOnStatus: true, standard: { backoff: backoff.constant(10) } });
scripts['/orders-again'] = [[503], [201]];
const mine = retry({ maxAttempts: 5, backoff: backoff.constant(10) });
await mine
  .execute(({ signal }) => strict(`${base}/orders-again`, { method: 'POST', body: '{}', signal }))
  .catch((e: unknown) => console.log(`  -> ${e instanceof HttpStatusError ? e.status : String(e)} (the server saw ${seen['/orders-again']} request)`));

console.log('4. a POST with an Idempotency-Key is retried:');
const keyed = await api(`${base}/keyed-orders`, {
  method: 'POST',
  body: JSON.stringify({ sku: 'A1' }),
  headers: { 'idempotency-key': crypto.randomUUID() },
});
console.log(`  -> ${keyed.status} (the server saw ${seen['/keyed-orders']} requests)`);

console.log('5. an origin that keeps failing: its breaker opens and its calls fail fast; the other origin is not affected:');
let outcome: unknown;
for (let i = 1; i <= 10; i++) {
  outcome = await api(`${downBase}/stock`).catch((e: unknown) => e);
  if (isBreakwaterError(outcome, 'ECIRCUITOPEN')) {
    console.log(`  -> call ${i} ends with ${outcome.code} (retry after ${outcome.retryAfterMs} ms); the down origin saw ${seen["down"]} requests`);
    break;
  }
}
console.log(`  -> the first origin still answers: ${(await api(`${base}/prices`)).status}`);

console.log('6. what the registry lists:');
for (const m of registry.snapshot()) {
  console.log(`  ${m.name.padEnd(34)} ${m.kind.padEnd(14)} calls=${m.calls} failures=${m.failures}${m.state === undefined ? '' : ` state=${m.state}`}`);
}

api.dispose();
strict.dispose();
mine.dispose();
for (const s of [server, down]) {
  s.close();
  s.closeAllConnections();
}
