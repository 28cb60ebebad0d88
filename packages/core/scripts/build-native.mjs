// Builds the native helper with node-gyp and places it where the loader looks
// for it in the published package: prebuilds/<platform>-<arch>/udpkit.node.
// Only on Linux: elsewhere the portable backend runs.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';

if (process.platform !== 'linux') {
  console.log(`native helper: not built on ${process.platform}; the portable backend will run`);
  process.exit(0);
}

const nodeGyp = createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js');
const build = spawnSync(process.execPath, [nodeGyp, 'rebuild', '--directory', 'native'], { stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);

const target = `prebuilds/${process.platform}-${process.arch}`;
mkdirSync(target, { recursive: true });
copyFileSync('native/build/Release/udpkit.node', `${target}/udpkit.node`);
console.log(`native helper: ${target}/udpkit.node`);
