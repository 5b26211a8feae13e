// One "process of the fleet" for the multi-process smoke tests: driven over IPC by the test.
import { Redis } from 'ioredis';
import { circuitBreaker, type CircuitBreakerPolicy } from '../../../src/index.js';
import { redisCircuitStore, redisRateLimiter, type RedisCircuitStore, type RedisRateLimiterPolicy } from '../../../src/redis/index.js';

type Msg =
  | { op: 'breaker'; port: number; name: string; options: Record<string, unknown>; store: Record<string, unknown> }
  | { op: 'limiter'; port: number; options: Record<string, unknown> }
  | { op: 'call'; id: number; outcome: 'ok' | 'fail' | 'hold' }
  | { op: 'release'; id: number }
  | { op: 'burst'; id: number; ms: number }
  | { op: 'exit' };

let client: Redis | undefined;
let store: RedisCircuitStore | undefined;
let breaker: CircuitBreakerPolicy | undefined;
let limiter: RedisRateLimiterPolicy | undefined;
const held = new Map<number, () => void>();
const send = (m: unknown): void => void process.send?.(m);

process.on('message', (m: Msg) => {
  void handle(m);
});

async function handle(m: Msg): Promise<void> {
  if (m.op === 'breaker') {
    client = new Redis({ port: m.port, host: '127.0.0.1', lazyConnect: true });
    await client.connect();
    store = redisCircuitStore({ client, ...m.store });
    breaker = circuitBreaker({ name: m.name, store, ...m.options });
    breaker.events.on('stateChange', ({ to }) => send({ ev: 'state', to, t: Date.now() }));
    send({ ev: 'ready' });
  } else if (m.op === 'limiter') {
    client = new Redis({ port: m.port, host: '127.0.0.1', lazyConnect: true });
    await client.connect();
    limiter = redisRateLimiter({ client, ...m.options } as never);
    send({ ev: 'ready' });
  } else if (m.op === 'call') {
    const b = breaker as CircuitBreakerPolicy;
    const run = b.execute(
      () =>
        m.outcome === 'ok'
          ? 1
          : m.outcome === 'fail'
            ? Promise.reject(new Error('boom'))
            : new Promise<number>((resolve) => {
                held.set(m.id, () => resolve(1));
                send({ ev: 'running', id: m.id });
              }),
    );
    run.then(
      () => send({ ev: 'done', id: m.id, ok: true }),
      (e: { code?: string }) => send({ ev: 'done', id: m.id, ok: false, code: e.code }),
    );
  } else if (m.op === 'release') {
    held.get(m.id)?.();
  } else if (m.op === 'burst') {
    const l = limiter as RedisRateLimiterPolicy;
    let admitted = 0;
    let refused = 0;
    const end = Date.now() + m.ms;
    while (Date.now() < end) {
      await l.execute(() => 1).then(
        () => admitted++,
        () => refused++,
      );
      await new Promise((r) => setTimeout(r, 1));
    }
    send({ ev: 'burst', id: m.id, admitted, refused });
  } else if (m.op === 'exit') {
    breaker?.dispose();
    store?.dispose();
    limiter?.dispose();
    client?.disconnect();
    process.disconnect();
  }
}
