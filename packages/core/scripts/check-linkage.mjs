// What a built helper needs from the system at load time, checked against
// what the machines it is for have: a glibc build no symbol version newer
// than the baseline, a musl build nothing but musl's libc.so (no glibc
// symbol versions). Read with binutils' readelf, which reads every
// architecture's ELF files.
import { spawnSync } from 'node:child_process';
import { glibcBaseline } from './native-targets.mjs';

/** What is wrong with the linkage of `binary`, built for `libc`; undefined when nothing is. */
export function linkageProblem(libc, binary) {
  const symbols = readelf(['--wide', '--dyn-syms', binary]);
  const needed = [...readelf(['--dynamic', binary]).matchAll(/\(NEEDED\).*\[(.+)\]/g)].map((match) => match[1]);
  const versions = [...new Set([...symbols.matchAll(/@GLIBC_([\d.]+)/g)].map((match) => match[1]))];
  if (libc === 'musl') {
    if (versions.length > 0) return `a musl build needs glibc symbols (GLIBC_${versions.join(', GLIBC_')})`;
    if (needed.join() !== 'libc.so') return `a musl build must need only libc.so, not ${needed.join(', ')}`;
    return undefined;
  }
  const tooNew = versions.filter((version) => compareVersions(version, glibcBaseline) > 0);
  if (tooNew.length > 0) return `needs GLIBC_${tooNew.join(', GLIBC_')}, newer than the ${glibcBaseline} baseline`;
  return undefined;
}

function readelf(args) {
  const run = spawnSync('readelf', args, { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`readelf ${args.join(' ')}: ${run.stderr || run.error?.message}`);
  return run.stdout;
}

function compareVersions(a, b) {
  const [x, y] = [a, b].map((version) => version.split('.').map(Number));
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
  }
  return 0;
}
