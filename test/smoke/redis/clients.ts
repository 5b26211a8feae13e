// Both supported clients, made the way a user makes them.
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import type { RedisClient } from '../../../src/redis/index.js';

export type ClientKind = 'ioredis' | 'node-redis';
export const kinds: ClientKind[] = ['ioredis', 'node-redis'];

export interface Client {
  readonly client: RedisClient;
  close(): Promise<void>;
}

export async function connect(kind: ClientKind, port: number): Promise<Client> {
  if (kind === 'ioredis') {
    const c = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => 20 });
    c.on('error', () => undefined);
    await c.connect();
    return { client: c, close: async () => void c.disconnect() };
  }
  const c = createClient({ socket: { port, host: '127.0.0.1', reconnectStrategy: () => 20 } });
  c.on('error', () => undefined);
  await c.connect();
  return {
    client: c as unknown as RedisClient,
    close: async () => {
      try {
        await c.disconnect();
      } catch {
        // already closed
      }
    },
  };
}
