/**
 * `redisCircuitStore`: one circuit breaker for the whole fleet, on Redis.
 *
 * Per breaker: outcomes are counted locally and flushed (one script call) at most every
 * `flushMs`; the script decides transitions on Redis's clock and publishes them; each process
 * applies them from pub/sub, or from polling every `syncMs` while pub/sub is down. Half-open
 * trials run on leases from the same script.
 *
 * @module
 */
import type { CircuitStore, CircuitStoreBreaker, CircuitStoreSession } from '../circuit-breaker/store.js';
import type { CircuitState } from '../circuit-breaker/state.js';
import { checkKnown } from '../known-options.js';
import { num, optionsObject, optStr, show } from '../validate.js';
import { bounded, type Commands, commandsFor, type RedisClient, type Subscriber } from './client.js';
import { BREAKER } from './scripts.js';

const P = 'redisCircuitStore';
/** Flushes kept while Redis cannot be reached; the oldest go first past this (see docs/redis.md). */
export const MAX_PENDING_BATCHES = 1000;

/**
 * Options of {@link redisCircuitStore}.
 *
 * @example
 * ```ts
 * import Redis from 'ioredis';
 * import type { RedisCircuitStoreOptions } from 'breakwater/redis';
 * const options: RedisCircuitStoreOptions = { client: new Redis(), flushMs: 20, syncMs: 50 };
 * ```
 */
export interface RedisCircuitStoreOptions {
  /** An ioredis client or a connected node-redis v4+ client; never closed by the store. */
  readonly client: RedisClient;
  /** Prefix of every key and channel. @defaultValue `'breakwater:'` */
  readonly prefix?: string;
  /** Longest a fleet-wide transition takes to reach this process while pub/sub is down (polling), ms. @defaultValue `100` */
  readonly syncMs?: number;
  /** Longest an outcome waits before it is flushed to Redis, ms. @defaultValue `50` */
  readonly flushMs?: number;
  /** Longest any call waits on Redis, ms; slower is an outage. @defaultValue `50` */
  readonly commandTimeoutMs?: number;
}

/**
 * A circuit store on Redis, for `circuitBreaker`'s `store` option. Also a handle: `dispose()`
 * detaches every breaker still attached and closes the store's pub/sub connection.
 *
 * @example
 * ```ts
 * import Redis from 'ioredis';
 * import { circuitBreaker } from 'breakwater';
 * import { redisCircuitStore, type RedisCircuitStore } from 'breakwater/redis';
 * const store: RedisCircuitStore = redisCircuitStore({ client: new Redis() });
 * const breaker = circuitBreaker({ name: 'payments', store });
 * breaker.dispose();
 * store.dispose();
 * ```
 */
export interface RedisCircuitStore extends CircuitStore {
  /** Which client was given. */
  readonly client: 'ioredis' | 'node-redis';
  /** Detaches every breaker and closes the pub/sub connection (never the client given). */
  dispose(): void;
}

interface Settings {
  readonly prefix: string;
  readonly syncMs: number;
  readonly flushMs: number;
  readonly commandTimeoutMs: number;
}

/** Outcomes counted locally, not yet known to be in Redis. */
interface Batch {
  /** Set when first sent: a resend carries the same id, so Redis counts it once. */
  id: string;
  /** The fleet version the outcomes were recorded under (-1: not known yet). */
  readonly ver: number;
  calls: number;
  failures: number;
  slows: number;
  /** Count windows: the outcomes in order (`o` ok, `f` failure, `s` slow ok, `x` slow failure). */
  outs: string;
}

type Reply = [string, number, number, number];
const STATES = new Set(['closed', 'open', 'halfOpen']);

function parseReply(raw: unknown): Reply {
  if (!Array.isArray(raw) || raw.length < 4 || !STATES.has(String(raw[0]))) throw new Error(`breakwater/redis: unexpected reply ${show(raw)}`);
  return [String(raw[0]), Number(raw[1]), Number(raw[2]), Number(raw[3])];
}

let processTag = '';
/** Per process, not per store: two stores in one process never reuse an id. */
let seq = 0;
function tag(): string {
  // Unique per process and store instance: flush and lease ids of two processes never collide.
  if (processTag === '') processTag = Math.random().toString(36).slice(2, 10) + Date.now().toString(36);
  return processTag;
}

class Store implements RedisCircuitStore {
  readonly client: 'ioredis' | 'node-redis';
  private sub: Subscriber | undefined = undefined;
  private subUp = false;
  private readonly sessions = new Map<string, Session>();

  constructor(
    readonly cmds: Commands,
    readonly s: Settings,
  ) {
    this.client = cmds.kind;
  }

  /** Is pub/sub delivering (else every breaker polls)? */
  get pushing(): boolean {
    return this.subUp;
  }

  nextId(): string {
    return `${tag()}:${(seq++).toString(36)}`;
  }

  attach(breaker: CircuitStoreBreaker): CircuitStoreSession {
    const base = `${this.s.prefix}{${breaker.name}}:`;
    const channel = `${base}events`;
    if (this.sessions.has(channel)) {
      throw new TypeError(`${P}: a breaker named ${show(breaker.name)} is already attached to this store (dispose it first)`);
    }
    const session = new Session(this, breaker, base, channel);
    this.sessions.set(channel, session);
    session.start();
    // A transition published before the subscription took effect is pulled once it has.
    this.subscriber()
      .subscribe(channel)
      .then(
        () => session.poke(),
        () => undefined,
      );
    return session;
  }

  detach(session: Session): void {
    if (this.sessions.get(session.channel) !== session) return;
    this.sessions.delete(session.channel);
    const sub = this.sub;
    if (sub === undefined) return;
    if (this.sessions.size === 0) {
      this.sub = undefined;
      this.subUp = false;
      void sub.close();
    } else {
      sub.unsubscribe(session.channel).catch(() => undefined);
    }
  }

  dispose(): void {
    for (const session of [...this.sessions.values()]) session.dispose();
  }

  private subscriber(): Subscriber {
    if (this.sub !== undefined) return this.sub;
    const sub = this.cmds.subscriber(
      (channel, message) => this.sessions.get(channel)?.pushed(message),
      (up) => {
        if (this.sub !== sub) return;
        this.subUp = up;
        if (up) {
          // Subscriptions are (re)made; what was missed while down is pulled once.
          for (const [ch, session] of this.sessions) {
            sub.subscribe(ch).then(
              () => session.poke(),
              () => undefined,
            );
          }
        } else for (const session of this.sessions.values()) session.poke();
      },
    );
    this.sub = sub;
    return sub;
  }
}

class Session implements CircuitStoreSession {
  private readonly keys: string[];
  private readonly config: string;
  private readonly durations: string;
  /** The count window's size (0: a time window). */
  private readonly countSize: number;
  private ver = -1;
  /** Redis answers (false from the first failure until the next success). */
  private online = true;
  /** After an outage the next reply is applied whatever its version. */
  private resync = true;
  private pending: Batch[] = [];
  private flushing = false;
  private flushTimer: ReturnType<typeof setTimeout> | undefined = undefined;
  private pollTimer: ReturnType<typeof setTimeout> | undefined = undefined;
  /** Commands sent and not settled (a timed-out one may still be queued in the client). */
  private unsettled = 0;
  private readonly leases: string[] = [];
  private disposed = false;
  private imposing = false;
  private readonly onFlushTimer = (): void => {
    this.flushTimer = undefined;
    this.flush();
  };
  private readonly onPollTimer = (): void => {
    this.pollTimer = undefined;
    this.flush(true);
  };

  constructor(
    private readonly store: Store,
    private readonly breaker: CircuitStoreBreaker,
    base: string,
    readonly channel: string,
  ) {
    this.keys = [`${base}state`, `${base}window`, `${base}leases`, `${base}flushes`];
    const c = breaker.config;
    const w = c.window;
    const windowMs = w.type === 'time' ? w.durationMs : 0;
    this.countSize = w.type === 'count' ? w.size : 0;
    // At least the window plus the open and half-open durations plus a minute, so keys in use never expire.
    const ttl = Math.ceil(windowMs + Math.max(...c.openDurationsMs) + c.halfOpenMaxDurationMs + 60_000);
    const slowRate = c.slowCallRateThreshold === Infinity ? 2 : c.slowCallRateThreshold;
    this.config = [
      w.type,
      w.type === 'time' ? w.durationMs : w.size,
      w.type === 'time' ? w.buckets : 0,
      c.minimumCalls,
      c.failureRateThreshold,
      slowRate,
      c.halfOpenCalls,
      Math.ceil(c.halfOpenMaxDurationMs),
      ttl,
    ].join(',');
    this.durations = c.openDurationsMs.map((d) => Math.ceil(d)).join(',');
  }

  /** Learns the fleet's state once at the start. */
  start(): void {
    this.flush(true);
  }

  record(failure: boolean, slow: boolean, _now: number, local: boolean): boolean {
    let b = this.pending[this.pending.length - 1];
    if (b === undefined || b.id !== '' || b.ver !== this.ver) {
      b = { id: '', ver: this.ver, calls: 0, failures: 0, slows: 0, outs: '' };
      this.pending.push(b);
      if (this.pending.length > MAX_PENDING_BATCHES) this.pending.shift();
    }
    b.calls++;
    if (failure) b.failures++;
    if (slow) b.slows++;
    if (this.countSize > 0) {
      b.outs += failure ? (slow ? 'x' : 'f') : slow ? 's' : 'o';
      if (b.outs.length > this.countSize) b.outs = b.outs.slice(-this.countSize);
    }
    if (this.flushTimer === undefined && !this.disposed) {
      this.flushTimer = setTimeout(this.onFlushTimer, this.store.s.flushMs);
      this.flushTimer.unref?.();
    }
    // Reachable: the fleet decides, at the next flush. In an outage the local window does.
    return this.online ? false : local;
  }

  acquireTrial(): boolean | Promise<boolean> {
    // In an outage each process runs its own `halfOpenCalls` trials (the breaker's own slots).
    if (!this.online) {
      this.flush(true);
      return true;
    }
    const id = this.store.nextId();
    return this.command(['acquire', id]).then(
      (r) => {
        if (r === undefined) {
          // No answer in time: the trial runs on local slots; the lease, if it lands, is given back.
          this.leases.push(id);
          return true;
        }
        if (r[3] === 1) this.leases.push(id);
        return r[3] === 1;
      },
      () => true,
    );
  }

  trialEnded(slow: boolean, neither: boolean): boolean {
    const lease = this.leases.shift();
    if (lease !== undefined) void this.command(['release', lease, neither ? 'none' : slow ? 'slow' : 'ok']);
    // The breaker's own count decides too: its successes are a subset of the fleet's.
    return false;
  }

  transitioned(from: CircuitState, to: CircuitState): void {
    if (this.imposing || this.disposed) return;
    if (from === 'halfOpen' && to === 'open') {
      // A failed or hung trial: it reopens the fleet's breaker too.
      const leases = this.leases.splice(0);
      for (const lease of leases) void this.command(['release', lease, 'fail']);
    }
    this.schedulePoll();
  }

  reset(): void {
    // Closed again: outcomes of the closed period before are no verdict on this one.
    this.pending = this.pending.filter((b) => b.id !== '' && b.ver === this.ver);
  }

  dispose(): void {
    if (this.disposed) return;
    // Outcomes not flushed yet go out once, best effort, and trials give their leases back.
    this.flush(true);
    for (const lease of this.leases.splice(0)) void this.command(['release', lease, 'none']);
    this.disposed = true;
    if (this.flushTimer !== undefined) clearTimeout(this.flushTimer);
    if (this.pollTimer !== undefined) clearTimeout(this.pollTimer);
    this.flushTimer = this.pollTimer = undefined;
    this.store.detach(this);
  }

  /** A transition published by another process (or this one). */
  pushed(message: string): void {
    const [ver, st, left] = message.split('|');
    if (ver === undefined || st === undefined || left === undefined || !STATES.has(st)) return;
    this.apply([st, Number(ver), Number(left), 0]);
  }

  /** Pub/sub went up or down: pull once, and poll while it is down. */
  poke(): void {
    this.flush(true);
  }

  /** Sends pending outcomes (and learns the state). `poll`: even with nothing to send. */
  private flush(poll = false): void {
    if (this.disposed || this.flushing) return;
    if (this.flushTimer !== undefined) {
      clearTimeout(this.flushTimer);
      this.flushTimer = undefined;
    }
    // A copy: outcomes recorded while this flush is out go into `pending` and must stay there.
    const batches = this.pending.slice();
    if (batches.length === 0 && !poll) return;
    if (!this.online && this.unsettled > 0) {
      // A command of this outage is still queued in the client: wait for it, send nothing new.
      this.armFlush();
      this.schedulePoll();
      return;
    }
    for (const b of batches) if (b.id === '') b.id = this.store.nextId();
    const args = ['sync', ...batches.map((b) => `${b.id}|${b.ver}|${b.calls}|${b.failures}|${b.slows}|${b.outs}`)];
    this.flushing = true;
    void this.command(args).then((r) => {
      this.flushing = false;
      if (r !== undefined) {
        // In Redis now: forget them (new outcomes went into a new batch meanwhile).
        const sent = new Set(batches);
        this.pending = this.pending.filter((b) => !sent.has(b));
      }
      if (this.pending.some((b) => b.id === '')) this.armFlush();
      this.schedulePoll();
    });
  }

  private armFlush(): void {
    if (this.flushTimer !== undefined || this.disposed) return;
    this.flushTimer = setTimeout(this.onFlushTimer, this.online ? this.store.s.flushMs : this.store.s.syncMs);
    this.flushTimer.unref?.();
  }

  /** Polls every `syncMs` while pub/sub is down, while half-open (leases expire), or in an outage. */
  private schedulePoll(): void {
    if (this.disposed || this.pollTimer !== undefined) return;
    if (this.store.pushing && this.online && this.breaker.state !== 'halfOpen') return;
    this.pollTimer = setTimeout(this.onPollTimer, this.store.s.syncMs);
    this.pollTimer.unref?.();
  }

  /**
   * One script call, bounded by `commandTimeoutMs`; resolves `undefined` for a failure or a
   * timeout (reported as an outage), never rejects. While a timed-out command is still queued in
   * the client, no new one is sent: an outage never piles up commands.
   */
  private command(args: string[]): Promise<Reply | undefined> {
    if (!this.online && this.unsettled > 0) return Promise.resolve(undefined);
    const s = this.store;
    const full = [args[0] as string, this.config, this.channel, this.durations, ...args.slice(1)];
    this.unsettled++;
    const sent = BREAKER.run(s.cmds, this.keys, full);
    const settle = (): void => {
      this.unsettled--;
    };
    sent.then(settle, settle);
    return bounded(sent, s.s.commandTimeoutMs).then(
      (raw) => {
        const reply = parseReply(raw);
        this.up();
        this.apply(reply);
        return reply;
      },
      (error: unknown) => {
        this.down(error);
        return undefined;
      },
    );
  }

  private up(): void {
    if (this.online) return;
    this.online = true;
    this.breaker.storeEvent('storeRecovered');
    this.schedulePoll();
  }

  private down(error: unknown): void {
    if (!this.online) return;
    this.online = false;
    this.resync = true;
    this.breaker.storeEvent('storeError', error);
    this.schedulePoll();
  }

  /** Applies the fleet's state when it is newer than the last one seen. */
  private apply(r: Reply): void {
    const [st, ver, left] = r;
    if (this.disposed || (!(ver > this.ver) && !this.resync)) return;
    this.resync = false;
    this.ver = ver;
    this.imposing = true;
    try {
      this.breaker.impose(st as 'closed' | 'open' | 'halfOpen', left);
    } finally {
      this.imposing = false;
    }
    this.schedulePoll();
  }
}

/**
 * A shared state for `circuitBreaker`'s `store` option: every breaker of the same `name` on the
 * same Redis is one breaker for the fleet — the failures of all processes count in one window,
 * one process's breaker opening opens all of them, and half-open trials are shared.
 *
 * **When to use:** many processes call the same dependency and should stop (and probe) together.
 *
 * **Details:** admission in the closed state reads the local copy (no round trip); outcomes are
 * counted locally and flushed in one script call at most every `flushMs`; transitions are decided
 * in Redis (one Lua script, Redis's `TIME`) and reach every process by pub/sub, or by polling
 * every `syncMs` while pub/sub is down. Keys are `${prefix}{${name}}:…` (one Redis Cluster slot)
 * and expire when unused.
 *
 * **Gotchas:** a fleet decision lags the deciding outcome by up to `flushMs` + `syncMs`. If Redis
 * is down or slower than `commandTimeoutMs`, each breaker goes on from its own state and emits
 * `storeError` once, then `storeRecovered`. `isolate()` and `reset()` act on this process only.
 *
 * @example
 * ```ts
 * import Redis from 'ioredis';
 * import { circuitBreaker } from 'breakwater';
 * import { redisCircuitStore } from 'breakwater/redis';
 * const store = redisCircuitStore({ client: new Redis(process.env.REDIS_URL) });
 * const breaker = circuitBreaker({ name: 'payments', store });
 * breaker.events.on('storeError', ({ error }) => console.warn('Redis unreachable', error));
 * ```
 */
export function redisCircuitStore(options: RedisCircuitStoreOptions): RedisCircuitStore {
  const o = optionsObject(P, options);
  checkKnown(P, o, ['client', 'prefix', 'syncMs', 'flushMs', 'commandTimeoutMs']);
  if (o['client'] === undefined) throw new TypeError(`${P}: client is required (an ioredis or node-redis client), got undefined`);
  const cmds = commandsFor(P, o['client']);
  const ms = { min: 1, max: 2_147_483_647 };
  return new Store(
    cmds,
    Object.freeze({
      prefix: optStr(P, 'prefix', o['prefix']) ?? 'breakwater:',
      syncMs: o['syncMs'] === undefined ? 100 : num(P, 'syncMs', o['syncMs'], ms),
      flushMs: o['flushMs'] === undefined ? 50 : num(P, 'flushMs', o['flushMs'], ms),
      commandTimeoutMs: o['commandTimeoutMs'] === undefined ? 50 : num(P, 'commandTimeoutMs', o['commandTimeoutMs'], ms),
    }),
  );
}
