// Which prebuilt helper the loader picks for a machine, and what runs when
// none fits: the choice for every platform/arch/libc (injected), the real
// load of this machine's build, and the portable fallback with its reason
// in a copy of the package that has no helper.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs build script without types
import { prebuildFile, targets } from '../scripts/native-targets.mjs';
import { loadBinding } from '../src/native-backend.js';
import { describeMachine, prebuildFor, runningLibc, type Machine } from '../src/prebuilds.js';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const thisMachine: Machine = { platform: process.platform, arch: process.arch, libc: runningLibc() };

describe('the prebuilt helper for a machine', () => {
  it('is the file the build writes, for each of the four shipped targets', () => {
    const built = (targets as Machine[]).map((target) => [prebuildFor(target), prebuildFile(target)]);
    expect(built.map(([chosen]) => chosen)).toEqual([
      'prebuilds/linux-x64/udpkit.glibc.node',
      'prebuilds/linux-x64/udpkit.musl.node',
      'prebuilds/linux-arm64/udpkit.glibc.node',
      'prebuilds/linux-arm64/udpkit.musl.node',
    ]);
    for (const [chosen, file] of built) expect(chosen).toBe(file);
  });

  it.each([
    { platform: 'linux', arch: 'riscv64', libc: 'glibc' },
    { platform: 'linux', arch: 'arm', libc: 'glibc' },
    { platform: 'linux', arch: 'ia32', libc: 'musl' },
    { platform: 'linux', arch: 'x64', libc: undefined },
    { platform: 'darwin', arch: 'arm64', libc: undefined },
    { platform: 'win32', arch: 'x64', libc: undefined },
    { platform: 'freebsd', arch: 'x64', libc: 'glibc' },
  ] as Machine[])('is none for $platform-$arch $libc', (machine) => {
    expect(prebuildFor(machine)).toBeUndefined();
    const { binding, error } = loadBinding(machine);
    expect(binding).toBeUndefined();
    expect(error?.message).toBe(`no prebuilt native helper for ${describeMachine(machine)}`);
  });

  it('names the machine and the file when the file of a shipped target does not load here', () => {
    // On this x86_64 machine the arm64 file is either not built (only `build:prebuilds` makes it) or of the wrong architecture.
    const machine: Machine = { platform: 'linux', arch: process.arch === 'arm64' ? 'x64' : 'arm64', libc: 'glibc' };
    const file = path.join(packageDir, prebuildFor(machine)!);
    const { binding, error } = loadBinding(machine);
    expect(binding).toBeUndefined();
    const expected = existsSync(file)
      ? `the native helper for ${describeMachine(machine)} did not load: ${file}: `
      : `the native helper for ${describeMachine(machine)} is missing: ${file}`;
    expect(error?.message.startsWith(expected)).toBe(true);
  });
});

describe('the libc of this process', () => {
  it.runIf(process.platform === 'linux')('is musl where the musl loader is mapped, glibc where glibc is', () => {
    const musl = '7f0000000000-7f0000001000 r-xp 00000000 08:01 1234  /lib/ld-musl-x86_64.so.1\n';
    const glibc = '7f0000000000-7f0000001000 r-xp 00000000 08:01 1234  /usr/lib/x86_64-linux-gnu/libc.so.6\n';
    const oldGlibc = '7f0000000000-7f0000001000 r-xp 00000000 08:01 1234  /lib64/libc-2.17.so\n';
    expect(runningLibc(musl)).toBe('musl');
    expect(runningLibc(glibc)).toBe('glibc');
    expect(runningLibc(oldGlibc)).toBe('glibc');
  });

  it.runIf(process.platform === 'linux')("agrees with Node's own diagnostic report, from /proc and without it", () => {
    const header = (process.report.getReport() as { header: { glibcVersionRuntime?: string } }).header;
    const reported = header.glibcVersionRuntime ? 'glibc' : 'musl';
    expect(runningLibc()).toBe(reported);
    expect(runningLibc('')).toBe(reported);
  });
});

describe.runIf(process.platform === 'linux' && prebuildFor(thisMachine) !== undefined)("this machine's helper", () => {
  it('is the prebuilt file for its platform, arch and libc, and loads', () => {
    const { binding, error } = loadBinding(thisMachine);
    expect(error).toBeUndefined();
    expect(typeof binding?.sockaddr).toBe('function');
    const loaded = Object.keys(createRequire(import.meta.url).cache).filter((file) => file.endsWith('.node'));
    expect(loaded).toEqual([path.join(packageDir, prebuildFor(thisMachine)!)]);
  });

  it('missing, the portable backend runs and the reason names the machine and the file', () => {
    // A copy of the package as installed, without its prebuilds.
    const copy = mkdtempSync(path.join(tmpdir(), 'udpkit-noprebuild-'));
    dirs.push(copy);
    cpSync(path.join(packageDir, 'dist'), path.join(copy, 'dist'), { recursive: true });
    cpSync(path.join(packageDir, 'package.json'), path.join(copy, 'package.json'));
    const script = `
      const core = await import(${JSON.stringify(path.join(copy, 'dist/index.js'))});
      const socket = core.createSocket('udp4');
      let refused;
      try { core.createSocket({ type: 'udp4', backend: 'native' }); } catch (error) { refused = error.code + ': ' + error.message; }
      console.log(JSON.stringify({ backend: socket.backend, defaultBackend: core.defaultBackend(), reason: core.nativeLoadError?.message, refused }));`;
    const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      env: { ...process.env, UDPKIT_BACKEND: '' },
    });
    const reason = `the native helper for ${describeMachine(thisMachine)} is missing: ${path.join(copy, prebuildFor(thisMachine)!)}`;
    expect(JSON.parse(output)).toEqual({
      backend: 'portable',
      defaultBackend: 'portable',
      reason,
      refused: `ERR_UDPKIT_NATIVE_UNAVAILABLE: The native backend could not be loaded: ${reason}`,
    });
  });
});
