// The build installs the addon over the one a running process may have
// loaded (a rebuild while tests or a server run). It must not change the
// code under that process: the install replaces the directory entry, never
// the file's contents.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs build script without types
import { installAddon } from '../scripts/install-addon.mjs';

const built = fileURLToPath(new URL('../native/build/Release/udpkit.node', import.meta.url));
const dirs: string[] = [];

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A process that loaded `addon` and keeps calling into it until told to stop on stdin. */
function user(addon: string) {
  const program = `
    const binding = require(${JSON.stringify(addon)});
    const timer = setInterval(() => binding.sockaddr(4, '127.0.0.1', 9), 1);
    console.log('loaded');
    process.stdin.once('data', () => { clearInterval(timer); binding.sockaddr(4, '127.0.0.1', 9); console.log('still running'); process.exit(0); });`;
  const child = spawn(process.execPath, ['-e', program], { stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const loaded = new Promise<void>((resolve) => child.stdout.on('data', () => output.includes('loaded') && resolve()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, output })),
  );
  return { child, loaded, exited };
}

describe('installing the addon over a loaded one', () => {
  it('leaves the process that uses it running, with its code intact', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'udpkit-install-'));
    dirs.push(dir);
    const target = path.join(dir, 'prebuilds', 'udpkit.node');
    installAddon(built, target);
    const { child, loaded, exited } = user(target);
    await loaded;
    const before = statSync(target).ino;
    // A "new build" whose every byte differs: int3 traps wherever the old code ran.
    const replacement = path.join(dir, 'new.node');
    writeFileSync(replacement, Buffer.alloc(statSync(built).size, 0xcc));
    installAddon(replacement, target);
    await new Promise((resolve) => setTimeout(resolve, 50)); // the child keeps calling into the old code
    child.stdin.write('stop\n');
    expect(await exited).toEqual({ code: 0, signal: null, output: 'loaded\nstill running\n' });
    expect(statSync(target).ino).not.toBe(before);
    expect(statSync(target).size).toBe(statSync(built).size);
    expect(readdirSync(path.dirname(target))).toEqual(['udpkit.node']); // no temporary file left
  });
});
