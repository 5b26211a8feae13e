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

const files = ['./foundation.mjs', './retry.mjs', './circuit-breaker.mjs', './limits.mjs', './metrics.mjs'];
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
  for (const line of lines) console.log(`@target ${line}`);
  process.exit(0);
} else {
  const filter = args[0] ?? '';
  const self = fileURLToPath(import.meta.url);
  const summary = [];
  console.log(`breakwater benchmarks — Node ${process.version}, ${process.platform}/${process.arch}`);
  for (const file of files) {
    const child = spawnSync(process.execPath, [self, '--child', file, filter], { encoding: 'utf8', cwd: process.cwd() });
    if (child.status !== 0) {
      process.stderr.write(child.stderr);
      throw new Error(`bench ${file} failed (exit ${child.status})`);
    }
    for (const line of child.stdout.split('\n')) {
      if (line.startsWith('@target ')) summary.push(line.slice(8));
      else if (line.trim() !== '') console.log(line);
    }
  }
  console.log('\n## Targets');
  for (const line of summary) console.log(`  ${line}`);
}
