/**
 * The adaptive concurrency limit: a bulkhead whose limit follows measured latency and drops,
 * with the AIMD, Gradient2 and Vegas algorithms of Netflix concurrency-limits.
 *
 * @module
 */
import { COMMON_OPTIONS, HANDLE_OPTIONS, checkKnown } from './known-options.js';
import { AIMD_DEFAULTS, Aimd } from './adaptive/aimd.js';
import { GRADIENT2_DEFAULTS, Gradient2 } from './adaptive/gradient2.js';
import { VEGAS_DEFAULTS, Vegas } from './adaptive/vegas.js';
import { type LimitAlgorithm, type LimitBounds, MIN_RTT_MS, SampleWindow } from './adaptive/window.js';
import type { BulkheadEvents } from './bulkhead.js';
import { PermitPolicy, queueSettings } from './internal/permits.js';
import { handOver } from './internal/waiting-room.js';
import { isBreakwaterError, isLocalRejection } from './errors.js';
import type { Settleable } from './internal/deferred.js';
import { type Classifier, classifier, handlesError, handlesResult, type HandleOptions } from './handle.js';
import { FAILURES, SUCCESSES } from './metrics/rolling-window.js';
import { type Ctx, type Fn, invoke } from './internal/run.js';
import type { CommonOptions, PolicyMetrics } from './contract.js';
import { callerAborted, type Token } from './internal/token.js';
import { num, oneOf, optFn, optionsObject, rangeError } from './validate.js';
import { describePolicy } from './internal/descriptor.js';

/** The limit algorithms: loss-based `aimd`, latency-based `gradient2` and `vegas`. */
export type AdaptiveAlgorithm = 'aimd' | 'gradient2' | 'vegas';

/** How samples are grouped before the algorithm sees them (one limit update per window). */
export interface AdaptiveWindowOptions {
  /** Shortest window in ms. @defaultValue `1000` (or `maxMs`, if smaller) */
  readonly minMs?: number;
  /** Longest window in ms; a window lasts `clamp(2 × its fastest RTT, minMs, maxMs)`. @defaultValue `1000` (or `minMs`, if larger) */
  readonly maxMs?: number;
  /** Fewest samples in a window; a window stays open until it has them. @defaultValue `10` */
  readonly minSamples?: number;
}

/** Options of {@link adaptiveLimit}. */
export interface AdaptiveLimitOptions extends CommonOptions, HandleOptions {
  /** @defaultValue `'gradient2'` */
  readonly algorithm?: AdaptiveAlgorithm;
  /** Limit to start with. @defaultValue `20` (clamped to the bounds you give) */
  readonly initialLimit?: number;
  /** The limit never goes below this. @defaultValue `20` for aimd and gradient2, `1` for vegas */
  readonly minLimit?: number;
  /** The limit never goes above this. @defaultValue `200` for aimd and gradient2, `1000` for vegas */
  readonly maxLimit?: number;
  /** Calls that may wait for a slot, FIFO (an integer >= 0, or `Infinity`). @defaultValue `0` */
  readonly maxQueue?: number;
  /** How long a call may wait in the queue, in ms. @defaultValue no limit */
  readonly queueTimeoutMs?: number;
  /** Sample windows. @defaultValue `{ minMs: 1000, maxMs: 1000, minSamples: 10 }` (Netflix's `WindowedLimit`) */
  readonly window?: AdaptiveWindowOptions;
  /** Randomness for Vegas's probe jitter; inject for deterministic tests. @defaultValue `Math.random` */
  readonly random?: () => number;
}

/** Events of the adaptive limit. */
export interface AdaptiveLimitEvents extends BulkheadEvents {
  /** The limit changed. */
  limitChange: { readonly from: number; readonly to: number };
}

const DEFAULTS: Record<AdaptiveAlgorithm, LimitBounds> = {
  aimd: AIMD_DEFAULTS,
  gradient2: GRADIENT2_DEFAULTS,
  vegas: VEGAS_DEFAULTS,
};

const OK = 0;
const DROP = 1;
const IGNORE = 2;

const K = 'adaptiveLimit';

function optInt(option: string, value: unknown): number | undefined {
  return value === undefined ? undefined : num(K, option, value, { min: 1, integer: true });
}

/** Resolves the bounds: defaults per algorithm, adjusted to the bounds the user gave. */
function bounds(o: Readonly<Record<string, unknown>>, d: LimitBounds): LimitBounds {
  const initial = optInt('initialLimit', o['initialLimit']);
  const min = optInt('minLimit', o['minLimit']);
  const max = optInt('maxLimit', o['maxLimit']);
  const maxLimit = max ?? Math.max(d.maxLimit, min ?? 0, initial ?? 0);
  const minLimit = min ?? Math.min(d.minLimit, initial ?? Infinity, maxLimit);
  if (maxLimit < minLimit) rangeError(K, 'maxLimit', `an integer >= minLimit (${minLimit})`, maxLimit);
  const initialLimit = initial ?? Math.min(Math.max(d.initialLimit, minLimit), maxLimit);
  if (initialLimit < minLimit || initialLimit > maxLimit) {
    rangeError(K, 'initialLimit', `an integer in [${minLimit}, ${maxLimit}] (minLimit, maxLimit)`, initialLimit);
  }
  return { initialLimit, minLimit, maxLimit };
}

function windowOptions(value: unknown): SampleWindow {
  const o = optionsObject(K, value, 'window');
  checkKnown(K, o, ['minMs', 'maxMs', 'minSamples'], 'window option');
  const lo = o['minMs'] === undefined ? undefined : num(K, 'window.minMs', o['minMs'], { min: 0, minExclusive: true });
  const hi = o['maxMs'] === undefined ? undefined : num(K, 'window.maxMs', o['maxMs'], { min: 0, minExclusive: true });
  const minMs = lo ?? Math.min(1000, hi ?? 1000);
  const maxMs = hi ?? Math.max(1000, minMs);
  if (maxMs < minMs) rangeError(K, 'window.maxMs', `a number >= window.minMs (${minMs})`, maxMs);
  const s = o['minSamples'];
  const minSamples = s === undefined ? 10 : num(K, 'window.minSamples', s, { min: 1, integer: true });
  return new SampleWindow(minMs, maxMs, minSamples);
}

/** Is the outcome a drop, a plain sample, or no sample at all? */
function classifyAbort(tok: Token | undefined): number {
  // The call's token aborted: an outer timeout gave up on it (a drop, whatever the work did
  // after), or the caller or a hedge abandoned it (says nothing about the dependency).
  if (tok === undefined || !tok.aborted) return -1;
  return !callerAborted(tok) && isBreakwaterError(tok.reason, 'ETIMEDOUT') ? DROP : IGNORE;
}

/** What the registry, the bus and the exporters know about an adaptive limit. */
const ADAPTIVE_LIMIT = describePolicy({
  kind: 'adaptiveLimit',
  events: { rejected: 'error', limitChange: 'information' },
  gauges: {
    executing: (p: AdaptiveLimitPolicy) => p.executing,
    queued: (p: AdaptiveLimitPolicy) => p.queued,
    limit: (p: AdaptiveLimitPolicy) => p.limit,
    permits: (p: AdaptiveLimitPolicy) => Math.max(0, p.limit - p.executing),
  },
});

/**
 * A bulkhead whose limit adapts. See {@link adaptiveLimit}.
 *
 * @example
 * ```ts
 * import { adaptiveLimit, type AdaptiveLimitPolicy } from 'breakwater';
 * const l: AdaptiveLimitPolicy = adaptiveLimit({ algorithm: 'aimd', minLimit: 5 });
 * console.log(l.limit, l.executing, l.queued);
 * ```
 */
export class AdaptiveLimitPolicy extends PermitPolicy<AdaptiveLimitEvents> {
  /** The algorithm in force. */
  readonly algorithm: AdaptiveAlgorithm;
  /** The bounds in force. */
  readonly minLimit: number;
  /** The upper bound in force. */
  readonly maxLimit: number;
  private readonly classify: Classifier;
  private readonly limiter: LimitAlgorithm;
  private readonly samples: SampleWindow;

  /** @internal Use {@link adaptiveLimit}. */
  constructor(options?: AdaptiveLimitOptions) {
    const o = optionsObject(K, options);
    checkKnown(K, o, [...COMMON_OPTIONS, ...HANDLE_OPTIONS, 'algorithm', 'initialLimit', 'minLimit', 'maxLimit', 'maxQueue', 'queueTimeoutMs', 'window', 'random']);
    const algorithm = oneOf(K, 'algorithm', o['algorithm'], ['aimd', 'gradient2', 'vegas'], 'gradient2');
    const b = bounds(o, DEFAULTS[algorithm]);
    const queue = queueSettings(K, o);
    const samples = windowOptions(o['window']);
    const random = optFn<() => number>(K, 'random', o['random']) ?? Math.random;
    const classify = classifier(K, o);
    super(ADAPTIVE_LIMIT, o, b.initialLimit, queue);
    this.algorithm = algorithm;
    this.minLimit = b.minLimit;
    this.maxLimit = b.maxLimit;
    this.classify = classify;
    this.samples = samples;
    this.limiter = algorithm === 'aimd' ? new Aimd(b) : algorithm === 'gradient2' ? new Gradient2(b) : new Vegas(b, random);
  }

  /** The current concurrency limit. */
  get limit(): number {
    return this.permits;
  }

  /** @internal */
  protected admitted<T>(fn: Fn<T>, ctx: Ctx, started: number, waiter?: Settleable): Promise<T> {
    // On the fast path with metrics on, `started` was read from the clock this very instant.
    const t0 = waiter === undefined && started !== 0 ? started : this.clock.now();
    const inflight = this.executing;
    // A waiter's caller holds the waiter's promise: a throwing `handleResult` reaches it.
    return handOver(invoke(fn, ctx), waiter, (failed, outcome) => this.settle(ctx, t0, inflight, started, failed, outcome));
  }

  /** Samples the outcome, records metrics, and returns the permit (always, and last). */
  private settle(ctx: Ctx, t0: number, inflight: number, started: number, failed: boolean, outcome: unknown): void {
    try {
      const now = this.clock.now();
      const tok = ctx.tok;
      let kind = classifyAbort(tok);
      if (kind < 0) {
        if (!failed) kind = handlesResult(this.classify, outcome) ? DROP : OK;
        else if (isLocalRejection(outcome)) kind = IGNORE;
        else kind = isBreakwaterError(outcome, 'ETIMEDOUT') || handlesError(this.classify, outcome) ? DROP : OK;
      }
      // Sample before the release: a waiter admitted by it already sees the new limit.
      this.sample(now, now - t0, inflight, kind);
      if (!failed) this.recordAt(SUCCESSES, started, now);
      else if (!callerAborted(tok)) this.recordAt(FAILURES, started, now);
    } finally {
      this.release();
    }
  }

  private sample(now: number, rtt: number, inflight: number, kind: number): void {
    if (kind === IGNORE || (kind === OK && rtt < MIN_RTT_MS)) return;
    const w = this.samples;
    if (!w.add(now, rtt, inflight, kind === DROP)) return;
    const next = Math.floor(this.limiter.update(w));
    w.reset();
    const from = this.permits;
    if (next === from) return;
    this.permits = next;
    if (this.events.has('limitChange')) this.events.emit('limitChange', { from, to: next });
  }

  /** @internal */
  protected override addMetrics(m: PolicyMetrics): void {
    super.addMetrics(m);
    m.limit = this.permits;
  }
}

/**
 * A bulkhead whose limit follows the dependency: `{ algorithm, initialLimit, minLimit, maxLimit,
 * maxQueue }`. Calls over the limit queue (up to `maxQueue`, FIFO, leaving on abort or
 * `queueTimeoutMs`) or are rejected with `BulkheadRejectedError`, exactly as by a bulkhead.
 * Each call that ends is a sample: its round-trip time, the calls in flight when it started, and
 * whether it was a drop — a handled failure (`handle`, `handleResult`; by default every error)
 * or a timeout. The caller's own abort, a hedge's cancellation and another policy's local
 * rejection are not samples at all. Samples are grouped into windows (1 s by default), and the
 * algorithm moves the limit once per window:
 *
 * - `aimd`: +1 while the limit is used, ×0.9 on a drop. Needs drops (put a timeout outside it).
 * - `gradient2` (default): follows the ratio of long-term to current latency, guarded against
 *   runaway growth.
 * - `vegas`: estimates the queue at the dependency from the RTT above the no-load RTT.
 *
 * When to use: in front of a dependency whose capacity you do not know or that changes
 * (autoscaling, noisy neighbours); Little's law in action, without a hand-tuned number.
 *
 * Gotchas: put a `timeout` *outside* the limit, so abandoned work keeps its permit and counts as
 * a drop. The limit only grows under load: it never grows while fewer than half its permits are
 * in use (drops still shrink it).
 *
 * @example
 * ```ts
 * import { adaptiveLimit, pipeline, timeout } from 'breakwater';
 * const limit = adaptiveLimit({ algorithm: 'vegas', initialLimit: 10, maxLimit: 500, maxQueue: 50 });
 * limit.events.on('limitChange', ({ from, to }) => console.log(`limit ${from} -> ${to}`));
 * const guarded = pipeline(timeout(2000), limit);
 * await guarded.execute(({ signal }) => fetch('https://api.example.com/search', { signal }));
 * ```
 */
export function adaptiveLimit(options?: AdaptiveLimitOptions): AdaptiveLimitPolicy {
  return new AdaptiveLimitPolicy(options).adopt();
}
