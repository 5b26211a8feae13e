/**
 * policyPool: one policy per call key (a breaker per host, a bulkhead per tenant), built on first
 * use, bounded by an LRU and idle eviction.
 *
 * @module
 */
import type { Clock } from './clock.js';
import { COMMON_OPTIONS, checkKnown } from './known-options.js';
import type { CommonOptions, ExecuteOptions, Policy, PolicyAnswer, PolicyMetrics } from './contract.js';
import { Ctx, type Fn, RUN } from './internal/run.js';
import { PolicyBase, disposedError, factoryHint } from './policy-base.js';
import { num, optionsObject, typeError } from './validate.js';
import { describePolicy } from './internal/descriptor.js';
import { FAILURES, SUCCESSES } from './metrics/rolling-window.js';

/**
 * Options of {@link policyPool}.
 *
 * @example
 * ```ts
 * import { circuitBreaker, policyPool } from 'breakwater';
 * const perHost = policyPool((host, name) => circuitBreaker({ name }), { maxKeys: 100, idleMs: 60_000 });
 * ```
 */
export interface PolicyPoolOptions extends CommonOptions {
  /** Keys with a live policy at most, while some are idle. @defaultValue 1000 */
  readonly maxKeys?: number;
  /** A key unused for this long (ms, by the pool's clock) is disposed. @defaultValue 600000 */
  readonly idleMs?: number;
}

/**
 * Events of a policy pool.
 *
 * @example
 * ```ts
 * import { circuitBreaker, policyPool } from 'breakwater';
 * const pool = policyPool(() => circuitBreaker());
 * pool.events.on('evicted', ({ key }) => console.log('dropped the breaker of', key));
 * ```
 */
export interface PolicyPoolEvents {
  /** Every live key was busy: the pool grew past `maxKeys` to `size`. */
  overflow: { readonly size: number };
  /** The policy of `key` was disposed (least recently used, idle, or `delete`d). */
  evicted: { readonly key: string };
}

/** A live key: its policy, calls running through it, and its place in the LRU list. */
class Entry {
  active = 0;
  /** Used since the sweeper last looked. */
  touched = true;
  /** When the sweeper first saw it unused (by the pool's clock). */
  idleSince = 0;
  newer: Entry | undefined = undefined;
  older: Entry | undefined = undefined;
  /** The end of each call through this key, made once per key (no closure per call). */
  readonly ok: (value: unknown) => unknown;
  readonly err: (error: unknown) => never;
  constructor(
    readonly key: string,
    readonly policy: Policy,
    readonly run: (<T>(fn: Fn<T>, ctx: Ctx) => Promise<T>) | undefined,
    done: (e: Entry) => void,
  ) {
    this.ok = (value) => {
      done(this);
      return value;
    };
    this.err = (error) => {
      done(this);
      throw error;
    };
  }
}

const POOL = describePolicy({ kind: 'policyPool', events: { overflow: 'warning', evicted: 'information' } });

/**
 * A policy that runs each call through the policy of the call's key. See {@link policyPool}.
 *
 * @example
 * ```ts
 * import { bulkhead, policyPool, type PolicyPool } from 'breakwater';
 * const perTenant: PolicyPool = policyPool(() => bulkhead({ maxConcurrent: 4 }));
 * await perTenant.execute(() => work(), { key: 'tenant-a' });
 * perTenant.size; // 1
 * ```
 */
export class PolicyPool<P extends Policy = Policy> extends PolicyBase<PolicyPoolEvents, PolicyAnswer<P>> {
  /** Keys with a live policy at most, while some are idle. */
  readonly maxKeys: number;
  /** Idle time after which a key's policy is disposed. */
  readonly idleMs: number;
  private readonly factory: (key: string, name: string) => P;
  private readonly entries = new Map<string, Entry>();
  private readonly live = new Set<Policy>();
  /** Most recently used end of the LRU list. */
  private newest: Entry | undefined = undefined;
  private oldest: Entry | undefined = undefined;
  private sweeper: unknown = undefined;
  private readonly timeClock: Clock;
  private readonly listing: { add(p: Policy): unknown; get?(name: string): unknown } | undefined;
  /** The pool's own metrics window is off unless asked for: `metrics()` adds up its keys'. */
  private readonly own: boolean;

  /** @internal Use {@link policyPool}. */
  constructor(factory: (key: string, name: string) => P, options?: PolicyPoolOptions) {
    const K = 'policyPool';
    if (typeof factory !== 'function') typeError(K, 'factory', 'a function (key, name) => policy', factory);
    const o = optionsObject(K, options);
    checkKnown(K, o, [...COMMON_OPTIONS, 'maxKeys', 'idleMs']);
    const own = o['metrics'] !== undefined && o['metrics'] !== false;
    super(POOL, own ? o : { ...o, metrics: false });
    this.own = own;
    this.factory = factory;
    this.maxKeys = o['maxKeys'] === undefined ? 1000 : num(K, 'maxKeys', o['maxKeys'], { min: 1, integer: true });
    this.idleMs = o['idleMs'] === undefined ? 600000 : num(K, 'idleMs', o['idleMs'], { min: 0, minExclusive: true, infinity: true });
    this.timeClock = this.clock;
    this.listing = o['registry'] as PolicyPool['listing'];
  }

  /** Keys with a live policy. */
  get size(): number {
    return this.entries.size;
  }

  /** The live policy of `key`, if any (never builds one). */
  get(key: string): P | undefined {
    return this.entries.get(key)?.policy as P | undefined;
  }

  /** Disposes the policy of `key` now, even if calls run through it; true when there was one. */
  delete(key: string): boolean {
    const e = this.entries.get(key);
    if (e === undefined) return false;
    this.evict(e);
    return true;
  }

  /** Live keys, most recently used first. */
  keys(): string[] {
    const out: string[] = [];
    for (let e = this.newest; e !== undefined; e = e.older) out.push(e.key);
    return out;
  }

  /** @internal */
  [RUN]<T>(fn: Fn<T>, ctx: Ctx): Promise<T> {
    if (this.disposed) return Promise.reject(disposedError(this));
    const key = ctx.key;
    if (key === undefined) {
      return Promise.reject(new TypeError(`policyPool '${this.name}': a call needs a key (execute(fn, { key }))`));
    }
    let e = this.entries.get(key);
    if (e === undefined) {
      try {
        e = this.create(key);
      } catch (error) {
        return Promise.reject(error);
      }
    } else if (e !== this.newest) {
      this.unlink(e);
      this.push(e);
    }
    e.active++;
    const p = this.own ? this.recorded(e, fn, ctx) : this.through(e, fn, ctx);
    return p.then(e.ok, e.err) as Promise<T>;
  }

  private through<T>(e: Entry, fn: Fn<T>, ctx: Ctx): Promise<T> {
    const run = e.run;
    if (run !== undefined) return run.call(e.policy, fn, ctx) as Promise<T>;
    const options: ExecuteOptions = ctx.tok === undefined ? { key: e.key } : { key: e.key, signal: ctx.tok.signal };
    try {
      return e.policy.execute<T>((c) => fn(new Ctx(ctx.tok, c.attempt, e.key)), options) as Promise<T>;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  private async recorded<T>(e: Entry, fn: Fn<T>, ctx: Ctx): Promise<T> {
    const started = this.start();
    try {
      const v = await this.through(e, fn, ctx);
      this.record(SUCCESSES, started);
      return v;
    } catch (error) {
      this.record(FAILURES, started);
      throw error;
    }
  }

  private readonly doneFn = (e: Entry): void => this.done(e);

  private done(e: Entry): void {
    e.active--;
    e.touched = true;
    if (e.active === 0 && this.entries.size > this.maxKeys) this.shrink();
  }

  private create(key: string): Entry {
    const name = `${this.name}:${key}`;
    const policy = this.factory(key, name);
    if (policy === null || typeof policy !== 'object' || typeof (policy as Partial<Policy>).execute !== 'function') {
      throw new TypeError(`policyPool '${this.name}': the factory must return a policy, got ${factoryHint(policy)}`);
    }
    if ((policy as unknown) === this || this.live.has(policy)) {
      throw new TypeError(`policyPool '${this.name}': the factory must build a new policy per key (it returned one already in use)`);
    }
    const l = this.listing;
    if (l !== undefined && l.get?.(policy.name) !== policy) l.add(policy);
    const run = (policy as unknown as Record<symbol, unknown>)[RUN];
    const e = new Entry(key, policy, typeof run === 'function' ? (run as Entry['run']) : undefined, this.doneFn);
    // Make room first, so the new key is never the one evicted.
    if (this.entries.size >= this.maxKeys) this.shrink(this.maxKeys - 1);
    this.entries.set(key, e);
    this.live.add(policy);
    this.push(e);
    if (this.entries.size > this.maxKeys && this.events.has('overflow')) {
      this.events.emit('overflow', { size: this.entries.size });
    }
    this.arm();
    return e;
  }

  /** Evicts least recently used idle keys until the pool is back to `maxKeys` (or none can go). */
  private shrink(to = this.maxKeys): void {
    let e = this.oldest;
    while (e !== undefined && this.entries.size > to) {
      const next = e.newer;
      if (this.evictable(e)) this.evict(e);
      e = next;
    }
  }

  private evictable(e: Entry): boolean {
    return e.active === 0 && !holdsState(e.policy);
  }

  private evict(e: Entry): void {
    if (this.entries.get(e.key) !== e) return;
    this.entries.delete(e.key);
    this.live.delete(e.policy);
    this.unlink(e);
    e.policy.dispose();
    if (this.events.has('evicted')) this.events.emit('evicted', { key: e.key });
    if (this.entries.size === 0) this.disarm();
  }

  /**
   * The idle sweep runs every `idleMs / 4` while the pool has keys. A key first seen unused by a
   * sweep counts as idle from that sweep (never earlier than its last use), and goes at the first
   * sweep `idleMs` later: at most `idleMs / 4 + idleMs / 4` past its idle time, within `idleMs / 2`.
   */
  private arm(): void {
    if (this.sweeper !== undefined || this.idleMs === Infinity) return;
    this.sweeper = this.timeClock.setTimeout(() => this.sweep(), this.idleMs / 4);
  }

  private disarm(): void {
    if (this.sweeper === undefined) return;
    this.timeClock.clearTimeout(this.sweeper);
    this.sweeper = undefined;
  }

  private sweep(): void {
    this.sweeper = undefined;
    if (this.disposed) return;
    const now = this.timeClock.now();
    let e = this.oldest;
    while (e !== undefined) {
      const next = e.newer;
      if (e.touched || !this.evictable(e)) {
        e.touched = false;
        e.idleSince = now;
      } else if (now - e.idleSince >= this.idleMs) {
        this.evict(e);
      }
      e = next;
    }
    if (this.entries.size > 0) this.arm();
  }

  private push(e: Entry): void {
    e.older = this.newest;
    e.newer = undefined;
    if (this.newest !== undefined) this.newest.newer = e;
    this.newest = e;
    this.oldest ??= e;
  }

  private unlink(e: Entry): void {
    if (e.newer !== undefined) e.newer.older = e.older;
    else this.newest = e.older;
    if (e.older !== undefined) e.older.newer = e.newer;
    else this.oldest = e.newer;
    e.newer = e.older = undefined;
  }

  /**
   * Without its own metrics (the default), the pool's figures are the sums over its live keys'
   * policies; latency is the busiest key's.
   */
  override metrics(): PolicyMetrics {
    if (this.own) return super.metrics();
    const m = super.metrics();
    let busiest = -1;
    for (const e of this.entries.values()) {
      const k = e.policy.metrics();
      m.calls += k.calls;
      m.successes += k.successes;
      m.failures += k.failures;
      m.rejections += k.rejections;
      m.timeouts += k.timeouts;
      m.fallbacks += k.fallbacks;
      m.retries += k.retries;
      m.slowCalls += k.slowCalls;
      m.windowMs = Math.max(m.windowMs, k.windowMs);
      if (k.latencyMs.count > busiest) {
        busiest = k.latencyMs.count;
        m.latencyMs = k.latencyMs;
      }
    }
    m.failureRate = m.successes + m.failures === 0 ? 0 : m.failures / (m.successes + m.failures);
    return m;
  }

  /** @internal */
  protected override onDispose(): void {
    this.disarm();
    for (const e of [...this.entries.values()]) {
      this.entries.delete(e.key);
      e.policy.dispose();
    }
    this.live.clear();
    this.newest = this.oldest = undefined;
  }
}

/**
 * True while a policy holds state a user relies on: an open, half-open or isolated breaker, a
 * queue, running calls; for a pipeline, any member that does.
 */
function holdsState(p: Policy): boolean {
  const r = p as unknown as Record<string, unknown>;
  const state = r['state'];
  if (typeof state === 'string' && state !== 'closed') return true;
  const queued = r['queued'];
  if (typeof queued === 'number' && queued > 0) return true;
  const executing = r['executing'];
  if (typeof executing === 'number' && executing > 0) return true;
  const members = r['policies'];
  return Array.isArray(members) && (members as Policy[]).some(holdsState);
}

/**
 * A policy per call key: `policyPool((key, name) => policy, options)` runs each call through the
 * policy of its `key` (`execute(fn, { key })`, or `wrap(fn, { key: (...args) => … })`), built on
 * first use by the factory, which receives the key and the name to give the policy
 * (`${poolName}:${key}`). With a `registry`, each key's policy is listed there while it lives.
 *
 * When to use: a breaker per host, a bulkhead or rate limiter per tenant: one bad key must not
 * trip the others (the in-process counterpart of Envoy's per-host circuit breaking).
 *
 * Details: at most `maxKeys` keys live; the least recently used idle key is disposed to make
 * room, and a key unused for `idleMs` is disposed within `idleMs / 2` more. A key's policy is
 * never evicted while a call runs through it or while it holds state (an open or half-open
 * breaker, a queue): when every key is busy the pool grows past `maxKeys` (event `overflow`) and
 * shrinks back as keys go idle. Evicted policies are disposed and leave the registry, so metric
 * labels stay bounded.
 *
 * Gotchas: a call without a key is a `TypeError`. The factory must build a new policy on each
 * call (the pool disposes it on eviction). The pool's `metrics()` add up its live keys' unless
 * it is given its own `metrics` option.
 *
 * @example
 * ```ts
 * import { circuitBreaker, pipeline, policyPool, retry, timeout } from 'breakwater';
 * const breakers = policyPool((host, name) => circuitBreaker({ name, window: { type: 'consecutive', failures: 5 } }));
 * const client = pipeline(retry(), breakers, timeout(2000));
 * const url = new URL('https://api.example.com/users/1');
 * await client.execute(({ signal }) => fetch(url, { signal }), { key: url.host });
 * ```
 */
export function policyPool<P extends Policy>(factory: (key: string, name: string) => P, options?: PolicyPoolOptions): PolicyPool<P> {
  return new PolicyPool<P>(factory, options).adopt();
}
