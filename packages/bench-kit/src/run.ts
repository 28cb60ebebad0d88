// A benchmark's process: what it needs from the machine, and its end, which
// closes the namespace whatever happens (done, an error, Ctrl-C).
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import type { BenchNamespace } from './namespace.js';

/** Fails unless this is Linux, root, 2 CPUs, with each of `tools` on PATH. */
export function preflight(tools: string[]): void {
  if (process.platform !== 'linux') throw new Error('the bench needs Linux (network namespaces, sendmmsg)');
  if (process.getuid?.() !== 0) throw new Error('the bench needs root: it makes a network namespace');
  for (const tool of tools) {
    if (spawnSync('which', [tool]).status !== 0) throw new Error(`the bench needs \`${tool}\` on PATH`);
  }
  if (os.availableParallelism() < 2) throw new Error('the bench needs 2 CPUs (flood and receiver on their own)');
}

/**
 * Runs `main` and exits: 0 when it is done, 1 on an error (its message
 * printed), 130 or 143 on SIGINT or SIGTERM. `ns` is closed in every case.
 */
export function runBench(ns: BenchNamespace, main: () => Promise<unknown>): void {
  const abort = (signal: NodeJS.Signals) => {
    ns.close();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', abort);
  process.once('SIGTERM', abort);
  process.once('exit', () => ns.close());
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      ns.close();
      console.error(error instanceof Error ? error.message : error);
      process.exit(1);
    },
  );
}
