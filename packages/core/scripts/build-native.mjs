// Builds the native helper with node-gyp and places it where the loader looks
// for it in the published package: prebuilds/<platform>-<arch>/udpkit.node.
// Only on Linux: elsewhere the portable backend runs.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, renameSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

if (process.platform !== 'linux') {
  console.log(`native helper: not built on ${process.platform}; the portable backend will run`);
  process.exit(0);
}

// Build against the running Node's own headers when it has them: no download.
const prefix = dirname(dirname(process.execPath));
const nodedir = process.env.npm_config_nodedir ?? (existsSync(join(prefix, 'include/node/node_api.h')) ? prefix : undefined);

const nodeGyp = createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js');
const args = [nodeGyp, 'rebuild', '--directory', 'native', ...(nodedir ? [`--nodedir=${nodedir}`] : [])];
const build = spawnSync(process.execPath, args, { stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);

const target = `prebuilds/${process.platform}-${process.arch}`;
mkdirSync(target, { recursive: true });
// A process may have the old addon mapped: overwriting it in place would
// change its code under it (SIGSEGV). A copy renamed over it replaces the
// directory entry instead; the old file lives on until it is unmapped.
const temporary = `${target}/udpkit.node.${process.pid}.tmp`;
copyFileSync('native/build/Release/udpkit.node', temporary);
renameSync(temporary, `${target}/udpkit.node`);
console.log(`native helper: ${target}/udpkit.node`);
