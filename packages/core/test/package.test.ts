// What package.json promises about the package must hold.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { nativeLoadError } from '@udpkit/core';

const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as Record<string, unknown>;

describe('package.json', () => {
  it.runIf(nativeLoadError === undefined)('does not declare the package free of side effects: importing it loads the helper', () => {
    const loaded = Object.keys(createRequire(import.meta.url).cache).filter((path) => path.endsWith('.node'));
    expect(loaded).toHaveLength(1);
    // A bundler told `sideEffects: false` may drop an import whose bindings go unused.
    expect(manifest.sideEffects).not.toBe(false);
  });
});
