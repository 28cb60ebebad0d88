// The packaging check: every package as a user meets it on npm.
//
//   node scripts/pack-check.mjs [22 24 26]
//
// Builds (`pnpm build`: the prebuilt native helpers must exist before
// `pnpm pack`), packs each public package with `pnpm pack` (which rewrites
// `workspace:` ranges to versions), and installs each tarball in a fresh
// project outside the workspace with npm, install scripts disabled: the
// tarballs of the workspace packages it depends on alongside it, anything
// else (rxjs, @types/node) from the registry. There it checks, one line per
// package per check:
//   - pack: the tarball has its README, LICENSE and package.json, and no
//     tests, benchmarks or build leftovers;
//   - install: npm took the workspace dependencies from their tarballs;
//   - import / require: an exercise of the package on real sockets
//     (scripts/pack-check/*.exercise.mjs), loaded with `import` and with
//     `require()`, on this machine's Node and on each Node line given
//     (installed by scripts/install-node.mjs); @udpkit/multicast's joins a
//     group in a network namespace of its own when run as root;
//   - types: a strict TypeScript consumer (scripts/pack-check/*.consumer.*)
//     type-checks with moduleResolution node16 (declaration files included:
//     skipLibCheck off) and bundler;
//   - @udpkit/core: the native backend from the helper in the tarball, and
//     the portable backend, with its reason, once that helper is removed;
//   - publint and attw on the tarball (attw's profile: each package's
//     .attw.json), before the install (nothing else runs them).
// Prints a total; exits 1 if any check failed.
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { installNode } from './install-node.mjs';

const root = resolve(import.meta.dirname, '..');
const fixtures = join(import.meta.dirname, 'pack-check');
const requireFromRoot = createRequire(join(root, 'package.json'));
const tsc = requireFromRoot.resolve('typescript/bin/tsc');
const publint = join(root, 'node_modules/.bin/publint');
const attw = join(root, 'node_modules/.bin/attw');
const rootManifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

const started = Date.now();
const work = mkdtempSync(join(tmpdir(), 'udpkit-pack-check-'));
let passed = 0;
let failed = 0;

/** The environment of a user's shell: nothing pnpm or CI set for the workspace. */
const consumerEnv = Object.fromEntries(
  Object.entries(process.env).filter(([key]) => !/^(npm_|pnpm_|UDPKIT_)/i.test(key) && key !== 'NODE_OPTIONS'),
);

/** Runs a command (killed after `timeout`, default 5 min); resolves with its output, or rejects with the start of it. */
function run(command, args, options = {}) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, {
      timeout: 300_000,
      ...options,
      env: options.env ?? consumerEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) return resolvePromise(stdout);
      // Errors come first: Node's and npm's on stderr, tsc's, publint's and attw's on stdout.
      const output = `${stderr}\n${stdout}`.trim().split('\n').slice(0, 12).join('\n    ');
      reject(new Error(`${basename(command)} ${args.join(' ')} exited with ${signal ?? code}\n    ${output}`));
    });
  });
}

/** Runs one named check of a package: prints `ok` with its detail, or FAILED with why. */
async function check(pkg, name, body) {
  const start = Date.now();
  const took = () => `[${((Date.now() - start) / 1000).toFixed(1)} s]`;
  try {
    const detail = await body();
    passed++;
    pkg.lines.push(`${pkg.name} ${name}: ok ${took()}${detail ? ` ${detail}` : ''}`);
  } catch (error) {
    failed++;
    pkg.lines.push(`${pkg.name} ${name}: FAILED ${took()}: ${error.message}`);
  }
}

/**
 * A network namespace of the run's own (needs root), where @udpkit/multicast's
 * exercise joins a group on loopback: nothing it sends leaves it. A sysfs of
 * its own, for the interface flags the package reads.
 */
const inNamespace = [
  'unshare', '-n', '-m', 'sh', '-c',
  'mount -t sysfs sysfs /sys && ip link set lo up && ip link set lo multicast on && ip route add 224.0.0.0/4 dev lo && exec "$0" "$@"',
];
const namespaced = new Set(process.getuid?.() === 0 ? ['@udpkit/multicast'] : []);

/** The last line of a run's output, parsed: what an exercise returned. */
async function exercise(pkg, node, runner) {
  const command = [node.path, runner, pkg.name, `./${pkg.key}.exercise.mjs`];
  if (namespaced.has(pkg.name)) command.unshift(...inNamespace);
  // An exercise that does not exit (a handle left open) fails instead of hanging.
  const output = await run(command[0], command.slice(1), { cwd: pkg.project, timeout: 60_000 });
  return JSON.parse(output.trim().split('\n').at(-1));
}

/** The exercise, loaded by `runner`, on every Node: its results, or an error naming each Node it failed on. */
async function onEveryNode(pkg, nodes, runner) {
  const failures = [];
  const results = [];
  for (const node of nodes) {
    try {
      results.push({ node, result: await exercise(pkg, node, runner) });
    } catch (error) {
      failures.push(`on node ${node.version}: ${error.message}`);
    }
  }
  if (failures.length > 0) throw new Error(failures.join('\n  '));
  return results;
}

function publicPackages() {
  return readdirSync(join(root, 'packages'))
    .map((key) => ({ key, dir: join(root, 'packages', key) }))
    .map((pkg) => ({ ...pkg, manifest: JSON.parse(readFileSync(join(pkg.dir, 'package.json'), 'utf8')) }))
    .filter(({ manifest }) => !manifest.private)
    .map((pkg) => ({ ...pkg, name: pkg.manifest.name, lines: [] }));
}

/** A project of its own for `pkg`: the tarballs of it and of its workspace dependencies, the rest from the registry. */
function writeProject(pkg, tarballs) {
  pkg.project = join(work, pkg.key);
  mkdirSync(pkg.project);
  const dependencies = { [pkg.name]: `file:${tarballs.get(pkg.name)}` };
  for (const [name, range] of Object.entries({ ...pkg.manifest.dependencies, ...pkg.manifest.peerDependencies })) {
    dependencies[name] = tarballs.has(name) ? `file:${tarballs.get(name)}` : range;
  }
  const manifest = {
    name: `pack-check-${pkg.key}`,
    private: true,
    type: 'module',
    dependencies,
    devDependencies: { '@types/node': rootManifest.devDependencies['@types/node'] },
  };
  writeFileSync(join(pkg.project, 'package.json'), JSON.stringify(manifest, null, 2));
  for (const file of ['run.mjs', 'run.cjs', 'within.mjs', `${pkg.key}.exercise.mjs`]) {
    copyFileSync(join(fixtures, file), join(pkg.project, file));
  }
  for (const file of readdirSync(fixtures).filter((name) => name.startsWith(`${pkg.key}.consumer.`))) {
    copyFileSync(join(fixtures, file), join(pkg.project, file));
  }
  const compilerOptions = { target: 'ES2022', lib: ['ES2022'], strict: true, noEmit: true, types: ['node'] };
  // node16 also checks every declaration file installed, the published ones
  // as a strict user's compiler reads them; bundler skips that, as the
  // config `tsc --init` writes does (it is most of the time taken).
  const configs = {
    node16: { ...compilerOptions, module: 'node16', moduleResolution: 'node16', skipLibCheck: false },
    bundler: { ...compilerOptions, module: 'preserve', moduleResolution: 'bundler', skipLibCheck: true },
  };
  for (const [name, options] of Object.entries(configs)) {
    const config = { compilerOptions: options, include: [`${pkg.key}.consumer.*`] };
    writeFileSync(join(pkg.project, `tsconfig.${name}.json`), JSON.stringify(config, null, 2));
  }
}

async function checkPackage(pkg, tarballs, nodes) {
  // The tarball alone: these run even when the install fails (CI's only run of them).
  await check(pkg, 'publint', async () => {
    await run(publint, ['run', tarballs.get(pkg.name), '--strict'], { cwd: pkg.dir });
  });
  await check(pkg, 'attw', async () => {
    await run(attw, [tarballs.get(pkg.name), '--no-color', '--no-emoji', '--format', 'ascii'], { cwd: pkg.dir });
  });
  const installed = join(pkg.project, 'node_modules', pkg.name);
  await check(pkg, 'install', async () => {
    await run('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline', '--no-package-lock', '--loglevel=error'], {
      cwd: pkg.project,
    });
    // A workspace range the tarball does not satisfy would make npm nest another copy from the registry.
    const nested = join(installed, 'node_modules', '@udpkit');
    if (existsSync(nested)) throw new Error(`a second copy of ${readdirSync(nested).join(', ')} under ${pkg.name}`);
  });
  if (!existsSync(installed)) return;

  const versions = () => nodes.map((node) => node.version).join(', ');
  let imported = [];
  await check(pkg, 'import', async () => {
    imported = await onEveryNode(pkg, nodes, './run.mjs');
    return `node ${versions()}: ${JSON.stringify(imported[0].result)}`;
  });
  await check(pkg, 'require', async () => {
    await onEveryNode(pkg, nodes, './run.cjs');
    return `node ${versions()}`;
  });
  for (const resolution of ['node16', 'bundler']) {
    await check(pkg, `types (${resolution})`, async () => {
      await run(process.execPath, [tsc, '-p', `tsconfig.${resolution}.json`], { cwd: pkg.project });
    });
  }
  if (pkg.name === '@udpkit/core') await checkBackends(pkg, installed, imported, nodes[0]);
}

/** The native backend from the helper in the tarball on every Node; without it, the portable one, saying why. */
async function checkBackends(pkg, installed, imported, machineNode) {
  const prebuilds = join(installed, 'prebuilds');
  await check(pkg, 'native backend', async () => {
    if (imported.length === 0) throw new Error('the import check did not run');
    for (const { node, result } of imported) {
      const fromTarball = result.helpers.filter((path) => path.startsWith(`${prebuilds}/`));
      if (result.backend !== 'native' || fromTarball.length !== 1) {
        throw new Error(`on node ${node.version}: backend ${result.backend} (${result.reason}), helpers loaded: ${result.helpers.join(', ') || 'none'}`);
      }
    }
    return imported[0].result.helpers[0].slice(installed.length + 1);
  });
  await check(pkg, 'portable backend without the helper', async () => {
    rmSync(prebuilds, { recursive: true, force: true });
    const result = await exercise(pkg, machineNode, './run.mjs');
    if (result.backend !== 'portable' || !result.reason) throw new Error(`backend ${result.backend}, reason ${result.reason}`);
    return `reason: ${result.reason}`;
  });
}

/** Runs `task` over `items`, `width` at a time. */
async function pool(items, width, task) {
  const queue = [...items];
  await Promise.all(Array.from({ length: width }, async () => {
    while (queue.length > 0) await task(queue.shift());
  }));
}

const packages = publicPackages();
const setup = { name: 'pack-check', lines: [] };
const nodes = [{ version: process.version, path: process.execPath }];
const tarballs = new Map();

// What `pnpm pack` packs: each package's dist, and core's prebuilt helpers
// (its prepack refuses to pack without every platform's; CI builds them first).
await check(setup, 'build', () => run('pnpm', ['build'], { cwd: root, env: process.env }).then(() => ''));
for (const line of process.argv.slice(2)) {
  await check(setup, `node ${line}`, async () => {
    const path = installNode(line);
    const version = (await run(path, ['--version'])).trim();
    nodes.push({ version, path });
    return version;
  });
}
setup.lines.forEach((line) => console.log(line));

const tarballDir = join(work, 'tarballs');
mkdirSync(tarballDir);
for (const pkg of packages) {
  await check(pkg, 'pack', async () => {
    const output = await run('pnpm', ['pack', '--pack-destination', tarballDir], { cwd: pkg.dir, env: process.env });
    const tarball = output.trim().split('\n').at(-1);
    if (!tarball.endsWith('.tgz') || !existsSync(tarball)) throw new Error(`no tarball in pnpm's output: ${tarball}`);
    const files = (await run('tar', ['tzf', tarball])).trim().split('\n');
    const missing = ['package/package.json', 'package/README.md', 'package/LICENSE'].filter((file) => !files.includes(file));
    const stray = files.filter((file) => /\/(test|tests|bench|node_modules)\/|\.test\.|\.tsbuildinfo$|\.tgz$/.test(file));
    if (missing.length > 0 || stray.length > 0) {
      const shown = stray.slice(0, 3).join(', ') + (stray.length > 3 ? ` and ${stray.length - 3} more` : '');
      throw new Error(`missing: ${missing.join(', ') || 'none'}; should not ship: ${shown || 'none'}`);
    }
    tarballs.set(pkg.name, tarball);
    return `${basename(tarball)}, ${files.length} files, ${Math.round(statSync(tarball).size / 1024)} KiB`;
  });
}
// A package whose workspace dependency did not pack is not installed: npm would take that one from the registry.
const unpacked = (pkg) => Object.entries(pkg.manifest.dependencies ?? {})
  .filter(([name, range]) => range.startsWith('workspace:') && !tarballs.has(name))
  .map(([name]) => name);
for (const pkg of packages.filter((pkg) => tarballs.has(pkg.name) && unpacked(pkg).length > 0)) {
  await check(pkg, 'install', () => Promise.reject(new Error(`not installed: ${unpacked(pkg).join(', ')} did not pack`)));
}
const packed = packages.filter((pkg) => tarballs.has(pkg.name) && unpacked(pkg).length === 0);
for (const pkg of packed) writeProject(pkg, tarballs);

// Two at a time: npm and tsc each keep a core busy.
await pool(packed, 2, async (pkg) => {
  await checkPackage(pkg, tarballs, nodes);
  pkg.lines.forEach((line) => console.log(line));
});
for (const pkg of packages.filter((pkg) => !packed.includes(pkg))) pkg.lines.forEach((line) => console.log(line));

const seconds = Math.round((Date.now() - started) / 1000);
if (failed === 0) rmSync(work, { recursive: true, force: true });
else console.log(`pack-check: the projects are kept in ${work}`);
console.log(`pack check: ${passed} passed, ${failed} failed (${seconds} s)`);
process.exit(failed === 0 ? 0 : 1);
