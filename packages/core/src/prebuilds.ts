// Which prebuilt helper fits the running machine. The package ships one per
// Linux target, named as node-gyp-build names them
// (`prebuilds/linux-x64/udpkit.glibc.node`), and as scripts/native-targets.mjs
// builds them. The choice is a pure function of platform, arch and libc, so
// it is tested for every machine from any machine.
import { readFileSync } from 'node:fs';

export type Libc = 'glibc' | 'musl';

export interface Machine {
  platform: string;
  arch: string;
  /** Undefined off Linux, where there is no libc to tell apart. */
  libc: Libc | undefined;
}

/** The targets a binary is built for, as `<platform>-<arch>-<libc>`. */
const shipped = new Set(['linux-x64-glibc', 'linux-x64-musl', 'linux-arm64-glibc', 'linux-arm64-musl']);

/** `linux-x64 glibc`: the machine as messages name it. */
export function describeMachine(machine: Machine): string {
  return `${machine.platform}-${machine.arch}${machine.libc ? ` ${machine.libc}` : ''}`;
}

/** The helper's path inside the package for this machine, or undefined when none is built for it. */
export function prebuildFor(machine: Machine): string | undefined {
  if (!shipped.has(`${machine.platform}-${machine.arch}-${machine.libc}`)) return undefined;
  return `prebuilds/${machine.platform}-${machine.arch}/udpkit.${machine.libc}.node`;
}

/**
 * The libc of this process, from the libraries mapped into it: exact (a
 * glibc Node on Alpine is glibc) and cheap. Where /proc is not mounted,
 * the diagnostic report's header says it, at a few milliseconds' cost.
 */
export function runningLibc(maps = readProcMaps()): Libc | undefined {
  if (process.platform !== 'linux') return undefined;
  if (maps !== undefined) {
    if (/\/ld-musl-[^/\s]+\.so/.test(maps)) return 'musl';
    if (/\/libc(\.so\.6|-[\d.]+\.so)\b/.test(maps)) return 'glibc';
  }
  const report = process.report.getReport() as { header: { glibcVersionRuntime?: string } };
  return report.header.glibcVersionRuntime ? 'glibc' : 'musl';
}

function readProcMaps(): string | undefined {
  try {
    return readFileSync('/proc/self/maps', 'latin1');
  } catch {
    return undefined;
  }
}
