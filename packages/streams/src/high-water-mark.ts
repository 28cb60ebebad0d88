// High-water marks counted in datagrams (a number) or in bytes
// (`{ bytes: n }`). A datagram counts its payload size in bytes, and at
// least 1, so that a flood of empty datagrams still fills the queue.

export type HighWaterMark = number | { bytes: number };

export interface Measure {
  /** The WHATWG high-water mark: datagrams, or bytes. */
  readonly highWaterMark: number;
  /** The size of one datagram of `byteLength` bytes in that unit. */
  readonly size: (byteLength: number) => number;
  readonly inBytes: boolean;
}

const countOne = () => 1;
const countBytes = (byteLength: number) => Math.max(1, byteLength);

export function toMeasure(value: HighWaterMark | undefined, fallback: number, name: string): Measure {
  if (value === undefined) return { highWaterMark: fallback, size: countOne, inBytes: false };
  if (typeof value === 'number') return { highWaterMark: checked(value, name), size: countOne, inBytes: false };
  if (value !== null && typeof value === 'object' && 'bytes' in value) {
    return { highWaterMark: checked(value.bytes, `${name}.bytes`), size: countBytes, inBytes: true };
  }
  throw new TypeError(`${name} must be a number of datagrams or { bytes: number }.`);
}

/** As the Streams standard's ValidateAndNormalizeHighWaterMark: NaN or negative is a RangeError. */
function checked(value: unknown, name: string): number {
  const number = Number(value);
  if (Number.isNaN(number) || number < 0) throw new RangeError(`${name} must be a non-negative number.`);
  return number;
}
