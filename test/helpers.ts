// Shared test helpers.
import { expect } from 'vitest';

/**
 * Asserts that `make` throws an instance of `error` whose message contains every fragment (the
 * bad-input matrices: the policy, the option and the value given).
 */
export function expectInvalid(make: () => unknown, error: new (...args: never[]) => Error, fragments: readonly string[]): void {
  let thrown: unknown;
  try {
    make();
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(error);
  for (const f of fragments) expect((thrown as Error).message).toContain(f);
}
