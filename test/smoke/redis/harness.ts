// The per-file harness of the Redis smoke tests: one redis-server for the file, and after each
// test its cleanups run (newest first), the database is flushed, and no connection or timer is
// left behind.
import { afterAll, afterEach, beforeAll } from 'vitest';
import { type RedisServer, startRedis } from './server.js';
import { type Client, type ClientKind, connect } from './clients.js';
import { expectNoLeaks, resourcesNow } from './leaks.js';

export interface RedisHarness {
  /** The file's redis-server (started before its first test). */
  readonly server: RedisServer;
  /** A connected client of `kind`, closed after the test. */
  client(kind: ClientKind): Promise<Client>;
  /** Runs `fn` after the test, before the leak check. */
  cleanup(fn: () => Promise<void> | void): void;
}

export function useRedis(): RedisHarness {
  let server: RedisServer | undefined;
  const cleanups: (() => Promise<void> | void)[] = [];
  let before = resourcesNow();
  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    await server?.stop();
  });
  const harness: RedisHarness = {
    get server(): RedisServer {
      if (server === undefined) throw new Error('redis-server is not started yet (use the harness inside a test)');
      return server;
    },
    async client(kind) {
      const c = await connect(kind, harness.server.port);
      cleanups.push(() => c.close());
      return c;
    },
    cleanup(fn) {
      cleanups.push(fn);
    },
  };
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
    await harness.server.command('FLUSHALL');
    await expectNoLeaks(harness.server, before);
    before = resourcesNow();
  });
  return harness;
}
