/**
 * The run hook: how policies call each other inside breakwater, below the public `execute`.
 * A pipeline calls its members' `[RUN]` directly with one shared {@link Ctx}, so a pipeline of
 * five policies costs one caller-signal listener at most.
 *
 * @internal
 * @module
 */
import type { AttemptContext } from '../contract.js';
import type { Token } from './token.js';

/** Marks an object as a breakwater policy with the internal `run`. `Symbol.for`, so the ESM and CommonJS builds agree. @internal */
export const RUN: unique symbol = Symbol.for('breakwater.run') as never;

/**
 * The context passed to `fn` and between policies. It carries breakwater's internal
 * cancellation token; its `signal` is created only when read.
 *
 * @internal
 */
export class Ctx implements AttemptContext {
  private ctrl: AbortController | undefined = undefined;
  constructor(
    /** @internal */ readonly tok: Token | undefined,
    readonly attempt: number,
    /** @internal The call's key (`ExecuteOptions.key`), passed down to every attempt. */
    readonly key: string | undefined = undefined,
  ) {}

  get signal(): AbortSignal {
    if (this.tok !== undefined) return this.tok.signal;
    // Nobody can abort this call, but user code may still add listeners: a signal per context
    // (never a shared one) keeps them from piling up.
    return (this.ctrl ??= new AbortController()).signal;
  }
}

/** The function a policy runs internally: the user's, or the next policy in a pipeline. @internal */
export type Fn<T> = (ctx: Ctx) => T | PromiseLike<T>;

/** Runs `fn` turning a synchronous throw into a rejection. @internal */
export function invoke<T>(fn: Fn<T>, ctx: Ctx): Promise<T> {
  try {
    return Promise.resolve(fn(ctx));
  } catch (error) {
    return Promise.reject(error);
  }
}
