// Buffers over received bytes. Node's own Buffer class, FastBuffer, is what
// Buffer[Symbol.species] returns; constructing a view with it directly skips
// the argument checks of Buffer.from(), which the helper's offsets and
// lengths make needless: that halves the cost of a Buffer at 64 B. Should a
// Node ever stop naming it there, Buffer.from() serves.
import { Buffer } from 'node:buffer';

interface BufferClass {
  new (data: ArrayBuffer, offset: number, length: number): Buffer;
}

function fastBuffer(): BufferClass | undefined {
  const species: unknown = (Buffer as unknown as Record<symbol, unknown>)[Symbol.species];
  if (typeof species !== 'function') return undefined;
  const probe: unknown = new (species as BufferClass)(new ArrayBuffer(2), 1, 1);
  return Buffer.isBuffer(probe) && Object.getPrototypeOf(probe) === Buffer.prototype && probe.byteOffset === 1
    ? (species as BufferClass)
    : undefined;
}

const FastBuffer = fastBuffer();

/** A Buffer viewing `length` bytes of `data` from `offset`, which must lie inside it. */
export function viewOf(data: ArrayBuffer, offset: number, length: number): Buffer {
  return FastBuffer ? new FastBuffer(data, offset, length) : Buffer.from(data, offset, length);
}

/**
 * A Buffer with memory of its own holding a copy of those bytes, as
 * node:dgram's 'message' Buffers have (allocUnsafeSlow: no zero fill, which
 * at 64 KiB costs more than the checks it skips).
 */
export function copyOf(data: ArrayBuffer, offset: number, length: number): Buffer {
  const copy = Buffer.allocUnsafeSlow(length);
  copy.set(new Uint8Array(data, offset, length));
  return copy;
}
