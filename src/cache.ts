/**
 * cache: a successful value kept per call key for `ttlMs`, LRU-bounded, with a stale fallback
 * on failure (HTTP's `stale-if-error`).
 *
 * @module
 */
import { type Classifier, classifier, handlesError, handlesResult, type HandleOptions } from './handle.js';
import { COMMON_OPTIONS, HANDLE_OPTIONS, checkKnown } from './known-options.js';
import type { CommonOptions, PolicyMetrics } from './contract.js';
import { type Ctx, type Fn, RUN, invoke } from './internal/run.js';
import { PolicyBase, disposedError } from './policy-base.js';
import { describePolicy } from './internal/descriptor.js';
import { FAILURES, SUCCESSES } from './metrics/rolling-window.js';
import { callerAborted } from './internal/token.js';
import { num, optionsObject } from './validate.js';

/**
 * Options of {@link cache}.
 *
 * @example
 * ```ts
 * import { cache } from 'breakwater';
 * const prices = cache({ ttlMs: 30_000, maxEntries: 500, staleIfErrorMs: 300_000 });
 * ```
 */
export interface CacheOptions extends HandleOptions, CommonOptions {
  /** How long a successful value is fresh, in ms. Required. */
  readonly ttlMs: number;
  /** Entries kept at most; the least recently used goes first. @defaultValue 1000 */
  readonly maxEntries?: number;
  /**
   * How long past its expiry an entry may still answer a handled failure (ms), as HTTP's
   * `stale-if-error`. @defaultValue 0 (never)
   */
  readonly staleIfErrorMs?: number;
}

/**
 * Events of the cache policy.
 *
 * @example
 * ```ts
 * import { cache } from 'breakwater';
 * const c = cache({ ttlMs: 1000 });
 * c.events.on('stale', ({ key }) => console.warn('served a stale entry for', key));
 * ```
 */
export interface CacheEvents {
  /** A fresh entry answered the call; `fn` did not run. */
  hit: { readonly key: string };
  /** No fresh entry: `fn` runs. */
  miss: { readonly key: string };
  /** `fn` failed and an entry within `staleIfErrorMs` of its expiry answered instead. */
  stale: { readonly key: string };
}

/**
 * Metrics of a cache: the common ones, plus `hits`, `misses` and `stale` answers since the
 * cache was created, and `size`.
 *
 * @example
 * ```ts
 * import { cache, type CacheMetrics } from 'breakwater';
 * const m: CacheMetrics = cache({ ttlMs: 1000 }).metrics();
 * const hitRate = m.hits / Math.max(1, m.hits + m.misses);
 * ```
 */
export interface CacheMetrics extends PolicyMetrics {
  /** Calls answered from a fresh entry. */
  hits: number;
  /** Calls that found no fresh entry and ran. */
  misses: number;
  /** Failures answered from a stale entry. */
  stale: number;
  /** Entries held now. */
  size: number;
}

/** What the registry, the bus and the exporters know about a cache. */
const CACHE = describePolicy({ kind: 'cache', events: { hit: 'information', miss: 'information', stale: 'warning' } });

interface Entry {
  value: unknown;
  /** Fresh until this time (by the cache's clock). */
  expires: number;
}

/**
 * A policy that keeps successful values per call key. See {@link cache}.
 *
 * @example
 * ```ts
 * import { cache, type CachePolicy } from 'breakwater';
 * const c: CachePolicy = cache({ ttlMs: 60_000 });
 * c.delete('user:1');
 * c.size; // 0
 * ```
 */
export class CachePolicy extends PolicyBase<CacheEvents> {
  /** Fresh time of an entry, ms. */
  readonly ttlMs: number;
  /** Entries kept at most. */
  readonly maxEntries: number;
  /** Stale window past expiry for a handled failure, ms. */
  readonly staleIfErrorMs: number;
  private readonly classify: Classifier;
  /** Insertion order is recency order: a hit moves its entry to the end. */
  private readonly entries = new Map<string, Entry>();
  private hits = 0;
  private misses = 0;
  private stales = 0;

  /** @internal Use {@link cache}. */
  constructor(options: CacheOptions) {
    const K = 'cache';
    const o = optionsObject(K, options);
    checkKnown(K, o, [...COMMON_OPTIONS, ...HANDLE_OPTIONS, 'ttlMs', 'maxEntries', 'staleIfErrorMs']);
    super(CACHE, o);
    this.ttlMs = num(K, 'ttlMs', o['ttlMs'], { min: 0, minExclusive: true, infinity: true });
    this.maxEntries = o['maxEntries'] === undefined ? 1000 : num(K, 'maxEntries', o['maxEntries'], { min: 1, integer: true });
    this.staleIfErrorMs =
      o['staleIfErrorMs'] === undefined ? 0 : num(K, 'staleIfErrorMs', o['staleIfErrorMs'], { min: 0, infinity: true });
    this.classify = classifier(K, o);
  }

  /** Entries held now (fresh, or expired but still within `staleIfErrorMs`). */
  get size(): number {
    return this.entries.size;
  }

  /** Forgets the entry of `key`; true when there was one. */
  delete(key: string): boolean {
    return this.entries.delete(key);
  }

  /** Forgets every entry. */
  clear(): void {
    this.entries.clear();
  }

  /** @internal */
  [RUN]<T>(fn: Fn<T>, ctx: Ctx): Promise<T> {
    if (this.disposed) return Promise.reject(disposedError(this));
    const key = ctx.key;
    // Without a key there is nothing to cache under: the call runs through.
    if (key === undefined) return invoke(fn, ctx);
    const e = this.entries.get(key);
    const now = this.clock.now();
    if (e !== undefined) {
      if (now < e.expires) {
        // Most recently used goes last; the first in the map is the next to evict.
        this.entries.delete(key);
        this.entries.set(key, e);
        this.hits++;
        if (this.window !== undefined) this.recordAt(SUCCESSES, now, now);
        if (this.events.has('hit')) this.events.emit('hit', { key });
        return Promise.resolve(e.value as T);
      }
      if (now >= e.expires + this.staleIfErrorMs) this.entries.delete(key);
    }
    this.misses++;
    if (this.events.has('miss')) this.events.emit('miss', { key });
    const started = this.start();
    return invoke(fn, ctx).then(
      (value) => {
        if (handlesResult(this.classify, value)) return this.failed(key, ctx, started, value, false) as T;
        this.store(key, value);
        this.record(SUCCESSES, started);
        return value;
      },
      (error: unknown) => this.failed(key, ctx, started, error, true) as T,
    );
  }

  /**
   * `fn` failed (threw `outcome`, or returned a handled `outcome`): an entry still within
   * `staleIfErrorMs` of its expiry answers a handled failure; otherwise the failure stands.
   * Never cached. The caller's own abort is never answered.
   */
  private failed(key: string, ctx: Ctx, started: number, outcome: unknown, thrown: boolean): unknown {
    const handled = !callerAborted(ctx.tok) && (!thrown || handlesError(this.classify, outcome));
    if (handled && !this.disposed) {
      const e = this.entries.get(key);
      const now = this.clock.now();
      if (e !== undefined) {
        if (now < e.expires + this.staleIfErrorMs) {
          this.stales++;
          this.record(SUCCESSES, started);
          if (this.events.has('stale')) this.events.emit('stale', { key });
          return e.value;
        }
        this.entries.delete(key);
      }
    }
    if (!callerAborted(ctx.tok)) this.record(FAILURES, started);
    if (thrown) throw outcome;
    return outcome;
  }

  private store(key: string, value: unknown): void {
    if (this.disposed) return;
    const expires = this.clock.now() + this.ttlMs;
    const m = this.entries;
    m.delete(key);
    m.set(key, { value, expires });
    if (m.size > this.maxEntries) {
      // The least recently used is first in insertion order.
      const oldest = m.keys().next();
      if (oldest.done !== true) m.delete(oldest.value);
    }
  }

  /** The policy's metrics plus `hits`, `misses`, `stale` and `size`. */
  override metrics(): CacheMetrics {
    return { ...super.metrics(), hits: this.hits, misses: this.misses, stale: this.stales, size: this.entries.size };
  }

  /** @internal */
  protected override onDispose(): void {
    this.entries.clear();
  }
}

/**
 * Keeps a successful value per call key for `ttlMs`: `cache({ ttlMs, maxEntries = 1000,
 * staleIfErrorMs = 0, handle, handleResult })`. A call with a fresh entry is answered from it
 * without running `fn`.
 *
 * When to use: reads whose answer may be a little old (a profile, a price list, a feature flag),
 * to save the dependency's work and to answer while it is down.
 *
 * Details: the key comes from `execute(fn, { key })` or `wrap(fn, { key: (...args) => … })`; a
 * call without one runs through uncached. Failures are never cached. A handled failure (by
 * default, every error but the caller's own abort; `handleResult` makes values failures too)
 * while an entry is at most `staleIfErrorMs` past its expiry returns that stale value (event
 * `stale`); an expired entry never answers otherwise. Beyond `maxEntries` the least recently
 * used entry is dropped. `delete(key)` and `clear()` forget entries; `metrics()` adds `hits`,
 * `misses` and `stale`.
 *
 * Gotchas: put it outside a circuit breaker (`pipeline(cache, retry, breaker, timeout)`) so that
 * fresh entries keep answering while the breaker is open and stale ones answer its rejections;
 * inside, every hit would still wait for the breaker's permission. Concurrent misses for one key
 * each run `fn`: put `coalesce()` just inside the cache to share them.
 *
 * @example
 * ```ts
 * import { cache, circuitBreaker, coalesce, pipeline, timeout } from 'breakwater';
 * const profiles = pipeline(cache({ ttlMs: 60_000, staleIfErrorMs: 600_000 }), coalesce(), circuitBreaker(), timeout(2000));
 * const getProfile = profiles.wrap((id: string) => fetch(`https://api.example.com/profiles/${id}`).then((r) => r.json()), {
 *   key: (id) => `profile:${id}`,
 * });
 * ```
 */
export function cache(options: CacheOptions): CachePolicy {
  return new CachePolicy(options).adopt();
}
