// Helpers of the dashboard tests: real HTTP on 127.0.0.1, read as a client would.
import { request, type IncomingMessage } from 'node:http';

export interface Reply {
  status: number;
  headers: IncomingMessage['headers'];
  body: string;
}

/** One whole request: status, headers and body. */
export function get(url: string, init: { method?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: init.method ?? 'GET', headers: init.headers ?? {}, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** One server-sent event as parsed from the wire. */
export interface SseEvent {
  event: string;
  data: string;
}

/**
 * An open event stream: `events` grows as they arrive; `next(n)` returns the next `n` not yet
 * read by `next`, waiting for them (or the end of the stream); `close()` hangs up and resolves
 * once the socket is gone.
 */
export interface Stream {
  status: number;
  headers: IncomingMessage['headers'];
  events: SseEvent[];
  raw: string;
  ended: Promise<void>;
  next(count?: number): Promise<SseEvent[]>;
  close(): Promise<void>;
}

export function open(url: string, headers: Record<string, string> = {}): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { Accept: 'text/event-stream', ...headers }, agent: false }, (res) => {
      let buffer = '';
      let waiters: Array<() => void> = [];
      let endedResolve!: () => void;
      const ended = new Promise<void>((r) => (endedResolve = r));
      let done = false;
      let cursor = 0;
      const wake = (): void => {
        const w = waiters;
        waiters = [];
        for (const f of w) f();
      };
      const stream: Stream = {
        status: res.statusCode ?? 0,
        headers: res.headers,
        events: [],
        raw: '',
        ended,
        next(count = 1) {
          const from = cursor;
          const target = (cursor += count);
          return new Promise((r) => {
            const check = (): void => {
              if (stream.events.length >= target || done) r(stream.events.slice(from, target));
              else waiters.push(check);
            };
            check();
          });
        },
        close() {
          req.destroy();
          return ended;
        },
      };
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        stream.raw += d;
        buffer += d;
        let i: number;
        while ((i = buffer.indexOf('\n\n')) !== -1) {
          const block = buffer.slice(0, i);
          buffer = buffer.slice(i + 2);
          let event = 'message';
          const data: string[] = [];
          let isEvent = false;
          for (const line of block.split('\n')) {
            if (line.startsWith('event: ')) event = line.slice(7);
            else if (line.startsWith('data: ')) {
              data.push(line.slice(6));
              isEvent = true;
            }
          }
          if (isEvent) stream.events.push({ event, data: data.join('\n') });
        }
        wake();
      });
      const finish = (): void => {
        done = true;
        wake();
        endedResolve();
      };
      res.on('end', finish);
      res.on('close', finish);
      res.on('error', finish);
      resolve(stream);
    });
    req.on('error', (e) => reject(e));
    req.end();
  });
}

/** Lets the event loop run until `cond()` holds (socket I/O the test cannot advance by hand). */
export async function until(cond: () => boolean, what: string, tries = 500): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 2));
  }
  throw new Error(`timed out waiting for ${what}`);
}
