// Sending from a pipeline: an operator for push pipelines, and a send
// function whose promise is the demand for a feed's consume().
import type { OutgoingMessage, Socket } from '@udpkit/core';
import { Observable, type OperatorFunction } from 'rxjs';
import { SendBatcher } from './send-batcher.js';

export interface SendOptions {
  /**
   * Takes a batch's error instead of erroring the stream: `error` is the
   * first datagram the kernel refused, `failed` how many of the batch did
   * not go. The stream goes on.
   */
  onError?: ((error: Error, failed: number) => void) | undefined;
}

/**
 * Sends each value on `socket`. The values of one tick leave in one
 * `sendMany` (up to 1024 per call), one `sendMany` at a time: while the
 * kernel's send buffer is full, values wait here and leave together once
 * it drains. Emits how many datagrams each `sendMany` handed to the
 * kernel, and completes when the source completed and everything was
 * handed over.
 *
 * A datagram the kernel refuses, or a message that does not validate,
 * fails alone (the others still go) and errors the stream, as an error
 * does everywhere in RxJS; give `onError` to count such losses and go on.
 */
export function sendTo(socket: Socket, options: SendOptions = {}): OperatorFunction<OutgoingMessage, number> {
  return (source) =>
    new Observable<number>((subscriber) => {
      const batcher = new SendBatcher(socket, (error, sent, count) => {
        if (error) {
          if (!options.onError) {
            subscriber.error(error);
            return;
          }
          options.onError(error, count - sent);
        }
        subscriber.next(sent);
      });
      return source.subscribe({
        next: (message) => batcher.add(message),
        error: (error: unknown) => subscriber.error(error),
        complete: () => batcher.whenIdle(() => subscriber.complete()),
      });
    });
}

/**
 * A function that sends one datagram and resolves once the `sendMany` that
 * carried it handed it to the kernel (datagrams given in one tick share one
 * `sendMany`). Its promise follows the socket's send queue, so as a
 * consume() handler it is backpressure from the kernel's send buffer all
 * the way to the receiving socket:
 *
 *   feed.datagrams$.pipe(map(toReply), feed.consume(createSender(socket), { concurrency: 256 }))
 *
 * The promise rejects with the batch's error when a datagram of its batch
 * was refused, unless `onError` takes it.
 */
export function createSender(socket: Socket, options: SendOptions = {}): (message: OutgoingMessage) => Promise<void> {
  const batcher = new SendBatcher(socket, (error, sent, count) => {
    if (error && options.onError) options.onError(error, count - sent);
  });
  return (message) =>
    new Promise<void>((resolve, reject) =>
      batcher.add(message, (error) => (error && !options.onError ? reject(error) : resolve())),
    );
}
