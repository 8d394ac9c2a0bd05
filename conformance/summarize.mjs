#!/usr/bin/env node
// Reads every checks.json a `conformance client -o <dir>` run wrote and prints one line per
// scenario (checks passed / failed / warnings). The suite's exit code counts only failures of
// scored scenarios and never warnings, so this is what decides: exit 1 when a required scenario
// has a FAILURE or a WARNING, wrote no checks at all, or its client did not finish (no
// "<scenario>: ok" line from conformance/client.ts).
// Usage: summarize.mjs <results-dir> <required-list-file | ALL> [<markdown-out>]
//   required-list-file: one scenario name per line (from `conformance list --requirements`);
//   ALL: every scenario run is required (the 0.1.16 backcompat suite).
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const [dir, requiredArg, markdownOut] = process.argv.slice(2);
if (!dir || !requiredArg) {
  console.error('usage: summarize.mjs <results-dir> <required-list-file | ALL> [<markdown-out>]');
  process.exit(2);
}

/** scenario name -> { passed, failed, warnings, messages } */
const scenarios = new Map();
const walk = (d) => {
  for (const entry of readdirSync(d, { withFileTypes: true })) {
    const path = join(d, entry.name);
    if (entry.isDirectory()) walk(path);
    else if (entry.name === 'checks.json') {
      // <dir>/[auth/]<scenario>-<ISO timestamp>/checks.json
      const name = relative(dir, d).replace(/-\d{4}-\d\d-\d\dT[\d-]+(\.\d+)?Z?$/, '');
      const row = { passed: 0, failed: 0, warnings: 0, messages: [] };
      for (const check of JSON.parse(readFileSync(path, 'utf8'))) {
        if (check.status === 'SUCCESS') row.passed++;
        else if (check.status === 'FAILURE' || check.status === 'WARNING') {
          if (check.status === 'FAILURE') row.failed++;
          else row.warnings++;
          const why = String(check.errorMessage ?? check.description ?? '').replace(/\s+/g, ' ');
          row.messages.push(`${check.status} ${check.id}: ${why.slice(0, 240)}`);
        }
      }
      // The client prints "<scenario>: ok" when it did what the scenario asks (for the scenarios
      // that must be refused: when it refused); a crash or a timeout leaves checks that can all
      // pass while the flow never finished, so a required scenario needs that line too.
      const stdout = existsSync(join(d, 'stdout.txt')) ? readFileSync(join(d, 'stdout.txt'), 'utf8') : '';
      const stderr = existsSync(join(d, 'stderr.txt')) ? readFileSync(join(d, 'stderr.txt'), 'utf8') : '';
      row.clientOk = stdout.split('\n').some((l) => l.startsWith(`${name}: ok`));
      for (const l of stdout.split('\n')) if (l.startsWith('note: ')) row.messages.push(l);
      if (!row.clientOk) {
        const last = stderr.trim().split('\n').slice(-3).join(' | ').replace(/\s+/g, ' ');
        row.messages.push(`CLIENT did not finish: ${last.slice(0, 300) || '(no output)'}`);
      }
      scenarios.set(name, row);
    }
  }
};
if (existsSync(dir)) walk(dir);

const required =
  requiredArg === 'ALL'
    ? new Set(scenarios.keys())
    : new Set(
        readFileSync(requiredArg, 'utf8')
          .split('\n')
          .map((l) => l.trim())
          .filter(Boolean),
      );

let bad = 0;
const lines = [];
const table = [
  '| Scenario | Scored | Checks passed | Failed | Warnings | Result |',
  '|---|---|---|---|---|---|',
];
const names = [...new Set([...required, ...scenarios.keys()])];
for (const name of names) {
  const row = scenarios.get(name);
  const scored = required.has(name);
  const ok = row !== undefined && row.failed === 0 && row.warnings === 0 && row.clientOk;
  if (scored && !ok) bad++;
  const mark = ok ? '✓' : '✗';
  const counts = row
    ? `${row.passed} passed, ${row.failed} failed, ${row.warnings} warnings${row.clientOk ? '' : ', client did not finish'}`
    : 'NO RESULTS';
  lines.push(`  ${mark} ${name.padEnd(42)} ${counts}${scored ? '' : '   (not scored)'}`);
  for (const m of row?.messages ?? []) lines.push(`      ${m}`);
  table.push(
    `| \`${name}\` | ${scored ? 'required' : 'not scored'} | ${row?.passed ?? 0} | ${row?.failed ?? '-'} | ${row?.warnings ?? '-'} | ${ok ? 'pass' : 'FAIL'} |`,
  );
}
console.log(lines.join('\n'));
const scoredCount = names.filter((n) => required.has(n)).length;
console.log(`  required: ${scoredCount - bad}/${scoredCount} scenarios with 0 failures and 0 warnings`);
if (markdownOut) writeFileSync(markdownOut, `${table.join('\n')}\n`);
process.exit(bad === 0 ? 0 : 1);
