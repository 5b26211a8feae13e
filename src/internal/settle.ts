/**
 * The settlement sink of a fused pair. An outer policy (the breaker) that can admit a call
 * without a promise layer of its own hands its outcome handlers to the policy just inside it (the
 * timeout), which settles its own promise through them. The pipeline pairs them: see
 * `Pipeline.step` and docs/internals.md.
 *
 * @internal
 * @module
 */
import type { Ctx, Fn } from './run.js';

/**
 * An outer policy's outcome handlers: `ok` receives the value and returns what the caller gets
 * (or throws what the caller gets instead), `err` receives the error and always throws what the
 * caller gets. The outer policy then needs no promise and no microtask hop of its own.
 *
 * @internal
 */
export interface SettlementSink {
  readonly ok: (value: unknown) => unknown;
  readonly err: (error: unknown) => never;
}

/**
 * The run hook's real signature: a policy marked {@link SETTLES} takes the sink as a third
 * argument and settles every path through it; any other policy never receives one.
 *
 * @internal
 */
export type Run = <T>(fn: Fn<T>, ctx: Ctx, sink?: SettlementSink) => Promise<T>;

/**
 * On a policy that can hand its {@link SettlementSink} to the policy inside it: `[OBSERVE](ctx)`
 * admits one call exactly as `[RUN]` would and returns the handlers for it, or returns
 * `undefined` without any side effect (the call must then go through `[RUN]`).
 *
 * @internal
 */
export const OBSERVE: unique symbol = Symbol.for('breakwater.observe') as never;
/** The signature of {@link OBSERVE}. @internal */
export type Observe = (ctx: Ctx) => SettlementSink | undefined;

/**
 * Marks a policy whose `[RUN](fn, ctx, sink)` settles every call it returns through `sink` when
 * one is given: on each path (value, error, deadline, dispose, abort), once.
 *
 * @internal
 */
export const SETTLES: unique symbol = Symbol.for('breakwater.settles') as never;

/** The error the caller gets once `sink.err` has seen `error`. @internal */
export function rejectThrough(sink: SettlementSink, error: unknown): unknown {
  try {
    sink.err(error);
  } catch (thrown) {
    return thrown;
  }
  return error; // unreachable for a well-behaved `err`, which always throws
}

/**
 * Settles a promise's two ends with `value` through `sink` (or directly without one): what a
 * settler calls on its success path.
 *
 * @internal
 */
export function fulfilThrough(
  sink: SettlementSink | undefined,
  value: unknown,
  resolve: (value: unknown) => void,
  reject: (error: unknown) => void,
): void {
  if (sink === undefined) return resolve(value);
  let result: unknown;
  try {
    result = sink.ok(value);
  } catch (error) {
    reject(error);
    return;
  }
  resolve(result);
}
