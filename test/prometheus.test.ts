import { describe, it, expect, afterEach } from 'vitest';
import { Registry, register as globalRegister, openMetricsContentType, type OpenMetricsContentType } from 'prom-client';
import { collectPrometheus } from '../src/prometheus/index.js';
import { createRegistry } from '../src/registry/index.js';
import { fallback } from '../src/fallback.js';
import { timeout } from '../src/timeout.js';
import { bulkhead } from '../src/bulkhead.js';
import { adaptiveLimit } from '../src/adaptive-limit.js';
import { ManualClock } from '../src/testing/index.js';
import type { PolicyEmitter } from '../src/events.js';
import { fullPipeline, run, service } from './traffic.js';

/** Parses the text exposition format into `series → value` (series as printed, labels in order). */
function parse(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}
const key = (name: string, labels: Record<string, string | number>): string =>
  `${name}{${Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(',')}}`;

async function scrape(reg: Registry): Promise<(name: string, labels: Record<string, string | number>) => number | undefined> {
  const text = await reg.metrics();
  const values = parse(text);
  return (name, labels) => values.get(key(name, labels));
}

const stops: Array<() => void> = [];
afterEach(() => {
  for (const s of stops.splice(0)) s();
});

/** A flaky dependency driven by hand: `fail` decides each call's outcome, `ms` its duration. */
function setup() {
  const clock = new ManualClock();
  const registry = createRegistry({ clock });
  const prom = new Registry();
  const handle = collectPrometheus(registry, { register: prom });
  stops.push(() => handle.stop());
  const policy = fullPipeline(clock, registry);
  return { clock, registry, prom, handle, policy, svc: service(clock) };
}

describe('collectPrometheus', () => {
  it('exports calls, latency, events, transitions (half-open included) and state after real traffic', async () => {
    const { clock, prom, policy, svc } = setup();
    let get = await scrape(prom);
    // Before any call: counters of every listed policy read 0, and the breaker's state exists.
    expect(get('breakwater_calls_total', { policy: 'cb', kind: 'circuitBreaker', outcome: 'success' })).toBe(0);
    expect(get('breakwater_state', { policy: 'cb', kind: 'circuitBreaker', state: 'closed' })).toBe(1);
    expect(get('breakwater_state', { policy: 'cb', kind: 'circuitBreaker', state: 'open' })).toBe(0);
    expect(get('breakwater_state', { policy: 'cb', kind: 'circuitBreaker', state: 'halfOpen' })).toBe(0);

    for (let i = 0; i < 3; i++) expect(await run(clock, policy.execute(svc.call))).toBe('ok');
    svc.fail = true;
    // Attempt 1 and 2 fail (retry), then attempt 1 of the next call fails: 3 in a row opens the
    // breaker, and its retry is rejected. Both calls are answered by the fallback.
    expect(await run(clock, policy.execute(svc.call))).toBe('fallback');
    expect(await run(clock, policy.execute(svc.call))).toBe('fallback');
    get = await scrape(prom);
    expect(get('breakwater_state', { policy: 'cb', kind: 'circuitBreaker', state: 'open' })).toBe(1);
    expect(get('breakwater_state', { policy: 'cb', kind: 'circuitBreaker', state: 'closed' })).toBe(0);

    svc.fail = false;
    await clock.advance(100); // the breaker's timer moves it to half-open without a call
    get = await scrape(prom);
    expect(get('breakwater_state', { policy: 'cb', kind: 'circuitBreaker', state: 'halfOpen' })).toBe(1);
    expect(await run(clock, policy.execute(svc.call))).toBe('ok');

    get = await scrape(prom);
    const cb = { policy: 'cb', kind: 'circuitBreaker' };
    expect(get('breakwater_state', { ...cb, state: 'closed' })).toBe(1);
    expect(get('breakwater_calls_total', { ...cb, outcome: 'success' })).toBe(4);
    expect(get('breakwater_calls_total', { ...cb, outcome: 'failure' })).toBe(3);
    expect(get('breakwater_calls_total', { ...cb, outcome: 'rejected' })).toBe(1);
    expect(get('breakwater_state_transitions_total', { ...cb, from: 'closed', to: 'open' })).toBe(1);
    expect(get('breakwater_state_transitions_total', { ...cb, from: 'open', to: 'halfOpen' })).toBe(1);
    expect(get('breakwater_state_transitions_total', { ...cb, from: 'halfOpen', to: 'closed' })).toBe(1);
    expect(get('breakwater_events_total', { ...cb, event: 'stateChange' })).toBe(3);
    expect(get('breakwater_events_total', { ...cb, event: 'rejected' })).toBe(1);
    expect(get('breakwater_events_total', { ...cb, event: 'failure' })).toBe(3);
    expect(get('breakwater_events_total', { ...cb, event: 'success' })).toBe(4);

    const rt = { policy: 'rt', kind: 'retry' };
    expect(get('breakwater_events_total', { ...rt, event: 'retry' })).toBe(2);
    expect(get('breakwater_events_total', { ...rt, event: 'giveUp' })).toBe(2);
    expect(get('breakwater_calls_total', { ...rt, outcome: 'failure' })).toBe(2);
    const fb = { policy: 'fb', kind: 'fallback' };
    expect(get('breakwater_events_total', { ...fb, event: 'fallback' })).toBe(2);
    expect(get('breakwater_calls_total', { ...fb, outcome: 'success' })).toBe(6);
    expect(get('breakwater_calls_total', { policy: 'api', kind: 'pipeline', outcome: 'success' })).toBe(6);

    // The timeout saw 7 calls of 20 ms: all in the 25 ms bucket, none in the 10 ms one.
    const to = { policy: 'to', kind: 'timeout', outcome: 'success' };
    expect(get('breakwater_call_duration_seconds_bucket', { ...to, le: 0.01 })).toBe(0);
    expect(get('breakwater_call_duration_seconds_bucket', { ...to, le: 0.025 })).toBe(4);
    expect(get('breakwater_call_duration_seconds_bucket', { ...to, le: '+Inf' })).toBe(4);
    expect(get('breakwater_call_duration_seconds_count', to)).toBe(4);
    expect(get('breakwater_call_duration_seconds_sum', to)).toBeCloseTo(0.08, 9);
    const toFail = { ...to, outcome: 'failure' };
    expect(get('breakwater_call_duration_seconds_bucket', { ...toFail, le: 0.025 })).toBe(3);
  });

  it('exports bulkhead executing and queued, and an adaptive limit', async () => {
    const { clock, registry, prom, svc } = setup();
    const bh = registry.get('bh') as ReturnType<typeof bulkhead>;
    const calls = [bh.execute(svc.call), bh.execute(svc.call), bh.execute(svc.call)];
    const al = adaptiveLimit({ name: 'al', algorithm: 'aimd', initialLimit: 7, minLimit: 1, maxLimit: 50, clock, registry });
    const get = await scrape(prom);
    expect(get('breakwater_executing', { policy: 'bh', kind: 'bulkhead' })).toBe(2);
    expect(get('breakwater_queued', { policy: 'bh', kind: 'bulkhead' })).toBe(1);
    expect(get('breakwater_limit', { policy: 'al', kind: 'adaptiveLimit' })).toBe(al.limit);
    expect(get('breakwater_executing', { policy: 'al', kind: 'adaptiveLimit' })).toBe(0);
    expect(get('breakwater_executing', { policy: 'to', kind: 'timeout' })).toBeUndefined();
    expect(get('breakwater_permits_available', { policy: 'bh', kind: 'bulkhead' })).toBe(0);
    expect(get('breakwater_permits_available', { policy: 'al', kind: 'adaptiveLimit' })).toBe(al.limit);
    await clock.advance(50);
    await Promise.all(calls);
  });

  it('counts every event kind, including ones it never saw before', async () => {
    const clock = new ManualClock();
    const registry = createRegistry({ clock });
    const prom = new Registry();
    stops.push(collectPrometheus(registry, { register: prom, prefix: 'x_' }).stop);
    const t = timeout({ name: 't', durationMs: 5, clock, registry, metrics: false });
    const call = expect(t.execute(() => new Promise(() => {}))).rejects.toThrow();
    await clock.advance(5);
    await call;
    const get = await scrape(prom);
    expect(get('x_events_total', { policy: 't', kind: 'timeout', event: 'timeout' })).toBe(1);
    // metrics: false records no calls.
    expect(get('x_calls_total', { policy: 't', kind: 'timeout', outcome: 'failure' })).toBe(0);
  });

  it('drops the series of a policy that leaves the registry', async () => {
    const { registry, prom, policy, svc, clock } = setup();
    await run(clock, policy.execute(svc.call));
    expect((await prom.metrics()).includes('policy="bh"')).toBe(true);
    registry.get('bh')?.dispose();
    expect((await prom.metrics()).includes('policy="bh"')).toBe(false);
  });

  it('stop() unregisters every metric and detaches from the registry; it is idempotent', async () => {
    const { registry, prom, handle } = setup();
    const cb = registry.get('cb');
    expect((cb?.events as PolicyEmitter<{ stateChange: unknown }>).has('stateChange')).toBe(true);
    handle.stop();
    handle.stop();
    expect(await prom.metrics()).toBe('\n');
    expect((cb?.events as PolicyEmitter<{ stateChange: unknown }>).has('stateChange')).toBe(false);
    expect(Object.getOwnPropertySymbols(cb).some((s) => s.description === 'breakwater.observer' && (cb as never)[s] !== undefined)).toBe(false);
    // The names are free again.
    stops.push(collectPrometheus(registry, { register: prom }).stop);
  });

  it('refuses a duplicate prefix without touching the prom-client registry', () => {
    const registry = createRegistry();
    const prom = new Registry();
    stops.push(collectPrometheus(registry, { register: prom }).stop);
    const before = prom.getMetricsAsArray().length;
    expect(() => collectPrometheus(registry, { register: prom })).toThrow(/"breakwater_calls_total" is already registered/);
    expect(prom.getMetricsAsArray().length).toBe(before);
  });

  it('uses prom-client’s global register by default', async () => {
    const registry = createRegistry();
    timeout({ name: 'g', durationMs: 5, registry });
    const handle = collectPrometheus(registry);
    try {
      expect(await globalRegister.metrics()).toContain('breakwater_calls_total{policy="g",kind="timeout",outcome="success"} 0');
    } finally {
      handle.stop();
    }
    expect(globalRegister.getSingleMetric('breakwater_calls_total')).toBeUndefined();
  });

  it('works with an OpenMetrics registry, and with getMetricsAsJSON and resetMetrics', async () => {
    const clock = new ManualClock();
    const registry = createRegistry({ clock });
    const prom = new Registry<OpenMetricsContentType>();
    prom.setContentType(openMetricsContentType);
    const handle = collectPrometheus(registry, { register: prom });
    const f = fallback(0, { name: 'f', clock, registry });
    await f.execute(() => 1);
    const text = await prom.metrics();
    expect(text).toContain('breakwater_calls_total{policy="f",kind="fallback",outcome="success"} 1');
    expect(text.endsWith('# EOF\n')).toBe(true);
    const json = await prom.getMetricsAsJSON();
    expect(json.map((m) => m.name)).toContain('breakwater_call_duration_seconds');
    prom.resetMetrics();
    expect(await prom.metrics()).toContain('breakwater_calls_total{policy="f",kind="fallback",outcome="success"} 0');
    handle.stop();
    expect(prom.getMetricsAsArray()).toEqual([]);
  });

  it('validates its arguments', () => {
    const registry = createRegistry();
    const prom = new Registry();
    expect(() => collectPrometheus({} as never, { register: prom })).toThrow(
      new TypeError('collectPrometheus: registry must be a registry (from createRegistry()), got an object'),
    );
    expect(() => collectPrometheus(registry, { register: {} as never })).toThrow(TypeError);
    expect(() => collectPrometheus(registry, { register: prom, prefix: 3 as never })).toThrow(TypeError);
    expect(() => collectPrometheus(registry, { register: prom, prefix: 'bad-prefix' })).toThrow(RangeError);
    expect(() => collectPrometheus(registry, { register: prom, buckets: [] })).toThrow(TypeError);
    expect(() => collectPrometheus(registry, { register: prom, buckets: [0.1, 0.1] })).toThrow(RangeError);
    expect(() => collectPrometheus(registry, { register: prom, buckets: [0.1, 'x' as never] })).toThrow(TypeError);
    expect(prom.getMetricsAsArray()).toEqual([]);
  });

  it('uses custom buckets', async () => {
    const clock = new ManualClock();
    const registry = createRegistry({ clock });
    const prom = new Registry();
    stops.push(collectPrometheus(registry, { register: prom, buckets: [0.005, 1] }).stop);
    const f = fallback(0, { name: 'f', clock, registry });
    const call = f.execute(() => new Promise((r) => clock.setTimeout(() => r(1), 3)));
    await clock.advance(3);
    await call;
    const get = await scrape(prom);
    const labels = { policy: 'f', kind: 'fallback', outcome: 'success' };
    expect(get('breakwater_call_duration_seconds_bucket', { ...labels, le: 0.005 })).toBe(1);
    expect(get('breakwater_call_duration_seconds_bucket', { ...labels, le: 0.0025 })).toBeUndefined();
  });
});
