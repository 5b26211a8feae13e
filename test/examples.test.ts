// Every program in examples/ runs to completion and exits 0 (they are also type-checked by
// `npm run typecheck`). They import 'breakwater', mapped to src/ by tsconfig.check.json.
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
// Subfolders too (examples/migrate/: each guide's side-by-side programs).
const examples = readdirSync(new URL('../examples', import.meta.url), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));

describe('examples', () => {
  it.each(examples)('%s runs and exits 0', (file) => {
    const child = spawnSync(
      process.execPath,
      ['--import', 'tsx', `examples/${file}`],
      { cwd: root, encoding: 'utf8', timeout: 60000, env: { ...process.env, TSX_TSCONFIG_PATH: 'tsconfig.check.json', BREAKWATER_EXAMPLE_FAST: '1' } },
    );
    if (child.status !== 0) console.error(child.stdout, child.stderr);
    expect(child.status).toBe(0);
  });
});
