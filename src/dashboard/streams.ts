/**
 * The two event streams and the connections on them. Whatever the number of connections, each
 * stream computes and serialises one message per tick and writes the same string to every
 * connection; a stream with no connection holds no timer and no registry listener.
 *
 * Internal: not exported from the package.
 * @module
 */
import type { ServerResponse } from 'node:http';
import type { Clock } from '../clock.js';
import { hystrixMessages } from './hystrix.js';
import { buildSnapshot, type RegistryView } from './model.js';

/**
 * The part of a registry's bus the dashboard uses: `/stream` listens for `stateChange` while it
 * has a connection.
 *
 * @example
 * ```ts
 * import { createRegistry } from 'breakwater';
 * import type { DashboardBus } from 'breakwater/dashboard';
 * const bus: DashboardBus = createRegistry().events;
 * ```
 */
export interface BusView {
  /** Subscribes to state changes. */
  on(event: 'stateChange', fn: (e: StateChangePayload) => void): unknown;
  /** Unsubscribes. */
  off(event: 'stateChange', fn: (e: StateChangePayload) => void): unknown;
}
/**
 * What the dashboard reads of a `stateChange` bus event, and what `/stream` sends as
 * `event: stateChange` (`initial` only when true).
 *
 * @example
 * ```ts
 * import type { DashboardStateChange } from 'breakwater/dashboard';
 * const line = (e: DashboardStateChange) => `${e.policy}: ${e.from} → ${e.to}`;
 * ```
 */
export interface StateChangePayload {
  /** The policy's name. */
  readonly policy: string;
  /** The policy's kind. */
  readonly kind: string;
  /** The state it left. */
  readonly from: string;
  /** The state it entered. */
  readonly to: string;
  /** Clock time of the change, in milliseconds. */
  readonly at: number;
  /** True for the announcement of the state a policy had when it was listed. */
  readonly initial?: boolean;
}

/** A client that reads slower than this many buffered bytes is dropped rather than buffered for. */
const MAX_BUFFERED = 4 * 1024 * 1024;

/** A set of connections fed by one repeating tick. */
class Feed {
  readonly clients = new Set<ServerResponse>();
  private timer: unknown = undefined;
  /** The last message, sent at once to a connection that joins between ticks. */
  private last: Buffer | undefined = undefined;

  constructor(
    private readonly clock: Clock,
    private readonly everyMs: number,
    /** Computes one tick's message (one string for every client). */
    private readonly produce: () => string,
    /** The feed lost its last client (or was closed). */
    private readonly idle: () => void,
  ) {}

  add(res: ServerResponse): void {
    const first = this.clients.size === 0;
    this.clients.add(res);
    if (first) this.tick();
    else if (this.last !== undefined) write(res, this.last, this);
  }

  remove(res: ServerResponse): void {
    if (!this.clients.delete(res) || this.clients.size > 0) return;
    this.stop();
    this.idle();
  }

  /** Writes `text` to every client (a state change between ticks), encoded once for all. */
  broadcast(text: string | Buffer): void {
    const bytes = typeof text === 'string' ? Buffer.from(text) : text;
    for (const res of this.clients) write(res, bytes, this);
  }

  /** Ends every connection. */
  close(): void {
    for (const res of [...this.clients]) res.end();
    this.clients.clear();
    this.stop();
  }

  private stop(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.last = undefined;
  }

  private readonly tick = (): void => {
    this.timer = undefined;
    if (this.clients.size === 0) return;
    let text: string;
    try {
      text = this.produce();
    } catch (error) {
      // A policy whose metrics() throws must not end the stream: say so and try next tick.
      text = `event: error\ndata: ${JSON.stringify(String(error))}\n\n`;
    }
    const bytes = Buffer.from(text);
    this.last = bytes;
    this.broadcast(bytes);
    if (this.clients.size > 0) this.timer = this.clock.setTimeout(this.tick, this.everyMs);
  };
}

function write(res: ServerResponse, text: Buffer, feed: Feed): void {
  if (res.writableEnded || res.destroyed) return;
  if (res.writableLength > MAX_BUFFERED) {
    res.destroy(); // its 'close' removes it from the feed
    return;
  }
  try {
    res.write(text);
  } catch {
    feed.remove(res);
    res.destroy();
  }
}

/** The sending side of the dashboard: `/stream`, `/hystrix.stream`, and the connection count. */
export class Streams {
  private readonly snapshots: Feed;
  private readonly hystrix = new Map<number, Feed>();
  private closed = false;

  constructor(
    private readonly registry: RegistryView,
    private readonly bus: BusView,
    private readonly clock: Clock,
    private readonly intervalMs: number,
  ) {
    this.snapshots = new Feed(
      clock,
      intervalMs,
      () => `event: snapshot\ndata: ${JSON.stringify(buildSnapshot(this.registry, this.intervalMs))}\n\n`,
      () => this.bus.off('stateChange', this.onStateChange),
    );
  }

  /** Open connections on both streams. */
  get connections(): number {
    let n = this.snapshots.clients.size;
    for (const f of this.hystrix.values()) n += f.clients.size;
    return n;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Serves `/stream` on `res` until the client goes or {@link close}. */
  openSnapshots(res: ServerResponse): void {
    start(res);
    // A retry hint: the browser reconnects after 2 s if the connection drops.
    res.write('retry: 2000\n\n');
    if (this.snapshots.clients.size === 0) this.bus.on('stateChange', this.onStateChange);
    const feed = this.snapshots;
    res.once('close', () => feed.remove(res));
    feed.add(res);
  }

  /** Serves `/hystrix.stream` with a message batch every `delayMs`. */
  openHystrix(res: ServerResponse, delayMs: number): void {
    start(res);
    let feed = this.hystrix.get(delayMs);
    if (feed === undefined) {
      feed = new Feed(
        this.clock,
        delayMs,
        () => {
          const messages = hystrixMessages(this.registry);
          // Hystrix's own stream pings when it has nothing to say, so proxies keep the line open.
          if (messages.length === 0) return 'ping: \n\n';
          let text = '';
          for (const m of messages) text += `data: ${JSON.stringify(m)}\n\n`;
          return text;
        },
        () => this.hystrix.delete(delayMs),
      );
      this.hystrix.set(delayMs, feed);
    }
    const f = feed;
    res.once('close', () => f.remove(res));
    f.add(res);
  }

  /** Ends every stream and refuses new ones. */
  close(): void {
    this.closed = true;
    this.snapshots.close();
    this.bus.off('stateChange', this.onStateChange);
    for (const f of [...this.hystrix.values()]) f.close();
    this.hystrix.clear();
  }

  private readonly onStateChange = (e: StateChangePayload): void => {
    const data: Record<string, unknown> = { policy: e.policy, kind: e.kind, from: e.from, to: e.to, at: e.at };
    if (e.initial === true) data['initial'] = true;
    this.snapshots.broadcast(`event: stateChange\ndata: ${JSON.stringify(data)}\n\n`);
  };
}

function start(res: ServerResponse): void {
  res.writeHead(200, {
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-cache, no-transform',
    Connection: 'keep-alive',
    'X-Accel-Buffering': 'no',
    'X-Content-Type-Options': 'nosniff',
  });
  res.flushHeaders();
}
