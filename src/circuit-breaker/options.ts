/**
 * The circuit breaker's options: their types, and validation into a frozen, resolved copy.
 *
 * @module
 */
import { COMMON_OPTIONS, HANDLE_OPTIONS, checkKnown } from '../known-options.js';
import { type Backoff, isBackoff } from '../backoff.js';
import { type Classifier, classifier, type HandleOptions } from '../handle.js';
import type { CommonOptions } from '../contract.js';
import { num, oneOf, optionsObject, optNum, rangeError, show, typeError } from '../validate.js';
import { type CircuitBreakerInitialState, parseInitialState, type RestoredState } from './state.js';
import { type CircuitStore, isCircuitStore, type SharedBreakerConfig } from './store.js';
import { ConsecutiveWindow, CountWindow, type HealthWindow, type RateRule, TimeWindow, type WindowOption } from './windows.js';

/**
 * Options of {@link circuitBreaker}.
 *
 * @example
 * ```ts
 * import { circuitBreaker, backoff, type CircuitBreakerOptions } from 'breakwater';
 * const options: CircuitBreakerOptions = {
 *   window: { type: 'count', size: 50 },
 *   minimumCalls: 10,
 *   openDurationMs: backoff.exponential({ initialMs: 1_000, maxMs: 60_000, jitter: 'none' }),
 * };
 * const breaker = circuitBreaker(options);
 * ```
 */
export interface CircuitBreakerOptions extends HandleOptions, CommonOptions {
  /**
   * What the breaker remembers of recent calls: `{ type: 'consecutive', failures }` (opens after
   * `failures` handled failures in a row), `{ type: 'count', size }` (the last `size` calls) or
   * `{ type: 'time', durationMs, buckets }` (the calls of the last `durationMs` by the clock).
   * @defaultValue `{ type: 'time', durationMs: 10000, buckets: 10 }`
   */
  readonly window?: WindowOption;
  /**
   * Count and time windows: opens when the window's failure rate is `>=` this, in `(0, 1]`.
   * @defaultValue `0.5`
   */
  readonly failureRateThreshold?: number;
  /**
   * Count and time windows: no rate decision before the window holds this many calls (for a
   * count window, at most `size`).
   * @defaultValue `20`
   */
  readonly minimumCalls?: number;
  /** A call at least this slow (milliseconds) is a slow call. @defaultValue none */
  readonly slowCallDurationMs?: number;
  /**
   * Count and time windows: opens when the slow-call rate is `>=` this, in `(0, 1]`.
   * @defaultValue `1`
   */
  readonly slowCallRateThreshold?: number;
  /**
   * How long the breaker stays open (milliseconds), or a `Backoff` whose delays grow with each
   * consecutive reopening and start over once the breaker closes.
   * @defaultValue `30000`
   */
  readonly openDurationMs?: number | Backoff;
  /** Trial calls admitted in half-open. @defaultValue `1` */
  readonly halfOpenCalls?: number;
  /**
   * Trials still unfinished after this long (milliseconds, counted from the moment a trial
   * starts while none is running) reopen the breaker. @defaultValue none (no limit)
   */
  readonly halfOpenMaxDurationMs?: number;
  /** A `toJSON()` result, to carry the breaker's state across a restart. */
  readonly initialState?: CircuitBreakerInitialState;
  /**
   * Where the state lives: `'memory'` (this process alone), or a shared store such as
   * `redisCircuitStore({ client })` from `breakwater/redis`, which shares the state, the window
   * and the half-open trials with every breaker of the same `name` (required then) on the same
   * Redis. A consecutive window cannot be shared. @defaultValue `'memory'`
   */
  readonly store?: 'memory' | CircuitStore;
}

/** Validated options. Not exported from the package. */
export interface Resolved {
  readonly classify: Classifier;
  readonly window: HealthWindow;
  /** `Infinity` when slow calls are not tracked. */
  readonly slowMs: number;
  /** `Infinity` when slow calls do not decide (not tracked, or a consecutive window). */
  readonly slowRate: number;
  readonly openMs: number;
  readonly openBackoff: Backoff | undefined;
  readonly halfOpenCalls: number;
  readonly halfOpenMaxMs: number | undefined;
  readonly initial: RestoredState | undefined;
  /** A shared store, and what it needs to decide for the fleet. */
  readonly store: CircuitStore | undefined;
  readonly shared: SharedBreakerConfig | undefined;
}

const P = 'circuitBreaker';
const BREAKER_OPTIONS = [...COMMON_OPTIONS, ...HANDLE_OPTIONS, 'window', 'failureRateThreshold', 'minimumCalls', 'slowCallDurationMs', 'slowCallRateThreshold', 'openDurationMs', 'halfOpenCalls', 'halfOpenMaxDurationMs', 'initialState', 'store'];
/** Longest timer the runtimes accept; longer ones fire at once in Node. */
export const MAX_TIMER_MS = 2_147_483_647;
const RATE = { min: 0, minExclusive: true, max: 1 } as const;
const DURATION = { min: 0, max: MAX_TIMER_MS } as const;

function healthWindow(value: unknown, rule: RateRule): HealthWindow {
  if (value === undefined) return new TimeWindow(10_000, 10, rule);
  const w = optionsObject(P, value, 'window');
  checkKnown(P, w, ['type', 'failures', 'size', 'durationMs', 'buckets'], 'window option');
  const type = oneOf(P, 'window.type', w['type'], ['consecutive', 'count', 'time']);
  if (type === 'consecutive') {
    return new ConsecutiveWindow(num(P, 'window.failures', w['failures'], { min: 1, integer: true }));
  }
  if (type === 'count') {
    return new CountWindow(num(P, 'window.size', w['size'], { min: 1, max: 1_000_000, integer: true }), rule);
  }
  const durationMs = optNum(P, 'window.durationMs', w['durationMs'], 10_000, { min: 0, minExclusive: true });
  const buckets = optNum(P, 'window.buckets', w['buckets'], 10, { min: 1, max: 1000, integer: true });
  return new TimeWindow(durationMs, buckets, rule);
}

/** Validates every option; nothing is kept from a failed validation. @internal */
export function resolve(o: Readonly<Record<string, unknown>>): Resolved {
  checkKnown(P, o, BREAKER_OPTIONS);
  const classify = classifier(P, o);
  const failureRate = optNum(P, 'failureRateThreshold', o['failureRateThreshold'], 0.5, RATE);
  const minimumCalls = optNum(P, 'minimumCalls', o['minimumCalls'], 20, { min: 1, integer: true });
  const rawSlow = o['slowCallDurationMs'];
  const slowMs = rawSlow === undefined ? Infinity : num(P, 'slowCallDurationMs', rawSlow, { min: 0, minExclusive: true });
  const slowThreshold = optNum(P, 'slowCallRateThreshold', o['slowCallRateThreshold'], 1, RATE);
  const slowRate = slowMs === Infinity ? Infinity : slowThreshold;
  const window = healthWindow(o['window'], { minimumCalls, failureRate, slowRate });

  const open = o['openDurationMs'];
  let openMs = 30_000;
  let openBackoff: Backoff | undefined;
  if (isBackoff(open)) openBackoff = open;
  else if (typeof open === 'number') openMs = num(P, 'openDurationMs', open, DURATION);
  else if (open !== undefined) typeError(P, 'openDurationMs', 'a number or a Backoff', open);

  const halfOpenCalls = optNum(P, 'halfOpenCalls', o['halfOpenCalls'], 1, { min: 1, integer: true });
  const rawMax = o['halfOpenMaxDurationMs'];
  const halfOpenMaxMs = rawMax === undefined ? undefined : num(P, 'halfOpenMaxDurationMs', rawMax, { ...DURATION, min: 0, minExclusive: true });

  const store = o['store'];
  let shared: SharedBreakerConfig | undefined;
  if (isCircuitStore(store)) {
    if (o['name'] === undefined) {
      throw new TypeError(`${P}: a shared store needs an explicit name (the breaker's identity in the store), got undefined`);
    }
    if (window.type === 'consecutive') {
      throw new TypeError(`${P}: window must be a count or time window with a shared store, got ${show(o['window'])}`);
    }
    shared = sharedConfig(o['window'], minimumCalls, failureRate, slowRate, openMs, openBackoff, halfOpenCalls, halfOpenMaxMs);
  } else if (store !== undefined && store !== 'memory') {
    if (typeof store === 'string') rangeError(P, 'store', "'memory' or a store object", store);
    throw new TypeError(`${P}: store must be 'memory' or a store object (with attach()), got ${show(store)}`);
  }
  const rawInitial = o['initialState'];
  const initial = rawInitial === undefined ? undefined : parseInitialState(rawInitial);
  return Object.freeze({
    classify,
    window,
    slowMs,
    // A consecutive window decides on failures alone, also for half-open trials.
    slowRate: window.type === 'consecutive' ? Infinity : slowRate,
    openMs,
    openBackoff,
    halfOpenCalls,
    halfOpenMaxMs,
    initial,
    store: shared === undefined ? undefined : (store as CircuitStore),
    shared,
  });
}

/** The settings a shared store decides with; `Backoff` delays are drawn once, up front. */
function sharedConfig(
  rawWindow: unknown,
  minimumCalls: number,
  failureRateThreshold: number,
  slowCallRateThreshold: number,
  openMs: number,
  openBackoff: Backoff | undefined,
  halfOpenCalls: number,
  halfOpenMaxMs: number | undefined,
): SharedBreakerConfig {
  const w = (rawWindow ?? {}) as Record<string, unknown>;
  const window =
    w['type'] === 'count'
      ? { type: 'count' as const, size: w['size'] as number }
      : { type: 'time' as const, durationMs: (w['durationMs'] as number | undefined) ?? 10_000, buckets: (w['buckets'] as number | undefined) ?? 10 };
  const openDurationsMs: number[] = [];
  if (openBackoff === undefined) openDurationsMs.push(openMs);
  else {
    const it = openBackoff.start();
    for (let i = 0; i < 32; i++) {
      const ms = it.next();
      if (typeof ms !== 'number' || !(ms >= 0)) break;
      openDurationsMs.push(Math.min(ms, MAX_TIMER_MS));
    }
    if (openDurationsMs.length === 0) openDurationsMs.push(openMs);
  }
  return Object.freeze({
    window: Object.freeze(window),
    minimumCalls: window.type === 'count' ? Math.min(minimumCalls, window.size) : minimumCalls,
    failureRateThreshold,
    slowCallRateThreshold,
    openDurationsMs: Object.freeze(openDurationsMs),
    halfOpenCalls,
    halfOpenMaxDurationMs: halfOpenMaxMs ?? (openDurationsMs[0] as number),
  });
}
