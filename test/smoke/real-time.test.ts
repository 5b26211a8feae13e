// The portable smoke suite (portable/cases.mjs) on Node, against the sources: small real timers
// and the system clock. vitest.config.ts also runs this file with `setImmediate` removed, and with
// `setImmediate` and `MessageChannel` removed, where the end-of-turn queue falls back to a
// `MessageChannel` message and to `setTimeout`.
import { describe, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { ENTRIES } from './portable/cases.mjs';

// The entries as users import them, mapped to their sources by package.json's tshy exports.
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  name: string;
  tshy: { exports: Record<string, string> };
};
async function load(entry: string): Promise<unknown> {
  const sub = entry === pkg.name ? '.' : `.${entry.slice(pkg.name.length)}`;
  const src = pkg.tshy.exports[sub];
  if (src === undefined) throw new Error(`package.json's tshy.exports has no "${sub}"`);
  return import(new URL(`../../${src}`, import.meta.url).href);
}

const entries: Record<string, unknown> = {};
for (const { entry } of ENTRIES) entries[entry] = await load(entry);

for (const { entry, cases } of ENTRIES) {
  describe(`${entry} in real time`, () => {
    for (const c of cases) it(c.name, () => c.run(entries));
  });
}
