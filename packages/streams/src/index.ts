// @udpkit/streams: WHATWG streams over udpkit sockets.
import type { RemoteInfo, Socket } from '@udpkit/core';

/** A received datagram, shaped like the Direct Sockets UDPMessage. */
export interface UDPMessage {
  data: Uint8Array;
  remoteAddress: string;
  remotePort: number;
}

export interface ReadableOptions {
  /** Datagrams held before the socket is paused. Default 64. */
  highWaterMark?: number;
}

/**
 * A pull-driven ReadableStream of the datagrams `socket` receives: when its
 * queue is full the socket is paused (the kernel buffer holds the rest) and
 * reading resumes when the consumer pulls. Cancelling leaves the socket open.
 */
export function readableFrom(socket: Socket, options: ReadableOptions = {}): ReadableStream<UDPMessage> {
  let detach = () => {};
  return new ReadableStream<UDPMessage>(
    {
      start(controller) {
        const onMessage = (data: Buffer, rinfo: RemoteInfo) => {
          controller.enqueue({ data, remoteAddress: rinfo.address, remotePort: rinfo.port });
          if ((controller.desiredSize ?? 1) <= 0) socket.pause();
        };
        const onError = (error: Error) => {
          detach();
          controller.error(error);
        };
        const onClose = () => {
          detach();
          controller.close();
        };
        socket.on('message', onMessage);
        socket.on('error', onError);
        socket.on('close', onClose);
        detach = () => {
          socket.off('message', onMessage);
          socket.off('error', onError);
          socket.off('close', onClose);
        };
      },
      pull() {
        socket.resume();
      },
      cancel() {
        detach();
        socket.resume();
      },
    },
    { highWaterMark: options.highWaterMark ?? 64 },
  );
}
