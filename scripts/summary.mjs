// Prints the unit tests' totals as one plain closing line ("tests: N passed, N failed"), read
// from vitest's JSON report, so any CI that reads the last line sees the whole suite's count.
import { readFileSync } from 'node:fs';

const report = JSON.parse(readFileSync(new URL('../.vitest-results.json', import.meta.url), 'utf8'));
const skipped = report.numPendingTests + report.numTodoTests;
console.log(`tests: ${report.numPassedTests} passed, ${report.numFailedTests} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(report.numFailedTests === 0 && report.success ? 0 : 1);
