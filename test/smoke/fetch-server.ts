// A real node:http server on 127.0.0.1 with scripted faults per path, for the breakwater/fetch
// tests, the example and the benchmark. Each request to a path takes the next step of its script
// (the last step repeats); every request is recorded with its body and whether the client hung up.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Step {
  /** Status to answer with. @defaultValue 200 */
  readonly status?: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** Response body. @defaultValue `ok` */
  readonly body?: string;
  /** Wait this long (real ms) before answering. */
  readonly delayMs?: number;
  /** Destroy the connection instead of answering (the client sees a reset). */
  readonly reset?: boolean;
  /** Never answer (until the client hangs up). */
  readonly hang?: boolean;
  /** Send the headers and part of the body, then keep the response open. */
  readonly partial?: boolean;
}

export interface Hit {
  readonly method: string;
  readonly path: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
  /** The connection closed before the response was complete (the client aborted or cancelled). */
  closedEarly: boolean;
  /** Resolves when the connection closed before the response was complete. */
  readonly closed: Promise<void>;
}

export interface ScriptedServer {
  /** `http://127.0.0.1:port` */
  readonly origin: string;
  url(path: string): string;
  script(path: string, ...steps: Step[]): void;
  hits(path: string): Hit[];
  /** Resolves once `path` has received `n` requests. */
  waitForHits(path: string, n: number, timeoutMs?: number): Promise<Hit[]>;
  close(): Promise<void>;
}

export async function startServer(): Promise<ScriptedServer> {
  const scripts = new Map<string, { steps: Step[]; next: number }>();
  const log = new Map<string, Hit[]>();
  const waiters = new Set<() => void>();
  const timers = new Set<NodeJS.Timeout>();

  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] as string;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let onClosed!: () => void;
      const hit: Hit = {
        method: req.method ?? 'GET',
        path,
        headers: req.headers,
        body: Buffer.concat(chunks),
        closedEarly: false,
        closed: new Promise<void>((resolve) => (onClosed = resolve)),
      };
      res.on('close', () => {
        if (!res.writableFinished) {
          hit.closedEarly = true;
          onClosed();
        }
      });
      const list = log.get(path) ?? [];
      list.push(hit);
      log.set(path, list);
      for (const w of [...waiters]) w();
      const s = scripts.get(path);
      const step: Step = s === undefined ? {} : (s.steps[Math.min(s.next++, s.steps.length - 1)] ?? {});
      const answer = (): void => {
        if (step.reset === true) {
          req.socket.destroy();
          return;
        }
        if (step.hang === true) return;
        res.writeHead(step.status ?? 200, { 'content-type': 'text/plain', ...step.headers });
        if (step.partial === true) {
          res.write(step.body ?? 'partial ');
          return;
        }
        res.end(step.body ?? 'ok');
      };
      if (step.delayMs === undefined) answer();
      else {
        const t = setTimeout(() => {
          timers.delete(t);
          if (!res.destroyed) answer();
        }, step.delayMs);
        timers.add(t);
        res.on('close', () => {
          clearTimeout(t);
          timers.delete(t);
        });
      }
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  return {
    origin,
    url: (path) => `${origin}${path}`,
    script(path, ...steps) {
      scripts.set(path, { steps, next: 0 });
      log.delete(path);
    },
    hits: (path) => log.get(path) ?? [],
    waitForHits(path, n, timeoutMs = 5000) {
      return new Promise<Hit[]>((resolve, reject) => {
        const check = (): void => {
          const list = log.get(path) ?? [];
          if (list.length < n) return;
          waiters.delete(check);
          clearTimeout(t);
          resolve(list);
        };
        const t = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`${path}: ${log.get(path)?.length ?? 0} hits after ${timeoutMs} ms, expected ${n}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        timers.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
