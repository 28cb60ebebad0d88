// Builds the native helper with node-gyp and places it where the loader looks
// for it in the published package: prebuilds/<platform>-<arch>/udpkit.node.
// Only on Linux: elsewhere the portable backend runs.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { installAddon } from './install-addon.mjs';

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

const target = `prebuilds/${process.platform}-${process.arch}/udpkit.node`;
installAddon('native/build/Release/udpkit.node', target);
console.log(`native helper: ${target}`);
