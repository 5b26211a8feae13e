/**
 * The rate limiter: a token bucket or an exact sliding window, with optional FIFO waiting.
 *
 * @module
 */
import { COMMON_OPTIONS, checkKnown } from './known-options.js';
import { RateLimitedError } from './errors.js';
import { FAILURES, SUCCESSES } from './metrics/rolling-window.js';
import { type Ctx, type Fn, RUN, invoke } from './internal/run.js';
import type { CommonOptions, PolicyMetrics } from './contract.js';
import { PolicyBase, disposedError } from './policy-base.js';
import type { Settleable } from './internal/deferred.js';
import { handOver, Waiter, WaitingRoom } from './internal/waiting-room.js';
import { callerAborted } from './internal/token.js';
import { num, oneOf, optionsObject } from './validate.js';
import { describePolicy } from './internal/descriptor.js';

/** Options common to both algorithms of {@link rateLimiter}. */
interface RateLimiterCommon extends CommonOptions {
  /**
   * How long a call may wait for a permit, in ms; waiting calls are served FIFO. `Infinity` waits
   * as long as it takes. @defaultValue `0` (no waiting: reject at once)
   */
  readonly maxWaitMs?: number;
}

/** A token bucket: starts full, refills continuously, never holds more than `capacity`. */
export interface TokenBucketOptions extends RateLimiterCommon {
  /** A bucket of `capacity` tokens refilled at `refillPerSecond`. */
  readonly algorithm: 'tokenBucket';
  /** Most permits the bucket holds, i.e. the largest burst (an integer >= 1). */
  readonly capacity: number;
  /** Permits added per second (a number > 0; fractions allowed). */
  readonly refillPerSecond: number;
}

/** An exact sliding window: a call may start while fewer than `limit` started in the last `windowMs`. */
export interface SlidingWindowOptions extends RateLimiterCommon {
  /** At most `limit` starts in any `windowMs`, exactly. */
  readonly algorithm: 'slidingWindow';
  /** Calls that may start in any window of `windowMs` (an integer >= 1). */
  readonly limit: number;
  /** The window's length in ms (a number > 0). */
  readonly windowMs: number;
}

/** Options of {@link rateLimiter}. */
export type RateLimiterOptions = TokenBucketOptions | SlidingWindowOptions;

/** Events of the rate limiter. */
export interface RateLimiterEvents {
  /** A call was refused: no permit within `maxWaitMs`. */
  rejected: { readonly retryAfterMs: number };
}

/** Where permits come from. Both implementations are O(1) per call. */
interface Permits {
  /** Takes a permit if one is free at `now`. */
  tryTake(now: number): boolean;
  /** Milliseconds from `now` until a permit is free for the caller behind `ahead` others (0: now). */
  waitFor(now: number, ahead: number): number;
}

// Float slack: a refill computed at the exact due time may land a hair under a whole token.
const EPS = 1e-9;

class TokenBucket implements Permits {
  private tokens: number;
  private last: number;
  private readonly perMs: number;
  constructor(
    private readonly capacity: number,
    refillPerSecond: number,
    now: number,
  ) {
    this.tokens = capacity;
    this.last = now;
    this.perMs = refillPerSecond / 1000;
  }

  // Lazy refill from the clock: no timer while idle, and never above capacity after idle time.
  private refill(now: number): void {
    if (now > this.last) {
      const t = this.tokens + (now - this.last) * this.perMs;
      this.tokens = t < this.capacity ? t : this.capacity;
      this.last = now;
    }
  }

  tryTake(now: number): boolean {
    this.refill(now);
    if (this.tokens < 1 - EPS) return false;
    this.tokens -= 1;
    return true;
  }

  waitFor(now: number, ahead: number): number {
    this.refill(now);
    const need = ahead + 1 - this.tokens;
    return need <= EPS ? 0 : need / this.perMs;
  }
}

class SlidingLog implements Permits {
  // The start times of the last `limit` calls, oldest at `head` once full: a ring, so memory is
  // bounded by `limit` and grows only as calls arrive.
  private readonly times: number[] = [];
  private head = 0;
  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  tryTake(now: number): boolean {
    const t = this.times;
    if (t.length < this.limit) {
      t.push(now);
      return true;
    }
    // A start exactly `windowMs` ago has left the window. (Written as in `waitFor`, so the two
    // never disagree by a rounding error.)
    if ((t[this.head] as number) + this.windowMs > now) return false;
    t[this.head] = now;
    if (++this.head === this.limit) this.head = 0;
    return true;
  }

  waitFor(now: number, ahead: number): number {
    const t = this.times;
    const free = this.limit - t.length;
    if (ahead < free) return 0;
    // The k-th permit to come frees when the k-th oldest start leaves the window; past `limit`,
    // when the start it replaced (itself a waiter's, granted on time) leaves it, a window later.
    const k = ahead - free;
    const r = k % this.limit;
    const base = r < t.length ? (t[(this.head + r) % t.length] as number) : now;
    const due = base + this.windowMs * (1 + Math.floor(k / this.limit));
    return due > now ? due - now : 0;
  }
}


/** What the registry, the bus and the exporters know about a rate limiter. */
const RATE_LIMITER = describePolicy({
  kind: 'rateLimiter',
  events: { rejected: 'error' },
  gauges: { queued: (p: RateLimiterPolicy) => p.queued },
});

/**
 * A policy that limits how often calls start. See {@link rateLimiter}.
 *
 * @example
 * ```ts
 * import { rateLimiter, type RateLimiterPolicy } from 'breakwater';
 * const r: RateLimiterPolicy = rateLimiter({ algorithm: 'tokenBucket', capacity: 10, refillPerSecond: 2 });
 * console.log(r.algorithm, r.queued);
 * ```
 */
export class RateLimiterPolicy extends PolicyBase<RateLimiterEvents> {
  /** The algorithm in force. */
  readonly algorithm: 'tokenBucket' | 'slidingWindow';
  /** How long a call may wait for a permit, in ms. */
  readonly maxWaitMs: number;
  private readonly permits: Permits;
  // One timer for the whole queue, armed for the next permit: it does not matter which waiter
  // is at the head, since the head is served first.
  private readonly waiting: WaitingRoom<Waiter>;

  /** @internal Use {@link rateLimiter}. */
  constructor(options: RateLimiterOptions) {
    const o = optionsObject('rateLimiter', options);
    const algorithm = oneOf('rateLimiter', 'algorithm', o['algorithm'], ['tokenBucket', 'slidingWindow']);
    checkKnown('rateLimiter', o, [...COMMON_OPTIONS, 'algorithm', 'maxWaitMs', ...(algorithm === 'tokenBucket' ? ['capacity', 'refillPerSecond'] : ['limit', 'windowMs'])]);
    let make: (now: number) => Permits;
    if (algorithm === 'tokenBucket') {
      const capacity = num('rateLimiter', 'capacity', o['capacity'], { min: 1, integer: true });
      const refill = num('rateLimiter', 'refillPerSecond', o['refillPerSecond'], { min: 0, minExclusive: true });
      make = (now) => new TokenBucket(capacity, refill, now);
    } else {
      const limit = num('rateLimiter', 'limit', o['limit'], { min: 1, integer: true });
      const windowMs = num('rateLimiter', 'windowMs', o['windowMs'], { min: 0, minExclusive: true });
      make = () => new SlidingLog(limit, windowMs);
    }
    const w = o['maxWaitMs'];
    const maxWaitMs = w === undefined ? 0 : num('rateLimiter', 'maxWaitMs', w, { min: 0, infinity: true });
    super(RATE_LIMITER, o);
    this.algorithm = algorithm;
    this.maxWaitMs = maxWaitMs;
    this.permits = make(this.clock.now());
    this.waiting = new WaitingRoom<Waiter>(this.clock);
  }

  /** Calls waiting for a permit. */
  get queued(): number {
    return this.waiting.size;
  }

  /** @internal */
  [RUN]<T>(fn: Fn<T>, ctx: Ctx): Promise<T> {
    if (this.disposed) return Promise.reject(disposedError(this));
    const tok = ctx.tok;
    if (tok !== undefined && tok.aborted) return Promise.reject(tok.reason);
    // One clock read serves the refill and the metrics.
    const now = this.clock.now();
    if (this.waiting.size === 0 && this.permits.tryTake(now)) {
      return this.run(fn, ctx, this.window === undefined ? 0 : now);
    }
    return this.wait(fn, ctx, now);
  }

  /**
   * Runs a call that has its permit. Nothing to do after it settles unless metrics are on; for a
   * call that waited, the outcome goes to its waiter.
   */
  private run<T>(fn: Fn<T>, ctx: Ctx, started: number, waiter?: Settleable): Promise<T> {
    const p = invoke(fn, ctx);
    if (this.window === undefined) return waiter === undefined ? p : (p.then(waiter.resolve, waiter.reject) as Promise<T>);
    return handOver(p, waiter, (failed) => {
      if (!(failed && callerAborted(ctx.tok))) this.record(failed ? FAILURES : SUCCESSES, started);
    });
  }

  private wait<T>(fn: Fn<T>, ctx: Ctx, now: number): Promise<T> {
    const q = this.waiting;
    const ahead = q.size;
    const waitMs = this.permits.waitFor(now, ahead);
    // FIFO and a steady supply of permits mean a waiter is served no later than this estimate
    // (earlier if someone ahead leaves), so a call that would wait too long is refused now,
    // not after waiting in vain, and waiters need no timers of their own.
    if (!(waitMs <= this.maxWaitMs)) {
      const retryAfterMs = Math.ceil(waitMs - 1e-6);
      this.recordRejection();
      if (this.events.has('rejected')) this.events.emit('rejected', { retryAfterMs });
      return Promise.reject(new RateLimitedError(retryAfterMs));
    }
    const w = new Waiter(fn, ctx, this.window === undefined ? 0 : now);
    const promise = q.join<T>(w);
    q.arm(this.onTimer, waitMs);
    return promise;
  }

  /** Serves waiters while permits are free, then re-arms for the next permit. */
  private readonly onTimer = (): void => {
    const q = this.waiting;
    q.fired();
    const now = this.clock.now();
    for (let w = q.peek(); w !== undefined; w = q.peek()) {
      if (!this.permits.tryTake(now)) {
        // The floor guards against a spin should rounding ever make `waitFor` say 0 here.
        q.arm(this.onTimer, Math.max(this.permits.waitFor(now, 0), 1e-3));
        return;
      }
      q.take();
      void this.run(w.fn, w.ctx, w.started, w);
    }
  };

  /** @internal */
  protected override addMetrics(m: PolicyMetrics): void {
    m.queued = this.waiting.size;
  }

  /** @internal */
  protected override onDispose(): void {
    this.waiting.rejectAll(disposedError(this));
  }
}

/**
 * Limits how often calls start. `{ algorithm: 'tokenBucket', capacity, refillPerSecond }` allows
 * bursts up to `capacity` and a steady `refillPerSecond` (the bucket starts full and never holds
 * more than `capacity`); `{ algorithm: 'slidingWindow', limit, windowMs }` is exact: a call may
 * start while fewer than `limit` calls started in the last `windowMs`. Both are O(1) per call.
 *
 * Without a permit, a call waits up to `maxWaitMs` (FIFO; it leaves at once when its caller
 * aborts), or rejects at once with {@link RateLimitedError}, whose `retryAfterMs` says when a
 * permit will be free. A call that could not get a permit within `maxWaitMs` is refused at once
 * rather than after waiting in vain.
 *
 * When to use: to respect a dependency's quota (an API allowing 100 requests a minute), or to cap
 * what one client may take from a shared resource. To bound *concurrency*, use a bulkhead.
 *
 * Gotchas: a permit is taken when a call starts, whatever its outcome; retries outside the limiter
 * take permits too. Put the limiter inside retry so each attempt is counted, and let retry honour
 * `retryAfterMs`.
 *
 * @example
 * ```ts
 * import { rateLimiter, isBreakwaterError } from 'breakwater';
 * const quota = rateLimiter({ algorithm: 'slidingWindow', limit: 100, windowMs: 60_000, maxWaitMs: 500 });
 * try {
 *   await quota.execute(() => fetch('https://api.example.com/items'));
 * } catch (e) {
 *   if (isBreakwaterError(e, 'ERATELIMITED')) console.log(`try again in ${e.retryAfterMs} ms`);
 * }
 * ```
 */
export function rateLimiter(options: RateLimiterOptions): RateLimiterPolicy {
  return new RateLimiterPolicy(options).adopt();
}
