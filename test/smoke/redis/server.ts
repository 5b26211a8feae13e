// A real redis-server for the smoke tests: started on a free 127.0.0.1 port, no persistence,
// stopped by the test that started it.
import { type ChildProcess, spawn } from 'node:child_process';
import { createConnection, createServer } from 'node:net';

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** Sends a command through a fresh connection (inline protocol) and returns the raw reply. */
  command(...args: string[]): Promise<string>;
  /** SIGSTOP / SIGCONT. */
  pause(): void;
  resume(): void;
  /** Kills it (SIGKILL) and waits until it is gone. */
  kill(): Promise<void>;
  /** Starts it again on the same port. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** One command over a short-lived connection; RESP encoded, raw reply text back. */
export function rawCommand(port: number, args: string[], timeoutMs = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    let out = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`redis ${args[0]}: no reply within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on('data', (chunk) => {
      out += chunk.toString();
      // Good enough for the replies the tests read: wait a moment for the rest, then close.
      setTimeout(() => {
        clearTimeout(timer);
        socket.end();
        resolve(out);
      }, 5);
    });
    socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);
  });
}

async function waitUp(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      if ((await rawCommand(port, ['PING'], 200)).startsWith('+PONG')) return;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`redis-server on ${port} did not come up`);
}

export async function startRedis(extra: string[] = []): Promise<RedisServer> {
  const port = await freePort();
  let child: ChildProcess;
  const launch = async (): Promise<void> => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...extra], {
      stdio: 'ignore',
    });
    await waitUp(port);
  };
  const gone = (): Promise<void> =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
    });
  await launch();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    command: (...args) => rawCommand(port, args),
    pause: () => child.kill('SIGSTOP'),
    resume: () => child.kill('SIGCONT'),
    kill: async () => {
      child.kill('SIGKILL');
      await gone();
    },
    restart: launch,
    stop: async () => {
      child.kill('SIGCONT');
      child.kill('SIGKILL');
      await gone();
    },
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `check` every 5 ms until it is true or `ms` pass; returns the time it took. */
export async function within(ms: number, check: () => boolean | Promise<boolean>): Promise<number> {
  const t0 = Date.now();
  while (!(await check())) {
    if (Date.now() - t0 > ms) throw new Error(`condition not met within ${ms} ms`);
    await sleep(5);
  }
  return Date.now() - t0;
}
