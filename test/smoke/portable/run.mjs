// The portable suite's runner for Deno and Bun: imports each entry of cases.mjs from the built
// package (dist/esm, through package.json's exports map, as a user's import would resolve),
// runs every case and prints one line `BREAKWATER_SMOKE <json results>` for the test to read.
import pkg from '../../../package.json' with { type: 'json' };
import { ENTRIES, runAll } from './cases.mjs';

const root = new URL('../../../', import.meta.url);
const entries = {};
for (const { entry } of ENTRIES) {
  const sub = entry === pkg.name ? '.' : `.${entry.slice(pkg.name.length)}`;
  const target = pkg.exports[sub]?.import?.default;
  if (target === undefined) throw new Error(`package.json exports no "${sub}" for ${entry}`);
  entries[entry] = await import(new URL(target, root).href);
}
const results = await runAll(entries);
console.log(`BREAKWATER_SMOKE ${JSON.stringify(results)}`);
