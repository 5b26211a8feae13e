// Prints one tier's totals as one plain closing line ("unit: N passed, N failed"), read from
// vitest's JSON report, so any CI that reads the last line sees the tier's whole count.
// Usage: node scripts/summary.mjs <tier> <report.json>
import { readFileSync } from 'node:fs';

const [tier = 'tests', file = '.vitest-results.json'] = process.argv.slice(2);
const report = JSON.parse(readFileSync(new URL(`../${file}`, import.meta.url), 'utf8'));
const skipped = report.numPendingTests + report.numTodoTests;
console.log(`${tier}: ${report.numPassedTests} passed, ${report.numFailedTests} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(report.numFailedTests === 0 && report.success ? 0 : 1);
