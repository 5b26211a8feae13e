/**
 * The errors breakwater's own policies raise. All extend {@link BreakwaterError} and carry a
 * stable `code`.
 *
 * @module
 */

/**
 * Marks our errors across copies of the package (the ESM and CommonJS builds loaded side by
 * side get two sets of classes). `Symbol.for` is shared by every copy in a realm, and a foreign
 * error that merely has the same `code` (Node's own socket `ETIMEDOUT`) never carries it.
 */
const BRAND: unique symbol = Symbol.for('breakwater.error') as never;

/**
 * Error codes of breakwater's own errors.
 *
 * @example
 * ```ts
 * import { isBreakwaterError, type BreakwaterErrorCode } from 'breakwater';
 * const local: BreakwaterErrorCode[] = ['EBULKHEADFULL', 'ERATELIMITED'];
 * const isLocal = (e: unknown) => local.some((code) => isBreakwaterError(e, code));
 * ```
 */
export type BreakwaterErrorCode =
  | 'ECIRCUITOPEN'
  | 'ECIRCUITISOLATED'
  | 'ETIMEDOUT'
  | 'EBULKHEADFULL'
  | 'ERATELIMITED'
  | 'EDISPOSED';

/**
 * Base class of every error breakwater raises. Check for it with {@link isBreakwaterError},
 * which also works across two copies of the package.
 *
 * @example
 * ```ts
 * import { isBreakwaterError } from 'breakwater';
 * try { await policy.execute(call); } catch (e) { if (isBreakwaterError(e)) console.log(e.code); }
 * ```
 */
export abstract class BreakwaterError extends Error {
  /** Stable machine-readable code, e.g. `ETIMEDOUT`. */
  abstract readonly code: BreakwaterErrorCode;
  declare readonly [BRAND]: true;
}
Object.defineProperty(BreakwaterError.prototype, BRAND, { value: true });

function setName(ctor: { prototype: Error; name: string }): void {
  Object.defineProperty(ctor.prototype, 'name', { value: ctor.name, writable: true, configurable: true });
}

/**
 * A circuit breaker refused the call: it is open (or half-open with every trial slot taken).
 * `retryAfterMs` is the time left until the breaker tries again.
 *
 * @example
 * ```ts
 * import { BrokenCircuitError } from 'breakwater';
 * const e = new BrokenCircuitError('open', 2500);
 * e.code; // 'ECIRCUITOPEN'
 * ```
 */
export class BrokenCircuitError extends BreakwaterError {
  override readonly code: 'ECIRCUITOPEN' | 'ECIRCUITISOLATED' = 'ECIRCUITOPEN';
  constructor(
    /** The breaker's state when it refused: `'open'`, `'halfOpen'` or `'isolated'`. */
    readonly state: string,
    /** Milliseconds until the breaker will admit a call again (`Infinity` when unknown). */
    readonly retryAfterMs: number,
  ) {
    super(`Circuit is ${state}; calls are refused for ${retryAfterMs} ms`);
  }
}
setName(BrokenCircuitError);

/**
 * A circuit breaker is held open by hand with `isolate()`. `retryAfterMs` is `Infinity`: the
 * breaker will not admit calls until every isolation handle is released.
 *
 * @example
 * ```ts
 * import { IsolatedCircuitError, isBreakwaterError } from 'breakwater';
 * isBreakwaterError(new IsolatedCircuitError(), 'ECIRCUITISOLATED'); // true
 * ```
 */
export class IsolatedCircuitError extends BrokenCircuitError {
  override readonly code = 'ECIRCUITISOLATED' as const;
  constructor() {
    super('isolated', Infinity);
    this.message = 'Circuit is isolated; calls are refused until it is released';
  }
}
setName(IsolatedCircuitError);

/**
 * A call ran past its time limit. Also the `reason` of the attempt's `signal` at the deadline.
 *
 * @example
 * ```ts
 * import { TimeoutError } from 'breakwater';
 * const e = new TimeoutError(500);
 * e.timeoutMs; // 500
 * ```
 */
export class TimeoutError extends BreakwaterError {
  override readonly code = 'ETIMEDOUT' as const;
  constructor(
    /** The limit that was exceeded, in milliseconds. */
    readonly timeoutMs: number,
    options?: { cause?: unknown },
  ) {
    super(`Operation timed out after ${timeoutMs} ms`);
    if (options !== undefined && 'cause' in options) {
      Object.defineProperty(this, 'cause', { value: options.cause, writable: true, configurable: true });
    }
  }
}
setName(TimeoutError);

/**
 * A bulkhead (or adaptive limit) had no free slot and no room in its queue, or the call waited in
 * the queue past `queueTimeoutMs`.
 *
 * @example
 * ```ts
 * import { BulkheadRejectedError } from 'breakwater';
 * const e = new BulkheadRejectedError(10, 0);
 * e.code; // 'EBULKHEADFULL'
 * ```
 */
export class BulkheadRejectedError extends BreakwaterError {
  override readonly code = 'EBULKHEADFULL' as const;
  constructor(
    /** Calls running when this one was refused. */
    readonly executing: number,
    /** Calls waiting when this one was refused. */
    readonly queued: number,
  ) {
    super(`Bulkhead is full (${executing} executing, ${queued} queued)`);
  }
}
setName(BulkheadRejectedError);

/**
 * A rate limiter had no permit for the call within `maxWaitMs`. `retryAfterMs` is when one will
 * be free.
 *
 * @example
 * ```ts
 * import { RateLimitedError } from 'breakwater';
 * const e = new RateLimitedError(120);
 * e.retryAfterMs; // 120
 * ```
 */
export class RateLimitedError extends BreakwaterError {
  override readonly code = 'ERATELIMITED' as const;
  constructor(
    /** Milliseconds until a permit is expected to be available. */
    readonly retryAfterMs: number,
  ) {
    super(`Rate limit exceeded; retry after ${retryAfterMs} ms`);
  }
}
setName(RateLimitedError);

/**
 * The call reached a policy that has been disposed. `policy` is that policy's name.
 *
 * @example
 * ```ts
 * import { retry, isBreakwaterError } from 'breakwater';
 * const r = retry({ name: 'orders' });
 * r.dispose();
 * await r.execute(() => 1).catch((e) => isBreakwaterError(e, 'EDISPOSED') && e.policy); // 'orders'
 * ```
 */
export class DisposedError extends BreakwaterError {
  override readonly code = 'EDISPOSED' as const;
  constructor(
    /** The name of the disposed policy. */
    readonly policy: string,
    /** Its kind, for the message. */
    kind = 'policy',
  ) {
    super(`${kind} '${policy}' is disposed`);
  }
}
setName(DisposedError);

/**
 * Tells whether `error` is one of breakwater's errors, optionally with a given `code`.
 *
 * Works across two copies of the package (ESM and CommonJS builds loaded side by side), and
 * never takes a foreign error that merely has the same `code` (Node's own `ETIMEDOUT`) for ours.
 *
 * @example
 * ```ts
 * import { isBreakwaterError } from 'breakwater';
 * if (isBreakwaterError(err, 'ETIMEDOUT')) console.log('timed out after', err.timeoutMs);
 * ```
 */
export function isBreakwaterError<C extends BreakwaterErrorCode>(
  error: unknown,
  code: C,
): error is ErrorForCode<C>;
export function isBreakwaterError(error: unknown): error is BreakwaterError;
export function isBreakwaterError(error: unknown, code?: BreakwaterErrorCode): boolean {
  if (error === null || typeof error !== 'object') return false;
  if ((error as { [BRAND]?: unknown })[BRAND] !== true) return false;
  return code === undefined || (error as { code?: unknown }).code === code;
}

/**
 * The error class that carries a given code.
 *
 * @example
 * ```ts
 * import type { ErrorForCode } from 'breakwater';
 * type T = ErrorForCode<'ETIMEDOUT'>; // TimeoutError
 * ```
 */
export type ErrorForCode<C extends BreakwaterErrorCode> = C extends 'ECIRCUITOPEN'
  ? BrokenCircuitError
  : C extends 'ECIRCUITISOLATED'
    ? IsolatedCircuitError
    : C extends 'ETIMEDOUT'
      ? TimeoutError
      : C extends 'EBULKHEADFULL'
        ? BulkheadRejectedError
        : C extends 'ERATELIMITED'
          ? RateLimitedError
          : C extends 'EDISPOSED'
            ? DisposedError
            : BreakwaterError;

/**
 * True for a rejection by one of breakwater's own policies that says nothing about the health of
 * the dependency (local back-pressure): a full bulkhead, a rate limit, a nested open breaker.
 *
 * @internal
 */
export function isLocalRejection(error: unknown): boolean {
  if (!isBreakwaterError(error)) return false;
  const code = error.code;
  return code === 'EBULKHEADFULL' || code === 'ERATELIMITED' || code === 'ECIRCUITOPEN' || code === 'ECIRCUITISOLATED';
}
