// The prebuilt helpers the package ships, where each one lives, and the
// digest of the C sources a build embeds, so that a stale binary is caught
// before it is packed. The loader (src/prebuilds.ts) finds the same files by
// the same names: node-gyp-build's `prebuilds/<platform>-<arch>/<name>.<libc>.node`.
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Every target the published package carries a binary for, with the GNU triple its compiler is named by. */
export const targets = [
  { platform: 'linux', arch: 'x64', libc: 'glibc', triple: 'x86_64-linux-gnu' },
  { platform: 'linux', arch: 'x64', libc: 'musl', triple: 'x86_64-linux-gnu' },
  { platform: 'linux', arch: 'arm64', libc: 'glibc', triple: 'aarch64-linux-gnu' },
  { platform: 'linux', arch: 'arm64', libc: 'musl', triple: 'aarch64-linux-gnu' },
];

/** `linux-arm64-musl`: how scripts and messages name a target. */
export function targetName(target) {
  return `${target.platform}-${target.arch}-${target.libc}`;
}

/** The binary's path inside the package. */
export function prebuildFile(target) {
  return `prebuilds/${target.platform}-${target.arch}/udpkit.${target.libc}.node`;
}

/**
 * The compiler's flags, part of the digest: the same sources built
 * differently are a different binary. No _FILE_OFFSET_BITS=64: on 64-bit
 * targets it changes nothing but makes glibc link fcntl as fcntl64, which
 * only glibc 2.28 and later have.
 */
export const compileFlags = [
  '-std=gnu11', '-O2', '-fPIC', '-fvisibility=hidden',
  '-Wall', '-Wextra', '-Wno-unused-parameter',
  '-DNAPI_VERSION=8', '-DBUILDING_NODE_EXTENSION',
];
export const linkFlags = ['-shared', '-Wl,-soname,udpkit.node', '-Wl,--build-id=sha1', '-Wl,--strip-debug', '-Wl,-z,relro,-z,now', '-Wl,-z,noexecstack'];

/** The newest glibc symbol version a glibc build may need: older distributions load it. */
export const glibcBaseline = '2.17';

/** The text a build embeds before its digest; the digest follows as 64 hex digits. */
export const digestMarker = 'udpkit-source-sha256:';

/** sha256 over the helper's C sources (native/*.c, native/*.h, by name) and the flags. */
export function sourceDigest(packageDir) {
  const hash = createHash('sha256');
  hash.update([...compileFlags, ...linkFlags].join(' '));
  const native = join(packageDir, 'native');
  for (const name of readdirSync(native).filter((file) => /\.[ch]$/.test(file)).sort()) {
    hash.update(`\0${name}\0`);
    hash.update(readFileSync(join(native, name)));
  }
  return hash.digest('hex');
}

/** The digest a built binary carries, or undefined when it carries none. */
export function embeddedDigest(binaryPath) {
  const bytes = readFileSync(binaryPath);
  const at = bytes.indexOf(digestMarker);
  if (at === -1) return undefined;
  const start = at + digestMarker.length;
  return bytes.toString('latin1', start, start + 64);
}
