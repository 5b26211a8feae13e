// Three Node processes sharing one breaker and one rate limit through a real redis-server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type RedisServer, startRedis, within } from './server.js';

const SYNC = 20;
const FLUSH = 10;
const MARGIN = 400;
const worker = fileURLToPath(new URL('./worker.ts', import.meta.url));
const root = fileURLToPath(new URL('../../..', import.meta.url));

interface Proc {
  readonly child: ChildProcess;
  readonly states: { to: string; t: number }[];
  readonly running: Set<number>;
  readonly done: Map<number, { ok: boolean; code?: string }>;
  readonly bursts: Map<number, { admitted: number; refused: number }>;
  send(m: unknown): void;
  ready: Promise<void>;
}

function spawnProc(): Proc {
  const child = fork(worker, [], {
    cwd: root,
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, TSX_TSCONFIG_PATH: 'tsconfig.check.json' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let markReady!: () => void;
  const p: Proc = {
    child,
    states: [],
    running: new Set(),
    done: new Map(),
    bursts: new Map(),
    send: (m) => void child.send(m as never),
    ready: new Promise<void>((r) => (markReady = r)),
  };
  child.on('message', (m: { ev: string; id: number; to: string; t: number; ok: boolean; code?: string; admitted: number; refused: number }) => {
    if (m.ev === 'ready') markReady();
    else if (m.ev === 'state') p.states.push({ to: m.to, t: m.t });
    else if (m.ev === 'running') p.running.add(m.id);
    else if (m.ev === 'done') p.done.set(m.id, m.code === undefined ? { ok: m.ok } : { ok: m.ok, code: m.code });
    else if (m.ev === 'burst') p.bursts.set(m.id, { admitted: m.admitted, refused: m.refused });
  });
  return p;
}

async function stopAll(procs: Proc[]): Promise<void> {
  await Promise.all(
    procs.map(
      (p) =>
        new Promise<void>((resolve) => {
          if (p.child.exitCode !== null) return resolve();
          const kill = setTimeout(() => p.child.kill('SIGKILL'), 3000);
          p.child.once('exit', () => {
            clearTimeout(kill);
            resolve();
          });
          p.send({ op: 'exit' });
        }),
    ),
  );
}

let server: RedisServer;
beforeAll(async () => {
  server = await startRedis();
});
afterAll(async () => {
  await server.stop();
});

let nextId = 1;
async function call(p: Proc, outcome: 'ok' | 'fail'): Promise<{ ok: boolean; code?: string }> {
  const id = nextId++;
  p.send({ op: 'call', id, outcome });
  await within(5000, () => p.done.has(id));
  return p.done.get(id) as { ok: boolean; code?: string };
}
const last = (p: Proc): string | undefined => p.states[p.states.length - 1]?.to;

describe('three processes, one breaker', () => {
  it('one opens it for all; half-open trials across the fleet never exceed halfOpenCalls; one success closes all; a split window opens it', async () => {
    const procs = [spawnProc(), spawnProc(), spawnProc()];
    try {
      const options = { window: { type: 'count', size: 10 }, minimumCalls: 4, openDurationMs: 500, halfOpenCalls: 1, halfOpenMaxDurationMs: 3000 };
      for (const p of procs) p.send({ op: 'breaker', port: server.port, name: 'fleet', options, store: { syncMs: SYNC, flushMs: FLUSH, commandTimeoutMs: 500 } });
      await Promise.all(procs.map((p) => p.ready));
      const [p1, p2, p3] = procs as [Proc, Proc, Proc];
      for (let i = 0; i < 4; i++) expect((await call(p1, 'fail')).ok).toBe(false);
      await within(FLUSH + SYNC + MARGIN, () => procs.every((p) => last(p) === 'open'));
      const opened = (p1.states[0] as { t: number }).t;
      for (const p of [p2, p3]) expect((p.states[0] as { t: number }).t - opened).toBeLessThan(SYNC + MARGIN);
      expect(await call(p2, 'ok')).toEqual({ ok: false, code: 'ECIRCUITOPEN' });

      // Half-open: two trial attempts in each process, one lease for the fleet.
      await within(500 + MARGIN, () => procs.every((p) => last(p) === 'halfOpen'));
      const ids: [Proc, number][] = [];
      for (const p of procs) {
        for (let i = 0; i < 2; i++) {
          const id = nextId++;
          ids.push([p, id]);
          p.send({ op: 'call', id, outcome: 'hold' });
        }
      }
      // Every attempt either runs (holding) or is refused.
      await within(2000, () => ids.every(([p, id]) => p.running.has(id) || p.done.has(id)));
      const runningNow = ids.filter(([p, id]) => p.running.has(id));
      expect(runningNow.length).toBe(1);
      for (const [p, id] of ids.filter(([q, i]) => q.done.has(i))) expect(p.done.get(id)).toMatchObject({ ok: false, code: 'ECIRCUITOPEN' });
      const [holder, heldId] = runningNow[0] as [Proc, number];
      holder.send({ op: 'release', id: heldId });
      await within(SYNC + MARGIN, () => procs.every((p) => last(p) === 'closed'));

      // A fleet-wide window: two failures in each of two processes, neither reaching minimumCalls alone.
      for (let i = 0; i < 2; i++) await call(p2, 'fail');
      for (let i = 0; i < 2; i++) await call(p3, 'fail');
      await within(FLUSH + SYNC + MARGIN, () => procs.every((p) => last(p) === 'open'));
    } finally {
      await stopAll(procs);
    }
  });
});

describe('three processes, one token bucket', () => {
  it('admits no more than capacity plus what the refill allows', async () => {
    const procs = [spawnProc(), spawnProc(), spawnProc()];
    try {
      const options = { name: 'bucket', algorithm: 'tokenBucket', capacity: 5, refillPerSecond: 20, commandTimeoutMs: 500 };
      for (const p of procs) p.send({ op: 'limiter', port: server.port, options });
      await Promise.all(procs.map((p) => p.ready));
      const t0 = Date.now();
      procs.forEach((p, i) => p.send({ op: 'burst', id: i, ms: 1000 }));
      await within(10_000, () => procs.every((p, i) => p.bursts.has(i)));
      const seconds = (Date.now() - t0) / 1000;
      const admitted = procs.reduce((n, p, i) => n + (p.bursts.get(i)?.admitted ?? 0), 0);
      const refused = procs.reduce((n, p, i) => n + (p.bursts.get(i)?.refused ?? 0), 0);
      expect(admitted).toBeLessThanOrEqual(5 + Math.ceil(20 * seconds));
      // It is limiting (many refusals) and not starving (most of the refill was used).
      expect(refused).toBeGreaterThan(admitted);
      expect(admitted).toBeGreaterThanOrEqual(5 + 20 * 0.8 * 0.8);
    } finally {
      await stopAll(procs);
    }
  });
});
