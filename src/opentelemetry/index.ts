/**
 * `breakwater/opentelemetry`: OpenTelemetry metrics for a registry's policies, modelled on
 * Polly's telemetry, through `@opentelemetry/api` (an optional peer dependency).
 *
 * @example
 * ```ts
 * import { createRegistry } from 'breakwater';
 * import { instrumentOpenTelemetry } from 'breakwater/opentelemetry';
 * import { metrics } from '@opentelemetry/api';
 * const registry = createRegistry();
 * instrumentOpenTelemetry(registry, { meter: metrics.getMeter('my-service') });
 * ```
 *
 * @module
 */
import { type Attributes, type BatchObservableResult, type Meter, type Observable, metrics } from '@opentelemetry/api';
import { type BusEvent, type Registry, TAP, exporterErrors, isRegistry } from '../registry/index.js';
import type { Policy } from '../contract.js';
import { optionsObject, typeError } from '../validate.js';
import { eventSeverity, gauges, statesOf } from '../exporters/gauges.js';

/**
 * Options of {@link instrumentOpenTelemetry}.
 *
 * @example
 * ```ts
 * import { createRegistry } from 'breakwater';
 * import { instrumentOpenTelemetry, type OpenTelemetryOptions } from 'breakwater/opentelemetry';
 * import { metrics } from '@opentelemetry/api';
 * const options: OpenTelemetryOptions = { meter: metrics.getMeter('checkout') };
 * instrumentOpenTelemetry(createRegistry(), options);
 * ```
 */
export interface OpenTelemetryOptions {
  /** The meter to create the instruments with. @defaultValue `metrics.getMeter('breakwater')` */
  readonly meter?: Meter;
}

/**
 * What {@link instrumentOpenTelemetry} returns.
 *
 * @example
 * ```ts
 * import { createRegistry } from 'breakwater';
 * import { instrumentOpenTelemetry } from 'breakwater/opentelemetry';
 * const { stop } = instrumentOpenTelemetry(createRegistry());
 * process.once('SIGTERM', stop);
 * ```
 */
export interface OpenTelemetryHandle {
  /** Stops recording and observing; detaches from the registry. Idempotent; safe to pass around unbound. */
  readonly stop: () => void;
}

/**
 * Attribute names, namespaced as OpenTelemetry asks of library-specific attributes.
 *
 * @example
 * ```ts
 * import { ATTR } from 'breakwater/opentelemetry';
 * // a view keeping only the policy name on the duration histograms
 * const keep = [ATTR.policyName, ATTR.outcome];
 * ```
 */
export const ATTR = Object.freeze({
  policyName: 'breakwater.policy.name',
  policyKind: 'breakwater.policy.kind',
  eventName: 'breakwater.event.name',
  eventSeverity: 'breakwater.event.severity',
  outcome: 'breakwater.outcome',
  state: 'breakwater.state',
  errorType: 'error.type',
});

// Bucket advice for the duration histograms, in ms: in-process calls are often sub-millisecond,
// which the SDK's default boundaries (0, 5, 10, … ms) cannot resolve.
const DURATION_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];

/** OpenTelemetry's severity names for the grades policies declare in their descriptors. */
const SEVERITY = { error: 'Error', warning: 'Warning', information: 'Information' } as const;

/** `error.type` by OpenTelemetry's convention: a stable code if there is one, else the class name. */
function errorType(error: unknown): string {
  if (error !== null && typeof error === 'object') {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code !== '') return code;
    const name = (error as { name?: unknown }).name;
    if (typeof name === 'string' && name !== '') return name;
  }
  return '_OTHER';
}

function isMeter(value: unknown): value is Meter {
  if (value === null || typeof value !== 'object') return false;
  const m = value as Record<string, unknown>;
  return ['createCounter', 'createHistogram', 'createObservableGauge', 'addBatchObservableCallback', 'removeBatchObservableCallback'].every(
    (k) => typeof m[k] === 'function',
  );
}

/**
 * Records OpenTelemetry metrics for every policy of `registry`, with instruments modelled on
 * Polly's (`resilience.polly.strategy.events`, `…attempt.duration`, `…pipeline.duration`):
 *
 * | instrument | type | unit | attributes | what |
 * | --- | --- | --- | --- | --- |
 * | `breakwater.policy.events` | counter | `{event}` | policy name and kind, `breakwater.event.name`, `breakwater.event.severity`, `error.type`, `breakwater.state` (state changes) | every event of every policy |
 * | `breakwater.attempt.duration` | histogram | `ms` | policy name and kind, `breakwater.outcome` | every call each policy (not a pipeline) ran: inside a retry or hedge, one per attempt |
 * | `breakwater.pipeline.duration` | histogram | `ms` | pipeline name, `breakwater.outcome` | every call of every pipeline |
 * | `breakwater.policy.state` | gauge | `1` | policy name and kind, `breakwater.state` | 1 for the current state, 0 for the others |
 * | `breakwater.policy.executing`, `.queued`, `.limit` | gauge | `{call}` | policy name and kind | bulkheads and adaptive limits (`queued`: rate limiters too) |
 * | `breakwater.policy.permits` | gauge | `{permit}` | policy name and kind | permits a call could take now |
 *
 * Policy attributes are `breakwater.policy.name` and `breakwater.policy.kind`; `breakwater.outcome`
 * is `success` or `failure` (rejected calls never ran, so they have no duration: they appear as
 * `rejected` events).
 *
 * When to use: in a service that exports OpenTelemetry metrics. Call it once per registry;
 * policies listed later are picked up.
 *
 * Gotchas: a policy created with `metrics: false` records no durations. Duration histograms
 * carry bucket advice from 0.1 ms to 10 s; a view can override it. OpenTelemetry cannot delete
 * instruments, so after `stop()` they stay registered but record nothing more.
 *
 * @example
 * ```ts
 * import { createRegistry, pipeline, retry, circuitBreaker } from 'breakwater';
 * import { instrumentOpenTelemetry } from 'breakwater/opentelemetry';
 * import { metrics } from '@opentelemetry/api';
 *
 * const registry = createRegistry();
 * const telemetry = instrumentOpenTelemetry(registry, { meter: metrics.getMeter('checkout') });
 * const api = pipeline(retry(), circuitBreaker(), { name: 'payments', registry });
 * // on shutdown: telemetry.stop();
 * ```
 */
export function instrumentOpenTelemetry(registry: Registry, options?: OpenTelemetryOptions): OpenTelemetryHandle {
  const fn = 'instrumentOpenTelemetry';
  if (!isRegistry(registry)) typeError(fn, 'registry', 'a registry (from createRegistry())', registry);
  const o = optionsObject(fn, options);
  const meter = o['meter'] ?? metrics.getMeter('breakwater');
  if (!isMeter(meter)) typeError(fn, 'meter', 'an OpenTelemetry Meter', meter);

  const events = meter.createCounter('breakwater.policy.events', {
    description: 'Events emitted by breakwater policies.',
    unit: '{event}',
  });
  const attempt = meter.createHistogram('breakwater.attempt.duration', {
    description: 'Duration of the calls each breakwater policy ran (per attempt inside a retry or hedge).',
    unit: 'ms',
    advice: { explicitBucketBoundaries: DURATION_BUCKETS },
  });
  const whole = meter.createHistogram('breakwater.pipeline.duration', {
    description: 'Duration of breakwater pipeline calls.',
    unit: 'ms',
    advice: { explicitBucketBoundaries: DURATION_BUCKETS },
  });
  const state = meter.createObservableGauge('breakwater.policy.state', {
    description: 'State of each breakwater policy that has one: 1 for the current state, 0 for the others.',
    unit: '1',
  });
  const executing = meter.createObservableGauge('breakwater.policy.executing', {
    description: 'Calls running inside each bulkhead or adaptive limit.',
    unit: '{call}',
  });
  const queued = meter.createObservableGauge('breakwater.policy.queued', {
    description: 'Calls waiting in the queue of each bulkhead or adaptive limit.',
    unit: '{call}',
  });
  const limit = meter.createObservableGauge('breakwater.policy.limit', {
    description: 'Current concurrency limit of each adaptive limit.',
    unit: '{call}',
  });
  const permits = meter.createObservableGauge('breakwater.policy.permits', {
    description: 'Permits a call could take now, per bulkhead, adaptive limit or limiter.',
    unit: '{permit}',
  });

  // Attribute sets per policy, built once: recording reuses them on every call.
  interface Attrs {
    base: Attributes;
    success: Attributes;
    failure: Attributes;
    states: Set<string>;
  }
  const byName = new Map<string, Attrs>();
  const attrsOf = (name: string, kind: string, policy: Policy | undefined): Attrs => {
    let a = byName.get(name);
    if (a === undefined) {
      const base = { [ATTR.policyName]: name, [ATTR.policyKind]: kind };
      a = {
        base,
        success: { ...base, [ATTR.outcome]: 'success' },
        failure: { ...base, [ATTR.outcome]: 'failure' },
        states: new Set(statesOf(policy)),
      };
      byName.set(name, a);
    }
    return a;
  };

  const failed = exporterErrors(registry, fn);
  // A meter that throws must never reach the policy that emitted the event.
  const onEvent = (e: BusEvent): void => {
    try {
      countEvent(e);
    } catch (error) {
      failed(error);
    }
  };
  const countEvent = (e: BusEvent): void => {
    const policy = registry.get(e.policy);
    const attrs: Attributes = {
      ...attrsOf(e.policy, e.kind, policy).base,
      [ATTR.eventName]: e.event,
      [ATTR.eventSeverity]: SEVERITY[eventSeverity(policy, e)],
    };
    if ('error' in e) attrs[ATTR.errorType] = errorType(e['error']);
    if (e.event === 'stateChange') {
      if (e['initial'] === true) return; // an announcement, not an event
      attrs[ATTR.state] = String(e['to']);
    }
    events.add(1, attrs);
  };
  const untap = registry[TAP]({
    call: (p, outcome, ms) => {
      if (outcome === 'rejected') return;
      const a = attrsOf(p.name, p.kind, p);
      (p.kind === 'pipeline' ? whole : attempt).record(ms > 0 ? ms : 0, outcome === 'success' ? a.success : a.failure);
    },
    removed: (p: Policy) => byName.delete(p.name),
  });
  registry.events.on('event', onEvent);

  const observables: Observable[] = [state, executing, queued, limit, permits];
  const observe = (result: BatchObservableResult): void => {
    for (const p of registry.list()) {
      const a = attrsOf(p.name, p.kind, p);
      const g = gauges(p);
      const current = g.state;
      if (current !== undefined) {
        a.states.add(current);
        for (const s of a.states) result.observe(state, s === current ? 1 : 0, { ...a.base, [ATTR.state]: s });
      }
      if (g.executing !== undefined) result.observe(executing, g.executing, a.base);
      if (g.queued !== undefined) result.observe(queued, g.queued, a.base);
      if (g.limit !== undefined) result.observe(limit, g.limit, a.base);
      if (g.permits !== undefined) result.observe(permits, g.permits, a.base);
    }
  };
  meter.addBatchObservableCallback(observe, observables);

  let stopped = false;
  return {
    stop: (): void => {
      if (stopped) return;
      stopped = true;
      untap();
      registry.events.off('event', onEvent);
      meter.removeBatchObservableCallback(observe, observables);
      byName.clear();
    },
  };
}
