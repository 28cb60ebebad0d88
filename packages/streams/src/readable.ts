// The readable side: a pull-driven source over a core socket. Each kernel
// batch ('messages') is enqueued in one step; when that leaves the queue at
// or past its high-water mark the socket is paused, so further datagrams
// wait in the kernel's receive buffer instead of the heap. The stream calls
// pull() again only once a read made room, and pull() resumes the socket.
// pull()'s promise settles when the next batch has been enqueued, so the
// stream asks once per batch rather than once per datagram.
//
// Chunks are one UDPMessage per datagram, or, with `batches`, one
// UDPMessage[] per kernel batch: the streams' own cost is then paid once
// per batch instead of once per datagram.
import type { UnderlyingSource } from 'node:stream/web';
import type { RemoteInfo, Socket } from '@udpkit/core';
import type { Measure } from './high-water-mark.js';
import { toReceived, toReceivedWithMetadata, type UDPMessage } from './message.js';

export interface ReadableHooks {
  /** The consumer cancelled the stream. */
  onCancel(reason: unknown): void;
}

export type ReadChunk = UDPMessage | UDPMessage[];

export class DatagramSource<Chunk extends ReadChunk> implements UnderlyingSource<Chunk> {
  readonly #socket: Socket;
  readonly #hooks: ReadableHooks;
  readonly #toMessage: (data: Buffer, rinfo: RemoteInfo) => UDPMessage;
  readonly #batches: boolean;
  #controller: ReadableStreamDefaultController<Chunk> | undefined;
  /** Settles the pending pull() once a batch came (or the stream ended). */
  #pulled: (() => void) | undefined;
  #open = true;

  constructor(socket: Socket, hooks: ReadableHooks, options: { withMetadata: boolean; batches: boolean }) {
    this.#socket = socket;
    this.#hooks = hooks;
    this.#toMessage = options.withMetadata ? toReceivedWithMetadata : toReceived;
    this.#batches = options.batches;
  }

  start(controller: ReadableStreamDefaultController<Chunk>): void {
    this.#controller = controller;
    // Nothing is read until the stream asks: pull() follows at once if the queue has room.
    this.#socket.pause();
    this.#socket.on('messages', this.#onMessages);
  }

  pull(): Promise<void> {
    this.#socket.resume();
    return new Promise((resolve) => (this.#pulled = resolve));
  }

  cancel(reason: unknown): void {
    if (!this.#detach()) return;
    this.#hooks.onCancel(reason);
  }

  /** Ends the stream: closes it, or errors it with `error`. */
  end(error?: unknown): void {
    if (!this.#detach()) return;
    if (error === undefined) this.#controller!.close();
    else this.#controller!.error(error);
  }

  readonly #onMessages = (buffers: Buffer[], rinfos: RemoteInfo[]): void => {
    // An earlier listener of the same emit may have ended the stream (off() can't stop this call).
    if (!this.#open) return;
    const controller = this.#controller!;
    const toMessage = this.#toMessage;
    if (this.#batches) {
      const batch = new Array<UDPMessage>(buffers.length);
      for (let i = 0; i < buffers.length; i++) batch[i] = toMessage(buffers[i]!, rinfos[i]!);
      controller.enqueue(batch as Chunk);
    } else {
      for (let i = 0; i < buffers.length; i++) controller.enqueue(toMessage(buffers[i]!, rinfos[i]!) as Chunk);
    }
    if (controller.desiredSize! <= 0) this.#socket.pause();
    this.#settlePull();
  };

  #settlePull(): void {
    const pulled = this.#pulled;
    this.#pulled = undefined;
    pulled?.();
  }

  #detach(): boolean {
    if (!this.#open) return false;
    this.#open = false;
    this.#socket.off('messages', this.#onMessages);
    this.#settlePull();
    return true;
  }
}

/** The readable over `source`; its high-water mark counts datagrams (a batch counts its length) or bytes. */
export function createReadable<Chunk extends ReadChunk>(source: DatagramSource<Chunk>, measure: Measure, batches: boolean): ReadableStream<Chunk> {
  const { highWaterMark, size } = measure;
  // One datagram per chunk, counted: the stream's own count is the fastest.
  if (!batches && !measure.inBytes) return new ReadableStream(source, { highWaterMark });
  const sizeOf = (chunk: ReadChunk): number => {
    if (!Array.isArray(chunk)) return size(chunk.data.byteLength);
    let total = 0;
    for (const message of chunk) total += size(message.data.byteLength);
    return total;
  };
  return new ReadableStream(source, { highWaterMark, size: sizeOf });
}
