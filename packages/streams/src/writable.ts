// The writable side: a sink that gathers the chunks written in one tick and
// hands them to the socket in one call at the end of the tick: one run of
// same-size datagrams to one destination as sendSegments (UDP_SEGMENT sends
// on the native backend), anything else as sendMany (one sendmmsg per 1024
// on the native backend, which still groups runs within it). write() copies
// the chunk and settles at once while fewer than the high-water mark are in
// flight (handed to the socket and not yet sent: this includes the socket's
// own send queue, which grows while the kernel's send buffer is full); past
// it, write() waits, the stream queues what follows, and its desiredSize and
// ready show it.
import type { UnderlyingSink } from 'node:stream/web';
import type { Socket } from '@udpkit/core';
import { networkError } from './errors.js';
import type { Measure } from './high-water-mark.js';
import { checkMessage, type WriteChunk } from './message.js';
import type { Mode } from './options.js';
import { OutgoingBatch } from './outgoing-batch.js';

export interface WritableHooks {
  /** The writer closed the stream and everything written has been sent. */
  onClose(): void;
  /** The writer aborted the stream. */
  onAbort(reason: unknown): void;
  /** A chunk was invalid (TypeError) or the socket refused a datagram (NetworkError): the stream is errored with `error`. */
  onError(error: unknown): void;
}

export class DatagramSink implements UnderlyingSink<WriteChunk> {
  readonly #socket: Socket;
  readonly #mode: Mode;
  readonly #family: 4 | 6;
  readonly #measure: Measure;
  readonly #hooks: WritableHooks;
  #controller: WritableStreamDefaultController | undefined;
  readonly #batch: OutgoingBatch;
  /** The size of #batch (in the measure's unit). */
  #batchSize = 0;
  /** Size (in the measure's unit) handed to the socket and not yet reported sent. */
  #inFlight = 0;
  /** A write waiting for room, and what settles it. */
  #waiting: { resolve: () => void; reject: (reason: unknown) => void } | undefined;
  /** close() waiting for everything to be sent. */
  #draining: { resolve: () => void; reject: (reason: unknown) => void } | undefined;
  #open = true;

  constructor(socket: Socket, mode: Mode, family: 4 | 6, measure: Measure, hooks: WritableHooks) {
    this.#socket = socket;
    this.#mode = mode;
    this.#family = family;
    this.#measure = measure;
    this.#hooks = hooks;
    // Runs go as sendSegments, which the portable backend lacks.
    this.#batch = new OutgoingBatch(socket.backend === 'native');
  }

  start(controller: WritableStreamDefaultController): void {
    this.#controller = controller;
    // Chromium's OnAbortSignal: abort() must not wait behind a write that waits
    // for room. That write's chunk is already in the batch, which abort() hands
    // to the socket: it resolves, as every write does once its chunk is taken
    // (a rejection would tell a producer that retries to send it twice).
    // (@types/node 20 lacks the controller's `signal`; Node has it since 18.)
    const { signal } = controller as WritableStreamDefaultController & { signal: AbortSignal };
    signal.addEventListener('abort', () => this.#takeWaiting()?.resolve(), { once: true });
  }

  write(chunk: WriteChunk): Promise<void> | undefined {
    const before = this.#batch.count;
    let size = 0;
    try {
      if (Array.isArray(chunk)) for (const message of chunk) size += this.#add(message);
      else size = this.#add(chunk);
    } catch (error) {
      // An array chunk goes whole or not at all; the chunks written before it go.
      this.#batch.truncate(before);
      this.#batchSize -= size;
      this.#flush();
      // The stream errors itself with the rejection; the socket closes with it.
      this.#fail(error);
      throw error;
    }
    this.#inFlight += size;
    if (this.#inFlight < this.#measure.highWaterMark) return undefined;
    return new Promise((resolve, reject) => (this.#waiting = { resolve, reject }));
  }

  /** Checks one message and copies it into this tick's batch; returns its size. */
  #add(message: unknown): number {
    const { bytes, address, port } = checkMessage(message, this.#mode, this.#family);
    if (this.#batch.count === 0) queueMicrotask(this.#scheduleFlush);
    this.#batch.add(bytes, address, port);
    const size = this.#measure.size(bytes.byteLength);
    this.#batchSize += size;
    return size;
  }

  close(): Promise<void> | undefined {
    this.#flush();
    if (this.#inFlight === 0) {
      this.#finish();
      return undefined;
    }
    return new Promise((resolve, reject) => (this.#draining = { resolve, reject }));
  }

  abort(reason: unknown): void {
    // What was written before the abort still goes out; the socket closes after.
    this.#flush();
    if (!this.#stop()) return;
    this.#hooks.onAbort(reason);
  }

  /** Hands what was written in this tick to the socket now (the socket is about to close). */
  sendWritten(): void {
    this.#flush();
  }

  /** Errors the stream with `error` (the socket failed or closed under it). */
  end(error: unknown): void {
    if (!this.#stop()) return;
    this.#controller!.error(error);
    this.#takeWaiting()?.reject(error);
    this.#draining?.reject(error);
  }

  /**
   * The stream hands the sink one chunk per microtask. From a microtask,
   * process.nextTick runs once the microtask queue is empty: after every
   * chunk written in this tick, even when the first write was made from
   * a plain callback (where Node runs ticks before microtasks).
   */
  readonly #scheduleFlush = (): void => {
    process.nextTick(this.#flush);
  };

  readonly #flush = (): void => {
    if (this.#batch.count === 0 || !this.#open) return;
    const size = this.#batchSize;
    this.#batchSize = 0;
    const batch = this.#batch.take();
    const sent = (error: Error | null) => this.#sent(size, error);
    try {
      if (Array.isArray(batch)) this.#socket.sendMany(batch, sent);
      else if (batch.address === undefined) this.#socket.sendSegments(batch.segments, batch.segmentSize, sent);
      else this.#socket.sendSegments(batch.segments, batch.segmentSize, batch.port!, batch.address, sent);
    } catch (error) {
      this.#fail(networkError('send failed', error));
    }
  };

  #sent(size: number, error: Error | null): void {
    this.#inFlight -= size;
    if (error) {
      this.#fail(networkError('send failed', error));
      return;
    }
    if (this.#inFlight < this.#measure.highWaterMark) this.#takeWaiting()?.resolve();
    if (this.#draining && this.#inFlight === 0) {
      this.#finish();
      this.#draining.resolve();
    }
  }

  #fail(error: unknown): void {
    if (!this.#open) return;
    this.end(error);
    this.#hooks.onError(error);
  }

  #takeWaiting(): { resolve: () => void; reject: (reason: unknown) => void } | undefined {
    const waiting = this.#waiting;
    this.#waiting = undefined;
    return waiting;
  }

  #finish(): void {
    if (!this.#stop()) return;
    this.#hooks.onClose();
  }

  #stop(): boolean {
    if (!this.#open) return false;
    this.#open = false;
    return true;
  }
}

/** The writable over `sink`; its high-water mark counts datagrams (an array counts its length) or bytes. */
export function createWritable(sink: DatagramSink, measure: Measure): WritableStream<WriteChunk> {
  const { highWaterMark, size } = measure;
  const sizeOf = (chunk: WriteChunk): number => {
    if (!Array.isArray(chunk)) return size(byteLengthOf(chunk));
    let total = 0;
    for (const message of chunk) total += size(byteLengthOf(message));
    return total;
  };
  return new WritableStream(sink, { highWaterMark, size: sizeOf });
}

/**
 * The size the queueing strategy gives a message before write() checks it.
 * It never throws (a DataView on a detached buffer, a throwing getter would):
 * a throwing size errors the stream without the sink knowing; write()
 * reports the bad chunk instead.
 */
function byteLengthOf(message: unknown): number {
  try {
    const data = (message as { data?: unknown } | null | undefined)?.data;
    if (ArrayBuffer.isView(data) || data instanceof ArrayBuffer) return data.byteLength;
  } catch {
    // write() says what is wrong
  }
  return 0;
}
