// The promise-returning close() of Receiver and Sender: idempotent, like
// leaving a membership, so cleanup code may call it whatever closed the
// socket before (a listener, an earlier close(), socket.close()).
import type { Socket } from '@udpkit/core';

/** A function that closes `socket` (once) and resolves on its 'close' event. */
export function closer(socket: Socket): () => Promise<void> {
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return async () => {
    try {
      socket.close();
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'ERR_SOCKET_DGRAM_NOT_RUNNING') throw error;
    }
    return closed;
  };
}
