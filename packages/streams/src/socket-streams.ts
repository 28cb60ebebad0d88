// A core socket as a readable and a writable stream, and the rules that tie
// their ends to the socket's: a UDP socket can't be half-closed, so
//
// - cancelling the readable or aborting the writable closes the socket and
//   errors the other stream with the same reason; `closed` rejects with that
//   reason (or resolves when none was given);
// - an error of the socket (a receive or send failure) errors both streams
//   with a NetworkError, closes the socket and rejects `closed` with it;
// - the writer closing the writable ends the writing side only; the socket
//   closes once the readable has ended too;
// - close() cancels and aborts both streams with an AbortError and resolves
//   `closed`; it rejects with InvalidStateError while either is locked;
// - the socket closed under the streams (by its owner) closes the readable,
//   errors the writable, and resolves `closed`.
import type { Socket } from '@udpkit/core';
import { invalidState, networkError, socketClosed, streamClosed } from './errors.js';
import type { Measure } from './high-water-mark.js';
import type { WriteChunk } from './message.js';
import type { Mode } from './options.js';
import { createReadable, DatagramSource, type ReadChunk } from './readable.js';
import { createWritable, DatagramSink } from './writable.js';

export interface StreamsOptions {
  mode: Mode;
  family: 4 | 6;
  readable: Measure;
  writable: Measure;
  receiveMetadata: boolean;
  /** Read one UDPMessage[] per kernel batch instead of one UDPMessage per datagram. */
  readableBatches: boolean;
  /** Runs once the socket has closed, before `closed` settles. */
  onClose?: () => void;
}

export class SocketStreams {
  readonly readable: ReadableStream<ReadChunk>;
  readonly writable: WritableStream<WriteChunk>;
  readonly closed: Promise<void>;
  readonly #socket: Socket;
  readonly #source: DatagramSource<ReadChunk>;
  readonly #sink: DatagramSink;
  readonly #onClose: (() => void) | undefined;
  #settle!: { resolve: () => void; reject: (reason: unknown) => void };
  /** What `closed` will reject with; undefined: it resolves. */
  #failure: unknown;
  #readableEnded = false;
  #writableEnded = false;
  /** close() was called. */
  #closing = false;
  /** The socket is closing or closed. */
  #closed = false;

  constructor(socket: Socket, options: StreamsOptions) {
    this.#socket = socket;
    this.#onClose = options.onClose;
    this.closed = new Promise((resolve, reject) => (this.#settle = { resolve, reject }));
    // `closed` rejecting is the normal report of a failure, not an unhandled rejection.
    this.closed.catch(() => {});

    this.#source = new DatagramSource(
      socket,
      { onCancel: (reason) => this.#ended('readable', reason) },
      { withMetadata: options.receiveMetadata, batches: options.readableBatches },
    );
    this.#sink = new DatagramSink(socket, options.mode, options.family, options.writable, {
      onClose: () => this.#ended('writable', undefined, true),
      onAbort: (reason) => this.#ended('writable', reason),
      onError: (error) => this.#fail(error),
    });
    this.readable = createReadable(this.#source, options.readable, options.readableBatches);
    this.writable = createWritable(this.#sink, options.writable);

    socket.on('error', this.#onSocketError);
    socket.once('close', this.#onSocketClose);
  }

  close(): Promise<void> {
    if (this.#closing || this.#closed) return this.closed;
    if (this.readable.locked || this.writable.locked) {
      return Promise.reject(invalidState('Close called on locked streams.'));
    }
    this.#closing = true;
    const reason = streamClosed();
    this.readable.cancel(reason).catch(() => {});
    this.writable.abort(reason).catch(() => {});
    return this.closed;
  }

  /** One side is done: the reader cancelled, the writer aborted, or the writer closed (`graceful`). */
  #ended(side: 'readable' | 'writable', reason: unknown, graceful = false): void {
    if (side === 'readable') this.#readableEnded = true;
    else this.#writableEnded = true;
    if (this.#closing) {
      if (this.#readableEnded && this.#writableEnded) this.#closeSocket();
      return;
    }
    // abort() without a reason is still an abort: only close() leaves the readable reading.
    if (graceful && !this.#readableEnded) return;
    this.#failure ??= reason;
    const error = reason ?? streamClosed();
    this.#source.end(error);
    // The reader cancelled: what the writer wrote still goes.
    this.#sink.sendWritten();
    this.#sink.end(error);
    this.#closeSocket();
  }

  #fail(error: unknown): void {
    if (this.#closed) return;
    this.#failure ??= error;
    this.#source.end(error);
    this.#sink.end(error);
    this.#closeSocket();
  }

  readonly #onSocketError = (error: Error): void => {
    this.#fail(networkError('receive failed', error));
  };

  readonly #onSocketClose = (): void => {
    this.#closed = true;
    this.#socket.off('error', this.#onSocketError);
    // Closed by its owner: the stream of datagrams has simply ended.
    this.#source.end();
    this.#sink.end(socketClosed());
    this.#onClose?.();
    if (this.#failure === undefined) this.#settle.resolve();
    else this.#settle.reject(this.#failure);
  };

  #closeSocket(): void {
    if (this.#closed) return;
    this.#closed = true;
    // @udpkit/core hands a sendMany or sendSegments to the kernel a tick
    // after the call: closing after it lets what was written go out.
    process.nextTick(() => {
      try {
        this.#socket.close();
      } catch {
        // Already closed by its owner: its 'close' event settles `closed`.
      }
    });
  }
}
