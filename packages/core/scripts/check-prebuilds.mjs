// The publish guard (`prepack`, so `npm pack`, `pnpm pack` and `pnpm publish`
// run it): refuses to pack @udpkit/core unless every prebuilt helper is
// there and was built from the C sources as they are now.
//
//   node scripts/check-prebuilds.mjs [package directory]
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { embeddedDigest, prebuildFile, sourceDigest, targetName, targets } from './native-targets.mjs';

const packageDir = resolve(process.argv[2] ?? join(import.meta.dirname, '..'));
const digest = sourceDigest(packageDir);

const problems = [];
for (const target of targets) {
  const file = prebuildFile(target);
  const path = join(packageDir, file);
  if (!existsSync(path)) {
    problems.push(`missing ${file} (${targetName(target)})`);
    continue;
  }
  const built = embeddedDigest(path);
  if (built !== digest) {
    problems.push(`stale ${file} (${targetName(target)}): built from sources ${built?.slice(0, 12) ?? 'unknown'}, the sources now are ${digest.slice(0, 12)}`);
  }
}

if (problems.length > 0) {
  console.error(`@udpkit/core will not be packed without every prebuilt native helper, current:`);
  for (const problem of problems) console.error(`  - ${problem}`);
  console.error(`Build them all, from the repository root (as root on Debian: the first script installs the cross compilers):`);
  console.error(`  bash packages/core/scripts/install-toolchains.sh && pnpm --filter @udpkit/core build:prebuilds`);
  process.exit(1);
}
console.log(`prebuilt native helpers: all ${targets.length} present and built from the current sources (${digest.slice(0, 12)})`);
