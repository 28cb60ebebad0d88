// The writable side: a sink that gathers the chunks written in one tick and
// hands them to the socket in one sendMany (one sendmmsg on the native
// backend). write() settles at once while fewer than the high-water mark
// are in flight (handed to the socket and not yet sent: this includes the
// socket's own send queue, which grows while the kernel's send buffer is
// full); past it, write() waits, the stream queues what follows, and its
// desiredSize and ready show it.
import type { UnderlyingSink } from 'node:stream/web';
import type { OutgoingMessage, Socket } from '@udpkit/core';
import { networkError } from './errors.js';
import type { Measure } from './high-water-mark.js';
import { toOutgoing, type WriteChunk } from './message.js';
import type { Mode } from './options.js';

/** sendmmsg(2) takes up to 1024 messages (UIO_MAXIOV). */
const MAX_PER_SEND = 1024;

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
  #batch: OutgoingMessage[] = [];
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
  }

  start(controller: WritableStreamDefaultController): void {
    this.#controller = controller;
    // Chromium's OnAbortSignal: abort() must not wait behind a write that waits for room.
    // (@types/node 20 lacks the controller's `signal`; Node has it since 18.)
    const { signal } = controller as WritableStreamDefaultController & { signal: AbortSignal };
    signal.addEventListener('abort', () => this.#takeWaiting()?.reject(signal.reason), { once: true });
  }

  write(chunk: WriteChunk): Promise<void> | undefined {
    let messages: OutgoingMessage[];
    try {
      messages = Array.isArray(chunk)
        ? chunk.map((message: unknown) => toOutgoing(message, this.#mode, this.#family))
        : [toOutgoing(chunk, this.#mode, this.#family)];
    } catch (error) {
      // The stream errors itself with the rejection; the socket closes with it.
      this.#fail(error);
      throw error;
    }
    if (this.#batch.length === 0) queueMicrotask(this.#scheduleFlush);
    let size = 0;
    for (const message of messages) {
      this.#batch.push(message);
      size += this.#measure.size((message.data as Buffer).length);
    }
    this.#inFlight += size;
    if (this.#inFlight < this.#measure.highWaterMark) return undefined;
    return new Promise((resolve, reject) => (this.#waiting = { resolve, reject }));
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
    const batch = this.#batch;
    if (batch.length === 0 || !this.#open) return;
    this.#batch = [];
    // At most one sendmmsg's worth per sendMany: @udpkit/core's native
    // backend fails on exactly 2049 queued datagrams (reported), and a
    // larger batch would go out in 1024s anyway.
    for (let from = 0; from < batch.length; from += MAX_PER_SEND) {
      const part = batch.length <= MAX_PER_SEND ? batch : batch.slice(from, from + MAX_PER_SEND);
      let size = 0;
      for (const message of part) size += this.#measure.size((message.data as Buffer).length);
      try {
        this.#socket.sendMany(part, (error) => this.#sent(size, error));
      } catch (error) {
        this.#fail(networkError('send failed', error));
        return;
      }
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
