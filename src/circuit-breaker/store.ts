/**
 * The circuit breaker's store seam: where a shared store (breakwater/redis) plugs in. The
 * in-memory default uses none of this: a breaker without a `store` object runs exactly as before.
 *
 * A shared store sees the outcomes the breaker counts and the transitions it makes, decides
 * fleet-wide transitions itself and imposes them on the breaker.
 *
 * @module
 */
import type { Clock } from '../clock.js';
import type { CircuitState, WindowSnapshot } from './state.js';
import type { HealthWindow } from './windows.js';

/**
 * The breaker's settings a shared store needs to decide for the fleet.
 *
 * @example
 * ```ts
 * import type { SharedBreakerConfig } from 'breakwater';
 * const config: SharedBreakerConfig = {
 *   window: { type: 'time', durationMs: 10_000, buckets: 10 },
 *   minimumCalls: 20, failureRateThreshold: 0.5, slowCallRateThreshold: Infinity,
 *   openDurationsMs: [30_000], halfOpenCalls: 1, halfOpenMaxDurationMs: 30_000,
 * };
 * ```
 */
export interface SharedBreakerConfig {
  /** The breaker's window (count or time). */
  readonly window: { readonly type: 'count'; readonly size: number } | { readonly type: 'time'; readonly durationMs: number; readonly buckets: number };
  /** As the breaker option. */
  readonly minimumCalls: number;
  /** As the breaker option. */
  readonly failureRateThreshold: number;
  /** `Infinity` when slow calls do not decide. */
  readonly slowCallRateThreshold: number;
  /** The open durations of the 1st, 2nd, … consecutive opening; the last one repeats. */
  readonly openDurationsMs: readonly number[];
  /** As the breaker option. */
  readonly halfOpenCalls: number;
  /** How long a half-open trial may hold its lease (`halfOpenMaxDurationMs`, else the first open duration). */
  readonly halfOpenMaxDurationMs: number;
}

/**
 * What a shared store sees of one breaker.
 *
 * @example
 * ```ts
 * import type { CircuitStoreBreaker } from 'breakwater';
 * const describe = (b: CircuitStoreBreaker): string => `${b.name} is ${b.state}`;
 * ```
 */
export interface CircuitStoreBreaker {
  /** The breaker's explicit name: its shared identity. */
  readonly name: string;
  /** The breaker's clock. */
  readonly clock: Clock;
  /** The breaker's resolved options, as the store shares them. */
  readonly config: SharedBreakerConfig;
  /** The breaker's current local state. */
  readonly state: CircuitState;
  /** Applies a state decided elsewhere (`retryAfterMs`: time left while open). Isolation wins over it. */
  impose(state: Exclude<CircuitState, 'isolated'>, retryAfterMs: number): void;
  /** Emits `storeError { error }` or `storeRecovered {}` on the breaker's events. */
  storeEvent(event: 'storeError' | 'storeRecovered', error?: unknown): void;
}

/**
 * One breaker's connection to a shared store, returned by {@link CircuitStore.attach}.
 *
 * @example
 * ```ts
 * import type { CircuitStoreSession } from 'breakwater';
 * const idle: CircuitStoreSession = {
 *   record: (_f, _s, _now, local) => local,
 *   acquireTrial: () => true,
 *   trialEnded: () => false,
 *   transitioned: () => {},
 *   reset: () => {},
 *   dispose: () => {},
 * };
 * ```
 */
export interface CircuitStoreSession {
  /**
   * Counts one outcome of a call that ran in the closed state; `local` is the breaker's own
   * window's verdict. Returns true to open now (a store that cannot reach the fleet decides
   * from `local`). Called on the hot path: must not block.
   */
  record(failure: boolean, slow: boolean, now: number, local: boolean): boolean;
  /** A half-open trial wants to run: true, false (the fleet's slots are taken), or a promise of either. */
  acquireTrial(): boolean | Promise<boolean>;
  /**
   * A trial that held a slot ended without failing (`neither`: no verdict, the slot goes back).
   * Returns true when the store decides what follows (the breaker then only frees its slot).
   */
  trialEnded(slow: boolean, neither: boolean): boolean;
  /** The breaker moved on its own (a timer, a failed or hung trial, isolation, reset). */
  transitioned(from: CircuitState, to: CircuitState): void;
  /** The breaker's window was emptied (it closed). */
  reset(): void;
  /** The breaker was disposed. */
  dispose(): void;
}

/**
 * Where a breaker's state lives, for option `store`: `breakwater/redis`'s `redisCircuitStore`
 * shares it across processes. A breaker with a store object needs an explicit `name` and a
 * count or time window.
 *
 * @example
 * ```ts
 * import { circuitBreaker, type CircuitStore } from 'breakwater';
 * declare const store: CircuitStore; // e.g. redisCircuitStore({ client }) from 'breakwater/redis'
 * const breaker = circuitBreaker({ name: 'payments', store });
 * ```
 */
export interface CircuitStore {
  /** Connects a breaker to the store; the session lives until the breaker is disposed. */
  attach(breaker: CircuitStoreBreaker): CircuitStoreSession;
}

/** Is `value` a store object (anything with `attach`)? @internal */
export function isCircuitStore(value: unknown): value is CircuitStore {
  return typeof value === 'object' && value !== null && typeof (value as CircuitStore).attach === 'function';
}

/**
 * The breaker's window when a store is attached: the local window still counts (it decides in an
 * outage), and the store decides from it and the fleet's. @internal
 */
export class SharedWindow implements HealthWindow {
  readonly type: HealthWindow['type'];
  readonly needsClock: boolean;
  constructor(
    private readonly local: HealthWindow,
    readonly session: CircuitStoreSession,
  ) {
    this.type = local.type;
    this.needsClock = local.needsClock;
  }
  record(failure: boolean, slow: boolean, now: number): boolean {
    return this.session.record(failure, slow, now, this.local.record(failure, slow, now));
  }
  reset(): void {
    this.local.reset();
    this.session.reset();
  }
  stop(): void {
    this.local.stop();
  }
  toJSON(now: number): WindowSnapshot {
    return this.local.toJSON(now);
  }
  restore(saved: WindowSnapshot, elapsedMs: number, now: number): void {
    this.local.restore(saved, elapsedMs, now);
  }
}
