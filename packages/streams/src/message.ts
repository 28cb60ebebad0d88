// The chunks: UDPMessage as written (checked as Chromium's
// UDPWritableStreamWrapper::Write does) and as read.
import { Buffer } from 'node:buffer';
import type { RemoteInfo } from '@udpkit/core';
import type { Mode } from './options.js';
import { enforceRange, MAX_UNSIGNED_SHORT, toDictionary, toDnsQueryType, toDOMString, type SocketDnsQueryType } from './webidl.js';

/** A datagram to write: `remoteAddress`/`remotePort` in bound mode only. */
export interface UDPMessageInit {
  data: ArrayBuffer | ArrayBufferView;
  remoteAddress?: string;
  remotePort?: number;
  /** Bound mode: the family a host name in `remoteAddress` must resolve to (the socket's own). */
  dnsQueryType?: SocketDnsQueryType;
}

/** What the writable takes: one datagram, or an array of them sent together. */
export type WriteChunk = UDPMessageInit | readonly UDPMessageInit[];

/** A datagram read. The metadata fields are there when `receiveMetadata` asked for them. */
export interface UDPMessage {
  /** The payload: a view into the memory of the batch it arrived in. */
  data: Uint8Array;
  remoteAddress: string;
  remotePort: number;
  /** The address the datagram was sent to (`receiveMetadata.destination`). */
  destination?: string;
  /** The interface it arrived on (`receiveMetadata.destination`). */
  interfaceIndex?: number;
  /** Kernel receive time in ns since the epoch (`receiveMetadata.timestamp`). */
  timestamp?: bigint;
  /** Larger than the receive slot and cut. */
  truncated?: boolean;
}

export function toReceived(data: Buffer, rinfo: RemoteInfo): UDPMessage {
  return { data, remoteAddress: rinfo.address, remotePort: rinfo.port };
}

export function toReceivedWithMetadata(data: Buffer, rinfo: RemoteInfo): UDPMessage {
  return {
    data,
    remoteAddress: rinfo.address,
    remotePort: rinfo.port,
    destination: rinfo.destination,
    interfaceIndex: rinfo.interfaceIndex,
    timestamp: rinfo.timestamp,
    truncated: rinfo.truncated,
  };
}

/** A written chunk, checked: its bytes (the writer's memory, to be copied before write() returns) and where they go. */
export interface CheckedMessage {
  bytes: Uint8Array;
  /** Undefined in connected mode. */
  address: string | undefined;
  port: number | undefined;
}

/**
 * Checks a written chunk. Throws the TypeError Chromium throws for the
 * same chunk.
 */
export function checkMessage(chunk: unknown, mode: Mode, family: 4 | 6): CheckedMessage {
  // Each field is read once: a getter can't answer one thing to the check and another to the send.
  const { data, remoteAddress, remotePort, dnsQueryType } = toDictionary(chunk, 'UDPMessage');
  if (data === undefined) throw new TypeError("UDPMessage: missing 'data' field.");
  const bytes = bytesOf(data);

  const hasAddress = remoteAddress !== undefined;
  const hasPort = remotePort !== undefined;
  let address: string | undefined;
  let port: number | undefined;
  if (hasAddress && hasPort) {
    if (mode === 'connected') {
      throw new TypeError("UDPMessage: 'remoteAddress' and 'remotePort' must not be specified in 'connected' mode.");
    }
    address = toDOMString(remoteAddress, "UDPMessage: 'remoteAddress'");
    if (address === '') throw new TypeError("UDPMessage: 'remoteAddress' must not be empty.");
    port = enforceRange(remotePort, "UDPMessage: 'remotePort'", MAX_UNSIGNED_SHORT);
    if (port === 0) throw new TypeError("UDPMessage: 'remotePort' must be greater than zero.");
  } else if (hasAddress || hasPort) {
    throw new TypeError("UDPMessage: either none or both 'remoteAddress' and 'remotePort' fields must be specified.");
  } else if (mode === 'bound') {
    throw new TypeError("UDPMessage: 'remoteAddress' and 'remotePort' must be specified in 'bound' mode.");
  }

  if (dnsQueryType !== undefined) {
    if (mode === 'connected') throw new TypeError("UDPMessage: 'dnsQueryType' must not be specified in 'connected' mode.");
    const wanted = toDnsQueryType(dnsQueryType, "UDPMessage: 'dnsQueryType'");
    if (wanted !== (family === 4 ? 'ipv4' : 'ipv6')) {
      throw new TypeError(`UDPMessage: 'dnsQueryType' is '${wanted}' but the socket is IPv${family}.`);
    }
  }
  return { bytes, address, port };
}

/** The bytes of `data`, a view on the caller's memory (not a copy). */
function bytesOf(data: unknown): Uint8Array {
  // The common case first: a view that has bytes is not detached (a detached one reads as empty).
  if (data instanceof Uint8Array && data.byteLength > 0) return data;
  const buffer = data instanceof ArrayBuffer ? data : ArrayBuffer.isView(data) ? data.buffer : undefined;
  if (buffer === undefined) throw new TypeError("UDPMessage: 'data' must be an ArrayBuffer or an ArrayBufferView.");
  // A detached buffer reads as empty: refuse it rather than send an empty datagram.
  if (isDetached(buffer)) throw new TypeError("UDPMessage: 'data' is detached.");
  if (data instanceof Uint8Array) return data;
  return ArrayBuffer.isView(data) ? new Uint8Array(buffer, data.byteOffset, data.byteLength) : new Uint8Array(buffer);
}

/** Whether `buffer` was transferred away. Node 20 lacks `ArrayBuffer.prototype.detached`: a view on a detached buffer can't be made. */
function isDetached(buffer: ArrayBufferLike): boolean {
  const { detached } = buffer as { detached?: boolean };
  if (detached !== undefined) return detached;
  if (buffer.byteLength !== 0) return false;
  try {
    new Uint8Array(buffer);
    return false;
  } catch {
    return true;
  }
}
