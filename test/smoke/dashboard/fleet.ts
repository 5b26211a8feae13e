// A demo-like fleet of policies with live traffic in real time, for the browser tests' screenshot:
// a healthy checkout pipeline, an inventory service that goes down (its breaker opens), a search
// pipeline with hedging and an adaptive limit, and a few standalone policies.
import {
  adaptiveLimit,
  backoff,
  bulkhead,
  circuitBreaker,
  createRegistry,
  fallback,
  hedge,
  pipeline,
  rateLimiter,
  retry,
  timeout,
  type Policy,
  type Registry,
} from '../../../src/index.js';

export interface Fleet {
  registry: Registry;
  /** Stops the traffic and waits for calls in flight. */
  stop(): Promise<void>;
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      reject(signal.reason as Error);
    }, { once: true });
  });

/** A dependency with a latency around `ms` that fails with probability `failRate()`. */
function service(ms: number, failRate: () => number) {
  return async ({ signal }: { signal: AbortSignal }): Promise<string> => {
    const jitter = ms * (0.5 + Math.random() * (Math.random() < 0.05 ? 4 : 1));
    await sleep(jitter, signal);
    if (Math.random() < failRate()) throw new Error('HTTP 503');
    return 'ok';
  };
}

export function startFleet(): Fleet {
  const registry = createRegistry();
  const started = Date.now();
  const inventoryDown = (): number => (Date.now() - started > 1500 ? 0.9 : 0.05);
  const checkout = pipeline(
    fallback('cached', { name: 'checkout-fallback' }),
    retry({ name: 'checkout-retry', maxAttempts: 3, backoff: backoff.exponential({ initialMs: 5, maxMs: 40 }) }),
    circuitBreaker({ name: 'checkout-breaker', minimumCalls: 20 }),
    timeout({ name: 'checkout-timeout', durationMs: 120 }),
    bulkhead({ name: 'checkout-bulkhead', maxConcurrent: 12, maxQueue: 20 }),
    { name: 'checkout-api', registry },
  );
  const inventory = pipeline(
    fallback('unknown', { name: 'inventory-fallback' }),
    circuitBreaker({ name: 'inventory-breaker', minimumCalls: 10, failureRateThreshold: 0.5, openDurationMs: 60_000 }),
    timeout({ name: 'inventory-timeout', durationMs: 80 }),
    { name: 'inventory-api', registry },
  );
  const search = pipeline(
    hedge({ name: 'search-hedge', delayMs: 40, maxHedges: 1 }),
    adaptiveLimit({ name: 'search-limit', algorithm: 'aimd', initialLimit: 8, minLimit: 2, maxLimit: 32 }),
    timeout({ name: 'search-timeout', durationMs: 150 }),
    { name: 'search-api', registry },
  );
  const partner = rateLimiter({ name: 'partner-rate-limit', algorithm: 'tokenBucket', capacity: 20, refillPerSecond: 40, registry });
  const legacy = circuitBreaker({ name: 'legacy-soap-breaker', registry });
  legacy.isolate();
  const reports = bulkhead({ name: 'reports-bulkhead', maxConcurrent: 2, maxQueue: 2, registry });

  const traffic: Array<[Policy, (ctx: { signal: AbortSignal }) => Promise<string>, number]> = [
    [checkout, service(25, () => 0.04), 3],
    [inventory, service(15, inventoryDown), 2],
    [search, service(35, () => 0.02), 2],
    [partner, service(10, () => 0.01), 1],
    [legacy, service(10, () => 0), 1],
    [reports, service(120, () => 0.1), 1],
  ];
  const inFlight = new Set<Promise<unknown>>();
  const timer = setInterval(() => {
    for (const [policy, fn, n] of traffic) {
      for (let i = 0; i < n; i++) {
        const p = policy.execute(fn).catch(() => undefined);
        inFlight.add(p);
        void p.finally(() => inFlight.delete(p));
      }
    }
  }, 10);
  return {
    registry,
    async stop() {
      clearInterval(timer);
      await Promise.allSettled([...inFlight]);
      for (const p of registry.list()) p.dispose();
    },
  };
}
