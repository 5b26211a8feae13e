// Shared helpers for the circuit breaker tests.
import { ManualClock } from '../../src/testing/index.js';
import { circuitBreaker, type CircuitBreakerOptions, type CircuitBreakerPolicy } from '../../src/circuit-breaker/index.js';

/** A promise with its resolve/reject exposed, for calls a test ends by hand. */
export interface Deferred<T = unknown> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

export function deferred<T = unknown>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

export const boom = (): never => {
  throw new Error('boom');
};
export const ok = (): string => 'ok';

/** A breaker on a fresh ManualClock, with every state change logged as "from>to@time". */
export function setup(options: CircuitBreakerOptions = {}): {
  clock: ManualClock;
  breaker: CircuitBreakerPolicy;
  changes: string[];
} {
  const clock = new ManualClock();
  const breaker = circuitBreaker({ clock, ...options });
  const changes: string[] = [];
  breaker.events.on('stateChange', ({ from, to, at }) => changes.push(`${from}>${to}@${at}`));
  return { clock, breaker, changes };
}

/** Runs `n` calls that fail (swallowing the rejections). */
export async function fail(breaker: CircuitBreakerPolicy, n = 1): Promise<void> {
  for (let i = 0; i < n; i++) await breaker.execute(boom).catch(() => undefined);
}

/** Runs `n` calls that succeed. */
export async function succeed(breaker: CircuitBreakerPolicy, n = 1): Promise<void> {
  for (let i = 0; i < n; i++) await breaker.execute(ok);
}
