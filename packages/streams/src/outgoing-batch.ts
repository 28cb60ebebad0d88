// The datagrams the writable takes in one tick, their bytes copied back to
// back into one buffer. Taken at the end of the tick, they are either one
// run (two or more datagrams to one destination, all of one size but the
// last, which may be shorter: what @udpkit/core's sendSegments sends as
// UDP_SEGMENT sends, with no object per datagram), or messages for sendMany.
import { Buffer } from 'node:buffer';
import type { OutgoingMessage } from '@udpkit/core';

/** The largest segment of a run: a larger datagram can't be one (the kernel refuses it alone, as node:dgram reports). */
const MAX_SEGMENT = 65507;
/** The most a batch's first buffer takes from the last batch's size: one burst must not size every buffer after it. */
const MAX_HINT = 1024 * 1024;
const EMPTY = Buffer.alloc(0);

/** One buffer of `count` datagrams of `segmentSize` bytes (the last may be shorter), to one destination. */
export interface Run {
  segments: Buffer;
  segmentSize: number;
  count: number;
  /** Undefined on a connected socket. */
  address: string | undefined;
  port: number | undefined;
}

export class OutgoingBatch {
  /** Whether take() may answer a run. */
  readonly #runs: boolean;
  /** The datagrams' bytes are #buffer[0, #end); a batch taken leaves with its buffer. */
  #buffer = EMPTY;
  #end = 0;
  /** The bytes of the last batch taken: the next one likely needs as many. */
  #lastBytes = 0;
  #lengths: number[] = [];
  #addresses: (string | undefined)[] = [];
  #ports: (number | undefined)[] = [];
  /** How many datagrams, from the first, form a run (a run's beginning is a run too). */
  #runLength = 0;

  /** `runs`: take() answers a run when the datagrams are one; else always messages. */
  constructor(runs: boolean) {
    this.#runs = runs;
  }

  get count(): number {
    return this.#lengths.length;
  }

  /** Copies `bytes` in, as a datagram to `address`:`port` (both undefined on a connected socket). */
  add(bytes: Uint8Array, address: string | undefined, port: number | undefined): void {
    const length = bytes.byteLength;
    if (this.#end + length > this.#buffer.length) this.#grow(length);
    this.#buffer.set(bytes, this.#end);
    this.#end += length;

    const count = this.#lengths.length;
    if (this.#runLength === count && this.#continuesRun(count, length, address, port)) this.#runLength++;
    this.#lengths.push(length);
    this.#addresses.push(address);
    this.#ports.push(port);
  }

  /** Drops the datagrams added after the first `count`. */
  truncate(count: number): void {
    for (let i = count; i < this.#lengths.length; i++) this.#end -= this.#lengths[i]!;
    this.#lengths.length = count;
    this.#addresses.length = count;
    this.#ports.length = count;
    this.#runLength = Math.min(this.#runLength, count);
  }

  /** Takes every datagram added: one run when they are one (more than one, and runs are wanted), else one message each. */
  take(): Run | OutgoingMessage[] {
    const buffer = this.#buffer;
    const bytes = this.#end;
    const lengths = this.#lengths;
    const addresses = this.#addresses;
    const ports = this.#ports;
    const isRun = this.#runs && this.#runLength === lengths.length && lengths.length > 1;
    this.#buffer = EMPTY;
    this.#end = 0;
    this.#lastBytes = bytes;
    this.#lengths = [];
    this.#addresses = [];
    this.#ports = [];
    this.#runLength = 0;

    if (isRun) {
      return { segments: buffer.subarray(0, bytes), segmentSize: lengths[0]!, count: lengths.length, address: addresses[0], port: ports[0] };
    }
    const messages: OutgoingMessage[] = new Array(lengths.length);
    let offset = 0;
    for (let i = 0; i < lengths.length; i++) {
      const data = buffer.subarray(offset, (offset += lengths[i]!));
      const address = addresses[i];
      messages[i] = address === undefined ? { data } : { data, address, port: ports[i] };
    }
    return messages;
  }

  /** Whether a datagram of `length` bytes to `address`:`port` extends a run of the first `count`. */
  #continuesRun(count: number, length: number, address: string | undefined, port: number | undefined): boolean {
    // A segment has at least one byte, and fits one datagram.
    if (count === 0) return length > 0 && length <= MAX_SEGMENT;
    const segmentSize = this.#lengths[0]!;
    // Only the last datagram may be shorter: the one before this must be full.
    return (
      this.#lengths[count - 1] === segmentSize &&
      length > 0 &&
      length <= segmentSize &&
      address === this.#addresses[0] &&
      port === this.#ports[0]
    );
  }

  /**
   * A larger buffer, with room for `length` more bytes; the batch so far
   * moves into it. A batch's first buffer is as large as the last batch
   * was, else exact: the socket holds it until the datagrams are sent, and
   * the byte high-water mark counts only their bytes. (Small ones come from
   * Node's Buffer pool: one datagram per tick doesn't take a buffer each.)
   */
  #grow(length: number): void {
    const needed = this.#end + length;
    const size = this.#end === 0 ? Math.max(needed, Math.min(this.#lastBytes, MAX_HINT)) : 2 * needed;
    const buffer = Buffer.allocUnsafe(size);
    this.#buffer.copy(buffer, 0, 0, this.#end);
    this.#buffer = buffer;
  }
}
