// `npm run demo` is the first thing a new user runs: it must tell its story and exit 0. This runs
// it for real (a local HTTP service, real time) in its fast mode, about 5 seconds.
import { it, expect } from 'vitest';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

it('the demo runs in fast mode, the breaker opens and closes again, and it exits 0', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'demo/index.ts', '--fast'], {
    cwd: root,
    env: { ...process.env, TSX_TSCONFIG_PATH: 'tsconfig.check.json' },
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) console.error(out, err);
  expect(code).toBe(0);

  const summary = /summary: opened=(\d+) closed=(\d+) calls=(\d+) fallbacks=(\d+)/.exec(out);
  expect(summary).not.toBeNull();
  const [, opened, closed, calls, fallbacks] = (summary as RegExpExecArray).map(Number);
  expect(opened).toBeGreaterThanOrEqual(1);
  expect(closed).toBeGreaterThanOrEqual(1);
  expect(calls).toBeGreaterThan(100);
  expect(fallbacks).toBeGreaterThan(0);
  // In that order: the breaker opened while the service was bad, and closed after it recovered.
  const first = out.indexOf('closed→open');
  expect(first).toBeGreaterThan(-1);
  expect(out.indexOf('halfOpen→closed', first)).toBeGreaterThan(first);
  // It served the dashboard on the loopback interface and said where.
  expect(out).toMatch(/^dashboard: http:\/\/127\.0\.0\.1:\d+\/ /m);
  // One line per tick, each naming the breaker's state.
  const lines = out.split('\n').filter((l) => /^\s+\d+\.\ds\s/.test(l));
  expect(lines.length).toBeGreaterThanOrEqual(15);
  expect(lines.at(-1)).toMatch(/recovered\s+closed/);
}, 60_000);
