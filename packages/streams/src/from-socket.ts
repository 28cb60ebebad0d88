// An existing core Socket as a readable and a writable stream. The streams
// take the socket over: ending them closes it (see socket-streams.ts). The
// mode follows the socket: connected if it is connected now, else bound.
import type { Socket } from '@udpkit/core';
import { invalidState } from './errors.js';
import { toMeasure, type HighWaterMark } from './high-water-mark.js';
import type { UDPMessage, WriteChunk } from './message.js';
import { DEFAULT_HIGH_WATER_MARK, type Mode } from './options.js';
import { SocketStreams } from './socket-streams.js';

export interface FromSocketOptions {
  /** Datagrams (a number) or `{ bytes }` queued before the socket is paused. Default 128. */
  readableHighWaterMark?: HighWaterMark;
  /** Datagrams (a number) or `{ bytes }` in flight before `ready` waits. Default 128. */
  writableHighWaterMark?: HighWaterMark;
  /** Put the metadata the socket was created with (`receiveMetadata`) on each message. */
  receiveMetadata?: boolean;
  /** Read one `UDPMessage[]` per kernel batch instead of one `UDPMessage` per datagram. */
  readableBatches?: boolean;
}

export interface SocketStreamPair<Chunk extends UDPMessage | UDPMessage[] = UDPMessage> {
  readable: ReadableStream<Chunk>;
  /** Takes a UDPMessageInit, or an array of them sent together. */
  writable: WritableStream<WriteChunk>;
  /** Settles once the socket has closed; rejects with the error or reason that closed it. */
  closed: Promise<void>;
  /** Cancels and aborts both streams and closes the socket; InvalidStateError while either is locked. */
  close(): Promise<void>;
}

export function fromSocket(socket: Socket, options: FromSocketOptions & { readableBatches: true }): SocketStreamPair<UDPMessage[]>;
export function fromSocket(socket: Socket, options?: FromSocketOptions): SocketStreamPair;
export function fromSocket(socket: Socket, options: FromSocketOptions = {}): SocketStreamPair<UDPMessage | UDPMessage[]> {
  const streams = new SocketStreams(socket, {
    mode: modeOf(socket),
    family: socket.type === 'udp4' ? 4 : 6,
    readable: toMeasure(options.readableHighWaterMark, DEFAULT_HIGH_WATER_MARK, 'readableHighWaterMark'),
    writable: toMeasure(options.writableHighWaterMark, DEFAULT_HIGH_WATER_MARK, 'writableHighWaterMark'),
    receiveMetadata: !!options.receiveMetadata,
    readableBatches: !!options.readableBatches,
  });
  return {
    readable: streams.readable as ReadableStream<UDPMessage | UDPMessage[]>,
    writable: streams.writable,
    closed: streams.closed,
    close: () => streams.close(),
  };
}

function modeOf(socket: Socket): Mode {
  try {
    socket.remoteAddress();
    return 'connected';
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'ERR_SOCKET_DGRAM_NOT_CONNECTED') return 'bound';
    if (code === 'ERR_SOCKET_DGRAM_NOT_RUNNING') throw invalidState('The socket is closed.');
    throw error;
  }
}
