// Where a source's datagrams come from: an existing socket (the source
// only adds and removes listeners) or one the source owns (created and
// bound on subscribe, closed on unsubscribe).
import { createSocket, type RemoteInfo, type Socket, type SocketOptions } from '@udpkit/core';

/** A datagram with its sender (and the receive metadata the socket asked for). */
export interface Datagram {
  data: Buffer;
  rinfo: RemoteInfo;
}

/** The datagrams of one kernel wake-up (one `recvmmsg`), index for index. */
export interface DatagramBatch {
  buffers: Buffer[];
  rinfos: RemoteInfo[];
}

/** A socket the source creates on subscribe, binds, and closes on unsubscribe. */
export interface OwnedSocketOptions extends Omit<SocketOptions, 'type'> {
  /** Default `'udp4'`. */
  type?: SocketOptions['type'];
  /** Default 0: the kernel picks a port (read it from `feed.socket.address()`). */
  port?: number;
  /** Default all addresses, as `bind()`. */
  address?: string;
  /** Called with the socket once it listens, before any datagram is delivered. A throw errors the stream. */
  onListening?: (socket: Socket) => void;
}

/** An existing core Socket, or the options for one the source owns. */
export type SocketSource = Socket | OwnedSocketOptions;

export interface SocketListener {
  messages(buffers: Buffer[], rinfos: RemoteInfo[]): void;
  error(error: Error): void;
  close(): void;
}

export interface Attachment {
  readonly socket: Socket;
  detach(): void;
}

/**
 * Whether `source` is a core Socket rather than options. Throws for what is
 * neither, a node:dgram socket say, which would otherwise pass for options.
 */
export function isSocket(source: SocketSource): source is Socket {
  const candidate = source as Partial<Socket> | null | undefined;
  if (typeof candidate === 'object' && candidate !== null) {
    if (typeof candidate.on !== 'function') return false;
    if (typeof candidate.sendMany === 'function') return true;
  }
  const error = new TypeError('@udpkit/rx: the source must be a @udpkit/core Socket or the options of a socket to create');
  throw Object.assign(error, { code: 'ERR_INVALID_ARG_TYPE' });
}

/**
 * Listens to `source`'s 'messages', 'error' and 'close'. `detach()` removes
 * the listeners, and closes the socket if the source owns it.
 */
export function attachSocket(source: SocketSource, listener: SocketListener): Attachment {
  const owned = !isSocket(source);
  let socket: Socket;
  if (owned) {
    const { port = 0, address, onListening, type = 'udp4', ...options } = source;
    const created = createSocket({ ...options, type });
    if (onListening) {
      created.once('listening', () => {
        try {
          onListening(created);
        } catch (error) {
          listener.error(error as Error); // a user callback's throw errors the stream, never the process
        }
      });
    }
    try {
      created.bind(port, address);
    } catch (error) {
      created.close(); // an address that does not validate throws here: the socket is not left behind
      throw error;
    }
    socket = created;
  } else {
    socket = source;
  }
  let closed = false;
  const onMessages = (buffers: Buffer[], rinfos: RemoteInfo[]) => listener.messages(buffers, rinfos);
  const onError = (error: Error) => listener.error(error);
  const onClose = () => {
    closed = true;
    listener.close();
  };
  socket.on('messages', onMessages);
  socket.on('error', onError);
  socket.on('close', onClose);
  return {
    socket,
    detach() {
      socket.off('messages', onMessages);
      socket.off('error', onError);
      socket.off('close', onClose);
      if (owned && !closed) {
        closed = true;
        socket.close();
      }
    },
  };
}
