// The portable smoke suite (portable/cases.mjs) on every runtime the package promises: the built
// package (dist/esm, so `npm run build` first; `npm test` does) on Deno 2 and Bun 1 (the npm
// packages `deno` and `bun`, devDependencies), on plain Node, and in headless Chromium (Debian's
// /usr/bin/chromium driven by playwright-core, the package served from a local 127.0.0.1 server
// with an import map). Each case is one test per runtime, so a failure names runtime and case.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { existsSync, readFileSync } from 'node:fs';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ENTRIES, type CaseResult } from './portable/cases.mjs';
import { launchChromium } from './chromium.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const runner = 'test/smoke/portable/run.mjs';
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  name: string;
  exports: Record<string, { import?: { default?: string } } | string>;
};
const cases = ENTRIES.flatMap(({ entry, cases: list }) => list.map((c) => ({ entry, name: c.name })));

function requireBuild(): void {
  for (const { entry } of ENTRIES) {
    const file = exportTarget(entry);
    if (!existsSync(join(root, file))) throw new Error(`${file} is missing: run \`npm run build\` first (npm test does)`);
  }
}

/** The ESM file package.json's exports map gives an entry (`breakwater/testing` → dist/esm/…). */
function exportTarget(entry: string): string {
  const sub = entry === pkg.name ? '.' : `.${entry.slice(pkg.name.length)}`;
  const target = pkg.exports[sub];
  const file = typeof target === 'object' ? target.import?.default : undefined;
  if (file === undefined) throw new Error(`package.json exports no "${sub}" for ${entry}`);
  return file;
}

/** Runs `cmd args` in the repo and returns the results line the runner printed. */
function runResults(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<CaseResult[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: root, env: { ...process.env, ...env, NO_COLOR: '1' } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      const line = out.split('\n').find((l) => l.startsWith('BREAKWATER_SMOKE '));
      if (line === undefined) reject(new Error(`${cmd} exited ${code} without results\n${out}\n${err}`));
      else resolve(JSON.parse(line.slice('BREAKWATER_SMOKE '.length)) as CaseResult[]);
    });
  });
}

/** A runtime binary installed by npm (node_modules/.bin), or a failure saying how to get it. */
function npmBinary(name: string, what: string): string {
  const bin = join(root, 'node_modules', '.bin', name);
  if (!existsSync(bin)) {
    throw new Error(`${what} is missing (${bin}): run \`npm ci\`; the devDependency "${name}" installs it through its optional platform package`);
  }
  return bin;
}

/** One describe per runtime: `load` runs the whole suite once, then each case is checked. */
function suite(runtime: string, load: () => Promise<CaseResult[]>, after?: () => Promise<void>): void {
  describe(`portable smoke suite on ${runtime}`, () => {
    let results: CaseResult[] = [];
    let failure: unknown;
    beforeAll(async () => {
      try {
        requireBuild();
        results = await load();
      } catch (error) {
        failure = error;
      }
    });
    if (after !== undefined) afterAll(after);
    it.each(cases)('$entry: $name', ({ entry, name }) => {
      if (failure !== undefined) throw failure;
      const r = results.find((x) => x.entry === entry && x.name === name);
      expect(r, `no result for ${entry}: ${name}`).toBeDefined();
      expect((r as CaseResult).error ?? '').toBe('');
      expect((r as CaseResult).ok).toBe(true);
    });
  });
}

suite('Node (the built package)', () => runResults(process.execPath, [runner]));

suite('Deno 2', async () => {
  const deno = npmBinary('deno', 'Deno');
  return runResults(deno, ['run', '--quiet', '--no-prompt', `--allow-read=${root}`, '--allow-env', runner], { DENO_NO_UPDATE_CHECK: '1' });
});

suite('Bun 1', async () => runResults(npmBinary('bun', 'Bun'), [runner]));

// --- Chromium -------------------------------------------------------------------------------

const TYPES: Record<string, string> = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.html': 'text/html', '.map': 'application/json' };
/** What the page may load: the built package, its two dependencies, the suite. */
const SERVED = ['dist/esm/', 'node_modules/eventemitter3/', 'node_modules/tslib/', 'test/smoke/portable/'];

let server: Server | undefined;

function importMap(): string {
  const imports: Record<string, string> = {
    eventemitter3: '/node_modules/eventemitter3/dist/eventemitter3.esm.js',
    tslib: '/node_modules/tslib/tslib.es6.mjs',
  };
  for (const { entry } of ENTRIES) imports[entry] = `/${normalize(exportTarget(entry)).split(sep).join('/')}`;
  return JSON.stringify({ imports });
}

async function serve(): Promise<string> {
  const page = readFileSync(join(root, 'test/smoke/portable/page.html'), 'utf8').replace('IMPORT_MAP', importMap());
  server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://127.0.0.1').pathname).slice(1);
    if (path === '' || path === 'index.html') {
      res.writeHead(200, { 'content-type': 'text/html' }).end(page);
      return;
    }
    const file = normalize(path);
    if (file.includes('..') || !SERVED.some((dir) => file.startsWith(dir)) || !existsSync(join(root, file))) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(join(root, file)));
  });
  const s = server;
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const address = s.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return `http://127.0.0.1:${address.port}/`;
}

suite(
  'headless Chromium',
  async () => {
    const url = await serve();
    const browser = await launchChromium();
    const { context } = browser;
    try {
      const page = context.pages()[0] ?? (await context.newPage());
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(String(error)));
      await page.goto(url);
      await page.waitForFunction(() => (window as { __results?: unknown }).__results !== undefined, undefined, { timeout: 60_000 });
      const results = (await page.evaluate(() => (window as unknown as { __results: unknown }).__results)) as CaseResult[];
      if (errors.length > 0) throw new Error(`errors on the page: ${errors.join('; ')}`);
      return results;
    } finally {
      await browser.close();
    }
  },
  async () => {
    if (server !== undefined) await new Promise<void>((resolve) => (server as Server).close(() => resolve()));
  },
);
