import { spawnSync } from 'node:child_process';

/** Runs a command to its end; its stdout, or an error with its stderr. */
export function sh(cmd: string, argv: string[]): string {
  const r = spawnSync(cmd, argv, { encoding: 'utf8' });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')}: exit ${r.status}: ${r.stderr.trim()}`);
  return r.stdout;
}
