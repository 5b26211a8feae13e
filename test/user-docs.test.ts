// The user-facing text (README, the guides in docs/, TSDoc in src/, the examples) speaks to
// users: no pointers to the project's internal contract file, its issue tracker or its
// development history, which a user of the package does not have. docs/internals.md and
// docs/benchmarks.md are for contributors and may cite them.
import { describe, it, expect } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const CONTRIBUTOR_DOCS = new Set(['docs/internals.md', 'docs/benchmarks.md', 'docs/mutation.md', 'docs/soak.md']);

/** Phrases that only make sense inside the project. Each is a [pattern, what it is] pair. */
export const FORBIDDEN: readonly (readonly [RegExp, string])[] = [
  [/\bSPEC(\.md)?\b/, 'the internal contract file'],
  [/\bissues?\s*#\d+/i, 'an issue number'],
  [/\(#\d+\)/, 'an issue number'],
  [/\b(a|the|later|next|previous|earlier|future)\s+issues?\b(?!\s+(?:of|with|in)\b)/i, 'the issue tracker'],
  [/\bwave[- ]?\d\b|\b(this|next|previous|first|second) wave\b/i, 'a development wave'],
  [/\b(Part [12] of the contract|closing note)\b/i, 'the internal contract'],
];

function walk(dir: string, keep: (file: string) => boolean): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(root, dir))) {
    const rel = `${dir}/${name}`;
    if (statSync(join(root, rel)).isDirectory()) out.push(...walk(rel, keep));
    else if (keep(rel)) out.push(rel);
  }
  return out;
}

/** The TSDoc blocks of a source file, each with the line it starts on. */
function tsdocBlocks(text: string): { line: number; text: string }[] {
  const blocks: { line: number; text: string }[] = [];
  for (const m of text.matchAll(/\/\*\*[\s\S]*?\*\//g)) {
    blocks.push({ line: text.slice(0, m.index).split('\n').length, text: m[0] });
  }
  return blocks;
}

/** Every offending line of `text` (1-based line numbers, offset by `firstLine - 1`). */
export function findInternalReferences(text: string, firstLine = 1): string[] {
  const hits: string[] = [];
  text.split('\n').forEach((line, i) => {
    const found = FORBIDDEN.find(([re]) => re.test(line));
    if (found) hits.push(`${firstLine + i}: ${found[1]}: ${line.trim()}`);
  });
  return hits;
}

const markdown = [
  'README.md',
  ...walk('docs', (f) => f.endsWith('.md') && !CONTRIBUTOR_DOCS.has(f)),
];
const sources = walk('src', (f) => f.endsWith('.ts'));
const examples = walk('examples', (f) => f.endsWith('.ts'));

describe('user-facing text has no internal references', () => {
  it('the check itself catches each kind of reference', () => {
    for (const bad of [
      'as SPEC.md says',
      'see the SPEC',
      'added in issue #6',
      'a fix (#12)',
      'this is a later issue',
      'arrives in wave 2',
    ]) {
      expect(findInternalReferences(bad), bad).toHaveLength(1);
    }
    for (const fine of [
      'reported on Netflix/concurrency-limits#134',
      'the specification of HTTP',
      "return 'user #1'",
      'known issues with proxies',
      'the next attempt',
      'a microwave',
    ]) {
      expect(findInternalReferences(fine), fine).toEqual([]);
    }
  });

  it.each(markdown)('%s', (file) => {
    expect(findInternalReferences(readFileSync(join(root, file), 'utf8'))).toEqual([]);
  });

  it.each(examples)('%s', (file) => {
    expect(findInternalReferences(readFileSync(join(root, file), 'utf8'))).toEqual([]);
  });

  it.each(sources)('TSDoc of %s', (file) => {
    const text = readFileSync(join(root, file), 'utf8');
    const hits = tsdocBlocks(text).flatMap((b) => findInternalReferences(b.text, b.line));
    expect(hits, relative(root, join(root, file))).toEqual([]);
  });
});
