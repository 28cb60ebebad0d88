// bench/results.json: each benchmark's figures, with the machine they came from.
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';

/** The fields every results.json starts with (scripts/bench-report.ts names the machine from them). */
export function machine() {
  return { date: new Date().toISOString(), node: process.version, kernel: os.release(), cpus: os.cpus().map((c) => c.model), loadavg: os.loadavg() };
}

/** Writes `results` to `<benchDir>/results.json` and says so. */
export function writeResults(benchDir: string, results: object): void {
  writeFileSync(join(benchDir, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  console.log('\nwrote bench/results.json');
}
