/**
 * The chaos policy: fault and latency injection (Polly's Simmy), to test that a pipeline
 * survives what it claims to survive.
 *
 * @module
 */
import { COMMON_OPTIONS, checkKnown } from './known-options.js';
import type { AttemptContext, CommonOptions } from './contract.js';
import type { Ctx, Fn } from './internal/run.js';
import { PolicyBase, disposedError } from './policy-base.js';
import { RUN } from './internal/run.js';
import { FAILURES, SUCCESSES } from './metrics/rolling-window.js';
import { callerAborted } from './internal/token.js';
import { num, optFn, optionsObject, typeError } from './validate.js';
import { describePolicy } from './internal/descriptor.js';
import { Sleeps } from './internal/sleep.js';

/** What the registry, the bus and the exporters know about chaos. */
const CHAOS = describePolicy({ kind: 'chaos', events: { chaos: 'information' } });

/** What a fault is: an error to reject with, or a function returning one (called per fault). */
export type ChaosFault = Error | ((ctx: AttemptContext) => unknown);

/** Options of {@link chaos}. */
export interface ChaosOptions extends CommonOptions {
  /** Fraction of calls that fail with `fault` without calling `fn` (in [0, 1]). @defaultValue `0` */
  readonly faultRate?: number;
  /** The injected failure; required when `faultRate > 0`. */
  readonly fault?: ChaosFault;
  /** Fraction of the other calls delayed by `latencyMs` before `fn` starts (in [0, 1]). @defaultValue `0` */
  readonly latencyRate?: number;
  /** The injected delay in ms; required when `latencyRate > 0`. */
  readonly latencyMs?: number;
  /** Whether to inject at all; a function is read on every call (a feature flag). @defaultValue `true` */
  readonly enabled?: boolean | (() => boolean);
  /** Randomness in [0, 1); inject for deterministic tests. @defaultValue `Math.random` */
  readonly random?: () => number;
}

/** Events of the chaos policy. */
export interface ChaosEvents {
  /** A fault or a delay was injected into a call. */
  chaos: { readonly fault?: unknown; readonly latencyMs?: number };
}


/**
 * A policy that injects faults and latency. See {@link chaos}.
 *
 * @example
 * ```ts
 * import { chaos, type ChaosPolicy } from 'breakwater';
 * const c: ChaosPolicy = chaos({ latencyRate: 0.5, latencyMs: 200 });
 * console.log(c.latencyRate, c.latencyMs);
 * ```
 */
export class ChaosPolicy extends PolicyBase<ChaosEvents> {
  /** Probability that a call gets the fault. */
  readonly faultRate: number;
  /** Probability that a call not faulted is delayed. */
  readonly latencyRate: number;
  /** The added delay in milliseconds. */
  readonly latencyMs: number;
  private readonly fault: ChaosFault | undefined;
  private readonly enabled: boolean | (() => boolean);
  private readonly random: () => number;
  /** Pending injected delays, ended by `dispose()`. */
  private readonly delays: Sleeps;

  /** @internal Use {@link chaos}. */
  constructor(options?: ChaosOptions) {
    const o = optionsObject('chaos', options);
    checkKnown('chaos', o, [...COMMON_OPTIONS, 'faultRate', 'fault', 'latencyRate', 'latencyMs', 'enabled', 'random']);
    const rate = { min: 0, max: 1 };
    const faultRate = o['faultRate'] === undefined ? 0 : num('chaos', 'faultRate', o['faultRate'], rate);
    const fault = o['fault'];
    if ((fault !== undefined || faultRate > 0) && !(fault instanceof Error) && typeof fault !== 'function') {
      typeError('chaos', 'fault', 'an Error or a function returning one', fault);
    }
    const latencyRate = o['latencyRate'] === undefined ? 0 : num('chaos', 'latencyRate', o['latencyRate'], rate);
    const latencyMs =
      o['latencyMs'] === undefined && latencyRate === 0 ? 0 : num('chaos', 'latencyMs', o['latencyMs'], { min: 0 });
    const enabled = o['enabled'] === undefined ? true : o['enabled'];
    if (typeof enabled !== 'boolean' && typeof enabled !== 'function') {
      typeError('chaos', 'enabled', 'a boolean or a function', enabled);
    }
    const random = optFn<() => number>('chaos', 'random', o['random']) ?? Math.random;
    super(CHAOS, o);
    this.faultRate = faultRate;
    this.fault = fault as ChaosFault | undefined;
    this.latencyRate = latencyRate;
    this.latencyMs = latencyMs;
    this.enabled = enabled as boolean | (() => boolean);
    this.random = random;
    this.delays = new Sleeps(this.clock);
  }

  /** @internal */
  async [RUN]<T>(fn: Fn<T>, ctx: Ctx): Promise<T> {
    if (this.disposed) throw disposedError(this);
    const started = this.start();
    const enabled = this.enabled;
    // Draws happen only for a rate above 0, so an injected `random` sees one draw per decision.
    if (enabled === true || (enabled !== false && enabled())) {
      if (this.faultRate > 0 && this.random() < this.faultRate) {
        const f = this.fault;
        let fault: unknown;
        try {
          fault = typeof f === 'function' ? f(ctx) : f;
        } catch (error) {
          fault = error;
        }
        if (this.events.has('chaos')) this.events.emit('chaos', { fault });
        this.record(FAILURES, started);
        throw fault;
      }
      if (this.latencyRate > 0 && this.random() < this.latencyRate) {
        if (this.events.has('chaos')) this.events.emit('chaos', { latencyMs: this.latencyMs });
        await this.delay(ctx);
      }
    }
    try {
      const value = await fn(ctx);
      this.record(SUCCESSES, started);
      return value;
    } catch (error) {
      if (!callerAborted(ctx.tok)) this.record(FAILURES, started);
      throw error;
    }
  }

  /** Waits `latencyMs` on the clock; an abort (or `dispose()`) clears the timer and rejects at once. */
  private delay(ctx: Ctx): Promise<void> {
    return this.delays.sleep(this.latencyMs, ctx.tok);
  }

  /** @internal */
  protected override onDispose(): void {
    this.delays.stopAll(disposedError(this));
  }
}

/**
 * Injects faults and latency, to test that a pipeline survives them (Polly's Simmy). Per call,
 * with probability `faultRate` (a draw `random() < faultRate`) the call rejects with `fault`
 * without calling `fn`; otherwise, with probability `latencyRate` (a second draw), `fn` starts
 * after `latencyMs` on the clock. `enabled` may be a function, read on every call, so chaos can be
 * switched on and off at run time (a feature flag, an environment check). Deterministic with an
 * injected `random`.
 *
 * When to use: in staging or in tests, innermost in a pipeline (where the real failures come
 * from), to prove that the retries, the breaker, the timeouts and the fallback really work.
 *
 * Gotchas: a delayed call whose caller aborts rejects at once and the timer is cleared. A fault
 * that is a single `Error` instance is thrown as is on every injection; pass a function for a
 * fresh error (and stack) each time.
 *
 * @example
 * ```ts
 * import { chaos, pipeline, retry, timeout } from 'breakwater';
 * const monkey = chaos({
 *   faultRate: 0.1,
 *   fault: () => new Error('injected'),
 *   latencyRate: 0.2,
 *   latencyMs: 1500,
 *   enabled: () => process.env.CHAOS === '1',
 * });
 * const policy = pipeline(retry({ maxAttempts: 3 }), timeout(1000), monkey);
 * await policy.execute(() => fetch('https://api.example.com/health'));
 * ```
 */
export function chaos(options?: ChaosOptions): ChaosPolicy {
  return new ChaosPolicy(options).adopt();
}
