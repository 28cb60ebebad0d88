// Coalesces the datagrams given in one tick into one sendMany (of up to
// 1024), with at most one sendMany in flight: while the kernel's send buffer is full (core
// waits for writability before calling back), new datagrams wait here and
// leave together in the next sendMany. Core's send queue so holds at most
// one batch, and whoever waits for the settle callbacks is paced by it.
import type { OutgoingMessage, Socket } from '@udpkit/core';

/**
 * Datagrams per sendMany: one sendmmsg(2) takes at most 1024, so larger
 * batches gain nothing, and core's send queue stays within one call.
 */
const MAX_BATCH = 1024;

/** Called once per message, when its batch was handed to the kernel; `error` is the batch's first error. */
export type Settle = (error: Error | null) => void;

/** Called once per batch: its first error, how many went, how many it had. */
export type BatchDone = (error: Error | null, sent: number, count: number) => void;

export class SendBatcher {
  readonly #socket: Socket;
  readonly #onBatch: BatchDone;
  #messages: OutgoingMessage[] = [];
  #settles: (Settle | undefined)[] = [];
  #inFlight = false;
  #scheduled = false;
  #onIdle: (() => void) | undefined;

  constructor(socket: Socket, onBatch: BatchDone) {
    this.#socket = socket;
    this.#onBatch = onBatch;
  }

  /** Nothing waits and nothing is in flight. */
  get idle(): boolean {
    return !this.#inFlight && this.#messages.length === 0;
  }

  add(message: OutgoingMessage, settle?: Settle): void {
    this.#messages.push(message);
    this.#settles.push(settle);
    if (!this.#scheduled && !this.#inFlight) {
      this.#scheduled = true;
      process.nextTick(() => this.#flush());
    }
  }

  /** Calls `callback` once idle (now, if it is). */
  whenIdle(callback: () => void): void {
    if (this.idle) callback();
    else this.#onIdle = callback;
  }

  #flush(): void {
    this.#scheduled = false;
    if (this.#inFlight || this.#messages.length === 0) return;
    let messages = this.#messages;
    let settles = this.#settles;
    if (messages.length <= MAX_BATCH) {
      this.#messages = [];
      this.#settles = [];
    } else {
      messages = messages.splice(0, MAX_BATCH);
      settles = settles.splice(0, MAX_BATCH);
    }
    this.#inFlight = true;
    const done = (error: Error | null, sent: number) => {
      this.#inFlight = false;
      for (const settle of settles) settle?.(error);
      this.#onBatch(error, sent, messages.length);
      if (this.#messages.length > 0) this.#flush();
      else if (this.#onIdle) {
        const onIdle = this.#onIdle;
        this.#onIdle = undefined;
        onIdle();
      }
    };
    try {
      this.#socket.sendMany(messages, done);
    } catch {
      // sendMany validates the whole batch before it sends any: one message
      // that does not (a bad port, a detached buffer) would take the others
      // down with it. One by one, it fails alone.
      this.#sendEach(messages, done);
    }
  }

  #sendEach(messages: OutgoingMessage[], done: (error: Error | null, sent: number) => void): void {
    let pending = messages.length;
    let firstError: Error | null = null;
    let sent = 0;
    const settleOne = (error: Error | null, count: number) => {
      firstError ??= error;
      sent += count;
      if (--pending === 0) done(firstError, sent);
    };
    for (const message of messages) {
      try {
        this.#socket.sendMany([message], settleOne);
      } catch (error) {
        // Reported after the others were queued, as sendMany's callbacks are.
        process.nextTick(settleOne, error as Error, 0);
      }
    }
  }
}
