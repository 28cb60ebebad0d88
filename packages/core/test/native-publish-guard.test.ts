// The publish guard (scripts/check-prebuilds.mjs, the package's `prepack`)
// refuses to pack @udpkit/core unless every prebuilt helper is there and
// was built from the C sources as they are. Run against a copy of the
// package: this machine's real build, and for the targets it does not
// build itself, files that carry a digest as a build embeds it.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs build script without types
import { digestMarker, embeddedDigest, prebuildFile, sourceDigest, targets } from '../scripts/native-targets.mjs';
import { prebuildFor, runningLibc, type Machine } from '../src/prebuilds.js';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const guard = path.join(packageDir, 'scripts/check-prebuilds.mjs');
const hostFile = prebuildFor({ platform: process.platform, arch: process.arch, libc: runningLibc() });
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A package directory with the real C sources and every prebuilt file, the host's the real build. */
function packageCopy(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'udpkit-guard-'));
  dirs.push(dir);
  cpSync(path.join(packageDir, 'native/udpkit.c'), path.join(dir, 'native/udpkit.c'));
  const digest = sourceDigest(dir) as string;
  for (const target of targets as Machine[]) {
    const file = path.join(dir, prebuildFile(target));
    mkdirSync(path.dirname(file), { recursive: true });
    if (hostFile !== undefined && prebuildFile(target) === hostFile) cpSync(path.join(packageDir, hostFile), file);
    else writeFileSync(file, `\x7fELF...${digestMarker}${digest}...`);
  }
  return dir;
}

function runGuard(dir: string) {
  const run = spawnSync(process.execPath, [guard, dir], { encoding: 'utf8' });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('the publish guard', () => {
  it("lets the package be packed with all four, this machine's real build among them", () => {
    const dir = packageCopy();
    expect(hostFile).toBeDefined();
    expect(embeddedDigest(path.join(dir, hostFile!))).toBe(sourceDigest(dir));
    const result = runGuard(dir);
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/^prebuilt native helpers: all 4 present and built from the current sources/);
    expect(result.status).toBe(0);
  });

  it('refuses with one missing, naming it and the command that builds them', () => {
    const dir = packageCopy();
    rmSync(path.join(dir, 'prebuilds/linux-arm64/udpkit.musl.node'));
    const result = runGuard(dir);
    expect(result.status).toBe(1);
    expect(result.stderr.split('\n').filter((line) => line.startsWith('  - '))).toEqual([
      '  - missing prebuilds/linux-arm64/udpkit.musl.node (linux-arm64-musl)',
    ]);
    expect(result.stderr).toContain('pnpm --filter @udpkit/core build:prebuilds');
  });

  it('refuses with every one missing', () => {
    const dir = packageCopy();
    rmSync(path.join(dir, 'prebuilds'), { recursive: true });
    const result = runGuard(dir);
    expect(result.status).toBe(1);
    expect(result.stderr.match(/^ {2}- missing /gm)).toHaveLength(4);
  });

  it('refuses when the C source changed after the build: every binary is stale', () => {
    const dir = packageCopy();
    const before = sourceDigest(dir) as string;
    appendFileSync(path.join(dir, 'native/udpkit.c'), '\n/* changed */\n');
    const result = runGuard(dir);
    expect(result.status).toBe(1);
    const stale = result.stderr.split('\n').filter((line) => line.startsWith('  - stale '));
    expect(stale).toHaveLength(4);
    expect(stale[0]).toContain(`built from sources ${before.slice(0, 12)}, the sources now are ${(sourceDigest(dir) as string).slice(0, 12)}`);
  });

  it('refuses a binary that carries no digest (built some other way)', () => {
    const dir = packageCopy();
    writeFileSync(path.join(dir, 'prebuilds/linux-x64/udpkit.musl.node'), '\x7fELF without a digest');
    const result = runGuard(dir);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('  - stale prebuilds/linux-x64/udpkit.musl.node (linux-x64-musl): built from sources unknown');
  });
});
