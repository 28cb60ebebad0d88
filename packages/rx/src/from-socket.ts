// Push sources: every datagram as it comes, no demand and no strategy.
// For a consumer that keeps up (synchronous work); see udpFeed otherwise.
import type { RemoteInfo } from '@udpkit/core';
import { Observable, type OperatorFunction } from 'rxjs';
import { attachSocket, type Datagram, type DatagramBatch, type SocketSource } from './socket-source.js';

/**
 * The datagrams `source` receives. Over an existing socket, unsubscribing
 * removes the listeners and leaves the socket open; given options, the
 * socket is created and bound on subscribe and closed on unsubscribe. The
 * socket's 'error' (a bind error included) errors the stream, 'close'
 * completes it.
 */
export function fromSocket(source: SocketSource): Observable<Datagram> {
  return new Observable<Datagram>((subscriber) => {
    const { detach } = attachSocket(source, {
      messages(buffers, rinfos) {
        for (let i = 0; i < buffers.length && !subscriber.closed; i++) subscriber.next({ data: buffers[i]!, rinfo: rinfos[i]! });
      },
      error: (error) => subscriber.error(error),
      close: () => subscriber.complete(),
    });
    return detach;
  });
}

/**
 * One value per kernel wake-up (core's `'messages'`: up to 64 datagrams
 * from one `recvmmsg` on the native backend, one on the portable backend).
 * The same lifetime rules as fromSocket.
 */
export function fromSocketBatches(source: SocketSource): Observable<DatagramBatch> {
  return new Observable<DatagramBatch>((subscriber) => {
    const { detach } = attachSocket(source, {
      messages: (buffers, rinfos) => subscriber.next({ buffers, rinfos }),
      error: (error) => subscriber.error(error),
      close: () => subscriber.complete(),
    });
    return detach;
  });
}

/** Each datagram of each batch, in order, as a Datagram (one object per datagram, nothing else). */
export function flattenBatches(): OperatorFunction<DatagramBatch, Datagram> {
  return (source) =>
    new Observable<Datagram>((subscriber) =>
      source.subscribe({
        next({ buffers, rinfos }) {
          for (let i = 0; i < buffers.length && !subscriber.closed; i++) subscriber.next({ data: buffers[i]!, rinfo: rinfos[i]! });
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => subscriber.complete(),
      }),
    );
}

/**
 * Maps each datagram of a batch with `project(data, rinfo)` and emits one
 * array per batch: batch-level throughput (one emission per wake-up)
 * without a Datagram object per datagram.
 */
export function mapBatch<R>(project: (data: Buffer, rinfo: RemoteInfo) => R): OperatorFunction<DatagramBatch, R[]> {
  return (source) =>
    new Observable<R[]>((subscriber) =>
      source.subscribe({
        next({ buffers, rinfos }) {
          const results = new Array<R>(buffers.length);
          try {
            for (let i = 0; i < buffers.length; i++) results[i] = project(buffers[i]!, rinfos[i]!);
          } catch (error) {
            subscriber.error(error);
            return;
          }
          subscriber.next(results);
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => subscriber.complete(),
      }),
    );
}
