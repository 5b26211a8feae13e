/**
 * Failure classification: which errors and which returned values count as failures.
 *
 * @module
 */
import { optFn } from './validate.js';

/**
 * Decides whether a thrown error counts as a failure.
 *
 * @example
 * ```ts
 * import { retry, type ErrorPredicate } from 'breakwater';
 * const transient: ErrorPredicate = (e) => (e as { status?: number }).status === 503;
 * const r = retry({ handle: transient });
 * ```
 */
export type ErrorPredicate = (error: unknown) => boolean;
/**
 * Decides whether a returned value counts as a failure.
 *
 * @example
 * ```ts
 * import { retry, type ResultPredicate } from 'breakwater';
 * const serverError: ResultPredicate = (res) => (res as Response).status >= 500;
 * const r = retry({ handleResult: serverError });
 * ```
 */
export type ResultPredicate = (value: unknown) => boolean;

/**
 * Options shared by the policies that react to failures.
 *
 * @example
 * ```ts
 * import { fallback, handleErrors, type HandleOptions } from 'breakwater';
 * class NetworkError extends Error {}
 * const classify: HandleOptions = { handle: handleErrors(NetworkError), handleResult: (v) => v === undefined };
 * const f = fallback(null, classify);
 * ```
 */
export interface HandleOptions {
  /**
   * Which thrown errors count as failures. The caller's own abort never does, whatever this says.
   * @defaultValue every error
   */
  readonly handle?: ErrorPredicate;
  /**
   * Which returned values count as failures.
   * @defaultValue none
   */
  readonly handleResult?: ResultPredicate;
}

/**
 * A predicate that handles every error.
 *
 * @example
 * ```ts
 * import { retry, handleAll } from 'breakwater';
 * const r = retry({ handle: handleAll });
 * ```
 */
export const handleAll: ErrorPredicate = () => true;

/**
 * A predicate that handles errors that are instances of any of the given classes.
 *
 * @example
 * ```ts
 * import { retry, handleErrors, TimeoutError } from 'breakwater';
 * class NetworkError extends Error {}
 * const r = retry({ handle: handleErrors(NetworkError, TimeoutError) });
 * ```
 */
export function handleErrors(...classes: Array<abstract new (...args: never[]) => unknown>): ErrorPredicate {
  for (const c of classes) {
    if (typeof c !== 'function') throw new TypeError(`handleErrors: every argument must be a class, got ${String(c)}`);
  }
  const list = classes.slice();
  return (error: unknown) => {
    for (const c of list) if (error instanceof c) return true;
    return false;
  };
}

/** Resolved classification: `undefined` predicates mean the defaults. Not exported from the package. */
export interface Classifier {
  readonly handle: ErrorPredicate | undefined;
  readonly handleResult: ResultPredicate | undefined;
}

/** Validates `handle` and `handleResult`. @internal */
export function classifier(policy: string, options: Readonly<Record<string, unknown>>): Classifier {
  return {
    handle: optFn<ErrorPredicate>(policy, 'handle', options['handle']),
    handleResult: optFn<ResultPredicate>(policy, 'handleResult', options['handleResult']),
  };
}

/** Does the error count as a failure (the caller's abort is excluded by the caller). @internal */
export function handlesError(c: Classifier, error: unknown): boolean {
  return c.handle === undefined ? true : c.handle(error) === true;
}

/** Does the value count as a failure. @internal */
export function handlesResult(c: Classifier, value: unknown): boolean {
  return c.handleResult !== undefined && c.handleResult(value) === true;
}
