// Builds the native helper from the C sources as they are now and places it
// where the loader looks for it: prebuilds/<platform>-<arch>/udpkit.<libc>.node.
//
//   node scripts/build-native.mjs         the machine's own target (what `pnpm build` runs)
//   node scripts/build-native.mjs --all   every target the package ships (the
//                                         cross compilers: scripts/install-toolchains.sh)
//
// The C compiler is called directly, with the running Node's headers (Node-API
// and libuv; their symbols resolve from the node binary at load time). Each
// binary embeds the digest of its sources, and is checked after linking: a
// glibc build needs no symbol newer than the baseline, a musl build no glibc
// at all. Only on Linux: elsewhere the portable backend runs.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { installAddon } from './install-addon.mjs';
import { linkageProblem } from './check-linkage.mjs';
import { compileFlags, digestMarker, linkFlags, prebuildFile, sourceDigest, targetName, targets } from './native-targets.mjs';

const packageDir = resolve(import.meta.dirname, '..');

if (process.platform !== 'linux') {
  console.log(`native helper: not built on ${process.platform}; the portable backend will run`);
  process.exit(0);
}

const all = process.argv.includes('--all');
const headers = nodeHeaders();
const digest = sourceDigest(packageDir);
const sources = readdirSync(join(packageDir, 'native'))
  .filter((name) => name.endsWith('.c'))
  .sort()
  .map((name) => join(packageDir, 'native', name));
// The libc of the Node running the build (a build may be slow; the loader's check is cheaper).
const hostLibc = process.report.getReport().header.glibcVersionRuntime ? 'glibc' : 'musl';
const isHost = (target) => target.arch === process.arch && target.libc === hostLibc;
const chosen = all ? targets : targets.filter(isHost);
if (chosen.length === 0) {
  console.log(`native helper: no target for linux-${process.arch}-${hostLibc}; the portable backend will run`);
  process.exit(0);
}

for (const target of chosen) {
  const output = build(target);
  installAddon(output, join(packageDir, prebuildFile(target)));
  // The helper's own tests and memcheck load the machine's build from here.
  if (isHost(target)) installAddon(output, join(packageDir, 'native/build/Release/udpkit.node'));
  console.log(`native helper: ${prebuildFile(target)}`);
}

/** Compiles and links one target into native/build/<target>/udpkit.node; exits on any failure. */
function build(target) {
  const dir = join(packageDir, 'native/build', targetName(target));
  mkdirSync(dir, { recursive: true });
  const digestSource = join(dir, 'source-digest.c');
  writeFileSync(digestSource, `__attribute__((used)) static const char digest[] = "${digestMarker}${digest}";\n`);
  const output = join(dir, 'udpkit.node');
  const [compiler, ...compilerArgs] = compilerFor(target);
  run(compiler, [
    ...compilerArgs,
    ...compileFlags,
    '-I',
    headers,
    ...sources,
    digestSource,
    ...linkFlags,
    '-o',
    output,
  ]);
  const problem = linkageProblem(target.libc, output);
  if (problem) fail(`${targetName(target)}: ${problem}`);
  return output;
}

/**
 * The machine's own target: its C compiler, whatever the distribution names
 * it. Another target: Debian's cross gcc for its GNU triple; musl through the
 * specs file of Debian's musl-dev for that architecture.
 */
function compilerFor(target) {
  if (isHost(target)) return ['cc'];
  const gcc = `${target.triple}-gcc`;
  if (target.libc === 'glibc') {
    // Without them Debian's cross gcc falls back on the host's /usr/include, silently.
    const crossHeaders = `/usr/${target.triple}/include/gnu/stubs.h`;
    if (target.arch !== process.arch && !existsSync(crossHeaders)) fail(`${targetName(target)}: no ${crossHeaders}; run scripts/install-toolchains.sh as root`);
    return [gcc];
  }
  const specs = `/usr/lib/${target.triple.replace('-gnu', '-musl')}/musl-gcc.specs`;
  if (!existsSync(specs)) fail(`${targetName(target)}: no ${specs} (musl-dev for ${target.arch}); run scripts/install-toolchains.sh as root`);
  return [gcc, '-specs', specs];
}

/** The running Node's include directory (node_api.h, uv.h): Node-API 8 and libuv 1.x are stable across lines. */
function nodeHeaders() {
  const dir = process.env.npm_config_nodedir
    ? join(process.env.npm_config_nodedir, 'include/node')
    : join(dirname(dirname(process.execPath)), 'include/node');
  if (!existsSync(join(dir, 'node_api.h')) || !existsSync(join(dir, 'uv.h'))) {
    unavailable(`no Node headers (node_api.h, uv.h) in ${dir}; set npm_config_nodedir to a Node installation that has include/node`);
  }
  return dir;
}

function run(command, args) {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (result.error?.code === 'ENOENT') unavailable(`${command} is not installed (scripts/install-toolchains.sh installs the compilers)`);
  if (result.error) fail(`${command}: ${result.error.message}`);
  if (result.status !== 0) fail(`${command} ${args.join(' ')}\n${result.stderr}`);
  if (result.stderr) process.stderr.write(result.stderr);
  return result.stdout;
}

/**
 * A tool the build needs is missing. Building the machine's own target (what
 * `pnpm build` does) then leaves the package to its portable backend, as an
 * install from npm on an unsupported machine does; packing needs all targets.
 */
function unavailable(message) {
  if (all) fail(message);
  console.warn(`native helper: ${message}; not built, the portable backend will run`);
  process.exit(0);
}

function fail(message) {
  console.error(`native helper: ${message}`);
  process.exit(1);
}
