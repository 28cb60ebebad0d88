// viewOf() and copyOf(): Buffers over received bytes; a view through Node's
// own Buffer class when Buffer[Symbol.species] names it, else Buffer.from().
import { Buffer } from 'node:buffer';
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { copyOf, viewOf } from '../src/buffers.js';

const bytes = () => {
  const data = new ArrayBuffer(16);
  new Uint8Array(data).forEach((_, i, all) => (all[i] = i));
  return data;
};

describe('viewOf and copyOf', () => {
  it('viewOf: a Buffer over the bytes, sharing their memory', () => {
    const data = bytes();
    for (const [offset, length] of [[0, 16], [3, 5], [16, 0], [0, 0]] as const) {
      const view = viewOf(data, offset, length);
      expect(Buffer.isBuffer(view)).toBe(true);
      expect(Object.getPrototypeOf(view)).toBe(Buffer.prototype);
      expect([view.buffer, view.byteOffset, view.length]).toEqual([data, offset, length]);
      expect([...view]).toEqual([...new Uint8Array(data, offset, length)]);
    }
    viewOf(data, 3, 5)[0] = 99;
    expect(new Uint8Array(data)[3]).toBe(99);
  });

  it('copyOf: a Buffer with memory of its own, around the on-heap size (64 B)', () => {
    const data = new ArrayBuffer(200);
    new Uint8Array(data).fill(7);
    for (const length of [0, 1, 63, 64, 65, 128]) {
      const copy = copyOf(data, 10, length);
      expect(Buffer.isBuffer(copy)).toBe(true);
      expect(Object.getPrototypeOf(copy)).toBe(Buffer.prototype);
      expect([copy.byteOffset, copy.buffer.byteLength, copy.length]).toEqual([0, length, length]);
      expect(copy.every((b) => b === 7)).toBe(true);
      if (length > 0) copy[0] = 1;
    }
    expect(new Uint8Array(data).every((b) => b === 7)).toBe(true);
  });

  it('falls back to Buffer.from when Buffer[Symbol.species] is not a Buffer class', () => {
    const script = `
      Object.defineProperty(Buffer, Symbol.species, { get: () => Uint8Array });
      const { viewOf, copyOf } = await import(${JSON.stringify(new URL('../dist/buffers.js', import.meta.url).href)});
      const data = new Uint8Array([1, 2, 3, 4]).buffer;
      const view = viewOf(data, 1, 2), copy = copyOf(data, 1, 2);
      console.log(JSON.stringify([Buffer.isBuffer(view), view.buffer === data, [...view], Buffer.isBuffer(copy), copy.buffer === data, [...copy]]));
    `;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual([true, true, [2, 3], true, false, [2, 3]]);
  });
});
