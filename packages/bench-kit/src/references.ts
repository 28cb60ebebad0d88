// The C reference programs (reference/*.c): compiled on first use into
// .bin/, and again whenever a source is newer than the binary.
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sh } from './shell.js';

const kitDir = dirname(dirname(fileURLToPath(import.meta.url)));
const sourceDir = join(kitDir, 'reference');
const binDir = join(kitDir, '.bin');

/** The path of the compiled reference `name` (`flood`, `sink`), built if missing or stale. */
export function reference(name: string): string {
  const source = join(sourceDir, `${name}.c`);
  const binary = join(binDir, name);
  // A header (clock.h) changes every program that includes it.
  const headers = readdirSync(sourceDir).filter((file) => file.endsWith('.h')).map((file) => join(sourceDir, file));
  const newest = Math.max(...[source, ...headers].map((file) => statSync(file).mtimeMs));
  if (!existsSync(binary) || statSync(binary).mtimeMs <= newest) {
    mkdirSync(binDir, { recursive: true });
    sh('gcc', ['-O2', '-Wall', '-Wextra', '-o', binary, source]);
  }
  return binary;
}
