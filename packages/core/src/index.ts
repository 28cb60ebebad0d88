// @udpkit/core: node:dgram's Socket, drop-in, with batched I/O.
import { Socket, type MessageListener, type SocketOptions, type SocketType } from './socket.js';

export function createSocket(type: SocketType | SocketOptions, callback?: MessageListener): Socket {
  return new Socket(type, callback);
}

export { Socket };
export type {
  BindOptions,
  LookupFunction,
  MessageListener,
  OutgoingMessage,
  SendCallback,
  SocketOptions,
  SocketStats,
  SocketType,
} from './socket.js';
export type { AddressInfo, BackendName, ReceiveMetadata, RemoteInfo } from './backend.js';
export type { ErrnoError, NodeStyleError } from './errors.js';
export { defaultBackend } from './backends.js';
export { nativeLoadError } from './native-backend.js';

/** `import dgram from '@udpkit/core'` works as `import dgram from 'node:dgram'` does. */
export default { createSocket, Socket };
