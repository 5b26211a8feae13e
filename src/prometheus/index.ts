/**
 * `breakwater/prometheus`: exposes a registry's policies to Prometheus through `prom-client`
 * (an optional peer dependency).
 *
 * @example
 * ```ts
 * import { createRegistry } from 'breakwater';
 * import { collectPrometheus } from 'breakwater/prometheus';
 * import { register } from 'prom-client';
 * const registry = createRegistry();
 * collectPrometheus(registry, { register });
 * // GET /metrics → res.end(await register.metrics())
 * ```
 *
 * @module
 */
import { register as globalRegister, type Registry, type RegistryContentType } from 'prom-client';
import { type BusEvent, type Registry as BreakwaterRegistry, TAP, exporterErrors, isRegistry } from '../registry/index.js';
import type { Policy } from '../contract.js';
import { optionsObject, rangeError, show, typeError } from '../validate.js';
import { OUTCOMES, Series } from './series.js';
import { gauges, statesOf } from '../exporters/gauges.js';

/**
 * Options of {@link collectPrometheus}.
 *
 * @example
 * ```ts
 * import { createRegistry } from 'breakwater';
 * import { collectPrometheus, type PrometheusOptions } from 'breakwater/prometheus';
 * import { Registry } from 'prom-client';
 * const options: PrometheusOptions = { register: new Registry(), prefix: 'shop_', buckets: [0.01, 0.1, 1] };
 * collectPrometheus(createRegistry(), options);
 * ```
 */
export interface PrometheusOptions {
  /** The prom-client registry to register the metrics in. @defaultValue prom-client's global `register` */
  readonly register?: Registry<RegistryContentType>;
  /** Prepended to every metric name. @defaultValue `'breakwater_'` */
  readonly prefix?: string;
  /**
   * Upper bounds, in seconds, of the latency histogram's buckets (increasing).
   * @defaultValue `[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]`
   */
  readonly buckets?: readonly number[];
}

/**
 * What {@link collectPrometheus} returns.
 *
 * @example
 * ```ts
 * import { createRegistry } from 'breakwater';
 * import { collectPrometheus } from 'breakwater/prometheus';
 * const { stop } = collectPrometheus(createRegistry());
 * process.once('SIGTERM', stop);
 * ```
 */
export interface PrometheusHandle {
  /** Unregisters the metrics and detaches from the registry. Idempotent; safe to pass around unbound. */
  readonly stop: () => void;
}

const DEFAULT_BUCKETS: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

type Labels = Record<string, string | number>;
interface Value {
  value: number;
  labels: Labels;
  metricName?: string;
}

/**
 * A metric in the shape prom-client's `Registry` reads (`name`, `help`, `type`, `get()`,
 * `reset()`): its values are computed from breakwater's own totals at scrape time, so nothing
 * is pushed into prom-client per call.
 */
class Collected {
  readonly aggregator = 'sum';
  constructor(
    // Not readonly: in OpenMetrics mode prom-client strips a counter's `_total` suffix in place.
    public name: string,
    readonly help: string,
    readonly type: 'counter' | 'gauge' | 'histogram',
    private readonly read: () => Value[],
    private readonly onReset: () => void = () => {},
  ) {}
  get(): Promise<{ name: string; help: string; type: string; values: Value[]; aggregator: string }> {
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, values: this.read(), aggregator: this.aggregator });
  }
  reset(): void {
    this.onReset();
  }
}

/**
 * Exposes every policy of `registry` to Prometheus: registers these metrics (names after
 * `prefix`) in a prom-client registry, each labelled with `policy` (its name) and `kind`:
 *
 * | metric | type | labels | what |
 * | --- | --- | --- | --- |
 * | `calls_total` | counter | `outcome` = `success`, `failure`, `rejected` | calls through each policy |
 * | `call_duration_seconds` | histogram | `outcome` = `success`, `failure` | latency of the calls that ran |
 * | `events_total` | counter | `event` | every event of every kind (`retry`, `timeout`, `stateChange`, …) |
 * | `state_transitions_total` | counter | `from`, `to` | state changes, half-open ones included |
 * | `state` | gauge | `state` | one series per state, 1 for the current one |
 * | `executing`, `queued` | gauge | | bulkheads and adaptive limits (`queued`: rate limiters too) |
 * | `limit` | gauge | | adaptive limits |
 * | `permits_available` | gauge | | permits a call could take now (bulkheads, adaptive limits, limiters with an `available` getter) |
 *
 * When to use: in any service scraped by Prometheus. Create the exporter once, next to the
 * registry; policies added later are picked up as they are listed.
 *
 * Details: counts accumulate from the moment the exporter is attached (a counter of a policy
 * listed with no calls yet reads 0). Counts are cumulative, unlike `metrics()`, whose window
 * rolls. Values are computed at scrape time; per call the exporter adds a few array stores. A
 * policy that leaves the registry (disposed or removed) loses its series.
 *
 * Gotchas: a policy created with `metrics: false` records nothing, so it has no call counts or
 * latencies here (its events and gauges still appear). Registering twice with the same prefix in
 * one prom-client registry throws, as prom-client does for any duplicate name.
 *
 * @example
 * ```ts
 * import http from 'node:http';
 * import { createRegistry, circuitBreaker } from 'breakwater';
 * import { collectPrometheus } from 'breakwater/prometheus';
 * import { Registry } from 'prom-client';
 *
 * const registry = createRegistry();
 * const metrics = new Registry();
 * const exporter = collectPrometheus(registry, { register: metrics, prefix: 'myapp_' });
 * const breaker = circuitBreaker({ name: 'payments', registry });
 * http.createServer(async (_req, res) => {
 *   res.setHeader('content-type', metrics.contentType);
 *   res.end(await metrics.metrics());
 * }).listen(9464);
 * // on shutdown: exporter.stop();
 * ```
 */
export function collectPrometheus(registry: BreakwaterRegistry, options?: PrometheusOptions): PrometheusHandle {
  const fn = 'collectPrometheus';
  if (!isRegistry(registry)) typeError(fn, 'registry', 'a registry (from createRegistry())', registry);
  const o = optionsObject(fn, options);
  const reg = (o['register'] ?? globalRegister) as Registry<RegistryContentType>;
  if (
    reg === null ||
    typeof reg !== 'object' ||
    typeof reg.registerMetric !== 'function' ||
    typeof reg.removeSingleMetric !== 'function' ||
    typeof reg.getSingleMetric !== 'function'
  ) {
    typeError(fn, 'register', 'a prom-client Registry', reg);
  }
  const prefix = o['prefix'] ?? 'breakwater_';
  if (typeof prefix !== 'string') typeError(fn, 'prefix', 'a string', prefix);
  if (prefix !== '' && !NAME.test(prefix)) rangeError(fn, 'prefix', 'a valid Prometheus metric name prefix', prefix);
  const buckets = validBuckets(fn, o['buckets']);

  const series = new Map<string, Series>();
  const seriesOf = (name: string, kind: string, policy: Policy | undefined): Series => {
    let s = series.get(name);
    if (s === undefined) series.set(name, (s = new Series(name, kind, buckets, statesOf(policy))));
    return s;
  };
  /** Series of every listed policy, created at scrape so their counters read 0 from the start. */
  const listed = (): Array<[Policy, Series]> => registry.list().map((p) => [p, seriesOf(p.name, p.kind, p)]);

  const metrics = [
    new Collected(`${prefix}calls_total`, 'Calls through each breakwater policy, by outcome.', 'counter', () => {
      const out: Value[] = [];
      for (const [, s] of listed()) {
        OUTCOMES.forEach((outcome, i) => out.push({ value: s.calls[i] as number, labels: { ...s.labels, outcome } }));
      }
      return out;
    }, () => series.forEach((s) => s.resetCalls())),
    new Collected(`${prefix}call_duration_seconds`, 'Latency of the calls each breakwater policy ran, in seconds.', 'histogram', () => {
      const out: Value[] = [];
      const name = `${prefix}call_duration_seconds`;
      for (const [, s] of listed()) {
        for (let o = 0; o < 2; o++) {
          const labels = { ...s.labels, outcome: OUTCOMES[o] as string };
          const base = o * (buckets.length + 1);
          let acc = 0;
          buckets.forEach((le, i) => {
            acc += s.hist[base + i] as number;
            out.push({ value: acc, labels: { ...labels, le }, metricName: `${name}_bucket` });
          });
          const count = s.calls[o] as number;
          out.push({ value: count, labels: { ...labels, le: '+Inf' }, metricName: `${name}_bucket` });
          out.push({ value: s.sums[o] as number, labels, metricName: `${name}_sum` });
          out.push({ value: count, labels, metricName: `${name}_count` });
        }
      }
      return out;
    }),
    new Collected(`${prefix}events_total`, 'Events emitted by each breakwater policy, by event name.', 'counter', () => {
      const out: Value[] = [];
      for (const s of series.values()) for (const [event, n] of s.events) out.push({ value: n, labels: { ...s.labels, event } });
      return out;
    }, () => series.forEach((s) => s.resetEvents())),
    new Collected(`${prefix}state_transitions_total`, 'State changes of each breakwater policy, by from and to state.', 'counter', () => {
      const out: Value[] = [];
      for (const s of series.values()) for (const t of s.transitions.values()) out.push({ value: t.n, labels: { ...s.labels, from: t.from, to: t.to } });
      return out;
    }),
    new Collected(`${prefix}state`, 'State of each breakwater policy that has one: 1 for the current state, 0 for the others.', 'gauge', () => {
      const out: Value[] = [];
      for (const [p, s] of listed()) {
        const current = gauges(p).state;
        if (current === undefined) continue;
        s.states.add(current);
        for (const state of s.states) out.push({ value: state === current ? 1 : 0, labels: { ...s.labels, state } });
      }
      return out;
    }),
    gauge(`${prefix}executing`, 'Calls running inside each bulkhead or adaptive limit.', 'executing'),
    gauge(`${prefix}queued`, 'Calls waiting in the queue of each bulkhead, adaptive limit or rate limiter.', 'queued'),
    gauge(`${prefix}limit`, 'Current concurrency limit of each adaptive limit.', 'limit'),
    gauge(`${prefix}permits_available`, 'Permits a call could take now, per bulkhead, adaptive limit or limiter.', 'permits'),
  ];
  function gauge(name: string, help: string, field: 'executing' | 'queued' | 'limit' | 'permits'): Collected {
    return new Collected(name, help, 'gauge', () => {
      const out: Value[] = [];
      for (const [p, s] of listed()) {
        const v = gauges(p)[field];
        if (v !== undefined) out.push({ value: v, labels: s.labels });
      }
      return out;
    });
  }

  // Check every name before registering any, so a clash leaves the prom-client registry as it was.
  for (const m of metrics) {
    if (reg.getSingleMetric(m.name) !== undefined) {
      throw new Error(`${fn}: a metric named ${show(m.name)} is already registered (use another prefix or stop the first exporter)`);
    }
  }
  for (const m of metrics) reg.registerMetric(m as never);
  const registered = metrics.map((m) => [m.name, m] as const);

  const failed = exporterErrors(registry, fn);
  const onEvent = (e: BusEvent): void => {
    try {
      if (e.event !== 'dispose') seriesOf(e.policy, e.kind, registry.get(e.policy)).event(e.event, e);
    } catch (error) {
      failed(error);
    }
  };
  registry.events.on('event', onEvent);
  const untap = registry[TAP]({
    call: (p, outcome, ms) => seriesOf(p.name, p.kind, p).call(outcome, ms),
    removed: (p) => series.delete(p.name),
  });

  let stopped = false;
  return {
    stop: (): void => {
      if (stopped) return;
      stopped = true;
      untap();
      registry.events.off('event', onEvent);
      // By the registered names: prom-client renames counters in place in OpenMetrics mode.
      for (const [name, m] of registered) if (reg.getSingleMetric(name) === (m as unknown)) reg.removeSingleMetric(name);
      series.clear();
    },
  };
}

function validBuckets(fn: string, value: unknown): readonly number[] {
  if (value === undefined) return DEFAULT_BUCKETS;
  if (!Array.isArray(value) || value.length === 0) typeError(fn, 'buckets', 'a non-empty array of numbers', value);
  const list = value as unknown[];
  list.forEach((b, i) => {
    if (typeof b !== 'number') typeError(fn, `buckets[${i}]`, 'a number', b);
    if (!Number.isFinite(b) || b <= 0 || (i > 0 && b <= (list[i - 1] as number))) {
      rangeError(fn, `buckets[${i}]`, 'a finite number > 0, greater than the bucket before it', b);
    }
  });
  return Object.freeze(list.slice() as number[]);
}
