/**
 * `redisRateLimiter`: one rate limit for the whole fleet, one atomic script per admission.
 *
 * @module
 */
import { RateLimitedError } from '../errors.js';
import { FAILURES, SUCCESSES } from '../metrics/rolling-window.js';
import { type Ctx, type Fn, RUN, invoke } from '../internal/run.js';
import type { CommonOptions, PolicyMetrics } from '../contract.js';
import { PolicyBase, disposedError } from '../policy-base.js';
import { Waiter, WaitingRoom } from '../internal/waiting-room.js';
import { describePolicy } from '../internal/descriptor.js';
import { checkKnown } from '../known-options.js';
import { type RateLimiterEvents, type RateLimiterPolicy, rateLimiter } from '../rate-limiter.js';
import { callerAborted } from '../internal/token.js';
import { num, oneOf, optionsObject, optStr, show } from '../validate.js';
import { bounded, type Commands, commandsFor, type RedisClient } from './client.js';
import { SLIDING_WINDOW, TOKEN_BUCKET } from './scripts.js';

const P = 'redisRateLimiter';
/**
 * `retryAfterMs` of a call refused because Redis is unreachable and `whenDown` is `'deny'`.
 *
 * @example
 * ```ts
 * import { DENIED_WHEN_DOWN_RETRY_MS } from 'breakwater/redis';
 * console.log(`refused while Redis is down: retry after ${DENIED_WHEN_DOWN_RETRY_MS} ms`);
 * ```
 */
export const DENIED_WHEN_DOWN_RETRY_MS = 1000;
const KNOWN = [
  'client', 'name', 'algorithm', 'capacity', 'refillPerSecond', 'limit', 'windowMs', 'maxWaitMs',
  'prefix', 'commandTimeoutMs', 'whenDown', 'localShare', 'clock', 'registry', 'metrics',
];

interface RedisCommon extends CommonOptions {
  /** An ioredis client or a connected node-redis v4+ client; never closed by the limiter. */
  readonly client: RedisClient;
  /** The shared identity: every limiter of this name on the same Redis shares one limit. Required. */
  readonly name: string;
  /** How long a call may wait for a permit, ms (FIFO within this process). @defaultValue `0` */
  readonly maxWaitMs?: number;
  /** Prefix of the key. @defaultValue `'breakwater:'` */
  readonly prefix?: string;
  /** Longest an admission waits on Redis, ms; slower is an outage. @defaultValue `50` */
  readonly commandTimeoutMs?: number;
  /**
   * While Redis is unreachable: `'local'` limits in-process with the capacity and refill (or the
   * limit) divided by `localShare`; `'allow'` lets calls through; `'deny'` rejects them.
   * @defaultValue `'local'`
   */
  readonly whenDown?: 'local' | 'allow' | 'deny';
  /** The number of processes sharing the limit, for `whenDown: 'local'` (>= 1). @defaultValue `1` */
  readonly localShare?: number;
}

/**
 * Options of {@link redisRateLimiter}: those of `rateLimiter`, plus the Redis ones.
 *
 * @example
 * ```ts
 * import Redis from 'ioredis';
 * import type { RedisRateLimiterOptions } from 'breakwater/redis';
 * const options: RedisRateLimiterOptions = {
 *   client: new Redis(), name: 'api', algorithm: 'tokenBucket', capacity: 100, refillPerSecond: 50,
 * };
 * ```
 */
export type RedisRateLimiterOptions =
  | (RedisCommon & { readonly algorithm: 'tokenBucket'; readonly capacity: number; readonly refillPerSecond: number })
  | (RedisCommon & { readonly algorithm: 'slidingWindow'; readonly limit: number; readonly windowMs: number });

/**
 * Events of {@link redisRateLimiter}: `rejected` as `rateLimiter`'s, plus `storeError { error }`
 * (once per outage) and `storeRecovered {}`.
 *
 * @example
 * ```ts
 * import type { RedisRateLimiterEvents } from 'breakwater/redis';
 * const onDown = (e: RedisRateLimiterEvents['storeError']): void => console.warn(e.error);
 * ```
 */
export interface RedisRateLimiterEvents extends RateLimiterEvents {
  /** A Redis command failed or timed out after a success; the limiter goes on by `whenDown`. */
  storeError: { readonly error: unknown };
  /** Redis answered again after a `storeError`. */
  storeRecovered: Record<string, never>;
}

const REDIS_RATE_LIMITER = describePolicy({
  kind: 'rateLimiter',
  events: { rejected: 'error', storeError: 'error', storeRecovered: 'information' },
  gauges: { queued: (p: RedisRateLimiterPolicy) => p.queued },
});

class Queued extends Waiter {
  deadline = 0;
}

let seq = 0;
const tag = Math.random().toString(36).slice(2, 10);

/**
 * A rate limiter shared through Redis. Build it with {@link redisRateLimiter}.
 *
 * @example
 * ```ts
 * import Redis from 'ioredis';
 * import { redisRateLimiter, type RedisRateLimiterPolicy } from 'breakwater/redis';
 * const rl: RedisRateLimiterPolicy = redisRateLimiter({ client: new Redis(), name: 'api', algorithm: 'slidingWindow', limit: 10, windowMs: 1000 });
 * rl.dispose();
 * ```
 */
export class RedisRateLimiterPolicy extends PolicyBase<RedisRateLimiterEvents> {
  /** The algorithm in force. */
  readonly algorithm: 'tokenBucket' | 'slidingWindow';
  /** How long a call may wait for a permit, in milliseconds. */
  readonly maxWaitMs: number;
  /** What happens while Redis is unreachable: `'local'`, `'allow'` or `'deny'`. */
  readonly whenDown: 'local' | 'allow' | 'deny';
  private readonly cmds: Commands;
  private readonly key: string;
  private readonly args: string[];
  private readonly timeoutMs: number;
  private readonly makeLocal: () => RateLimiterPolicy;
  private local: RateLimiterPolicy | undefined = undefined;
  private online = true;
  private unsettled = 0;
  /** Commands numbered as sent; the newest that succeeded. */
  private sent = 0;
  private lastOk = -1;
  private pumping = false;
  private readonly waiting: WaitingRoom<Queued>;

  /** @internal Use {@link redisRateLimiter}. */
  constructor(options: RedisRateLimiterOptions) {
    const o = optionsObject(P, options);
    checkKnown(P, o, KNOWN);
    if (o['client'] === undefined) throw new TypeError(`${P}: client is required (an ioredis or node-redis client), got undefined`);
    const cmds = commandsFor(P, o['client']);
    const name = optStr(P, 'name', o['name']);
    if (name === undefined) throw new TypeError(`${P}: name is required (the limit's shared identity), got undefined`);
    const algorithm = oneOf(P, 'algorithm', o['algorithm'], ['tokenBucket', 'slidingWindow']);
    const prefix = optStr(P, 'prefix', o['prefix']) ?? 'breakwater:';
    const timeoutMs = o['commandTimeoutMs'] === undefined ? 50 : num(P, 'commandTimeoutMs', o['commandTimeoutMs'], { min: 1, max: 2_147_483_647 });
    const whenDown = o['whenDown'] === undefined ? 'local' : oneOf(P, 'whenDown', o['whenDown'], ['local', 'allow', 'deny']);
    const share = o['localShare'] === undefined ? 1 : num(P, 'localShare', o['localShare'], { min: 1 });
    const w = o['maxWaitMs'];
    const maxWaitMs = w === undefined ? 0 : num(P, 'maxWaitMs', w, { min: 0, infinity: true });
    let args: string[];
    let makeLocal: (clock: unknown) => RateLimiterPolicy;
    if (algorithm === 'tokenBucket') {
      const capacity = num(P, 'capacity', o['capacity'], { min: 1, integer: true });
      const refill = num(P, 'refillPerSecond', o['refillPerSecond'], { min: 0, minExclusive: true });
      args = [String(capacity), String(refill / 1000), String(Math.ceil((capacity / refill) * 1000) + 60_000)];
      makeLocal = (clock) =>
        rateLimiter({ algorithm, capacity: Math.max(1, Math.floor(capacity / share)), refillPerSecond: refill / share, maxWaitMs, clock: clock as never, metrics: false });
    } else {
      const limit = num(P, 'limit', o['limit'], { min: 1, integer: true });
      const windowMs = num(P, 'windowMs', o['windowMs'], { min: 0, minExclusive: true });
      args = [String(limit), String(windowMs), String(Math.ceil(windowMs) + 60_000)];
      makeLocal = (clock) =>
        rateLimiter({ algorithm, limit: Math.max(1, Math.floor(limit / share)), windowMs, maxWaitMs, clock: clock as never, metrics: false });
    }
    super(REDIS_RATE_LIMITER, o);
    this.algorithm = algorithm;
    this.maxWaitMs = maxWaitMs;
    this.whenDown = whenDown;
    this.cmds = cmds;
    this.key = `${prefix}{${name}}:${algorithm}`;
    this.args = args;
    this.timeoutMs = timeoutMs;
    this.makeLocal = () => makeLocal(this.clock);
    // The wait for a permit is what a waiting caller waits for: its timer keeps the process alive
    // (as the in-process rateLimiter's does), even where the client's socket is unref'd.
    this.waiting = new WaitingRoom<Queued>(this.clock, true);
  }

  /** Calls waiting for a permit in this process. */
  get queued(): number {
    return this.waiting.size;
  }

  /** @internal */
  [RUN]<T>(fn: Fn<T>, ctx: Ctx): Promise<T> {
    if (this.disposed) return Promise.reject(disposedError(this));
    const tok = ctx.tok;
    if (tok !== undefined && tok.aborted) return Promise.reject(tok.reason);
    if (this.waiting.size > 0) return this.enqueue(fn, ctx, 0);
    return this.admit().then((wait) => {
      if (wait === 0) return this.run(fn, ctx);
      if (wait < 0) return this.whenUnreachable(fn, ctx);
      if (this.disposed) return Promise.reject(disposedError(this));
      return this.enqueue(fn, ctx, wait);
    });
  }

  /** One script call: 0 granted, > 0 ms until a permit, -1 Redis unreachable. Never rejects. */
  private admit(): Promise<number> {
    // An outage's command still queued in the client: decide without Redis, pile nothing up.
    if (!this.online && this.unsettled > 0) return Promise.resolve(-1);
    const script = this.algorithm === 'tokenBucket' ? TOKEN_BUCKET : SLIDING_WINDOW;
    const args = this.algorithm === 'tokenBucket' ? this.args : [...this.args, `${tag}:${(seq++).toString(36)}`];
    this.unsettled++;
    const n = this.sent++;
    const sent = script.run(this.cmds, [this.key], args);
    const settle = (): void => {
      this.unsettled--;
    };
    sent.then(settle, settle);
    return bounded(sent, this.timeoutMs).then(
      (raw) => {
        const r = raw as [number, number];
        if (!Array.isArray(r)) throw new Error(`breakwater/redis: unexpected reply ${show(raw)}`);
        if (n > this.lastOk) this.lastOk = n;
        this.up();
        return Number(r[0]) === 1 ? 0 : Math.max(1, Number(r[1]));
      },
      (error: unknown) => {
        // An older command failing after a newer one succeeded starts no new outage.
        if (n > this.lastOk) this.down(error);
        return -1;
      },
    );
  }

  private up(): void {
    if (this.online) return;
    this.online = true;
    this.local = undefined;
    if (this.events.has('storeRecovered') && !this.disposed) this.events.emit('storeRecovered', {});
  }

  private down(error: unknown): void {
    if (!this.online) return;
    this.online = false;
    // Each outage starts with a full local limiter.
    this.local = undefined;
    if (this.events.has('storeError') && !this.disposed) this.events.emit('storeError', { error });
  }

  private whenUnreachable<T>(fn: Fn<T>, ctx: Ctx): Promise<T> {
    if (this.disposed) return Promise.reject(disposedError(this));
    if (this.whenDown === 'allow') return this.run(fn, ctx);
    if (this.whenDown === 'deny') return this.refuse(DENIED_WHEN_DOWN_RETRY_MS);
    return (this.local ??= this.makeLocal())[RUN](fn, ctx);
  }

  private refuse<T>(retryAfterMs: number): Promise<T> {
    this.recordRejection();
    if (this.events.has('rejected')) this.events.emit('rejected', { retryAfterMs });
    return Promise.reject(new RateLimitedError(retryAfterMs));
  }

  private enqueue<T>(fn: Fn<T>, ctx: Ctx, wait: number): Promise<T> {
    if (wait > this.maxWaitMs) return this.refuse(wait);
    const w = new Queued(fn, ctx, this.window === undefined ? 0 : this.clock.now());
    w.deadline = this.clock.now() + this.maxWaitMs;
    const p = this.waiting.join<T>(w);
    if (!this.pumping) this.waiting.arm(this.pump, wait);
    return p;
  }

  /** Serves the queue's head: one script call at a time, FIFO. */
  private readonly pump = (): void => {
    const q = this.waiting;
    q.fired();
    if (this.pumping || this.disposed) return;
    const now = this.clock.now();
    // Deadlines grow with arrival order, so the late ones are at the front.
    for (let w = q.peek(); w !== undefined && w.deadline < now; w = q.peek()) {
      q.take();
      this.recordRejection();
      w.reject(new RateLimitedError(0));
    }
    const head = q.peek();
    if (head === undefined) return;
    this.pumping = true;
    void this.admit().then((wait) => {
      this.pumping = false;
      if (this.disposed) return;
      // The head left (its caller aborted) while Redis answered: a granted permit goes unused.
      if (q.peek() !== head) return this.pump();
      if (wait === 0 || wait < 0) {
        q.take();
        void (wait === 0 ? this.run(head.fn, head.ctx) : this.whenUnreachable(head.fn, head.ctx)).then(head.resolve, head.reject);
        return this.pump();
      }
      if (this.clock.now() + wait > head.deadline) {
        q.take();
        this.recordRejection();
        if (this.events.has('rejected')) this.events.emit('rejected', { retryAfterMs: wait });
        head.reject(new RateLimitedError(wait));
        return this.pump();
      }
      q.arm(this.pump, wait);
    });
  };

  private run<T>(fn: Fn<T>, ctx: Ctx): Promise<T> {
    const p = invoke(fn, ctx);
    if (this.window === undefined) return p;
    const started = this.mnow();
    return p.then(
      (value) => {
        this.record(SUCCESSES, started);
        return value;
      },
      (error: unknown) => {
        if (!callerAborted(ctx.tok)) this.record(FAILURES, started);
        throw error;
      },
    );
  }

  /** @internal */
  protected override addMetrics(m: PolicyMetrics): void {
    m.queued = this.waiting.size;
  }

  /** @internal */
  protected override onDispose(): void {
    this.waiting.rejectAll(disposedError(this));
    this.local?.dispose();
    this.local = undefined;
  }
}

/**
 * A rate limit shared by every process that uses the same Redis and the same `name`: the same
 * options and `RateLimitedError` as `rateLimiter`, with each admission one atomic script call.
 *
 * **When to use:** a quota that holds for the whole fleet (a partner API allowing 100 requests a
 * second in total), not per process.
 *
 * **Details:** `tokenBucket` (starts full, never above `capacity`) or the exact `slidingWindow`,
 * on Redis's clock. Waiting calls (`maxWaitMs`) are served FIFO within a process. Redis is
 * unreachable when a command fails or takes longer than `commandTimeoutMs`; then `whenDown`
 * decides: `'local'` limits in-process with the capacity and refill (or the limit) divided by
 * `localShare` (starting full), `'allow'` lets calls through, `'deny'` rejects them.
 *
 * **Gotchas:** every admission is one round trip (a median of well under a millisecond on a
 * local network). `storeError` is emitted once per outage, `storeRecovered` after.
 *
 * @example
 * ```ts
 * import Redis from 'ioredis';
 * import { isBreakwaterError } from 'breakwater';
 * import { redisRateLimiter } from 'breakwater/redis';
 * const limit = redisRateLimiter({ client: new Redis(), name: 'partner-api', algorithm: 'tokenBucket', capacity: 100, refillPerSecond: 100, localShare: 4 });
 * try {
 *   await limit.execute(() => fetch('https://partner.example.com/v1/items'));
 * } catch (e) {
 *   if (isBreakwaterError(e, 'ERATELIMITED')) console.log(`try again in ${e.retryAfterMs} ms`);
 * }
 * ```
 */
export function redisRateLimiter(options: RedisRateLimiterOptions): RedisRateLimiterPolicy {
  return new RedisRateLimiterPolicy(options).adopt();
}
