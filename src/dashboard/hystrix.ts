/**
 * The Hystrix event-stream messages: `HystrixCommand` per circuit breaker (and per pipeline
 * holding one) and `HystrixThreadPool` per bulkhead or adaptive limit, with the fields the
 * Hystrix dashboard and Turbine read. A value breakwater cannot know is 0, false or null (as
 * Hystrix itself sends for an unset property), never made up. Numbers are integers, as Hystrix
 * sends them (Turbine sums them as longs).
 *
 * Internal: not exported from the package.
 * @module
 */
import type { Policy, PolicyMetrics } from '../contract.js';
import { membersOf, topology, type RegistryView } from './model.js';

/** The percentiles Hystrix reports, as its JSON keys. */
const PERCENTILES = [0, 25, 50, 75, 90, 95, 99, 99.5, 100] as const;
const KEYS = PERCENTILES.map(String);

/** Policies that hold permits: Hystrix's thread pools. */
const POOL_KINDS = new Set(['bulkhead', 'adaptiveLimit']);

/** A policy and every policy nested inside it, outermost first. */
function flatten(p: Policy, out: Policy[] = []): Policy[] {
  for (const m of membersOf(p)) {
    out.push(m);
    flatten(m, out);
  }
  return out;
}

/**
 * One batch's reads: every policy's metrics and percentiles are read once per batch, however
 * many messages mention the policy (a breaker's metrics feed its own message and its pipeline's).
 */
class Reads {
  private readonly metrics = new Map<Policy, PolicyMetrics>();
  private readonly latency = new Map<Policy, Latencies>();
  of(p: Policy): PolicyMetrics {
    let m = this.metrics.get(p);
    if (m === undefined) this.metrics.set(p, (m = p.metrics()));
    return m;
  }
  latencies(p: Policy): Latencies {
    let l = this.latency.get(p);
    if (l === undefined) this.latency.set(p, (l = latencies(p, this.of(p))));
    return l;
  }
}

interface Latencies {
  mean: number;
  values: Record<string, number>;
}

/** Latency percentiles from the policy's histogram; the summary's where the policy has no accessor. */
function latencies(p: Policy, m: PolicyMetrics): Latencies {
  const fromHistogram = (p as { latencyPercentiles?: (ps: readonly number[]) => number[] | undefined }).latencyPercentiles?.(
    PERCENTILES,
  );
  const l = m.latencyMs;
  // A policy from elsewhere reports only the summary: the percentiles it lacks are unknown (0).
  const v = fromHistogram ?? [l.min, 0, l.p50, 0, l.p90, l.p95, l.p99, 0, l.max];
  const values: Record<string, number> = {};
  KEYS.forEach((k, i) => (values[k] = Math.round(v[i] ?? 0)));
  return { mean: Math.round(l.mean), values };
}

function sum(r: Reads, ps: readonly Policy[], kinds: ReadonlySet<string>, read: (m: PolicyMetrics) => number): number {
  let n = 0;
  for (const p of ps) if (kinds.has(p.kind)) n += read(r.of(p));
  return n;
}

const TIMEOUT = new Set(['timeout']);

/**
 * One `HystrixCommand`. `breaker` supplies the execution counts, `total` (the breaker itself, or
 * the pipeline holding it) the caller's view: total latency, fallbacks, errors thrown.
 */
function command(r: Reads, breaker: Policy, total: Policy, group: string, threadPool: string, inner: readonly Policy[], now: number): object {
  const b = r.of(breaker);
  const t = r.of(total);
  // The breaker's metrics count every error its caller got as a failure: inner timeouts and
  // local rejections (a full bulkhead) included. Hystrix counts those apart.
  const timeouts = Math.min(b.failures, sum(r, inner, TIMEOUT, (m) => m.timeouts));
  const rejected = Math.min(b.failures - timeouts, sum(r, inner, POOL_KINDS, (m) => m.rejections));
  const requestCount = b.successes + b.failures;
  const errorCount = requestCount - b.successes;
  const state = b.state;
  const exec = r.latencies(breaker);
  const tot = r.latencies(total);
  const timeoutPolicy = inner.find((p) => p.kind === 'timeout') as { durationMs?: unknown } | undefined;
  const timeoutMs = typeof timeoutPolicy?.durationMs === 'number' ? timeoutPolicy.durationMs : 0;
  const pool = inner.find((p) => POOL_KINDS.has(p.kind));
  const poolMetrics = pool === undefined ? undefined : r.of(pool);
  const maxConcurrent = (pool as { maxConcurrent?: unknown } | undefined)?.maxConcurrent;
  return {
    type: 'HystrixCommand',
    name: total.name,
    group,
    currentTime: now,
    isCircuitBreakerOpen: state === 'open' || state === 'isolated',
    errorPercentage: requestCount === 0 ? 0 : Math.floor((100 * errorCount) / requestCount),
    errorCount,
    requestCount,
    rollingCountBadRequests: 0,
    rollingCountCollapsedRequests: 0,
    rollingCountEmit: 0,
    rollingCountExceptionsThrown: total === breaker ? b.failures + b.rejections : t.failures,
    rollingCountFailure: b.failures - timeouts - rejected,
    rollingCountFallbackEmit: 0,
    rollingCountFallbackFailure: 0,
    rollingCountFallbackMissing: 0,
    rollingCountFallbackRejection: 0,
    rollingCountFallbackSuccess: total === breaker ? 0 : t.fallbacks,
    rollingCountResponsesFromCache: 0,
    rollingCountSemaphoreRejected: rejected,
    rollingCountShortCircuited: b.rejections,
    rollingCountSuccess: b.successes,
    rollingCountThreadPoolRejected: 0,
    rollingCountTimeout: timeouts,
    currentConcurrentExecutionCount: poolMetrics?.executing ?? 0,
    rollingMaxConcurrentExecutionCount: 0,
    latencyExecute_mean: exec.mean,
    latencyExecute: exec.values,
    latencyTotal_mean: tot.mean,
    latencyTotal: tot.values,
    // The breaker's thresholds are not readable through its public API: unknown, so 0.
    propertyValue_circuitBreakerRequestVolumeThreshold: 0,
    propertyValue_circuitBreakerSleepWindowInMilliseconds: 0,
    propertyValue_circuitBreakerErrorThresholdPercentage: 0,
    propertyValue_circuitBreakerForceOpen: state === 'isolated',
    propertyValue_circuitBreakerForceClosed: false,
    propertyValue_circuitBreakerEnabled: true,
    // breakwater runs no threads: a bulkhead is a semaphore.
    propertyValue_executionIsolationStrategy: 'SEMAPHORE',
    propertyValue_executionIsolationThreadTimeoutInMilliseconds: timeoutMs,
    propertyValue_executionTimeoutInMilliseconds: timeoutMs,
    // A breakwater timeout aborts the attempt's signal, whichever its strategy.
    propertyValue_executionIsolationThreadInterruptOnTimeout: timeoutPolicy !== undefined,
    propertyValue_executionIsolationThreadPoolKeyOverride: null,
    propertyValue_executionIsolationSemaphoreMaxConcurrentRequests:
      typeof maxConcurrent === 'number' ? maxConcurrent : (poolMetrics?.limit ?? 0),
    propertyValue_fallbackIsolationSemaphoreMaxConcurrentRequests: 0,
    propertyValue_metricsRollingStatisticalWindowInMilliseconds: t.windowMs,
    propertyValue_requestCacheEnabled: false,
    propertyValue_requestLogEnabled: false,
    reportingHosts: 1,
    threadPool,
  };
}

function threadPool(r: Reads, p: Policy, now: number): object {
  const m = r.of(p);
  const max = (p as { maxConcurrent?: unknown }).maxConcurrent;
  const size = typeof max === 'number' ? max : (m.limit ?? 0);
  return {
    type: 'HystrixThreadPool',
    name: p.name,
    currentTime: now,
    currentActiveCount: m.executing ?? 0,
    currentCompletedTaskCount: 0,
    currentCorePoolSize: size,
    currentLargestPoolSize: 0,
    currentMaximumPoolSize: size,
    currentPoolSize: size,
    currentQueueSize: m.queued ?? 0,
    currentTaskCount: 0,
    rollingCountThreadsExecuted: m.successes + m.failures,
    rollingMaxActiveThreads: 0,
    rollingCountCommandRejections: m.rejections,
    propertyValue_queueSizeRejectionThreshold: 0,
    propertyValue_metricsRollingStatisticalWindowInMilliseconds: m.windowMs,
    reportingHosts: 1,
  };
}

/**
 * Every Hystrix message for the registry right now, in list order: commands first (breakers,
 * then pipelines holding one), then thread pools, as Hystrix's own stream orders them.
 */
export function hystrixMessages(registry: RegistryView, now: number = Date.now()): object[] {
  const { list, parent } = topology(registry);
  const r = new Reads();
  const commands: object[] = [];
  const pools: object[] = [];
  for (const p of list) {
    if (p.kind === 'circuitBreaker') {
      const pipe = parent.get(p);
      const inside = pipe === undefined ? [] : flatten(pipe);
      const inner = inside.slice(inside.indexOf(p) + 1);
      const pool = inside.find((x) => POOL_KINDS.has(x.kind));
      commands.push(command(r, p, p, pipe?.name ?? p.name, pool?.name ?? p.name, inner, now));
    } else if (p.kind === 'pipeline') {
      const inside = flatten(p);
      const breaker = inside.find((x) => x.kind === 'circuitBreaker');
      if (breaker === undefined) continue;
      const inner = inside.slice(inside.indexOf(breaker) + 1);
      const pool = inside.find((x) => POOL_KINDS.has(x.kind));
      commands.push(command(r, breaker, p, parent.get(p)?.name ?? p.name, pool?.name ?? p.name, inner, now));
    }
    if (POOL_KINDS.has(p.kind)) pools.push(threadPool(r, p, now));
  }
  return [...commands, ...pools];
}
