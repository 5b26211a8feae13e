/**
 * The small client interface breakwater/redis needs, and adapters for ioredis and node-redis v4+.
 *
 * @module
 */
import { createHash } from 'node:crypto';

/**
 * The part of an ioredis client breakwater uses (`new Redis(url)` from `ioredis`).
 *
 * @example
 * ```ts
 * import Redis from 'ioredis';
 * import type { IoRedisLike } from 'breakwater/redis';
 * const client: IoRedisLike = new Redis('redis://127.0.0.1:6379');
 * ```
 */
export interface IoRedisLike {
  evalsha(sha: string, numKeys: number, ...args: string[]): Promise<unknown>;
  eval(script: string, numKeys: number, ...args: string[]): Promise<unknown>;
  duplicate(): IoRedisLike;
  subscribe(...channels: string[]): Promise<unknown>;
  unsubscribe(...channels: string[]): Promise<unknown>;
  on(event: string, listener: (...args: never[]) => void): unknown;
  quit(): Promise<unknown>;
  disconnect(): void;
}

/**
 * The part of a connected node-redis v4+ client breakwater uses (`createClient()` from `redis`,
 * after `await client.connect()`).
 *
 * @example
 * ```ts
 * import { createClient } from 'redis';
 * import type { NodeRedisLike } from 'breakwater/redis';
 * const client = createClient({ url: 'redis://127.0.0.1:6379' });
 * await client.connect();
 * const like: NodeRedisLike = client as unknown as NodeRedisLike;
 * ```
 */
export interface NodeRedisLike {
  evalSha(sha: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  duplicate(): NodeRedisLike;
  connect(): Promise<unknown>;
  subscribe(channel: string, listener: (message: string, channel: string) => void): Promise<unknown>;
  unsubscribe(channel: string): Promise<unknown>;
  on(event: string, listener: (...args: never[]) => void): unknown;
  quit(): Promise<unknown>;
  disconnect(): Promise<unknown>;
}

/**
 * A Redis client breakwater accepts: an ioredis client or a connected node-redis v4+ client,
 * taken as it is. breakwater sends only `EVALSHA`/`EVAL` on it and never closes it; it makes one
 * `duplicate()` per store for pub/sub, which it closes itself.
 *
 * @example
 * ```ts
 * import Redis from 'ioredis';
 * import type { RedisClient } from 'breakwater/redis';
 * const client: RedisClient = new Redis();
 * ```
 */
export type RedisClient = IoRedisLike | NodeRedisLike;

/** A subscriber connection, as the stores use it. @internal */
export interface Subscriber {
  subscribe(channel: string): Promise<unknown>;
  unsubscribe(channel: string): Promise<unknown>;
  /** Resolves when closed; never rejects. */
  close(): Promise<void>;
}

/** The commands the stores send, whichever client was given. @internal */
export interface Commands {
  readonly kind: 'ioredis' | 'node-redis';
  evalsha(sha: string, keys: string[], args: string[]): Promise<unknown>;
  eval(script: string, keys: string[], args: string[]): Promise<unknown>;
  /**
   * A duplicate connection for pub/sub: `onMessage` per message, `onReady(up)` whenever it comes
   * up (`true`, subscriptions re-made) or goes down (`false`).
   */
  subscriber(onMessage: (channel: string, message: string) => void, onReady: (up: boolean) => void): Subscriber;
}

function isNodeRedis(c: object): c is NodeRedisLike {
  return typeof (c as NodeRedisLike).evalSha === 'function';
}

function isIoRedis(c: object): c is IoRedisLike {
  return typeof (c as IoRedisLike).evalsha === 'function';
}

/** Detects the client's kind; a `TypeError` naming `policy` for anything else. @internal */
export function commandsFor(policy: string, client: unknown): Commands {
  if (typeof client !== 'object' || client === null) {
    throw new TypeError(`${policy}: client must be an ioredis or node-redis client, got ${client === null ? 'null' : typeof client}`);
  }
  if (isNodeRedis(client)) return nodeRedis(client);
  if (isIoRedis(client)) return ioRedis(client);
  throw new TypeError(`${policy}: client must be an ioredis or node-redis client (with evalsha or evalSha), got an object`);
}

function ioRedis(c: IoRedisLike): Commands {
  return {
    kind: 'ioredis',
    evalsha: (sha, keys, args) => c.evalsha(sha, keys.length, ...keys, ...args),
    eval: (script, keys, args) => c.eval(script, keys.length, ...keys, ...args),
    subscriber(onMessage, onReady) {
      const sub = c.duplicate();
      const channels = new Set<string>();
      let closed = false;
      // ioredis re-subscribes by itself after a reconnect; 'ready' says it is back.
      sub.on('message', ((channel: string, message: string) => onMessage(channel, message)));
      sub.on('ready', (() => onReady(true)));
      sub.on('close', (() => onReady(false)));
      // Without a listener ioredis prints every connection error; the stores report outages.
      sub.on('error', (() => undefined));
      return {
        subscribe: (ch) => {
          channels.add(ch);
          return sub.subscribe(ch);
        },
        unsubscribe: (ch) => {
          channels.delete(ch);
          return closed ? Promise.resolve() : sub.unsubscribe(ch);
        },
        close: () => {
          if (!closed) {
            closed = true;
            sub.disconnect();
          }
          return Promise.resolve();
        },
      };
    },
  };
}

function nodeRedis(c: NodeRedisLike): Commands {
  return {
    kind: 'node-redis',
    evalsha: (sha, keys, args) => c.evalSha(sha, { keys, arguments: args }),
    eval: (script, keys, args) => c.eval(script, { keys, arguments: args }),
    subscriber(onMessage, onReady) {
      const sub = c.duplicate();
      let closed = false;
      const channels = new Set<string>();
      const listener = (message: string, channel: string): void => onMessage(channel, message);
      sub.on('ready', (() => onReady(true)));
      sub.on('end', (() => onReady(false)));
      sub.on('reconnecting', (() => onReady(false)));
      sub.on('error', (() => undefined));
      const connected = sub.connect().then(
        () => true,
        () => false,
      );
      return {
        subscribe: async (ch) => {
          channels.add(ch);
          if (!(await connected) || closed) throw new Error('breakwater/redis: subscriber not connected');
          return sub.subscribe(ch, listener);
        },
        unsubscribe: async (ch) => {
          channels.delete(ch);
          if (!(await connected) || closed) return;
          return sub.unsubscribe(ch);
        },
        close: async () => {
          if (closed) return;
          closed = true;
          try {
            await sub.disconnect();
          } catch {
            // Not connected (yet), or already gone.
          }
        },
      };
    },
  };
}

/** Is this Redis's "script not loaded" reply? @internal */
export function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.includes('NOSCRIPT');
}

/** A Lua script and its SHA-1. @internal */
export class Script {
  readonly sha: string;
  constructor(readonly text: string) {
    this.sha = createHash('sha1').update(text).digest('hex');
  }

  /** `EVALSHA`, then `EVAL` (which caches the script again) after `NOSCRIPT`: a restarted or flushed Redis. */
  async run(c: Commands, keys: string[], args: string[]): Promise<unknown> {
    try {
      return await c.evalsha(this.sha, keys, args);
    } catch (error) {
      if (!isNoScript(error)) throw error;
      return c.eval(this.text, keys, args);
    }
  }
}

/** The error of a command that took longer than `commandTimeoutMs`. @internal */
export class CommandTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`breakwater/redis: Redis did not answer within ${timeoutMs} ms`);
    this.name = 'CommandTimeoutError';
  }
}

/**
 * `promise`, or a `CommandTimeoutError` after `ms`: no caller waits on Redis longer than that.
 * The command itself may still complete later (the stores' writes are idempotent for that).
 * @internal
 */
export function bounded<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new CommandTimeoutError(ms)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
