// The readable side: a pull-driven source over a core socket. Each kernel
// batch ('messages') is enqueued in one step; when that leaves the queue at
// or past its high-water mark the socket is paused, so further datagrams
// wait in the kernel's receive buffer instead of the heap. The stream calls
// pull() again only once a read made room, and pull() resumes the socket.
import type { UnderlyingSource } from 'node:stream/web';
import type { RemoteInfo, Socket } from '@udpkit/core';
import type { Measure } from './high-water-mark.js';
import { toReceived, toReceivedWithMetadata, type UDPMessage } from './message.js';

export interface ReadableHooks {
  /** The consumer cancelled the stream. */
  onCancel(reason: unknown): void;
}

export class DatagramSource implements UnderlyingSource<UDPMessage> {
  readonly #socket: Socket;
  readonly #hooks: ReadableHooks;
  readonly #toMessage: (data: Buffer, rinfo: RemoteInfo) => UDPMessage;
  #controller: ReadableStreamDefaultController<UDPMessage> | undefined;
  #open = true;

  constructor(socket: Socket, hooks: ReadableHooks, withMetadata: boolean) {
    this.#socket = socket;
    this.#hooks = hooks;
    this.#toMessage = withMetadata ? toReceivedWithMetadata : toReceived;
  }

  start(controller: ReadableStreamDefaultController<UDPMessage>): void {
    this.#controller = controller;
    // Nothing is read until the stream asks: pull() follows at once if the queue has room.
    this.#socket.pause();
    this.#socket.on('messages', this.#onMessages);
  }

  pull(): void {
    this.#socket.resume();
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
    const controller = this.#controller!;
    const toMessage = this.#toMessage;
    for (let i = 0; i < buffers.length; i++) controller.enqueue(toMessage(buffers[i]!, rinfos[i]!));
    if (controller.desiredSize! <= 0) this.#socket.pause();
  };

  #detach(): boolean {
    if (!this.#open) return false;
    this.#open = false;
    this.#socket.off('messages', this.#onMessages);
    return true;
  }
}

export function createReadable(source: DatagramSource, measure: Measure): ReadableStream<UDPMessage> {
  const { highWaterMark, size } = measure;
  return new ReadableStream(source, {
    highWaterMark,
    size: measure.inBytes ? (message) => size(message.data.byteLength) : undefined,
  });
}
