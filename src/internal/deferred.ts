/**
 * The deferred: a promise whose two ends are stored on an object of ours (a waiter, a timeout's
 * call, a hedge's run, a sleep), the one way breakwater builds such a promise.
 *
 * Not exported from the package.
 *
 * @module
 */

/** The two ends of a promise, kept until its outcome is known. @internal */
export interface Settleable {
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

let capturedResolve: (value: unknown) => void = () => undefined;
let capturedReject: (error: unknown) => void = () => undefined;
// One executor for every deferred: `new Promise` calls it synchronously, so the resolvers can be
// picked up right after without allocating a closure per call.
const capture = (resolve: (value: unknown) => void, reject: (error: unknown) => void): void => {
  capturedResolve = resolve;
  capturedReject = reject;
};

/**
 * A new promise whose `resolve` and `reject` are stored on `holder`.
 *
 * @internal
 * @example
 * ```ts
 * import { promiseFor, type Settleable } from './deferred.js';
 * const w: Settleable = { resolve: () => {}, reject: () => {} };
 * const p = promiseFor<number>(w);
 * w.resolve(1); // p fulfils with 1
 * ```
 */
export function promiseFor<T>(holder: Settleable): Promise<T> {
  const promise = new Promise<T>(capture as (resolve: (value: T) => void, reject: (error: unknown) => void) => void);
  holder.resolve = capturedResolve;
  holder.reject = capturedReject;
  return promise;
}

/** A placeholder for a holder's ends before {@link promiseFor} sets them. @internal */
export function noop(): void {}
