// Default names are unique per process, across the ESM and CommonJS builds loaded side by side:
// a registry can list default-named policies of both copies. Runs against the build (dist/),
// which `npm test` makes before the tests; built here when missing.
import { describe, it, expect } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

const script = `
import { createRequire } from 'node:module';
const esm = await import('./dist/esm/index.js');
const cjs = createRequire(import.meta.url)('./dist/commonjs/index.js');
if (esm.retry === cjs.retry) throw new Error('one copy loaded, not two');
const registry = esm.createRegistry();
const names = [];
for (const lib of [esm, cjs, esm, cjs]) {
  for (const make of [() => lib.retry(), () => lib.timeout(10), () => lib.circuitBreaker(), () => lib.pipeline(lib.fallback(0))]) {
    const p = make();
    registry.add(p);
    names.push(p.name);
  }
}
console.log(JSON.stringify(names));
`;

describe('default names across the ESM and CommonJS copies', () => {
  it('never collide in one registry', () => {
    if (!existsSync(`${root}dist/esm/index.js`) || !existsSync(`${root}dist/commonjs/index.js`)) {
      execFileSync('npx', ['tshy'], { cwd: root, stdio: 'ignore' });
    }
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8', timeout: 20000 });
    expect(child.stderr).toBe('');
    expect(child.status).toBe(0);
    const names = JSON.parse(child.stdout) as string[];
    expect(names).toHaveLength(16);
    expect(new Set(names).size).toBe(16);
    expect(names.filter((n) => n.startsWith('retry-'))).toEqual(['retry-1', 'retry-2', 'retry-3', 'retry-4']);
  });
});
