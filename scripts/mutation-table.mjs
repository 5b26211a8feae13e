// Prints the per-module mutation score table of a Stryker JSON report (markdown), for
// docs/mutation.md: `node scripts/mutation-table.mjs [reports/mutation/mutation.json] [--survivors]`.
// Score = (killed + timed out) / (killed + timed out + survived + no coverage); ignored mutants
// (static ones under `ignoreStatic`) and compile/runtime errors are outside the score, as in Stryker.
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const file = args.find((a) => !a.startsWith('--')) ?? 'reports/mutation/mutation.json';
const report = JSON.parse(readFileSync(file, 'utf8'));
const rows = [];
const total = { killed: 0, timeout: 0, survived: 0, noCoverage: 0, ignored: 0 };
for (const [name, f] of Object.entries(report.files).sort(([a], [b]) => a.localeCompare(b))) {
  const c = { killed: 0, timeout: 0, survived: 0, noCoverage: 0, ignored: 0 };
  for (const m of f.mutants) {
    if (m.status === 'Killed') c.killed++;
    else if (m.status === 'Timeout') c.timeout++;
    else if (m.status === 'Survived') c.survived++;
    else if (m.status === 'NoCoverage') c.noCoverage++;
    else c.ignored++;
  }
  for (const k of Object.keys(total)) total[k] += c[k];
  rows.push([name, c]);
}
const score = (c) => {
  const valid = c.killed + c.timeout + c.survived + c.noCoverage;
  return valid === 0 ? NaN : ((c.killed + c.timeout) / valid) * 100;
};
const line = (name, c) =>
  `| ${name} | ${c.killed + c.timeout + c.survived + c.noCoverage} | ${c.killed} | ${c.timeout} | ${c.survived} | ${c.noCoverage} | ${Number.isNaN(score(c)) ? 'n/a' : score(c).toFixed(2) + '%'} |`;
console.log('| module | mutants | killed | timed out | survived | no coverage | score |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const [name, c] of rows) console.log(line(name, c));
console.log(line('**all measured**', total));
if (args.includes('--survivors')) {
  for (const [name, f] of Object.entries(report.files)) {
    for (const m of f.mutants) {
      if (m.status !== 'Survived' && m.status !== 'NoCoverage') continue;
      console.log(`${name}:${m.location.start.line}:${m.location.start.column} ${m.status} ${m.mutatorName}: ${JSON.stringify(m.replacement ?? '')}`);
    }
  }
}
