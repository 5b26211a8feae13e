/**
 * The breaker's saved state: what `toJSON()` writes and option `initialState` reads back.
 *
 * Reading validates everything before the breaker applies any of it, so bad input is a
 * `TypeError` or `RangeError` and never a half-restored breaker. Only own data properties are
 * read (a value inherited through the prototype, or a getter, is refused), each exactly once.
 *
 * @module
 */
import { num, oneOf, rangeError, typeError } from '../validate.js';

/**
 * The states of a circuit breaker.
 *
 * @example
 * ```ts
 * import { circuitBreaker, type CircuitState } from 'breakwater';
 * const state: CircuitState = circuitBreaker().state; // 'closed'
 * ```
 */
export type CircuitState = 'closed' | 'open' | 'halfOpen' | 'isolated';

/** The states, in the order `oneOf` lists them in messages. @internal */
export const STATES: readonly CircuitState[] = ['closed', 'open', 'halfOpen', 'isolated'];

/**
 * One bucket of a saved time window.
 *
 * @example
 * ```ts
 * import type { TimeBucketSnapshot } from 'breakwater';
 * const bucket: TimeBucketSnapshot = { calls: 12, failures: 3, slowCalls: 1 };
 * ```
 */
export interface TimeBucketSnapshot {
  /** Calls recorded in the bucket. */
  readonly calls: number;
  /** Handled failures among them. */
  readonly failures: number;
  /** Slow calls among them. */
  readonly slowCalls: number;
}

/**
 * The saved contents of a breaker's window.
 *
 * - `consecutive`: the current run of handled failures.
 * - `count`: the outcomes in the ring, oldest first; each is a bit set: `1` failure, `2` slow
 *   (so `0` a fast success, `3` a slow failure).
 * - `time`: the buckets of the window, oldest first, the last one the bucket current when
 *   saved; `bucketMs` is the bucket width (`durationMs / buckets`).
 *
 * @example
 * ```ts
 * import type { WindowSnapshot } from 'breakwater';
 * const w: WindowSnapshot = { type: 'count', outcomes: [0, 0, 1, 2] };
 * ```
 */
export type WindowSnapshot =
  | { readonly type: 'consecutive'; readonly consecutiveFailures: number }
  | { readonly type: 'count'; readonly outcomes: readonly number[] }
  | { readonly type: 'time'; readonly bucketMs: number; readonly buckets: readonly TimeBucketSnapshot[] };

/**
 * What `circuitBreaker(...).toJSON()` returns: plain, JSON-safe data that option
 * `initialState` accepts back, so a breaker's state survives a restart.
 *
 * @example
 * ```ts
 * import { circuitBreaker, type CircuitBreakerSnapshot } from 'breakwater';
 * const saved: CircuitBreakerSnapshot = circuitBreaker().toJSON();
 * const restored = circuitBreaker({ initialState: JSON.parse(JSON.stringify(saved)) });
 * ```
 */
export interface CircuitBreakerSnapshot {
  /** Format version, `1`. */
  readonly version: 1;
  /** The state when saved. */
  readonly state: CircuitState;
  /** Consecutive openings since the breaker last closed (drives a `Backoff` open duration). */
  readonly openings: number;
  /** While open: milliseconds left of the open period when saved; otherwise `0`. */
  readonly retryAfterMs: number;
  /** Wall-clock time of the save (`Date.now()`), so a restore can subtract the downtime. */
  readonly savedAt: number;
  /** The window's contents when saved. */
  readonly window: WindowSnapshot;
}

/**
 * What option `initialState` accepts: a {@link CircuitBreakerSnapshot}, where every field but
 * `state` may be left out (`openings` defaults to `1` for `open` and `halfOpen`, `0` otherwise;
 * `retryAfterMs` to a whole open period; no `savedAt` means no downtime is subtracted; no
 * `window` means an empty one).
 *
 * @example
 * ```ts
 * import { circuitBreaker, type CircuitBreakerInitialState } from 'breakwater';
 * const initialState: CircuitBreakerInitialState = { state: 'open', retryAfterMs: 5_000 };
 * const breaker = circuitBreaker({ initialState });
 * ```
 */
export interface CircuitBreakerInitialState {
  /** Format version, `1`, when given. */
  readonly version?: 1;
  /** The state to start in. */
  readonly state: CircuitState;
  /** Consecutive openings; default `1` for `open` and `halfOpen`, `0` otherwise. */
  readonly openings?: number;
  /** While open: milliseconds left of the open period; default a whole open period. */
  readonly retryAfterMs?: number;
  /** Wall-clock time of the save (`Date.now()`); the downtime since is subtracted. Default: none subtracted. */
  readonly savedAt?: number;
  /** The window's contents; default empty. */
  readonly window?: WindowSnapshot;
}

/** A validated `initialState`, every field resolved. Not exported from the package. */
export interface RestoredState {
  readonly state: CircuitState;
  readonly openings: number;
  /** `undefined`: a whole open period. */
  readonly retryAfterMs: number | undefined;
  readonly savedAt: number | undefined;
  readonly window: WindowSnapshot | undefined;
}

const P = 'circuitBreaker';
const COUNT = { min: 0, integer: true } as const;

/** Reads an own data property once; refuses inherited values and accessors. */
function field(o: object, key: string, path: string): unknown {
  const d = Object.getOwnPropertyDescriptor(o, key);
  if (d === undefined) {
    if (key in o) throw new TypeError(`${P}: ${path} must be an own property, got an inherited value`);
    return undefined;
  }
  if (!('value' in d)) throw new TypeError(`${P}: ${path} must be a data property, got an accessor`);
  return d.value;
}

function record(value: unknown, path: string): object {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) typeError(P, path, 'an object', value);
  return value;
}

function list(value: unknown, path: string): readonly unknown[] {
  if (!Array.isArray(value)) typeError(P, path, 'an array', value);
  const items: unknown[] = [];
  for (let i = 0; i < value.length; i++) {
    if (!Object.hasOwn(value, i)) throw new TypeError(`${P}: ${path}[${i}] must be an own element, got a hole`);
    items.push(field(value, String(i), `${path}[${i}]`));
  }
  return items;
}

function parseWindow(value: unknown): WindowSnapshot {
  const w = record(value, 'initialState.window');
  const type = oneOf(P, 'initialState.window.type', field(w, 'type', 'initialState.window.type'), ['consecutive', 'count', 'time']);
  if (type === 'consecutive') {
    const n = num(P, 'initialState.window.consecutiveFailures', field(w, 'consecutiveFailures', 'initialState.window.consecutiveFailures'), COUNT);
    return { type, consecutiveFailures: n };
  }
  if (type === 'count') {
    const raw = list(field(w, 'outcomes', 'initialState.window.outcomes'), 'initialState.window.outcomes');
    const outcomes = raw.map((v, i) => num(P, `initialState.window.outcomes[${i}]`, v, { min: 0, max: 3, integer: true }));
    return { type, outcomes };
  }
  const bucketMs = num(P, 'initialState.window.bucketMs', field(w, 'bucketMs', 'initialState.window.bucketMs'), { min: 0, minExclusive: true });
  const raw = list(field(w, 'buckets', 'initialState.window.buckets'), 'initialState.window.buckets');
  const buckets = raw.map((v, i): TimeBucketSnapshot => {
    const path = `initialState.window.buckets[${i}]`;
    const b = record(v, path);
    const calls = num(P, `${path}.calls`, field(b, 'calls', `${path}.calls`), COUNT);
    const failures = num(P, `${path}.failures`, field(b, 'failures', `${path}.failures`), COUNT);
    const slowCalls = num(P, `${path}.slowCalls`, field(b, 'slowCalls', `${path}.slowCalls`), COUNT);
    if (failures > calls) rangeError(P, `${path}.failures`, `an integer <= calls (${calls})`, failures);
    if (slowCalls > calls) rangeError(P, `${path}.slowCalls`, `an integer <= calls (${calls})`, slowCalls);
    return { calls, failures, slowCalls };
  });
  return { type, bucketMs, buckets };
}

/**
 * Validates option `initialState` completely, before anything is applied.
 *
 * @internal
 */
export function parseInitialState(value: unknown): RestoredState {
  const o = record(value, 'initialState');
  const version = field(o, 'version', 'initialState.version');
  if (version !== undefined) num(P, 'initialState.version', version, { min: 1, max: 1, integer: true });
  const state = oneOf(P, 'initialState.state', field(o, 'state', 'initialState.state'), STATES);
  const opened = state === 'open' || state === 'halfOpen';
  const rawOpenings = field(o, 'openings', 'initialState.openings');
  const openings = rawOpenings === undefined ? (opened ? 1 : 0) : num(P, 'initialState.openings', rawOpenings, COUNT);
  // Openings count the reopenings since the breaker last closed: a closed breaker has none, an
  // open or half-open one at least one. Anything else would make the next open duration a lie.
  if (state === 'closed' && openings !== 0) rangeError(P, 'initialState.openings', "0 when state is 'closed'", openings);
  if (opened && openings < 1) rangeError(P, 'initialState.openings', `an integer >= 1 when state is '${state}'`, openings);
  const rawRetry = field(o, 'retryAfterMs', 'initialState.retryAfterMs');
  const retryAfterMs = rawRetry === undefined ? undefined : num(P, 'initialState.retryAfterMs', rawRetry, { min: 0 });
  const rawSaved = field(o, 'savedAt', 'initialState.savedAt');
  const savedAt = rawSaved === undefined ? undefined : num(P, 'initialState.savedAt', rawSaved);
  const rawWindow = field(o, 'window', 'initialState.window');
  const window = rawWindow === undefined ? undefined : parseWindow(rawWindow);
  return Object.freeze({ state, openings, retryAfterMs, savedAt, window });
}
