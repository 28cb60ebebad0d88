// @udpkit/rx: UDP datagrams as RxJS Observables.
import type { RemoteInfo, Socket } from '@udpkit/core';
import { Observable } from 'rxjs';

export interface Datagram {
  data: Buffer;
  rinfo: RemoteInfo;
}

/**
 * The datagrams an existing socket receives. Unsubscribing removes the
 * listeners and leaves the socket open; the socket's 'error' errors the
 * stream and its 'close' completes it.
 */
export function fromSocket(socket: Socket): Observable<Datagram> {
  return new Observable<Datagram>((subscriber) => {
    const onMessage = (data: Buffer, rinfo: RemoteInfo) => subscriber.next({ data, rinfo });
    const onError = (error: Error) => subscriber.error(error);
    const onClose = () => subscriber.complete();
    socket.on('message', onMessage);
    socket.on('error', onError);
    socket.on('close', onClose);
    return () => {
      socket.off('message', onMessage);
      socket.off('error', onError);
      socket.off('close', onClose);
    };
  });
}
