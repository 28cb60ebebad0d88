// @udpkit/core: node:dgram's Socket, drop-in, with batched I/O.
import nodeDgram from 'node:dgram';
import { defaultBackend } from './backends.js';
import { callable } from './es5-class.js';
import './legacy.js';
import { nativeLoadError } from './native-backend.js';
import { nodeLine } from './node-line.js';
import { Socket as SocketClass, type MessageListener, type SocketOptions, type SocketType } from './socket.js';

export function createSocket(type: SocketType | SocketOptions, callback?: MessageListener): Socket {
  return new SocketClass(type, callback);
}

/** A udpkit socket: node:dgram's Socket and more. */
export interface Socket extends SocketClass {}

export interface SocketConstructor {
  new (type: SocketType | SocketOptions, listener?: MessageListener): Socket;
  readonly prototype: Socket;
}

/** The Socket class; like Node's, also a plain constructor: `Socket.call(this, 'udp4')` + `util.inherits` work. */
export const Socket: SocketConstructor = callable(SocketClass);

export type {
  BindOptions,
  LookupFunction,
  MessageListener,
  OutgoingMessage,
  SendCallback,
  SendManyCallback,
  SocketFeatures,
  SocketOptions,
  SocketStats,
  SocketType,
} from './socket.js';
export type { AddressInfo, BackendName, ReceiveMetadata, RemoteInfo } from './backend.js';
export type { ErrnoError, NodeStyleError } from './errors.js';
export type { GroState, GroStatus } from './gro.js';
export type { GsoState, GsoStatus } from './gso.js';
export type { LegacyHandle } from './legacy.js';
export { defaultBackend, nativeLoadError };

/**
 * `import dgram from '@udpkit/core'` works as `import dgram from 'node:dgram'`
 * does, and it is what `require('@udpkit/core')` returns: one plain,
 * mutable object, as Node's module is (test doubles replace `createSocket`
 * on it). `_createSocketHandle` is there on the Node lines whose node:dgram
 * still has it (Node's own, deprecated).
 */
const dgram: {
  _createSocketHandle?: (...args: unknown[]) => unknown;
  createSocket: typeof createSocket;
  Socket: typeof Socket;
  defaultBackend: typeof defaultBackend;
  nativeLoadError: typeof nativeLoadError;
} = {
  ...(nodeLine.createSocketHandle
    ? { _createSocketHandle: (nodeDgram as unknown as { _createSocketHandle: (...args: unknown[]) => unknown })._createSocketHandle }
    : {}),
  createSocket,
  Socket,
  defaultBackend,
  nativeLoadError,
};
export default dgram;
