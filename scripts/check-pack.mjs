// The packed tarball, as a user gets it: publint and attw on it, then installed into a fresh
// folder and used from an ESM consumer, a CommonJS consumer (both side by side, for the
// dual-package hazard) and a TypeScript consumer type-checked against its .d.ts files.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readdirSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve, posix } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const run = (cmd, args, cwd = root) => execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
// What may ship, by pattern: the build for every subpath (present or future) under dist/esm and
// dist/commonjs, the two package.json markers tshy writes there, and the top-level files. Anything
// else (sources, tests, tsbuildinfo, declaration maps pointing at unshipped files) is a failure.
const ALLOWED = [
  /^package\/package\.json$/,
  /^package\/(README|CHANGELOG)\.md$/,
  /^package\/LICENSE$/,
  /^package\/dist\/(esm|commonjs)\/package\.json$/,
  // Compiled modules, their maps and types (tshy's dialect files .mjs/.cjs/.d.mts/.d.cts too).
  /^package\/dist\/(esm|commonjs)\/([\w-]+\/)*[\w.-]+\.([mc]?js|[mc]?js\.map|d\.[mc]?ts)$/,
];

function checkAllowList(files) {
  const stray = files.filter((f) => !ALLOWED.some((re) => re.test(f)));
  if (stray.length > 0) throw new Error(`unexpected files: ${stray.join(', ')}`);
  // Each module ships as a triple in both builds: code, its map and its types.
  const missing = [];
  for (const f of files) {
    const m = /^(package\/dist\/(esm|commonjs)\/.*)\.js$/.exec(f); // dialect files (.mjs, .cjs) exist in one build only
    if (!m) continue;
    for (const ext of ['.js.map', '.d.ts']) if (!files.includes(m[1] + ext)) missing.push(m[1] + ext);
    const other = m[1].replace(/\/(esm|commonjs)\//, (_, b) => `/${b === 'esm' ? 'commonjs' : 'esm'}/`) + '.js';
    if (!files.includes(other)) missing.push(other);
  }
  if (missing.length > 0) throw new Error(`missing companions: ${missing.join(', ')}`);
  return `${files.length} files`;
}

function checkLicense(tarball) {
  const text = run('tar', ['-xzOf', tarball, 'package/LICENSE']);
  if (!/^MIT License/.test(text) || !/breakwater contributors/.test(text)) throw new Error('LICENSE is not the MIT text naming breakwater contributors');
  const pkg = JSON.parse(run('tar', ['-xzOf', tarball, 'package/package.json']));
  if (pkg.license !== 'MIT') throw new Error(`package.json license is ${pkg.license}`);
}

// Read from package.json, so a new subpath is covered without editing this script.
function checkExportTargets(files) {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const targets = [];
  const walk = (v) => (typeof v === 'string' ? targets.push(v) : v && typeof v === 'object' && Object.values(v).forEach(walk));
  walk(pkg.exports);
  for (const k of ['main', 'types', 'module']) if (pkg[k]) targets.push(pkg[k]);
  const missing = [...new Set(targets)].filter((t) => !files.includes(posix.join('package', t)));
  if (missing.length > 0) throw new Error(`export targets not in the tarball: ${missing.join(', ')}`);
  return `${new Set(targets).size} targets, ${Object.keys(pkg.exports).length} subpaths`;
}

// A debugger or a stack-trace tool given a .js.map must find every source: embedded in
// sourcesContent, or a file in the tarball at the path the map names.
function checkSourceMaps(tarball, files) {
  const maps = files.filter((f) => f.endsWith('.map'));
  if (maps.length === 0) throw new Error('no source maps in the tarball');
  const bad = [];
  for (const f of maps) {
    const map = JSON.parse(run('tar', ['-xzOf', tarball, f]));
    if (!Array.isArray(map.sources) || map.sources.length === 0) bad.push(`${f}: no sources`);
    map.sources.forEach((src, i) => {
      const embedded = typeof map.sourcesContent?.[i] === 'string' && map.sourcesContent[i].length > 0;
      const shipped = files.includes(posix.normalize(posix.join(posix.dirname(f), map.sourceRoot ?? '', src)));
      if (!embedded && !shipped) bad.push(`${f}: ${src}`);
    });
  }
  if (bad.length > 0) throw new Error(`unresolvable sources:\n  ${bad.slice(0, 20).join('\n  ')}`);
  return `${maps.length} maps`;
}

let passed = 0;
let failed = 0;
function check(name, fn) {
  try {
    const out = fn();
    passed++;
    console.log(`  ok    ${name}${out ? `: ${String(out).trim().split('\n').slice(-1)[0]}` : ''}`);
  } catch (error) {
    failed++;
    console.log(`  FAIL  ${name}\n${error.stdout ?? ''}${error.stderr ?? ''}${error.stdout || error.stderr ? '' : error.stack}`);
  }
}

// --- Internals in the public types ------------------------------------------------------------

/** Built only by their factories, so exported as types only. */
const POLICY_CLASSES = [
  'TimeoutPolicy',
  'FallbackPolicy',
  'Pipeline',
  'RetryPolicy',
  'RetryBudget',
  'HedgePolicy',
  'CircuitBreakerPolicy',
  'BulkheadPolicy',
  'RateLimiterPolicy',
  'AdaptiveLimitPolicy',
  'ChaosPolicy',
  'PolicyPool',
];

/**
 * What must never appear in a .d.ts a user's compiler reads (comments are left out first). An
 * internal module's own declarations may be reachable through an import that stripInternal
 * leaves behind when it strips the member that used it; what matters is that no public class or
 * interface shows a hook, a token or protected state.
 */
const FORBIDDEN = [
  [/^\s*(?:readonly\s+)?\[(?![A-Za-z_$][\w$]*\s+in\b)[A-Za-z_$][\w$.]*\]\s*[?:(<=]/m, 'a symbol-keyed member'],
  [/\bprotected\b/, 'protected state or methods'],
  [/\badopt\s*\(/, 'adopt()'],
  [/\bToken\b/, 'the internal Token'],
  [/\b(?:Ctx|Outcome)\b/, 'an internal hook type (the run context, a fused pair\'s outcome)'],
];
/** Fields no class may show (the emitter's listener version, the bus's change flag). */
const FORBIDDEN_CLASS_FIELDS = /^\s*(?:readonly\s+)?(version|changed)\s*[?:;=]/m;

/**
 * Walks every .d.ts reachable from the package's exports map (ESM and CommonJS) through its
 * relative imports and re-exports, and fails naming each internal it finds.
 */
function internalsInTypes(pkgDir) {
  const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
  const queue = [];
  const visit = (value) => {
    if (typeof value === 'string') {
      if (value.endsWith('.d.ts')) queue.push(join(pkgDir, value));
    } else if (value !== null && typeof value === 'object') Object.values(value).forEach(visit);
  };
  visit(pkg.exports);
  const seen = new Set();
  const found = [];
  while (queue.length > 0) {
    const file = queue.pop();
    if (seen.has(file)) continue;
    seen.add(file);
    if (!existsSync(file)) {
      found.push(`${file}: missing`);
      continue;
    }
    const text = readFileSync(file, 'utf8')
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/^\s*\/\/.*$/gm, '');
    for (const m of text.matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)) {
      queue.push(join(dirname(file), m[1].replace(/\.js$/, '.d.ts').replace(/\.cjs$/, '.d.cts').replace(/\.mjs$/, '.d.mts')));
    }
    const rel = file.slice(pkgDir.length + 1);
    for (const [re, what] of FORBIDDEN) {
      const m = re.exec(text);
      if (m !== null) found.push(`${rel}: ${what}: ${m[0].trim()}`);
    }
    for (const body of text.matchAll(/declare (?:abstract )?class [^{]*\{([\s\S]*?)\n\}/g)) {
      const m = FORBIDDEN_CLASS_FIELDS.exec(body[1]);
      if (m !== null) found.push(`${rel}: a class field ${m[1]}`);
    }
  }
  if (found.length > 0) throw new Error(`internals in the public types:\n  ${found.join('\n  ')}`);
  return `${seen.size} declaration files reachable from the exports map, none shows an internal`;
}

const dir = mkdtempSync(join(tmpdir(), 'breakwater-pack-'));
try {
  const [{ filename }] = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', dir]));
  const tarball = join(dir, filename);
  console.log(`packed ${filename}`);

  check('publint (strict)', () => run(join(root, 'node_modules/.bin/publint'), ['run', tarball, '--strict']));
  check('attw (node16 profile: Node >= 20 has no node10 resolution)', () => run(join(root, 'node_modules/.bin/attw'), [tarball, '--profile', 'node16', '--format', 'table-flipped']));

  const app = join(dir, 'app');
  run('mkdir', ['-p', app]);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  check('npm install of the tarball', () =>
    run('npm', ['install', tarball, '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts'], app),
  );

  writeFileSync(
    join(app, 'esm.mjs'),
    `import { timeout, fallback, pipeline, TimeoutError, isBreakwaterError } from 'breakwater';
import { ManualClock } from 'breakwater/testing';
import { createRequire } from 'node:module';
const clock = new ManualClock();
const p = pipeline(fallback('fb'), timeout({ durationMs: 10, clock }));
const call = p.execute(() => new Promise(() => {}));
await clock.advance(10);
if ((await call) !== 'fb') throw new Error('fallback did not answer the timeout');
// The CommonJS build loaded beside the ESM one: two copies of every class.
const cjs = createRequire(import.meta.url)('breakwater');
const foreign = new cjs.TimeoutError(5);
if (foreign instanceof TimeoutError) throw new Error('expected two copies');
if (!isBreakwaterError(foreign, 'ETIMEDOUT')) throw new Error('ESM guard missed a CJS error');
if (!cjs.isBreakwaterError(new TimeoutError(1), 'ETIMEDOUT')) throw new Error('CJS guard missed an ESM error');
if (isBreakwaterError(Object.assign(new Error('x'), { code: 'ETIMEDOUT' }))) throw new Error('foreign ETIMEDOUT taken for ours');
// breakwater/fetch from the tarball: a 503 comes back as the Response once the pipeline gives up.
const { resilientFetch, HttpStatusError } = await import('breakwater/fetch');
const rfc = resilientFetch({ fetch: async () => new Response('busy', { status: 503 }), standard: { maxAttempts: 1 } });
if ((await rfc('http://127.0.0.1:1/')).status !== 503) throw new Error('resilientFetch did not return the 503');
rfc.dispose();
if (!isBreakwaterError(new HttpStatusError(new Response(null, { status: 500 })), 'EHTTPSTATUS')) throw new Error('HttpStatusError is not ours');
console.log('esm consumer ok');
`,
  );
  writeFileSync(
    join(app, 'cjs.cjs'),
    `const { timeout, isBreakwaterError } = require('breakwater');
const { ManualClock } = require('breakwater/testing');
const clock = new ManualClock();
const t = timeout({ durationMs: 5, clock });
const call = t.execute(() => new Promise(() => {})).catch((e) => e);
clock.advance(5).then(() => call).then((e) => {
  if (!isBreakwaterError(e, 'ETIMEDOUT')) { console.error('expected a TimeoutError', e); process.exit(1); }
  console.log('cjs consumer ok');
});
`,
  );
  check('ESM consumer (import, with the CJS copy side by side)', () => run(process.execPath, ['esm.mjs'], app));
  check('CommonJS consumer (require)', () => run(process.execPath, ['cjs.cjs'], app));

  writeFileSync(
    join(app, 'types.mts'),
    `import { timeout, pipeline, fallback, isBreakwaterError, type Policy, type PolicyMetrics } from 'breakwater';
import { ManualClock } from 'breakwater/testing';
const p = pipeline(fallback(0), timeout({ durationMs: 5, clock: new ManualClock() }));
const n: Promise<number> = p.execute(({ signal, attempt }) => (signal.aborted ? attempt : 1));
const s: Promise<string | null> = pipeline(fallback(null)).execute(() => 's');
const any: Policy = p;
const u: Promise<unknown> = any.execute(() => 1);
void s; void u;
const m: PolicyMetrics = p.metrics();
const e: unknown = new Error();
if (isBreakwaterError(e, 'ETIMEDOUT')) { const ms: number = e.timeoutMs; void ms; }
void n; void m;
`,
  );
  writeFileSync(
    join(app, 'types.cts'),
    `import { timeout, type TimeoutPolicy } from 'breakwater';
import { ManualClock } from 'breakwater/testing';
const t: TimeoutPolicy = timeout({ durationMs: 5, clock: new ManualClock() });
export const r: Promise<string> = t.execute(() => 'x');
`,
  );
  check('TypeScript consumer (nodenext, ESM and CJS files)', () =>
    run(
      process.execPath,
      [join(root, 'node_modules/typescript/bin/tsc'), '--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--types', 'node', '--typeRoots', join(root, 'node_modules/@types'), 'types.mts', 'types.cts'],
      app,
    ),
  );
  check('public types show no internals (hooks, tokens, version/changed, adopt, protected state)', () =>
    internalsInTypes(join(app, 'node_modules', 'breakwater')),
  );
  check('policy classes are types only: the entry exports no class to build one with', () =>
    run(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const m = await import('breakwater');
const classes = ${JSON.stringify(POLICY_CLASSES)}.filter((name) => name in m);
if (classes.length > 0) throw new Error('exported as values: ' + classes.join(', '));
console.log('${POLICY_CLASSES.length} policy classes, none exported as a value');`,
      ],
      app,
    ),
  );
  const files = run('tar', ['-tzf', tarball]).trim().split('\n');
  check('tarball holds only the allowed files', () => checkAllowList(files));
  check('tarball ships LICENSE (MIT)', () => checkLicense(tarball));
  check('every export target in package.json is in the tarball', () => checkExportTargets(files));
  check('every .js.map resolves: sources embedded or shipped', () => checkSourceMaps(tarball, files));
} finally {
  rmSync(dir, { recursive: true, force: true });
  for (const f of readdirSync(root)) if (f.endsWith('.tgz')) rmSync(join(root, f));
}
console.log(`\npack: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
