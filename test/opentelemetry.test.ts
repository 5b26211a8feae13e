import { describe, it, expect, afterEach } from 'vitest';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type DataPoint,
  type Histogram,
  type MetricData,
} from '@opentelemetry/sdk-metrics';
import { instrumentOpenTelemetry, ATTR } from '../src/opentelemetry/index.js';
import { createRegistry } from '../src/registry/index.js';
import { bulkhead } from '../src/bulkhead.js';
import { adaptiveLimit } from '../src/adaptive-limit.js';
import { ManualClock } from '../src/testing/index.js';
import { fullPipeline, run, service } from './traffic.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A meter backed by the SDK and its in-memory exporter; `collect()` returns the latest export. */
function sdk() {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const provider = new MeterProvider({ readers: [reader] });
  cleanups.push(() => provider.shutdown());
  const meter = provider.getMeter('test');
  const collect = async (): Promise<(name: string) => MetricData | undefined> => {
    exporter.reset();
    await reader.forceFlush();
    const metrics = exporter.getMetrics().flatMap((rm) => rm.scopeMetrics.flatMap((s) => s.metrics));
    return (name) => metrics.find((m) => m.descriptor.name === name);
  };
  return { meter, collect };
}

/** The data point of `metric` whose attributes include `attrs`. */
function point<T>(metric: MetricData | undefined, attrs: Record<string, string>): DataPoint<T> | undefined {
  const points = (metric?.dataPoints ?? []) as Array<DataPoint<T>>;
  return points.find((p) => Object.entries(attrs).every(([k, v]) => p.attributes[k] === v));
}

function setup() {
  const clock = new ManualClock();
  const registry = createRegistry({ clock });
  const { meter, collect } = sdk();
  const handle = instrumentOpenTelemetry(registry, { meter });
  cleanups.push(handle.stop);
  const policy = fullPipeline(clock, registry);
  return { clock, registry, collect, handle, policy, svc: service(clock) };
}

const cb = { [ATTR.policyName]: 'cb', [ATTR.policyKind]: 'circuitBreaker' };

describe('instrumentOpenTelemetry', () => {
  it('counts every event with its policy, name, severity, error type and state', async () => {
    const { clock, collect, policy, svc } = setup();
    svc.fail = true;
    expect(await run(clock, policy.execute(svc.call))).toBe('fallback');
    expect(await run(clock, policy.execute(svc.call))).toBe('fallback');
    svc.fail = false;
    await clock.advance(100);
    expect(await run(clock, policy.execute(svc.call))).toBe('ok');

    const get = await collect();
    const events = get('breakwater.policy.events');
    expect(events?.descriptor.unit).toBe('{event}');
    // Sums every matching data point (one per distinct attribute set).
    const count = (attrs: Record<string, string>): number =>
      ((events?.dataPoints ?? []) as Array<DataPoint<number>>)
        .filter((p) => Object.entries(attrs).every(([k, v]) => p.attributes[k] === v))
        .reduce((n, p) => n + p.value, 0);
    const rt = { [ATTR.policyName]: 'rt', [ATTR.policyKind]: 'retry' };
    expect(count({ ...rt, [ATTR.eventName]: 'retry', [ATTR.eventSeverity]: 'Warning', [ATTR.errorType]: 'Error' })).toBe(2);
    expect(count({ ...rt, [ATTR.eventName]: 'giveUp', [ATTR.eventSeverity]: 'Error' })).toBe(2);
    expect(count({ [ATTR.policyName]: 'fb', [ATTR.eventName]: 'fallback' })).toBe(2);
    expect(count({ ...cb, [ATTR.eventName]: 'stateChange', [ATTR.state]: 'open', [ATTR.eventSeverity]: 'Error' })).toBe(1);
    expect(count({ ...cb, [ATTR.eventName]: 'stateChange', [ATTR.state]: 'halfOpen', [ATTR.eventSeverity]: 'Warning' })).toBe(1);
    expect(count({ ...cb, [ATTR.eventName]: 'stateChange', [ATTR.state]: 'closed', [ATTR.eventSeverity]: 'Information' })).toBe(1);
    // The breaker's rejection carries BrokenCircuitError's code as error.type on the retry event.
    expect(count({ ...rt, [ATTR.eventName]: 'giveUp', [ATTR.errorType]: 'ECIRCUITOPEN' })).toBe(1);
    expect(count({ ...cb, [ATTR.eventName]: 'rejected' })).toBe(1);
  });

  it('records attempt and pipeline durations by outcome', async () => {
    const { clock, collect, policy, svc } = setup();
    expect(await run(clock, policy.execute(svc.call))).toBe('ok');
    svc.fail = true;
    expect(await run(clock, policy.execute(svc.call))).toBe('fallback');
    const get = await collect();
    const attempt = get('breakwater.attempt.duration');
    const whole = get('breakwater.pipeline.duration');
    expect(attempt?.descriptor.unit).toBe('ms');
    const to = { [ATTR.policyName]: 'to', [ATTR.policyKind]: 'timeout' };
    const ok = point<Histogram>(attempt, { ...to, [ATTR.outcome]: 'success' })?.value;
    expect(ok).toMatchObject({ count: 1, sum: 20 });
    expect(point<Histogram>(attempt, { ...to, [ATTR.outcome]: 'failure' })?.value).toMatchObject({ count: 2, sum: 40 });
    // The bucket advice resolves in-process latencies: 20 ms lands in (10, 25].
    expect(ok?.buckets.boundaries).toContain(0.1);
    expect(ok?.buckets.counts[ok.buckets.boundaries.indexOf(25)]).toBe(1);
    // The retry's call spans both attempts and the backoff between them.
    expect(point<Histogram>(attempt, { [ATTR.policyName]: 'rt', [ATTR.outcome]: 'failure' })?.value).toMatchObject({ count: 1, sum: 45 });
    // Pipelines go to their own histogram, never to attempts.
    expect(point<Histogram>(whole, { [ATTR.policyName]: 'api', [ATTR.outcome]: 'success' })?.value.count).toBe(2);
    expect(point<Histogram>(attempt, { [ATTR.policyName]: 'api' })).toBeUndefined();
  });

  it('observes state, executing, queued and limit', async () => {
    const { clock, registry, collect, svc } = setup();
    const bh = registry.get('bh') as ReturnType<typeof bulkhead>;
    const calls = [bh.execute(svc.call), bh.execute(svc.call), bh.execute(svc.call)];
    adaptiveLimit({ name: 'al', algorithm: 'aimd', initialLimit: 7, minLimit: 1, maxLimit: 50, clock, registry });
    const get = await collect();
    const value = (name: string, attrs: Record<string, string>): number | undefined => point<number>(get(name), attrs)?.value;
    expect(value('breakwater.policy.state', { ...cb, [ATTR.state]: 'closed' })).toBe(1);
    expect(value('breakwater.policy.state', { ...cb, [ATTR.state]: 'open' })).toBe(0);
    expect(value('breakwater.policy.state', { ...cb, [ATTR.state]: 'halfOpen' })).toBe(0);
    expect(value('breakwater.policy.executing', { [ATTR.policyName]: 'bh' })).toBe(2);
    expect(value('breakwater.policy.queued', { [ATTR.policyName]: 'bh' })).toBe(1);
    expect(value('breakwater.policy.limit', { [ATTR.policyName]: 'al', [ATTR.policyKind]: 'adaptiveLimit' })).toBe(7);
    expect(value('breakwater.policy.permits', { [ATTR.policyName]: 'al' })).toBe(7);
    expect(value('breakwater.policy.permits', { [ATTR.policyName]: 'bh' })).toBe(0);
    await clock.advance(50);
    await Promise.all(calls);
  });

  it('stop() ends recording and observing, and detaches from the registry', async () => {
    const { clock, registry, collect, handle, policy, svc } = setup();
    handle.stop();
    handle.stop();
    expect(registry.get('cb')?.events.listenerCount('stateChange')).toBe(0);
    svc.fail = true;
    await run(clock, policy.execute(svc.call));
    const get = await collect();
    expect(get('breakwater.policy.events')?.dataPoints ?? []).toEqual([]);
    expect(get('breakwater.attempt.duration')?.dataPoints ?? []).toEqual([]);
    expect(get('breakwater.policy.state')?.dataPoints ?? []).toEqual([]);
  });

  it('uses the global meter provider by default', () => {
    const registry = createRegistry();
    const handle = instrumentOpenTelemetry(registry);
    handle.stop();
  });

  it('validates its arguments', () => {
    const { meter } = sdk();
    expect(() => instrumentOpenTelemetry({} as never, { meter })).toThrow(
      new TypeError('instrumentOpenTelemetry: registry must be a registry (from createRegistry()), got an object'),
    );
    expect(() => instrumentOpenTelemetry(createRegistry(), { meter: {} as never })).toThrow(
      new TypeError('instrumentOpenTelemetry: meter must be an OpenTelemetry Meter, got an object'),
    );
    expect(() => instrumentOpenTelemetry(createRegistry(), 1 as never)).toThrow(TypeError);
  });
});
