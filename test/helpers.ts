// Shared test helpers.
import { expect } from 'vitest';

/**
 * Asserts that `make` throws exactly an `error` (a RangeError is not a TypeError, nor a subclass
 * of either) whose message contains every fragment: the bad-input matrices (the policy, the
 * option and the value given).
 */
export function expectInvalid(
  make: () => unknown,
  error: new (...args: never[]) => Error,
  fragments: string | readonly string[],
): void {
  let thrown: unknown;
  try {
    make();
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(error);
  expect((thrown as Error).constructor).toBe(error);
  for (const f of typeof fragments === 'string' ? [fragments] : fragments) expect((thrown as Error).message).toContain(f);
}

/** A call whose settlement the test controls. */
export function gate<T = string>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
