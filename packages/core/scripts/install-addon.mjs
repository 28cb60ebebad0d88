// Puts a built addon where the loader looks for it. A running process may
// have the old file mapped: writing over it in place would change its code
// under it (SIGSEGV, SIGBUS). A copy renamed over it replaces only the
// directory entry; the old file lives on until the last process unmaps it.
import { copyFileSync, mkdirSync, renameSync } from 'node:fs';
import { dirname } from 'node:path';

export function installAddon(from, to) {
  mkdirSync(dirname(to), { recursive: true });
  const temporary = `${to}.${process.pid}.tmp`;
  copyFileSync(from, temporary);
  renameSync(temporary, to);
}
