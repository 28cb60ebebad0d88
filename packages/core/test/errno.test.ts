// libuv's error numbers are platform-specific: the library looks them up by
// name (src/errno.ts) and never writes one as a number.
import { readdirSync, readFileSync } from 'node:fs';
import { getSystemErrorName } from 'node:util';
import { describe, expect, it } from 'vitest';
import * as errno from '../src/errno.js';

describe('errno constants', () => {
  it("each is libuv's number for its name on this platform", () => {
    const entries = Object.entries(errno);
    expect(entries.length).toBeGreaterThan(0);
    for (const [name, value] of entries) {
      expect(value).toBeLessThan(0);
      expect(`UV_${getSystemErrorName(value)}`).toBe(name);
    }
  });

  it('no source file writes an errno as a literal number', () => {
    const dir = new URL('../src/', import.meta.url);
    const offenders: string[] = [];
    for (const file of readdirSync(dir).filter((name) => name.endsWith('.ts'))) {
      const source = readFileSync(new URL(file, dir), 'utf8');
      // `UV_EXXX = -9` or a comparison with a negative literal other than -1.
      for (const match of source.matchAll(/\bUV_E[A-Z]+\s*=\s*-\d+|[=!]==?\s*-(?!1\b)\d+/g)) {
        offenders.push(`${file}: ${match[0]}`);
      }
    }
    expect(offenders).toEqual([]);
  });
});
