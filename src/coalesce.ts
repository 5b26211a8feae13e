/**
 * coalesce: concurrent calls with the same key share one execution (singleflight).
 *
 * @module
 */
import { COMMON_OPTIONS, checkKnown } from './known-options.js';
import type { CommonOptions } from './contract.js';
import { Ctx, type Fn, RUN, invoke } from './internal/run.js';
import { PolicyBase, disposedError } from './policy-base.js';
import { describePolicy } from './internal/descriptor.js';
import { FAILURES, SUCCESSES } from './metrics/rolling-window.js';
import { Token } from './internal/token.js';
import { promiseFor } from './internal/deferred.js';

const ignore = (): void => {};
import { optionsObject } from './validate.js';

/**
 * Options of {@link coalesce}.
 *
 * @example
 * ```ts
 * import { coalesce } from 'breakwater';
 * const shared = coalesce({ name: 'user-lookups' });
 * ```
 */
export type CoalesceOptions = CommonOptions;

/**
 * Events of the coalesce policy.
 *
 * @example
 * ```ts
 * import { coalesce } from 'breakwater';
 * coalesce().events.on('coalesced', ({ key, waiting }) => console.log(`${waiting} callers share ${key}`));
 * ```
 */
export interface CoalesceEvents {
  /** A caller joined the flight of `key`; `waiting` callers share it now, this one included. */
  coalesced: { readonly key: string; readonly waiting: number };
}

/**
 * One shared execution of `fn` for a key. It is the token of that execution too (one object per
 * flight, not two), and its own caller: the policies inside see its abort as a caller's.
 */
class Flight extends Token {
  /** Callers still waiting for it. */
  waiters = 0;
  done = false;
  resolve: (value: unknown) => void = ignore;
  reject: (error: unknown) => void = ignore;
  readonly promise: Promise<unknown>;
  constructor(
    readonly key: string,
    readonly started: number,
  ) {
    super(undefined);
    (this as { caller: Token }).caller = this;
    this.promise = promiseFor(this);
  }
  /** The flight's token (itself). */
  get tok(): Token {
    return this;
  }
}

/** What the registry, the bus and the exporters know about coalesce. */
const COALESCE = describePolicy({ kind: 'coalesce', events: { coalesced: 'information' } });

/**
 * A policy that lets concurrent calls with the same key share one execution. See
 * {@link coalesce}.
 *
 * @example
 * ```ts
 * import { coalesce, type CoalescePolicy } from 'breakwater';
 * const lookups: CoalescePolicy = coalesce();
 * lookups.inFlight; // 0
 * ```
 */
export class CoalescePolicy extends PolicyBase<CoalesceEvents> {
  /** The flight each key's new callers join (one being cancelled is no longer here). */
  private readonly flights = new Map<string, Flight>();
  private running = 0;

  /** @internal Use {@link coalesce}. */
  constructor(options?: CoalesceOptions) {
    const o = optionsObject('coalesce', options);
    checkKnown('coalesce', o, COMMON_OPTIONS);
    super(COALESCE, o);
  }

  /** Shared executions running now (one per key, plus any still winding down after every caller left). */
  get inFlight(): number {
    return this.running;
  }

  /** @internal */
  [RUN]<T>(fn: Fn<T>, ctx: Ctx): Promise<T> {
    if (this.disposed) return Promise.reject(disposedError(this));
    const key = ctx.key;
    // Without a key there is nothing to share: the call runs on its own.
    if (key === undefined) return invoke(fn, ctx);
    const tok = ctx.tok;
    if (tok?.aborted === true) return Promise.reject(tok.reason);
    let f = this.flights.get(key);
    if (f === undefined) {
      f = this.launch(key, fn, ctx.attempt);
      f.waiters = 1;
    } else {
      f.waiters++;
      if (this.events.has('coalesced')) this.events.emit('coalesced', { key, waiting: f.waiters });
    }
    // A caller that cannot abort never leaves: it shares the flight's own promise.
    if (tok === undefined) return f.promise as Promise<T>;
    return this.waiter(f, tok) as Promise<T>;
  }

  private launch<T>(key: string, fn: Fn<T>, attempt: number): Flight {
    const f = new Flight(key, this.start());
    this.flights.set(key, f);
    this.running++;
    invoke(fn, new Ctx(f, attempt, key)).then(
      (value) => this.settle(f, value, false),
      (error: unknown) => this.settle(f, error, true),
    );
    return f;
  }

  /** A caller with a signal: it gets its own promise, and leaves alone when it aborts. */
  private waiter(f: Flight, tok: Token): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const sub = tok.onAbort((reason) => {
        this.leave(f, reason);
        reject(reason);
      });
      f.promise.then(
        (value) => {
          sub.cancel();
          resolve(value);
        },
        (error: unknown) => {
          sub.cancel();
          reject(error);
        },
      );
    });
  }

  /**
   * One caller left. When it was the last, the flight is cancelled: its signal aborts with that
   * caller's reason, and it is no longer the key's flight, so a caller that comes now starts a
   * fresh one instead of joining a call that is being cancelled.
   */
  private leave(f: Flight, reason: unknown): void {
    if (f.done || --f.waiters > 0) return;
    if (this.flights.get(f.key) === f) this.flights.delete(f.key);
    // Nobody waits for its outcome any more.
    f.promise.then(undefined, ignore);
    f.tok.abort(reason);
  }

  /** The flight's `fn` settled: every caller still waiting gets it; nothing is remembered. */
  private settle(f: Flight, outcome: unknown, failed: boolean): void {
    if (f.done) return;
    f.done = true;
    this.running--;
    if (this.flights.get(f.key) === f) this.flights.delete(f.key);
    f.tok.release();
    if (failed) {
      if (f.waiters > 0 && !f.tok.aborted) this.record(FAILURES, f.started);
      f.reject(outcome);
    } else {
      this.record(SUCCESSES, f.started);
      f.resolve(outcome);
    }
  }

  /** @internal */
  protected override onDispose(): void {
    const error = disposedError(this);
    for (const f of this.flights.values()) {
      f.promise.then(undefined, ignore);
      f.tok.abort(error);
      this.settle(f, error, true);
    }
    this.flights.clear();
  }
}

/**
 * Concurrent calls with the same `key` share one execution of `fn` (singleflight): every caller
 * gets its value or its error; nothing is remembered once it settles.
 *
 * When to use: in front of an expensive read that many callers want at once (a cold cache, a
 * token refresh, a popular record): one request goes out instead of hundreds.
 *
 * Details: the key comes from `execute(fn, { key })` or `wrap(fn, { key: (...args) => … })`; a
 * call without a key runs on its own. A caller that aborts leaves alone (its call rejects with
 * its reason); the shared execution's `ctx.signal` aborts only when every caller has left, and a
 * caller that comes after that starts a fresh execution rather than joining the cancelled one.
 * An error is shared by the callers waiting for it and then forgotten: the next call runs `fn`
 * again. `metrics()` counts executions, not callers.
 *
 * Gotchas: put it inside a cache and outside the retries, the breaker and the timeout, so that
 * one shared flight is what those policies see (retried as one, counted once by the breaker). A
 * key must name everything the result depends on (user, locale, …), or callers get each other's
 * answers.
 *
 * @example
 * ```ts
 * import { coalesce } from 'breakwater';
 * const shared = coalesce();
 * const getUser = shared.wrap(
 *   (id: string, signal?: AbortSignal) => fetch(`https://api.example.com/users/${id}`, { signal }).then((r) => r.json()),
 *   { key: (id) => id, signal: 'last' },
 * );
 * const [a, b] = await Promise.all([getUser('42'), getUser('42')]); // one request
 * ```
 */
export function coalesce(options?: CoalesceOptions): CoalescePolicy {
  return new CoalescePolicy(options).adopt();
}
