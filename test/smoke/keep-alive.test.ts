// The timer rule, in a real process: work a caller waits for (a retry's sleep, a rate limiter's
// wait, chaos latency, a hedge's delay) keeps Node alive until it runs; a guard of running work
// (a timeout's deadline) never does. Each case is a tiny script run with tsx against src/; small
// delays.
import { describe, it, expect, afterAll } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const src = JSON.stringify(join(root, 'src/index.ts'));
const dir = mkdtempSync(join(tmpdir(), 'breakwater-keepalive-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(name: string, body: string): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const file = join(dir, `${name}.ts`);
  writeFileSync(file, `import * as bw from ${src};\n${body}\n`);
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file], { cwd: root, env: { ...process.env, TSX_TSCONFIG_PATH: 'tsconfig.check.json' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const kill = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(kill);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

describe('timers and the process lifetime', { timeout: 120_000 }, () => {
  it('a call waiting for a rate limiter permit keeps the process alive and runs', async () => {
    const r = await run(
      'rate-limiter',
      `const limiter = bw.rateLimiter({ algorithm: 'tokenBucket', capacity: 1, refillPerSecond: 20, maxWaitMs: 1000 });
void limiter.execute(() => console.log('first'));
void limiter.execute(() => console.log('waited'));`,
    );
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('first\nwaited\n');
    expect(r.code).toBe(0);
  });

  it('a call delayed by chaos latency keeps the process alive and runs', async () => {
    const r = await run('chaos', `void bw.chaos({ latencyRate: 1, latencyMs: 50 }).execute(() => console.log('delayed'));`);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('delayed\n');
    expect(r.code).toBe(0);
  });

  it('a retry waiting out its backoff keeps the process alive and retries', async () => {
    const r = await run(
      'retry',
      `let n = 0;
void bw.retry({ backoff: bw.backoff.constant(50) }).execute(() => {
  if (++n === 1) throw new Error('once');
  console.log('attempt', n);
});`,
    );
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('attempt 2\n');
    expect(r.code).toBe(0);
  });

  it('a hedged call whose attempts hold nothing alive keeps the process up until the hedge settles it', async () => {
    const r = await run(
      'hedge',
      `const started = Date.now();
void bw
  .hedge({ delayMs: 200 })
  .execute(({ attempt }) => (attempt === 1 ? new Promise(() => {}) : 'hedged'))
  .then((v) => console.log(v, Date.now() - started >= 190));`,
    );
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('hedged true\n');
    expect(r.code).toBe(0);
  });

  it("a hedge's delay holds the process no longer than its calls: not after the first attempt won, nor after dispose()", async () => {
    const r = await run(
      'hedge-won',
      `const h = bw.hedge({ delayMs: 600_000 });
void h.execute(() => new Promise((resolve) => setTimeout(() => resolve('first'), 20))).then((v) => console.log(v));
const d = bw.hedge({ delayMs: 600_000 });
void d.execute(() => new Promise(() => {}));
d.dispose();
console.log('started');`,
    );
    // Exited by itself soon after the first attempt won (a delay timer left armed would hold it
    // for ten minutes, and the test kills it after 90 s: code null).
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('started\nfirst\n');
    expect(r.code).toBe(0);
  });

  it("a timeout's deadline does not keep the process alive", async () => {
    const r = await run(
      'timeout',
      `void bw.timeout(600_000).execute(() => new Promise(() => {})).catch(() => console.log('timed out'));
console.log('started');`,
    );
    // Exited by itself (a deadline that kept it alive would hold it for ten minutes, and the
    // test kills it after 90 s: code null).
    expect(r.stdout).toBe('started\n');
    expect(r.code).toBe(0);
  });

  it("a circuit breaker's time-window edge timer does not keep the process alive", async () => {
    const r = await run(
      'breaker-window',
      // One bucket of ten minutes: the window's timer is armed for its end after the first call.
      `const breaker = bw.circuitBreaker({ window: { type: 'time', durationMs: 600_000, buckets: 1 } });
void breaker.execute(() => 'ok').then((v) => console.log(v));`,
    );
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('ok\n');
    expect(r.code).toBe(0);
    expect(r.ms).toBeLessThan(60_000);
  });
});
