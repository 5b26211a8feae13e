// Service clients: policyPool lookup, the coalesce and cache hit paths, decorated methods.
import { cache, circuitBreaker, coalesce, policyPool, timeout, usePolicy } from '../dist/esm/index.js';
import { sequential } from './harness.mjs';

const work = async () => 1;

// policyPool: the same breaker, used directly and looked up by key.
const direct = circuitBreaker();
const pool = policyPool(() => circuitBreaker());
const key = { key: 'api.example.com' };
// A pool of 1000 live keys, looking up one among them.
const wide = policyPool(() => circuitBreaker(), { maxKeys: 1000 });
for (let i = 0; i < 1000; i++) await wide.execute(work, { key: `host-${i}` });
const wideKey = { key: 'host-500' };

// Hit paths next to a bare timeout success path.
const bare = timeout(1000);
const hits = cache({ ttlMs: 3_600_000 });
await hits.execute(work, { key: 'user:1' });
const hitKey = { key: 'user:1' };
const shared = coalesce();
const flightKey = { key: 'user:2' };
const twoCallers = () => Promise.all([shared.execute(work, flightKey), shared.execute(work, flightKey)]);

// A decorated method (applied as compiled standard and legacy decorators do) and the same wrap.
const policy = timeout(1000);
class Client {
  constructor() {
    this.base = 1;
  }
  async get(n) {
    return this.base + n;
  }
}
const wrapped = policy.wrap(Client.prototype.get);
const standard = usePolicy(policy)(Client.prototype.get, { kind: 'method', name: 'get' });
const legacy = usePolicy(policy)(Client.prototype, 'get', { value: Client.prototype.get, writable: true, configurable: true }).value;
const perInstance = usePolicy(() => policy)(Client.prototype.get, { kind: 'method', name: 'get' });
const client = new Client();

export const groups = [
  {
    title: 'policyPool: a lookup by key over the same breaker used directly',
    batch: 5000,
    cases: [
      { name: 'circuitBreaker directly', run: sequential(() => direct.execute(work)) },
      { name: 'policyPool (1 key)', run: sequential(() => pool.execute(work, key)) },
      { name: 'policyPool (1000 keys)', run: sequential(() => wide.execute(work, wideKey)) },
      { name: 'bare await', run: sequential(work) },
    ],
    checks: [
      { faster: 'policyPool (1 key)', slower: 'circuitBreaker directly', addsAtMostNs: 50, label: 'policyPool lookup adds at most 50 ns' },
      { faster: 'policyPool (1000 keys)', slower: 'circuitBreaker directly', addsAtMostNs: 50, label: 'policyPool lookup among 1000 keys adds at most 50 ns' },
    ],
  },
  {
    title: 'coalesce and cache hit paths vs a bare timeout success path',
    batch: 5000,
    cases: [
      { name: 'timeout success', run: sequential(() => bare.execute(work)) },
      { name: 'cache hit', run: sequential(() => hits.execute(work, hitKey)) },
      { name: 'coalesce, one caller', run: sequential(() => shared.execute(work, flightKey)) },
      { name: 'coalesce, two callers (per pair)', run: sequential(twoCallers) },
    ],
    checks: [
      { faster: 'cache hit', slower: 'timeout success', atMost: 1, label: 'cache hit no slower than a timeout success' },
      { faster: 'coalesce, one caller', slower: 'timeout success', atMost: 1, label: 'coalesce (one caller) no slower than a timeout success' },
    ],
  },
  {
    title: 'decorated method vs the same wrap',
    batch: 5000,
    cases: [
      { name: 'policy.wrap', run: sequential(() => wrapped.call(client, 1)) },
      { name: '@usePolicy (standard)', run: sequential(() => standard.call(client, 1)) },
      { name: '@usePolicy (legacy)', run: sequential(() => legacy.call(client, 1)) },
      { name: '@usePolicy (per instance)', run: sequential(() => perInstance.call(client, 1)) },
    ],
    checks: [
      { faster: '@usePolicy (standard)', slower: 'policy.wrap', atMost: 1.05, label: 'standard decorator no slower than wrap (5% noise)' },
      { faster: '@usePolicy (legacy)', slower: 'policy.wrap', atMost: 1.05, label: 'legacy decorator no slower than wrap (5% noise)' },
      { faster: '@usePolicy (per instance)', slower: 'policy.wrap', atMost: 1.1, label: 'per-instance decorator within 10% of wrap' },
    ],
  },
];
