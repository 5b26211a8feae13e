// `npm run bench`: every scenario side by side with cockatiel and opossum.
// Usage: npm run bench [-- filter]   (filter: a substring of a group title)
//
// Each area's file runs in its own Node process (the contenders of a comparison always share
// one process and are interleaved round by round). Why separate processes: in one long process,
// the JIT state left by the areas before (shared breakwater code made polymorphic by nine policy
// kinds, a grown heap) shifted the later areas' figures by 10-30% depending on the order the
// files ran in. A fresh process per area gives figures that do not depend on that order.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runGroup, report } from './harness.mjs';

const files = ['./foundation.mjs', './retry.mjs', './circuit-breaker.mjs', './limits.mjs', './metrics.mjs', './redis.mjs', './fetch.mjs', './floor.mjs', './clients.mjs'];
const args = process.argv.slice(2);

if (args[0] === '--child') {
  const [, file, filter] = args;
  const mod = await import(file);
  const lines = [];
  for (const group of mod.groups) {
    if (filter && !group.title.toLowerCase().includes(filter.toLowerCase())) continue;
    const results = await runGroup(group);
    lines.push(...report(group, results));
    await group.teardown?.();
  }
  // breakwater/redis also measures round trips and admission latency, outside the harness.
  if (mod.extra && (!filter || 'breakwater/redis'.includes(filter.toLowerCase()))) lines.push(...(await mod.extra()));
  await mod.teardown?.();
  for (const line of lines) console.log(`@target ${line}`);
  process.exit(0);
} else {
  // [filter] [--runs N]: with several runs, each target's verdict is taken on the median ratio.
  const runsAt = args.indexOf('--runs');
  const runs = runsAt === -1 ? 1 : Math.max(1, Number(args[runsAt + 1]) || 1);
  const filter = args.find((a, i) => !a.startsWith('--') && args[i - 1] !== '--runs') ?? '';
  const self = fileURLToPath(import.meta.url);
  const byLabel = new Map();
  console.log(`breakwater benchmarks — Node ${process.version}, ${process.platform}/${process.arch}${runs > 1 ? `, ${runs} runs` : ''}`);
  for (let run = 1; run <= runs; run++) {
    if (runs > 1) console.log(`\n# Run ${run} of ${runs}`);
    for (const file of files) {
      const child = spawnSync(process.execPath, [self, '--child', file, filter], { encoding: 'utf8', cwd: process.cwd() });
      if (child.status !== 0) {
        process.stderr.write(child.stderr);
        throw new Error(`bench ${file} failed (exit ${child.status})`);
      }
      for (const line of child.stdout.split('\n')) {
        if (line.startsWith('@target ')) {
          const text = line.slice(8);
          const m = /^(MET |MISS|INFO)\s+(.*?): ([\d.]+)x(.*)$/.exec(text);
          if (m === null) continue;
          const entry = byLabel.get(m[2]) ?? { ratios: [], rest: m[4] };
          entry.ratios.push(Number(m[3]));
          byLabel.set(m[2], entry);
        } else if (line.trim() !== '') console.log(line);
      }
    }
  }
  console.log(`\n## Targets${runs > 1 ? ` (median of ${runs} runs; each run's ratio in brackets)` : ''}`);
  for (const [label, { ratios, rest }] of byLabel) {
    const sorted = ratios.slice().sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)];
    const want = /want ([<>]=) ([\d.]+)x/.exec(rest);
    let verdict = 'INFO';
    if (want !== null) {
      const bound = Number(want[2]);
      verdict = (want[1] === '>=' ? median >= bound : median <= bound) ? 'MET ' : 'MISS';
    }
    const each = ratios.length > 1 ? ` [${ratios.map((r) => r.toFixed(2)).join(', ')}]` : '';
    console.log(`  ${verdict}  ${label}: ${median.toFixed(2)}x${each}${want !== null ? ` (want ${want[1]} ${want[2]}x)` : rest}`);
  }
}
