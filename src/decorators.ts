/**
 * usePolicy: a method decorator that runs the method under a policy, as a TypeScript 5 standard
 * (TC39) decorator and as a legacy `experimentalDecorators` one.
 *
 * @module
 */
import { checkKnown } from './known-options.js';
import type { Policy, WrapOptions } from './contract.js';
import { factoryHint } from './policy-base.js';
import { oneOf, optFn, optionsObject, typeError } from './validate.js';

/**
 * Options of {@link usePolicy}: the same as `policy.wrap(fn, options)`'s.
 *
 * @example
 * ```ts
 * import { coalesce, usePolicy } from 'breakwater';
 * const shared = coalesce();
 * class Users {
 *   @usePolicy(shared, { key: (id: string) => id, signal: 'last' })
 *   async get(id: string, signal?: AbortSignal): Promise<unknown> {
 *     return (await fetch(`https://api.example.com/users/${id}`, { signal })).json();
 *   }
 * }
 * ```
 */
export interface UsePolicyOptions {
  /** Derives the call's key from the method's arguments (`this` is the instance). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the method's parameters are not known here
  readonly key?: (...args: any[]) => string;
  /** `'last'`: the method's last parameter is its `AbortSignal` (see `WrapOptions.signal`). */
  readonly signal?: 'last';
}

/** A method that returns a promise (the only kind a policy can decorate). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AsyncMethod<This, A extends any[], R> = (this: This, ...args: A) => Promise<R>;

/**
 * The decorator {@link usePolicy} returns: callable as a standard decorator
 * `(method, context)` and as a legacy one `(prototype, name, descriptor)`. Both signatures
 * accept only methods that return a `Promise`.
 *
 * @example
 * ```ts
 * import { retry, usePolicy, type PolicyDecorator } from 'breakwater';
 * const withRetry: PolicyDecorator = usePolicy(retry());
 * ```
 */
export interface PolicyDecorator<Self = unknown> {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  <This extends Self, A extends any[], R>(
    method: AsyncMethod<This, A, R>,
    context: ClassMethodDecoratorContext<This, AsyncMethod<This, A, R>>,
  ): AsyncMethod<This, A, R>;
  /** Legacy (`experimentalDecorators`) form. @typeParam M - the decorated method's type. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  <M extends (this: Self, ...args: any[]) => Promise<unknown>>(
    prototype: object,
    name: string | symbol,
    descriptor: TypedPropertyDescriptor<M>,
  ): TypedPropertyDescriptor<M>;
}

const KNOWN = ['key', 'signal'] as const;

/**
 * Decorates a class method so that each call runs under `policy`, keeping `this`, the
 * parameters and the `Promise` result type. One import works both as a TypeScript 5 standard
 * (TC39) decorator and as a legacy `experimentalDecorators` one.
 *
 * When to use: service clients written as classes, the way `@HystrixCommand` guards a Java
 * method. Without decorators, `policy.wrap(fn, options)` does the same for a plain function.
 *
 * Details: `policy` is a policy shared by every instance, or a function of the instance
 * (`(self) => self.breaker`) resolved once per instance, on its first call. `options.key`
 * derives the call key from the arguments; `options.signal: 'last'` makes the method's last
 * parameter its `AbortSignal` (a signal passed there is the call's signal, and the method
 * receives the attempt's signal in its place, also when the caller left it out).
 *
 * Gotchas: a method that returns no promise is a type error; make it `async`. Node's built-in
 * type stripping does not run decorators: compile with `tsc`, esbuild, tsx, swc or Babel. A
 * fallback in the policy can answer for the method, so its declared return type should admit
 * the fallback's value.
 *
 * @example
 * ```ts
 * import { circuitBreaker, pipeline, retry, timeout, usePolicy } from 'breakwater';
 *
 * const policy = pipeline(retry({ maxAttempts: 3 }), circuitBreaker(), timeout(2000));
 *
 * class OrdersClient {
 *   constructor(private readonly base: string) {}
 *
 *   @usePolicy(policy, { signal: 'last' })
 *   async get(id: string, signal?: AbortSignal): Promise<{ id: string }> {
 *     const res = await fetch(`${this.base}/orders/${id}`, { signal });
 *     return (await res.json()) as { id: string };
 *   }
 * }
 * ```
 */
export function usePolicy<Self = unknown>(
  policy: Policy | ((self: Self) => Policy),
  options?: UsePolicyOptions,
): PolicyDecorator<Self> {
  const P = 'usePolicy';
  if (typeof policy !== 'function' && !isPolicy(policy)) {
    typeError(P, 'policy', 'a policy or a function (self) => policy', policy);
  }
  if (typeof policy === 'function' && isFactory(policy)) {
    throw new TypeError(`${P}: policy must be a policy or a function (self) => policy, got ${factoryHint(policy)}`);
  }
  const o = optionsObject(P, options);
  checkKnown(P, o, KNOWN);
  optFn(P, 'key', o['key']);
  if (o['signal'] !== undefined) oneOf(P, 'signal', o['signal'], ['last']);
  // Without options, wrap's plain path (no key, no signal handling).
  const wrapOptions = Object.keys(o).length === 0 ? undefined : (o as WrapOptions);

  function decorate(method: (...args: unknown[]) => unknown): (...args: unknown[]) => unknown {
    if (typeof method !== 'function') typeError(P, 'decorated member', 'a method', method);
    if (typeof policy !== 'function') {
      // One policy for every instance: the wrapped function is the method.
      return policy.wrap(method, wrapOptions);
    }
    const resolve = policy;
    const perInstance = new WeakMap<object, (...args: unknown[]) => unknown>();
    return function (this: unknown, ...args: unknown[]): unknown {
      // eslint-disable-next-line @typescript-eslint/no-this-alias -- the instance is the WeakMap key
      const self = this;
      if (self === null || (typeof self !== 'object' && typeof self !== 'function')) {
        return Promise.reject(new TypeError(`${P}: the decorated method was called without an instance (this is ${String(self)})`));
      }
      let wrapped = perInstance.get(self);
      if (wrapped === undefined) {
        let p: unknown;
        try {
          p = resolve(self as Self);
        } catch (error) {
          return Promise.reject(error);
        }
        if (!isPolicy(p)) {
          return Promise.reject(new TypeError(`${P}: the policy function must return a policy, got ${factoryHint(p)}`));
        }
        wrapped = p.wrap(method, wrapOptions);
        perInstance.set(self, wrapped);
      }
      return wrapped.apply(self, args);
    };
  }

  return function (target: unknown, context: unknown, descriptor?: PropertyDescriptor): unknown {
    // Standard decorators: (value, context) with context.kind.
    if (descriptor === undefined && typeof context === 'object' && context !== null && 'kind' in context) {
      const kind = (context).kind;
      if (kind !== 'method') throw new TypeError(`${P}: decorates methods only, got a ${String(kind)}`);
      return decorate(target as (...args: unknown[]) => unknown);
    }
    // Legacy decorators: (prototype, name, descriptor).
    if (descriptor === undefined || typeof descriptor.value !== 'function') {
      throw new TypeError(`${P}: decorates methods only (${String(context)} is not a method)`);
    }
    descriptor.value = decorate(descriptor.value as (...args: unknown[]) => unknown);
    return descriptor;
  } as PolicyDecorator<Self>;
}

function isPolicy(value: unknown): value is Policy {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as Partial<Policy>).execute === 'function' &&
    typeof (value as Partial<Policy>).wrap === 'function'
  );
}

/** The policy factories themselves (`retry`, `circuitBreaker`, …), passed by mistake. */
function isFactory(fn: unknown): boolean {
  const name = (fn as { name?: unknown }).name;
  return typeof name === 'string' && FACTORIES.has(name) && (fn as (...a: unknown[]) => unknown).length <= 2;
}

const FACTORIES = new Set([
  'retry',
  'circuitBreaker',
  'timeout',
  'bulkhead',
  'fallback',
  'rateLimiter',
  'hedge',
  'adaptiveLimit',
  'chaos',
  'pipeline',
  'policyPool',
  'coalesce',
  'cache',
]);
