// The build's linkage check (scripts/check-linkage.mjs), on real shared
// objects compiled here: the glibc baseline catches a symbol only newer
// glibc has (fcntl64, which _FILE_OFFSET_BITS=64 brings in), and a musl
// build may need nothing from glibc.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs build script without types
import { linkageProblem } from '../scripts/check-linkage.mjs';
import { prebuildFor, runningLibc } from '../src/prebuilds.js';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const libc = runningLibc();
const work = mkdtempSync(path.join(tmpdir(), 'udpkit-linkage-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A shared object that calls fcntl, built by the machine's cc with `flags`. */
function sharedObject(name: string, flags: string[]): string {
  const source = path.join(work, `${name}.c`);
  writeFileSync(source, '#include <fcntl.h>\nint nonblocking(int fd) { return fcntl(fd, F_SETFL, O_NONBLOCK); }\n');
  const output = path.join(work, `${name}.so`);
  execFileSync('cc', ['-shared', '-fPIC', '-O2', ...flags, source, '-o', output]);
  return output;
}

describe.runIf(process.platform === 'linux' && libc === 'glibc')('the glibc baseline', () => {
  it("passes this machine's helper", () => {
    expect(linkageProblem('glibc', path.join(packageDir, prebuildFor({ platform: 'linux', arch: process.arch, libc })!))).toBeUndefined();
  });

  it('passes fcntl as 64-bit code gets it by default, and refuses the fcntl64 that _FILE_OFFSET_BITS=64 links', () => {
    expect(linkageProblem('glibc', sharedObject('plain', []))).toBeUndefined();
    expect(linkageProblem('glibc', sharedObject('offset64', ['-D_FILE_OFFSET_BITS=64']))).toBe(
      'needs GLIBC_2.28, newer than the 2.17 baseline',
    );
  });

  it('refuses a glibc build where musl is meant', () => {
    expect(linkageProblem('musl', sharedObject('glibc', []))).toMatch(/^a musl build needs glibc symbols \(GLIBC_/);
  });
});

const muslSpecs = `/usr/lib/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-musl/musl-gcc.specs`;
describe.runIf(process.platform === 'linux' && existsSync(muslSpecs))('a musl build', () => {
  it('needs only libc.so, no glibc symbol', () => {
    expect(linkageProblem('musl', sharedObject('musl', ['-specs', muslSpecs]))).toBeUndefined();
  });
});
