// The dashboard over real HTTP on 127.0.0.1: every route, the token, the connection cap, and what
// a closed connection leaves behind. The streams' timers run on a ManualClock, so each snapshot
// is sent when the test advances it, never on wall time.
import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { bulkhead, circuitBreaker, createRegistry, pipeline, type Registry } from '../../../src/index.js';
import { ManualClock } from '../../../src/testing/index.js';
import { dashboard, serveDashboard, type DashboardServer, type DashboardSnapshot } from '../../../src/dashboard/index.js';
import { get, open, until, type Stream } from './helpers.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

function setup(options: Parameters<typeof serveDashboard>[1] = {}): Promise<{ server: DashboardServer; registry: Registry; clock: ManualClock }> {
  const clock = new ManualClock();
  const registry = createRegistry();
  return serveDashboard(registry, { clock, ...options }).then((server) => {
    cleanups.push(() => server.close());
    return { server, registry, clock };
  });
}

function stream(s: Promise<Stream>): Promise<Stream> {
  return s.then((st) => {
    cleanups.push(() => st.close());
    return st;
  });
}

describe('routes', () => {
  it('GET / serves the page with a strict CSP and no inline script or style', async () => {
    const { server } = await setup();
    const r = await get(server.url);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
    const csp = String(r.headers['content-security-policy']);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-hashes|unsafe-eval|https?:|\*/);
    expect(r.body).toContain('<script src="app.js" defer></script>');
    expect(r.body).toContain('<link rel="stylesheet" href="app.css">');
    // Nothing inline: no <script> with a body, no <style>, no style= or on…= attributes.
    expect(r.body).not.toMatch(/<script>|<script [^>]*>[^<]|<style|\sstyle=|\son[a-z]+=/i);
    expect(r.body).not.toMatch(/https?:\/\/(?!dashboard)/);
    expect(r.headers['x-frame-options']).toBe('DENY');
    expect(r.headers['referrer-policy']).toBe('no-referrer');
  });

  it('serves its own script and stylesheet', async () => {
    const { server } = await setup();
    const js = await get(server.url + 'app.js');
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.body).toContain("new EventSource('stream' + query)");
    // Names and event data reach the DOM as text only.
    expect(js.body).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function/);
    const css = await get(server.url + 'app.css');
    expect(css.status).toBe(200);
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
    expect(css.body).toContain('.card');
  });

  it('GET /snapshot is the registry snapshot plus groups and pipelines', async () => {
    const { server, registry, clock } = await setup({ intervalMs: 250 });
    const api = pipeline(circuitBreaker({ name: 'cb', clock }), bulkhead({ name: 'bh', maxConcurrent: 3 }), { name: 'api', registry });
    await api.execute(() => 1);
    const r = await get(server.url + 'snapshot');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
    const snap = JSON.parse(r.body) as DashboardSnapshot;
    expect(snap.intervalMs).toBe(250);
    expect(Math.abs(snap.time - Date.now())).toBeLessThan(60_000);
    expect(snap.policies.map((p) => p.name)).toEqual(registry.snapshot().map((m) => m.name));
    const byName = new Map(snap.policies.map((p) => [p.name, p]));
    expect(byName.get('api')).toMatchObject({ kind: 'pipeline', calls: 1, successes: 1 });
    expect(byName.get('api')?.group).toBeUndefined();
    expect(byName.get('cb')).toMatchObject({ kind: 'circuitBreaker', state: 'closed', group: 'api' });
    expect(byName.get('bh')).toMatchObject({ kind: 'bulkhead', executing: 0, queued: 0, limit: 3, group: 'api' });
    expect(snap.pipelines).toEqual([{ name: 'api', members: ['cb', 'bh'] }]);
  });

  it('HEAD works where GET does, unknown paths are 404, other methods 405', async () => {
    const { server } = await setup();
    for (const path of ['', 'app.js', 'app.css', 'snapshot', 'stream', 'hystrix.stream']) {
      const r = await get(server.url + path, { method: 'HEAD' });
      expect(r.status, path).toBe(200);
      expect(r.body).toBe('');
    }
    for (const path of ['nope', 'index.html', 'stream/x', '..%2fpackage.json']) {
      expect((await get(server.url + path)).status, path).toBe(404);
    }
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
      const r = await get(server.url + 'snapshot', { method });
      expect(r.status, method).toBe(405);
      expect(r.headers['allow']).toBe('GET, HEAD');
    }
  });

  it('GET /stream sends a snapshot at once, then one per interval, and state changes as they happen', async () => {
    const { server, registry, clock } = await setup({ intervalMs: 1000 });
    const cb = circuitBreaker({ name: 'cb', registry, clock, window: { type: 'consecutive', failures: 1 } });
    const s = await stream(open(server.url + 'stream'));
    expect(s.status).toBe(200);
    expect(s.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(s.headers['cache-control']).toBe('no-cache, no-transform');
    const [first] = await s.next();
    expect(first?.event).toBe('snapshot');
    const snap = JSON.parse(first?.data ?? '') as DashboardSnapshot;
    expect(snap.policies).toMatchObject([{ name: 'cb', state: 'closed' }]);
    expect(s.raw).toMatch(/^retry: 2000\n\n/);

    // A state change arrives without waiting for the next interval.
    await cb.execute(() => Promise.reject(new Error('down'))).catch(() => undefined);
    const [change] = await s.next();
    expect(change?.event).toBe('stateChange');
    expect(JSON.parse(change?.data ?? '')).toMatchObject({ policy: 'cb', kind: 'circuitBreaker', from: 'closed', to: 'open' });

    await clock.advance(999);
    await new Promise((r) => setTimeout(r, 20));
    expect(s.events).toHaveLength(2); // nothing before the interval is up
    await clock.advance(1);
    const [second] = await s.next();
    expect(second?.event).toBe('snapshot');
    expect((JSON.parse(second?.data ?? '') as DashboardSnapshot).policies[0]).toMatchObject({ name: 'cb', state: 'open', failures: 1 });
  });

  it('GET /hystrix.stream sends data-only messages every ?delay= ms, and pings with nothing to report', async () => {
    const { server, registry, clock } = await setup();
    const empty = await stream(open(server.url + 'hystrix.stream'));
    await until(() => empty.raw.includes('ping: \n\n'), 'a ping');
    await empty.close();

    circuitBreaker({ name: 'cb', registry, clock });
    const s = await stream(open(server.url + 'hystrix.stream?delay=200'));
    expect(s.status).toBe(200);
    expect(s.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    const [m] = await s.next();
    expect(m?.event).toBe('message');
    expect(JSON.parse(m?.data ?? '')).toMatchObject({ type: 'HystrixCommand', name: 'cb' });
    await clock.advance(199);
    await new Promise((r) => setTimeout(r, 20));
    expect(s.events).toHaveLength(1);
    await clock.advance(1);
    await s.next();
    expect(s.events).toHaveLength(2);
    // Hystrix's format: `data: {json}` lines and blank lines only.
    expect(s.raw).toMatch(/^(data: \{[^\n]*\}\n\n)+$/);
  });

  it('refuses a bad ?delay= with 400', async () => {
    const { server } = await setup();
    for (const d of ['abc', '-5', '0', '99', '1.5', '']) {
      const r = await get(`${server.url}hystrix.stream?delay=${d}`);
      expect(r.status, d).toBe(400);
      expect(r.body).toContain('delay');
    }
  });
});

describe('token', () => {
  it('every route needs the token, by header or query; a wrong or missing one is 401', async () => {
    const { server } = await setup({ token: 's3cret-token' });
    for (const path of ['', 'app.js', 'app.css', 'snapshot', 'stream', 'hystrix.stream', 'nope']) {
      const none = await get(server.url + path);
      expect(none.status, path).toBe(401);
      expect(none.headers['www-authenticate']).toBe('Bearer realm="breakwater"');
      expect((await get(server.url + path, { headers: { Authorization: 'Bearer wrong-token!' } })).status).toBe(401);
      expect((await get(server.url + path, { headers: { Authorization: 'Bearer s3cret-tokeN' } })).status).toBe(401);
      expect((await get(server.url + path, { headers: { Authorization: 'Basic s3cret-token' } })).status).toBe(401);
      expect((await get(`${server.url}${path}?token=s3cret`)).status).toBe(401);
    }
    for (const path of ['', 'app.js', 'app.css', 'snapshot']) {
      expect((await get(server.url + path, { headers: { Authorization: 'Bearer s3cret-token' } })).status, path).toBe(200);
      expect((await get(server.url + path, { headers: { authorization: 'bearer  s3cret-token' } })).status, path).toBe(200);
      expect((await get(`${server.url}${path}?token=s3cret-token`)).status, path).toBe(200);
    }
    expect((await get(`${server.url}nope?token=s3cret-token`)).status).toBe(404);
    const s = await stream(open(`${server.url}stream?token=s3cret-token`));
    expect(s.status).toBe(200);
    const h = await stream(open(server.url + 'hystrix.stream', { Authorization: 'Bearer s3cret-token' }));
    expect(h.status).toBe(200);
  });

  it('the page passes a query token on to its script, stylesheet and stream', async () => {
    const { server } = await setup({ token: 'a&b<c>"d' });
    const r = await get(`${server.url}?token=${encodeURIComponent('a&b<c>"d')}`);
    expect(r.status).toBe(200);
    expect(r.body).toContain('src="app.js?token=a%26b%3Cc%3E%22d"');
    expect(r.body).toContain('href="app.css?token=a%26b%3Cc%3E%22d"');
    const js = await get(`${server.url}app.js?token=${encodeURIComponent('a&b<c>"d')}`);
    expect(js.body).toContain("get('token')");
    expect(js.body).toContain("'?token=' + encodeURIComponent(token)");
  });
});

describe('connections', () => {
  it('maxConnections counts both streams together; past it 503, while / and /snapshot still answer', async () => {
    const { server } = await setup({ maxConnections: 3 });
    const a = await stream(open(server.url + 'stream'));
    const b = await stream(open(server.url + 'hystrix.stream'));
    const c = await stream(open(server.url + 'hystrix.stream?delay=1000'));
    expect([a.status, b.status, c.status]).toEqual([200, 200, 200]);
    const d = await get(server.url + 'stream');
    expect(d.status).toBe(503);
    expect(d.body).toContain('maxConnections 3');
    expect((await get(server.url + 'hystrix.stream')).status).toBe(503);
    for (let i = 0; i < 20; i++) {
      expect((await get(server.url)).status).toBe(200);
      expect((await get(server.url + 'snapshot')).status).toBe(200);
    }
    expect(server.connections).toBe(3);
    await a.close();
    await until(() => server.connections === 2, 'the server to see the hang-up');
    const e = await stream(open(server.url + 'stream'));
    expect(e.status).toBe(200);
  });

  it('50 connections opened and closed leave no listener, timer or connection behind', async () => {
    const clock = new ManualClock();
    const registry = createRegistry();
    circuitBreaker({ name: 'cb', registry, clock });
    const handle = dashboard(registry, { clock, maxConnections: 100 });
    const server: Server = createServer(handle);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => server.close(r)));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const before = { stateChange: registry.events.listenerCount('stateChange'), timers: clock.pendingTimers };
    expect(before).toEqual({ stateChange: 0, timers: 0 });

    const streams: Stream[] = [];
    for (let i = 0; i < 50; i++) {
      const path = i % 3 === 0 ? 'stream' : `hystrix.stream?delay=${i % 2 === 0 ? 500 : 1000}`;
      streams.push(await open(url + path));
    }
    await Promise.all(streams.map((s) => s.next()));
    expect(handle.connections).toBe(50);
    expect(registry.events.listenerCount('stateChange')).toBe(1); // one for every /stream
    expect(clock.pendingTimers).toBe(3); // one per stream and delay, not per connection
    await clock.advance(1000);
    await Promise.all(streams.map((s) => s.next()));

    await Promise.all(streams.map((s) => s.close()));
    await until(() => handle.connections === 0, 'every connection to close');
    expect(registry.events.listenerCount('stateChange')).toBe(0);
    expect(clock.pendingTimers).toBe(0);
    // Every response object let go of its listeners too: nothing keeps a socket.
    server.getConnections((_, n) => expect(n).toBeGreaterThanOrEqual(0));
    handle.close();
  });

  it('close() ends every stream and refuses new ones; the server stops listening', async () => {
    const { server, registry, clock } = await setup();
    circuitBreaker({ name: 'cb', registry, clock });
    const a = await open(server.url + 'stream');
    const b = await open(server.url + 'hystrix.stream');
    await a.next();
    await b.next();
    await server.close();
    await a.ended;
    await b.ended;
    expect(registry.events.listenerCount('stateChange')).toBe(0);
    expect(clock.pendingTimers).toBe(0);
    await expect(get(server.url)).rejects.toThrow(/ECONNREFUSED/);
  });

  it('a handler closed on its own refuses new streams with 503 and keeps serving the page', async () => {
    const registry = createRegistry();
    const handle = dashboard(registry);
    const server = createServer(handle);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => server.close(r)));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const s = await open(url + 'stream');
    await s.next();
    handle.close();
    await s.ended;
    expect((await get(url + 'stream')).status).toBe(503);
    expect((await get(url)).status).toBe(200);
    expect((await get(url + 'snapshot')).status).toBe(200);
  });

  it('a client that stops reading is dropped once 4 MiB wait for it, not buffered for without end', async () => {
    const { server, registry, clock } = await setup({ intervalMs: 100 });
    for (let i = 0; i < 200; i++) circuitBreaker({ name: `breaker-with-a-longish-name-${i}`, registry, clock });
    const socket = connect(server.port, '127.0.0.1');
    cleanups.push(() => socket.destroy());
    await new Promise<void>((r) => socket.once('connect', r));
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    socket.on('error', () => undefined); // the server resets it
    socket.write('GET /stream HTTP/1.1\r\nHost: x\r\n\r\n');
    socket.pause(); // and never read
    await until(() => server.connections === 1, 'the stream to open');
    let ticks = 0;
    while (server.connections === 1 && ticks < 2000) {
      await clock.advance(100);
      ticks++;
      if (ticks % 20 === 0) await new Promise((r) => setTimeout(r, 5));
    }
    expect(server.connections).toBe(0);
    // ~60 KiB a snapshot: more than 4 MiB (plus what the kernel's buffers took) went unread.
    expect(ticks).toBeGreaterThan(60);
    expect(clock.pendingTimers).toBe(0);
    socket.resume(); // the server hung up: reading on reaches its end
    await closed;
  });

  it('one snapshot is computed per interval whatever the number of connections', async () => {
    const { server, registry, clock } = await setup({ maxConnections: 20 });
    const cb = circuitBreaker({ name: 'cb', registry, clock });
    let reads = 0;
    const metrics = cb.metrics.bind(cb);
    cb.metrics = () => {
      reads++;
      return metrics();
    };
    const streams = await Promise.all(Array.from({ length: 10 }, () => stream(open(server.url + 'stream'))));
    await Promise.all(streams.map((s) => s.next()));
    expect(reads).toBe(1);
    for (let i = 0; i < 3; i++) {
      await clock.advance(1000);
      await Promise.all(streams.map((s) => s.next()));
    }
    expect(reads).toBe(4);
    // And the ten connections got the very same bytes.
    expect(new Set(streams.map((s) => s.raw)).size).toBe(1);
  });

  it('a registry whose policy throws in metrics() answers 500 on /snapshot and keeps streaming', async () => {
    const { server, registry, clock } = await setup();
    const cb = circuitBreaker({ name: 'cb', registry, clock });
    let fail = true;
    const metrics = cb.metrics.bind(cb);
    cb.metrics = () => {
      if (fail) throw new Error('broken metrics');
      return metrics();
    };
    const r = await get(server.url + 'snapshot');
    expect(r.status).toBe(500);
    expect(r.body).toContain('broken metrics');
    const s = await stream(open(server.url + 'stream'));
    const [e] = await s.next();
    expect(e?.event).toBe('error');
    fail = false;
    await clock.advance(1000);
    const [ok] = await s.next();
    expect(ok?.event).toBe('snapshot');
  });
});

describe('mounting', () => {
  it('works under a prefix as express mounts it, redirecting the bare prefix to its slash', async () => {
    const registry = createRegistry();
    const handle = dashboard(registry);
    // What express does for app.use('/dash', handle): strip the prefix from req.url and keep originalUrl.
    const server = createServer((req, res) => {
      const original = req.url ?? '/';
      if (!original.startsWith('/dash')) {
        res.statusCode = 404;
        res.end();
        return;
      }
      Object.assign(req, { originalUrl: original, url: original.slice('/dash'.length) || '/' });
      handle(req, res);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => server.close(r)));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const bare = await get(`${base}/dash?x=1`);
    expect(bare.status).toBe(308);
    expect(bare.headers['location']).toBe('/dash/?x=1');
    expect((await get(`${base}/dash/`)).status).toBe(200);
    expect((await get(`${base}/dash/app.js`)).status).toBe(200);
    expect((await get(`${base}/dash/snapshot`)).status).toBe(200);
  });
});
