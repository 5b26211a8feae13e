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

/**
 * Ends the current event-loop turn: resolves after one macrotask hop on whichever primitive the
 * runtime has (`setImmediate`, else a `MessageChannel` message, else `setTimeout(0)`), the same
 * order of preference as the package's end-of-turn queue, so work the package queued for the end
 * of this turn has run. No timer when `setImmediate` exists, never a real sleep.
 */
export function nextTurn(): Promise<void> {
  const g = globalThis as { setImmediate?: (fn: () => void) => unknown };
  return new Promise<void>((resolve) => {
    if (typeof g.setImmediate === 'function') g.setImmediate(resolve);
    else if (typeof MessageChannel === 'function') {
      const channel = new MessageChannel();
      channel.port1.onmessage = () => {
        channel.port1.close();
        resolve();
      };
      channel.port2.postMessage(null);
    } else setTimeout(resolve, 0);
  });
}
