// Runs every package's tests through turbo, then prints one line with the
// totals read from each package's vitest JSON report: `N passed, N failed`.
// The totals also go to test-summary.json, for the version matrix
// (scripts/test-matrix.mjs) to add up.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const packages = [...readdirSync('packages').map((name) => join('packages', name)), 'examples'];
const reports = packages.map((dir) => join(dir, 'test-results.json'));
for (const report of reports) rmSync(report, { force: true });

const run = spawnSync('pnpm', ['exec', 'turbo', 'run', 'test', '--continue', '--concurrency=1', ...process.argv.slice(2)], {
  stdio: 'inherit',
});

let passed = 0;
let failed = 0;
let skipped = 0;
for (const report of reports) {
  if (!existsSync(report)) continue;
  const result = JSON.parse(readFileSync(report, 'utf8'));
  passed += result.numPassedTests;
  failed += result.numFailedTests;
  skipped += result.numPendingTests + result.numTodoTests;
  // A test file that fails to load has no tests but still fails the run.
  failed += result.testResults.filter((file) => file.status === 'failed' && file.assertionResults.length === 0).length;
}

const ok = run.status === 0 && failed === 0 && passed > 0;
writeFileSync('test-summary.json', JSON.stringify({ node: process.version, passed, failed, skipped, ok }));
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(ok ? 0 : 1);
