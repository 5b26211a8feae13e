/**
 * The circuit breaker's options: their types, and validation into a frozen, resolved copy.
 *
 * @module
 */
import { type Backoff, isBackoff } from '../backoff.js';
import { type Classifier, classifier, type HandleOptions } from '../handle.js';
import type { CommonOptions } from '../policy.js';
import { num, oneOf, optionsObject, optNum, rangeError, show, typeError } from '../validate.js';
import { type CircuitBreakerInitialState, parseInitialState, type RestoredState } from './state.js';
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
   * starts while none is running) reopen the breaker, so a hung or abandoned trial cannot hold
   * it half-open for ever. @defaultValue the first open duration (`openDurationMs`, or its
   * `Backoff`'s first delay); `30000` when that is `0`
   */
  readonly halfOpenMaxDurationMs?: number;
  /** A `toJSON()` result, to carry the breaker's state across a restart. */
  readonly initialState?: CircuitBreakerInitialState;
  /**
   * Where the state lives. Only the in-process store exists in this version; a shared store
   * comes with `breakwater/redis`. @defaultValue `'memory'`
   */
  readonly store?: 'memory';
}

/** Validated options. @internal */
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
  /** `undefined`: the default, the first open duration (see the machine's `trialLimit`). */
  readonly halfOpenMaxMs: number | undefined;
  readonly initial: RestoredState | undefined;
}

const P = 'circuitBreaker';
/** Longest timer the runtimes accept; longer ones fire at once in Node. */
export const MAX_TIMER_MS = 2_147_483_647;
const RATE = { min: 0, minExclusive: true, max: 1 } as const;
const DURATION = { min: 0, max: MAX_TIMER_MS } as const;

function healthWindow(value: unknown, rule: RateRule): HealthWindow {
  if (value === undefined) return new TimeWindow(10_000, 10, rule);
  const w = optionsObject(P, value, 'window');
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
  const halfOpenMaxMs =
    rawMax === undefined ? undefined : num(P, 'halfOpenMaxDurationMs', rawMax, { ...DURATION, min: 0, minExclusive: true });

  const store = o['store'];
  if (store !== undefined && store !== 'memory') {
    // A store object is the right type for a later version (breakwater/redis), not for this one.
    if (typeof store === 'object' && store !== null) {
      rangeError(P, 'store', "'memory' (shared stores arrive with breakwater/redis)", store);
    }
    if (typeof store === 'string') rangeError(P, 'store', "'memory'", store);
    throw new TypeError(`${P}: store must be 'memory', got ${show(store)}`);
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
  });
}

