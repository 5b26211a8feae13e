// `npm run bench`: every scenario side by side with cockatiel and opossum, in one process.
// Usage: npm run bench [-- filter]   (filter: a substring of a group title)
import { runGroup, report } from './harness.mjs';

const files = ['./foundation.mjs', './retry.mjs', './circuit-breaker.mjs', './limits.mjs', './metrics.mjs'];
const filter = process.argv[2];
const summary = [];
console.log(`breakwater benchmarks — Node ${process.version}, ${process.platform}/${process.arch}`);
for (const file of files) {
  let mod;
  try {
    mod = await import(file);
  } catch (error) {
    if (error && error.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes(file.slice(2))) continue;
    throw error;
  }
  for (const group of mod.groups) {
    if (filter && !group.title.toLowerCase().includes(filter.toLowerCase())) continue;
    const results = await runGroup(group);
    summary.push(...report(group, results));
    await group.teardown?.();
  }
}
console.log('\n## Targets');
for (const line of summary) console.log(`  ${line}`);
