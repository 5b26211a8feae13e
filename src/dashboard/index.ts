/**
 * breakwater/dashboard: a live page of every policy in a registry, and the Hystrix event stream
 * for the tools that already read one (the Hystrix dashboard, Turbine).
 *
 * @example
 * ```ts
 * import { createRegistry, circuitBreaker } from 'breakwater';
 * import { serveDashboard } from 'breakwater/dashboard';
 * const registry = createRegistry();
 * circuitBreaker({ name: 'payments', registry });
 * const server = await serveDashboard(registry, { port: 9464 });
 * console.log(`dashboard at ${server.url}`); // http://127.0.0.1:9464/
 * ```
 *
 * @module
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import type { Policy } from '../contract.js';
import { buildSnapshot } from './model.js';
import { dashboardOptions, serveOptions, type ResolvedDashboardOptions } from './options.js';
import { APP_CSS, APP_JS, CSP, pageHtml } from './page.js';
import { type BusView, Streams } from './streams.js';

export type { DashboardSnapshot, DashboardPolicy, DashboardPipeline } from './model.js';
import type { Clock } from '../clock.js';

/**
 * What the dashboard reads from: a registry from `createRegistry()` (its `list()` and its bus).
 *
 * @example
 * ```ts
 * import { createRegistry } from 'breakwater';
 * import type { DashboardRegistry } from 'breakwater/dashboard';
 * const registry: DashboardRegistry = createRegistry();
 * ```
 */
export interface DashboardRegistry {
  list(): Policy[];
  readonly events: BusView;
}

/**
 * Options of {@link dashboard}.
 *
 * @example
 * ```ts
 * import type { DashboardOptions } from 'breakwater/dashboard';
 * const options: DashboardOptions = { token: process.env['DASHBOARD_TOKEN'], intervalMs: 1000, maxConnections: 10 };
 * ```
 */
export interface DashboardOptions {
  /**
   * A bearer token every route then requires, as `Authorization: Bearer <token>` or `?token=`
   * (a browser opening the page cannot send a header; the page passes it on to its stream).
   * Visible ASCII only. @defaultValue none: no authentication
   */
  readonly token?: string | undefined;
  /** Milliseconds between snapshots on `/stream`, in [50, 3600000]. @defaultValue 1000 */
  readonly intervalMs?: number;
  /**
   * Open `/stream` and `/hystrix.stream` connections allowed together; one more gets 503.
   * `/` and `/snapshot` are never refused. @defaultValue 10
   */
  readonly maxConnections?: number;
  /** Time source of the streams' timers. @defaultValue `systemClock` (timers never keep the process alive) */
  readonly clock?: Clock;
}

/**
 * Options of {@link serveDashboard}: every {@link DashboardOptions} field, plus where to listen.
 *
 * @example
 * ```ts
 * import type { ServeDashboardOptions } from 'breakwater/dashboard';
 * const options: ServeDashboardOptions = { port: 9464, host: '127.0.0.1' };
 * ```
 */
export interface ServeDashboardOptions extends DashboardOptions {
  /** TCP port, 0 for any free one. @defaultValue 0 */
  readonly port?: number;
  /** Interface to bind. Anything but a loopback address exposes the page to the network. @defaultValue `'127.0.0.1'` */
  readonly host?: string;
}

/**
 * The request handler {@link dashboard} returns: call it with node:http's `(req, res)`.
 *
 * @example
 * ```ts
 * import { createRegistry } from 'breakwater';
 * import { dashboard, type DashboardHandler } from 'breakwater/dashboard';
 * const handle: DashboardHandler = dashboard(createRegistry());
 * handle.connections; // 0
 * handle.close();
 * ```
 */
export interface DashboardHandler {
  (req: IncomingMessage, res: ServerResponse): void;
  /** Open stream connections (`/stream` and `/hystrix.stream`). */
  readonly connections: number;
  /** Ends every open stream, removes the registry listener and refuses new streams (503). */
  close(): void;
}

/**
 * A running dashboard server from {@link serveDashboard}.
 *
 * @example
 * ```ts
 * import { createRegistry } from 'breakwater';
 * import { serveDashboard, type DashboardServer } from 'breakwater/dashboard';
 * const server: DashboardServer = await serveDashboard(createRegistry());
 * await server.close();
 * ```
 */
export interface DashboardServer {
  /** `http://host:port/`. */
  readonly url: string;
  /** The port it listens on. */
  readonly port: number;
  /** Open stream connections (`/stream` and `/hystrix.stream`). */
  readonly connections: number;
  /** Ends every stream and connection and stops listening. */
  close(): Promise<void>;
}

const TEXT = 'text/plain; charset=utf-8';
const COMMON_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};

function send(res: ServerResponse, status: number, type: string, body: string, head: boolean, extra: Record<string, string> = {}): void {
  res.writeHead(status, {
    ...COMMON_HEADERS,
    'Content-Type': type,
    'Content-Length': String(Buffer.byteLength(body)),
    'Cache-Control': 'no-store',
    ...extra,
  });
  res.end(head ? undefined : body);
}

/** Constant-time comparison of a presented token with the expected one. */
function tokenMatches(expected: Buffer, given: string | undefined | null): boolean {
  if (typeof given !== 'string') return false;
  const g = Buffer.from(given);
  // Different lengths cannot match; compare anyway so the time spent does not depend on `given`.
  if (g.length !== expected.length) {
    timingSafeEqual(expected, expected);
    return false;
  }
  return timingSafeEqual(g, expected);
}

function bearer(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  if (typeof h !== 'string') return undefined;
  const m = /^Bearer[ ]+(\S+)\s*$/i.exec(h);
  return m?.[1];
}

function checkRegistry(registry: unknown): DashboardRegistry {
  const r = registry as Partial<DashboardRegistry> | null;
  if (
    r === null ||
    typeof r !== 'object' ||
    typeof r.list !== 'function' ||
    r.events === null ||
    typeof r.events !== 'object' ||
    typeof r.events.on !== 'function' ||
    typeof r.events.off !== 'function'
  ) {
    throw new TypeError(`dashboard: registry must be a registry from createRegistry(), got ${r === null ? 'null' : typeof r}`);
  }
  return r as DashboardRegistry;
}

function makeHandler(registry: DashboardRegistry, o: ResolvedDashboardOptions): DashboardHandler {
  const streams = new Streams(registry, registry.events, o.clock, o.intervalMs);
  const expected = o.token === undefined ? undefined : Buffer.from(o.token);

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    try {
      route(req, res);
    } catch (error) {
      // A policy whose metrics() throws, say: the request still gets exactly one answer.
      if (!res.headersSent) send(res, 500, TEXT, `dashboard: ${String(error)}\n`, false);
      else res.destroy();
    }
  };

  const route = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://dashboard.invalid');
    const path = url.pathname;
    const given = url.searchParams.get('token');
    if (expected !== undefined && !tokenMatches(expected, bearer(req) ?? given)) {
      send(res, 401, TEXT, 'dashboard: a valid token is required (Authorization: Bearer <token>, or ?token=)\n', false, {
        'WWW-Authenticate': 'Bearer realm="breakwater"',
      });
      return;
    }
    const method = req.method ?? 'GET';
    const known = path === '/' || path === '/app.js' || path === '/app.css' || path === '/snapshot' || path === '/stream' || path === '/hystrix.stream';
    if (!known) {
      send(res, 404, TEXT, 'dashboard: not found\n', method === 'HEAD');
      return;
    }
    if (method !== 'GET' && method !== 'HEAD') {
      send(res, 405, TEXT, `dashboard: ${method} is not allowed here\n`, false, { Allow: 'GET, HEAD' });
      return;
    }
    const head = method === 'HEAD';
    // Mounted under a prefix without its trailing slash (express: `app.use('/dash', handle)` and
    // a visit to `/dash`): the page's relative links need the slash.
    const original = (req as { originalUrl?: unknown }).originalUrl;
    if (path === '/' && typeof original === 'string') {
      const o = new URL(original, 'http://dashboard.invalid');
      if (!o.pathname.endsWith('/')) {
        res.writeHead(308, { ...COMMON_HEADERS, Location: `${o.pathname}/${o.search}` });
        res.end();
        return;
      }
    }
    switch (path) {
      case '/': {
        // The token (already checked) goes on to the assets, which a browser fetches without headers.
        const query = given !== null && expected !== undefined ? `?token=${encodeURIComponent(given)}` : '';
        send(res, 200, 'text/html; charset=utf-8', pageHtml(query), head, {
          'Content-Security-Policy': CSP,
          'X-Frame-Options': 'DENY',
        });
        return;
      }
      case '/app.js':
        send(res, 200, 'text/javascript; charset=utf-8', APP_JS, head);
        return;
      case '/app.css':
        send(res, 200, 'text/css; charset=utf-8', APP_CSS, head);
        return;
      case '/snapshot':
        send(res, 200, 'application/json; charset=utf-8', JSON.stringify(buildSnapshot(registry, o.intervalMs)), head);
        return;
      default:
        break;
    }
    // The streams.
    let delayMs = 0;
    if (path === '/hystrix.stream') {
      const d = url.searchParams.get('delay');
      delayMs = d === null ? 500 : Number(d);
      if (d !== null && (!/^\d+$/.test(d) || delayMs < 100 || delayMs > 3_600_000)) {
        send(res, 400, TEXT, `dashboard: delay must be an integer number of ms in [100, 3600000], got ${JSON.stringify(d)}\n`, head);
        return;
      }
    }
    if (streams.isClosed) {
      send(res, 503, TEXT, 'dashboard: closed\n', head);
      return;
    }
    if (head) {
      send(res, 200, 'text/event-stream; charset=utf-8', '', true);
      return;
    }
    if (streams.connections >= o.maxConnections) {
      send(res, 503, TEXT, `dashboard: too many stream connections (maxConnections ${o.maxConnections})\n`, false, { 'Retry-After': '5' });
      return;
    }
    if (path === '/stream') streams.openSnapshots(res);
    else streams.openHystrix(res, delayMs);
  };

  return Object.defineProperties(handle, {
    connections: { get: () => streams.connections, enumerable: true },
    close: { value: () => streams.close(), enumerable: true },
  }) as DashboardHandler;
}

/**
 * A request handler that serves the dashboard of every policy in `registry`: `(req, res)` for
 * `node:http`, and so for express (`app.use('/dashboard', handle)`) and fastify's raw server.
 *
 * Routes (all `GET` or `HEAD`; anything else is 405, an unknown path 404):
 * - `/`: the page, a card per listed policy grouped by pipeline, live from `/stream`.
 * - `/stream`: Server-Sent Events: `event: snapshot` with a {@link DashboardSnapshot} every
 *   `intervalMs`, and `event: stateChange` (`{ policy, kind, from, to, at }`) as breakers move.
 * - `/hystrix.stream`: the Hystrix event stream, a `data: {json}` message per breaker, per pipeline
 *   holding one, and per bulkhead or adaptive limit, every `?delay=` ms (default 500).
 * - `/snapshot`: one {@link DashboardSnapshot} as JSON.
 *
 * **When to use:** to mount the dashboard in a server you already run; {@link serveDashboard}
 * starts one of its own.
 *
 * **Gotchas:** the page is served with a strict Content-Security-Policy and loads `app.js` and
 * `app.css` relative to itself, so mount it on a path of its own. With `token`, every route
 * requires it; without, anyone who can reach the port can read the page. One snapshot is
 * computed per interval whatever the number of viewers; a stream with no viewer costs nothing.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { createRegistry, circuitBreaker } from 'breakwater';
 * import { dashboard } from 'breakwater/dashboard';
 * const registry = createRegistry();
 * circuitBreaker({ name: 'payments', registry });
 * const handle = dashboard(registry, { token: 's3cret' });
 * createServer(handle).listen(9464, '127.0.0.1'); // open http://127.0.0.1:9464/?token=s3cret
 * ```
 */
export function dashboard(registry: DashboardRegistry, options?: DashboardOptions): DashboardHandler {
  const r = checkRegistry(registry);
  return makeHandler(r, dashboardOptions(options));
}

/**
 * Starts an HTTP server for {@link dashboard} on `host:port` (default `127.0.0.1` and a free
 * port) and resolves once it listens.
 *
 * **When to use:** a dashboard beside a service without touching its own server; in development.
 *
 * **Gotchas:** it binds the loopback interface unless `host` says otherwise; set `token` before
 * binding anything reachable from the network. `close()` ends every stream, then stops listening.
 *
 * @example
 * ```ts
 * import { createRegistry } from 'breakwater';
 * import { serveDashboard } from 'breakwater/dashboard';
 * const server = await serveDashboard(createRegistry(), { port: 9464 });
 * console.log(server.url); // http://127.0.0.1:9464/
 * await server.close();
 * ```
 */
export async function serveDashboard(registry: DashboardRegistry, options?: ServeDashboardOptions): Promise<DashboardServer> {
  const r = checkRegistry(registry);
  const o = serveOptions(options);
  const handle = makeHandler(r, o);
  const server = createServer(handle);
  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error): void => {
      handle.close();
      reject(error);
    };
    server.once('error', onError);
    server.listen(o.port, o.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' || address.address.includes(':') ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${address.port}/`,
    port: address.port,
    get connections(): number {
      return handle.connections;
    },
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve) => {
        handle.close();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
