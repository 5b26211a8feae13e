// Every built-in policy declares its events in its descriptor; the bus's catch-all listener and
// both exporters read those descriptors. This test makes each policy emit every event it declares
// and checks that each one reaches `registry.events.on('event')`, Prometheus's events counter and
// OpenTelemetry's, with the severity the descriptor gives it.
import { describe, it, expect, afterEach } from 'vitest';
import { Registry as PromRegistry } from 'prom-client';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { createRegistry, type BusEvent, type Registry } from '../../src/registry/index.js';
import { collectPrometheus } from '../../src/prometheus/index.js';
import { instrumentOpenTelemetry, ATTR } from '../../src/opentelemetry/index.js';
import { descriptorOf, severityOf } from '../../src/internal/descriptor.js';
import type { Policy } from '../../src/contract.js';
import { ManualClock } from '../../src/testing/index.js';
import { circuitBreaker } from '../../src/circuit-breaker/index.js';
import type { CircuitStore, CircuitStoreBreaker } from '../../src/circuit-breaker/store.js';
import { retry } from '../../src/retry.js';
import { retryBudget } from '../../src/retry-budget.js';
import { timeout } from '../../src/timeout.js';
import { bulkhead } from '../../src/bulkhead.js';
import { fallback } from '../../src/fallback.js';
import { rateLimiter } from '../../src/rate-limiter.js';
import { hedge } from '../../src/hedge.js';
import { adaptiveLimit } from '../../src/adaptive-limit.js';
import { chaos } from '../../src/chaos.js';
import { pipeline } from '../../src/pipeline.js';
import { policyPool } from '../../src/policy-pool.js';
import { backoff } from '../../src/backoff.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const fail = (): Promise<never> => Promise.reject(new Error('boom'));
const never = (): Promise<never> => new Promise<never>(() => {});
/** Settles `p` either way, advancing the clock until it does. */
async function settle(clock: ManualClock, p: Promise<unknown>): Promise<void> {
  let done = false;
  void p.then(
    () => (done = true),
    () => (done = true),
  );
  for (let i = 0; i < 200 && !done; i++) await clock.advance(10);
  expect(done).toBe(true);
}

type Case = (clock: ManualClock, registry: Registry) => Promise<Policy>;

/** For each built-in kind: build one in `registry` and make it emit every event it declares. */
const cases: Record<string, Case> = {
  circuitBreaker: async (clock, registry) => {
    // A store standing in for a shared one, so the store's events can be emitted too.
    let attached: CircuitStoreBreaker | undefined;
    const store: CircuitStore = {
      attach(b) {
        attached = b;
        return { record: (_f, _s, _n, local) => local, acquireTrial: () => true, trialEnded: () => false, transitioned() {}, reset() {}, dispose() {} };
      },
    };
    const p = circuitBreaker({
      name: 'circuitBreaker',
      clock,
      registry,
      store,
      window: { type: 'count', size: 2 },
      minimumCalls: 1,
      openDurationMs: 50,
    });
    await p.execute(() => 1); // success
    await settle(clock, p.execute(fail)); // failure, stateChange to open
    await settle(clock, p.execute(() => 1)); // rejected
    attached?.storeEvent('storeError', new Error('store down'));
    attached?.storeEvent('storeRecovered');
    return p;
  },
  retry: async (clock, registry) => {
    const budget = retryBudget({ ratio: 0, minPerSecond: 0.1, windowMs: 10_000, clock });
    const p = retry({ name: 'retry', clock, registry, maxAttempts: 2, backoff: backoff.constant(1), budget });
    await p.execute(() => 1); // success
    await settle(clock, p.execute(fail)); // retry, then giveUp
    await settle(clock, p.execute(fail)); // the budget's one extra is spent: budgetExhausted
    return p;
  },
  timeout: async (clock, registry) => {
    const p = timeout({ name: 'timeout', durationMs: 5, clock, registry });
    await settle(clock, p.execute(never));
    return p;
  },
  bulkhead: async (clock, registry) => {
    const p = bulkhead({ name: 'bulkhead', maxConcurrent: 1, clock, registry });
    const held = p.execute(() => new Promise((r) => setTimeout(r, 0)));
    await settle(clock, p.execute(() => 1)); // rejected
    await held;
    return p;
  },
  fallback: async (clock, registry) => {
    const p = fallback(0, { name: 'fallback', clock, registry });
    await p.execute(fail);
    return p;
  },
  rateLimiter: async (clock, registry) => {
    const p = rateLimiter({ name: 'rateLimiter', algorithm: 'tokenBucket', capacity: 1, refillPerSecond: 1, clock, registry });
    await p.execute(() => 1);
    await settle(clock, p.execute(() => 1)); // rejected
    return p;
  },
  hedge: async (clock, registry) => {
    const budget = retryBudget({ ratio: 0, minPerSecond: 0.1, windowMs: 10_000, clock });
    const p = hedge({ name: 'hedge', delayMs: 5, maxHedges: 2, budget, clock, registry });
    // The first attempt answers after 50 ms; the hedges never do.
    const call = p.execute(({ attempt }) => (attempt === 1 ? new Promise((r) => clock.setTimeout(() => r(1), 50)) : never()));
    await clock.advance(5); // hedge (attempt 2)
    await clock.advance(5); // attempt 3 refused by the budget: budgetExhausted
    await settle(clock, call);
    return p;
  },
  adaptiveLimit: async (clock, registry) => {
    const p = adaptiveLimit({ name: 'adaptiveLimit', algorithm: 'aimd', initialLimit: 1, minLimit: 1, maxLimit: 4, clock, registry, window: { minSamples: 1 } } as never);
    const held = p.execute(() => new Promise((r) => setTimeout(r, 0)));
    await settle(clock, p.execute(() => 1)); // rejected
    await held;
    for (let i = 0; i < 20; i++) {
      await p.execute(async () => {
        await clock.advance(2);
        return 1;
      });
    }
    return p;
  },
  chaos: async (clock, registry) => {
    const p = chaos({ name: 'chaos', faultRate: 1, fault: new Error('injected'), clock, registry });
    await settle(clock, p.execute(() => 1));
    return p;
  },
  policyPool: async (clock, registry) => {
    const p = policyPool((_key, name) => timeout({ name, durationMs: 1000, clock }), { name: 'policyPool', maxKeys: 1, clock, registry });
    // Two keys busy at once: the pool grows past maxKeys (overflow); when both are idle, one goes.
    let release = (): void => {};
    const held = p.execute(() => new Promise<void>((r) => (release = r)), { key: 'a' });
    await p.execute(() => 1, { key: 'b' }); // overflow
    release();
    await held;
    await p.execute(() => 1, { key: 'c' }); // evicted
    return p;
  },
  pipeline: async (clock, registry) => {
    const p = pipeline(timeout({ durationMs: 1000, clock }), { name: 'pipeline', clock, registry });
    await p.execute(() => 1);
    return p;
  },
};

describe('descriptors', () => {
  it('every built-in policy declares a descriptor whose kind is its kind', async () => {
    for (const [kind, make] of Object.entries(cases)) {
      const p = await make(new ManualClock(), createRegistry());
      expect(descriptorOf(p)?.kind, kind).toBe(kind);
      expect(p.kind).toBe(kind);
    }
  });

  it.each(Object.keys(cases))('every event %s declares reaches the bus and both exporters', async (kind) => {
    const clock = new ManualClock();
    const registry = createRegistry({ clock });
    const seen: BusEvent[] = [];
    registry.events.on('event', (e) => seen.push(e));
    const prom = new PromRegistry();
    cleanups.push(collectPrometheus(registry, { register: prom }).stop);
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
    const provider = new MeterProvider({ readers: [reader] });
    cleanups.push(() => provider.shutdown());
    cleanups.push(instrumentOpenTelemetry(registry, { meter: provider.getMeter('test') }).stop);

    const policy = await (cases[kind] as Case)(clock, registry);
    const declared = Object.keys(descriptorOf(policy)?.events ?? {});

    const onBus = new Set(seen.filter((e) => e.policy === kind && e['initial'] !== true).map((e) => e.event));
    expect([...onBus].sort()).toEqual([...declared].sort());

    const promEvents = (await prom.getSingleMetric('breakwater_events_total')?.get())?.values ?? [];
    const inProm = new Set(promEvents.filter((v) => v.labels['policy'] === kind && v.value > 0).map((v) => String(v.labels['event'])));
    expect([...inProm].sort()).toEqual([...declared].sort());

    await reader.forceFlush();
    const points = exporter
      .getMetrics()
      .flatMap((rm) => rm.scopeMetrics.flatMap((s) => s.metrics))
      .filter((m) => m.descriptor.name === 'breakwater.policy.events')
      .flatMap((m) => m.dataPoints as Array<{ attributes: Record<string, unknown> }>)
      .filter((p) => p.attributes[ATTR.policyName] === kind);
    const inOtel = new Set(points.map((p) => String(p.attributes[ATTR.eventName])));
    expect([...inOtel].sort()).toEqual([...declared].sort());
    // The severity OpenTelemetry shows is the descriptor's.
    const grade = { error: 'Error', warning: 'Warning', information: 'Information' } as const;
    for (const e of seen.filter((x) => x.policy === kind && x['initial'] !== true)) {
      const expected = grade[severityOf(descriptorOf(policy), e.event, e)];
      const attrs = { [ATTR.eventName]: e.event, [ATTR.eventSeverity]: expected };
      expect(
        points.some((p) => Object.entries(attrs).every(([k, v]) => p.attributes[k] === v)),
        `${kind} ${e.event} graded ${expected}`,
      ).toBe(true);
    }
  });
});
