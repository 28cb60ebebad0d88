// The version matrix: runs every package's tests again on each Node line
// given (installed by scripts/install-node.mjs), against the build the
// machine's Node made, and prints one line per version and one total.
//
//   node scripts/test-matrix.mjs [--failed-check NAME]... 22 24 26
//
// The machine's own run (the README's `pnpm test`, which wrote
// test-summary.json) is counted first. Nothing is rebuilt: every version
// loads the same prebuilt native helper, and this script proves it by the
// helper's digest and by the shared objects each Node process mapped.
// A version that cannot be installed is named and counts as one failure;
// so does each `--failed-check` (e.g. typecheck) that CI ran before.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { delimiter, dirname, resolve } from 'node:path';
import { prebuildFile } from '../packages/core/scripts/native-targets.mjs';
import { installNode } from './install-node.mjs';

const root = resolve(import.meta.dirname, '..');
const libc = process.report.getReport().header.glibcVersionRuntime ? 'glibc' : 'musl';
const addon = resolve(root, 'packages/core', prebuildFile({ platform: process.platform, arch: process.arch, libc }));
const summaryFile = resolve(root, 'test-summary.json');

const lines = [];
const failedChecks = [];
for (let args = process.argv.slice(2); args.length > 0; ) {
  const arg = args.shift();
  if (arg === '--failed-check') failedChecks.push(args.shift());
  else lines.push(arg);
}

const rows = [];
const total = { passed: 0, failed: failedChecks.length, skipped: 0 };
const add = (label, summary) => {
  // A run that failed with every test passing (a build or a runner that broke) still fails.
  const failed = summary.failed || (summary.ok ? 0 : 1);
  rows.push(`${label}: ${summary.passed} passed, ${failed} failed, ${summary.skipped} skipped`);
  total.passed += summary.passed;
  total.failed += failed;
  total.skipped += summary.skipped;
};
const takeSummary = () => {
  if (!existsSync(summaryFile)) return undefined;
  const summary = JSON.parse(readFileSync(summaryFile, 'utf8'));
  rmSync(summaryFile);
  return summary;
};

const machine = takeSummary();
if (machine) add(`node ${machine.node} (this machine)`, machine);
else rows.push(`node ${process.version} (this machine): NO RESULTS (the README's test command did not finish)`), total.failed++;

const digest = () => (existsSync(addon) ? createHash('sha256').update(readFileSync(addon)).digest('hex') : 'missing');
const builtDigest = digest();

/** Loads @udpkit/core on `node`, opens a native socket, and lists the udpkit.node it mapped. */
function loadedAddon(node) {
  const probe = `
    const core = await import(${JSON.stringify(resolve(root, 'packages/core/dist/index.js'))});
    if (core.nativeLoadError) throw core.nativeLoadError;
    const socket = core.createSocket({ type: 'udp4', backend: 'native' });
    const mapped = process.report.getReport().sharedObjects.filter((path) => path.endsWith('.node'));
    socket.close();
    console.log(JSON.stringify({ napi: process.versions.napi, mapped }));`;
  const run = spawnSync(node, ['--input-type=module', '-e', probe], { encoding: 'utf8' });
  if (run.status !== 0) return { error: run.stderr.trim().split('\n').slice(0, 3).join(' ') };
  return JSON.parse(run.stdout);
}

for (const line of lines) {
  let node;
  try {
    node = installNode(line);
  } catch (error) {
    rows.push(`node ${line}: NOT INSTALLED: ${error.message}`);
    total.failed++;
    continue;
  }
  const version = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();
  console.log(`\n=== node ${version}: every package's tests (no rebuild) ===`);
  const loaded = loadedAddon(node);
  const path = `${dirname(node)}${delimiter}${process.env.PATH}`;
  const started = Date.now();
  spawnSync(node, ['scripts/test.mjs', '--only'], {
    cwd: root,
    stdio: 'inherit',
    // pnpm, turbo and vitest find `node` on PATH; the test processes are its children.
    env: { ...process.env, PATH: path },
  });
  const seconds = Math.round((Date.now() - started) / 1000);
  const summary = takeSummary();
  if (!summary || summary.node !== version) {
    rows.push(`node ${version}: NO RESULTS (the test run did not finish on this version)`);
    total.failed++;
    continue;
  }
  add(`node ${version} (${seconds} s)`, summary);
  if (loaded.error || loaded.mapped.length !== 1 || loaded.mapped[0] !== addon) {
    rows.push(`node ${version}: did not load ${addon}: ${loaded.error ?? JSON.stringify(loaded.mapped)}`);
    total.failed++;
  } else {
    rows.push(`node ${version}: N-API ${loaded.napi}, loaded the one prebuilt helper, sha256 ${builtDigest.slice(0, 16)}`);
  }
}

if (digest() !== builtDigest) {
  rows.push(`the native helper changed during the matrix (${builtDigest.slice(0, 16)} → ${digest().slice(0, 16)})`);
  total.failed++;
}
for (const check of failedChecks) rows.push(`${check}: FAILED`);
const ciStarted = Number(process.env.UDPKIT_CI_STARTED);
if (ciStarted) rows.push(`CI wall time: ${Math.round(Date.now() / 1000 - ciStarted)} s`);

console.log('\n=== test matrix ===');
for (const row of rows) console.log(row);
console.log(`${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
process.exit(total.failed === 0 && total.passed > 0 ? 0 : 1);
