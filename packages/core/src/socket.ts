// The Socket: node:dgram's state machine and semantics (lib/dgram.js), over
// a backend that does the I/O. Node's order of events, errors and callbacks
// is kept step for step; comments mark where and why udpkit adds to it.
import { Buffer } from 'node:buffer';
import dns from 'node:dns';
import { EventEmitter } from 'node:events';
import { isIP, type BlockList } from 'node:net';
import { isArrayBufferView } from 'node:util/types';
import {
  BIND_IPV6ONLY,
  BIND_REUSEADDR,
  BIND_REUSEPORT,
  METADATA_DESTINATION,
  METADATA_TIMESTAMP,
  type AddressInfo,
  type Backend,
  type BackendFeatures,
  type BackendName,
  type RemoteInfo,
} from './backend.js';
import type { GsoStatus } from './gso.js';
import { datagramsInRead, groStatus, type GroStatus } from './gro.js';
import { createBackend } from './backends.js';
import { UV_EINVAL, UV_EISCONN } from './errno.js';
import { blockListOption, isBlocked } from './block-list.js';
import { AdoptingEmitter } from './es5-class.js';
import { nodeLine } from './node-line.js';
import {
  bufferSizeError,
  errnoException,
  errors,
  exceptionWithHostPort,
  invalidArgType,
  type ErrnoError,
} from './errors.js';
import {
  isInt32,
  validateAbortSignal,
  validateFunction,
  validateNumber,
  validateObject,
  validatePort,
  validateString,
  validateUint32,
} from './validators.js';

export type SocketType = 'udp4' | 'udp6';

export type LookupFunction = (
  hostname: string,
  family: number,
  callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void,
) => void;

export interface SocketOptions {
  type: SocketType;
  reuseAddr?: boolean | undefined;
  /** `SO_REUSEPORT`: several sockets share one port, the kernel spreads datagrams over them. */
  reusePort?: boolean | undefined;
  ipv6Only?: boolean | undefined;
  recvBufferSize?: number | undefined;
  sendBufferSize?: number | undefined;
  lookup?: LookupFunction | undefined;
  signal?: AbortSignal | undefined;
  /** Datagrams from these addresses are dropped unseen (Node 22.13; udpkit on every line). */
  receiveBlockList?: BlockList | undefined;
  /** Sends and connects to these addresses fail with `ERR_IP_BLOCKED` (Node 22.13; udpkit on every line). */
  sendBlockList?: BlockList | undefined;
  /** udpkit: which backend does the I/O; default `UDPKIT_BACKEND`, else native when it loads. */
  backend?: BackendName | undefined;
  /** udpkit: per-datagram metadata on `rinfo` (native backend). */
  receiveMetadata?: { destination?: boolean; timestamp?: boolean } | undefined;
  /**
   * udpkit: GSO send (`UDP_SEGMENT`, native backend): runs of datagrams to
   * one destination leave as one send. Default on where the kernel has it;
   * `false` turns it off; `true` on the portable backend throws.
   */
  gso?: boolean | undefined;
  /**
   * udpkit: `UDP_GRO` (native backend): the kernel may hand over many
   * same-size datagrams of one sender in one read; `'message'` and
   * `'messages'` still see each datagram, `'segments'` sees the reads.
   * Whether the kernel took it: `socket.features.gro`.
   */
  gro?: boolean | undefined;
}

export interface BindOptions {
  port?: number | undefined;
  address?: string | undefined;
  exclusive?: boolean | undefined;
  fd?: number | undefined;
}

/** A datagram for `sendMany`. */
export interface OutgoingMessage {
  data: string | NodeJS.ArrayBufferView;
  /** Required on an unconnected socket; not allowed on a connected one. */
  port?: number;
  /** Host name or IP; default localhost, as for `send`. */
  address?: string;
}

export interface SocketStats {
  datagramsSent: number;
  bytesSent: number;
  datagramsReceived: number;
  bytesReceived: number;
  /** System calls that sent at least one datagram (one `sendmmsg` carries many). */
  sendBatches: number;
  /** Wake-ups that delivered datagrams (one `recvmmsg` carries many). */
  receiveBatches: number;
  /** As `getSendQueueCount()` and `getSendQueueSize()`. */
  sendQueueCount: number;
  sendQueueSize: number;
  /** Datagrams the kernel dropped because the receive buffer was full (`SO_RXQ_OVFL`). */
  kernelDrops: number;
  /** `UDP_SEGMENT` sends the kernel took (each carries 2 to 64 datagrams), and the datagrams they carried. */
  gsoSends: number;
  gsoSegments: number;
}

/** What the socket's backend can do beyond node:dgram; `gso` and `gro` are this socket's own offload states. */
export interface SocketFeatures extends Omit<BackendFeatures, 'gso' | 'gro'> {
  readonly gso: GsoStatus;
  readonly gro: GroStatus;
}

export type MessageListener = (msg: Buffer, rinfo: RemoteInfo) => void;

/** The events of a Socket: node:dgram's, plus `'messages'` and `'segments'` (one per receive batch). */
export interface SocketEventMap {
  close: [];
  connect: [];
  error: [error: Error];
  listening: [];
  message: [msg: Buffer, rinfo: RemoteInfo];
  messages: [msgs: Buffer[], rinfos: RemoteInfo[]];
  segments: [reads: Buffer[], segmentSizes: number[], rinfos: RemoteInfo[]];
}
export type SendCallback = (error: Error | null, bytes: number) => void;
/** `sendMany`'s and `sendSegments`' callback: the first error, and how many datagrams went. */
export type SendManyCallback = (error: Error | null, sent: number) => void;

const enum BindState {
  Unbound,
  Binding,
  Bound,
}

const enum ConnectState {
  Disconnected,
  Connecting,
  Connected,
}

/** What Node's DEP0112 members (`_bindState`, `_handle`, …) read and write: see legacy.ts. */
export interface LegacyView {
  bindState: number;
  receiving: boolean;
  queue: (() => void)[] | undefined;
  reuseAddr: boolean | undefined;
  open(): boolean;
  fileno(): number;
  healthCheck(): void;
  stopReceiving(): void;
}

export let legacyView: (socket: Socket) => LegacyView;

const sendBufferTypes = ['Buffer', 'TypedArray', 'DataView', 'string'];

// AdoptingEmitter: EventEmitter, plus the ES5 `Socket.call(this)` (see es5-class.ts).
export class Socket extends AdoptingEmitter<SocketEventMap> {
  readonly type: SocketType;
  #family: 4 | 6;
  readonly #backend: Backend;
  /** False once closed (Node sets its handle to null). */
  #open = true;
  #lookup: LookupFunction;
  #receiving = false;
  #paused = false;
  #bindState = BindState.Unbound;
  #connectState = ConnectState.Disconnected;
  #queue: (() => void)[] | undefined;
  /** The option as given: Node's `_reuseAddr` shows it so. */
  #reuseAddr: boolean | undefined;
  #reusePort: boolean;
  #ipv6Only: boolean;
  #recvBufferSize: number | undefined;
  #sendBufferSize: number | undefined;
  #metadataFlags: number;
  #gro: boolean;
  #receiveBlockList: BlockList | undefined;
  #sendBlockList: BlockList | undefined;
  #received = { datagrams: 0, bytes: 0, batches: 0 };
  /** The newest address found to be an IP literal: skips isIP's regular expression on repeats. */
  #lastLiteral: string | undefined;

  constructor(type: SocketType | SocketOptions, listener?: MessageListener) {
    super();
    let options: SocketOptions | undefined;
    if (type !== null && typeof type === 'object') {
      options = type;
      type = options.type;
      // Invalid options are reported in Node's order: buffer sizes (when
      // truthy), block lists, lookup, type; then udpkit's own, which Node
      // lacks: backend, receiveMetadata, reusePort's support, gso, gro; then
      // signal, which Node checks last.
      if (options.recvBufferSize) validateUint32(options.recvBufferSize, 'options.recvBufferSize');
      if (options.sendBufferSize) validateUint32(options.sendBufferSize, 'options.sendBufferSize');
      this.#receiveBlockList = blockListOption(options.receiveBlockList, 'options.receiveBlockList');
      this.#sendBlockList = blockListOption(options.sendBlockList, 'options.sendBlockList');
    }
    if (options?.lookup !== undefined) validateFunction(options.lookup, 'lookup');
    if (type !== 'udp4' && type !== 'udp6') throw errors.badType();

    this.type = type;
    this.#family = type === 'udp4' ? 4 : 6;
    this.#lookup = options?.lookup ?? defaultLookup();
    this.#reuseAddr = options?.reuseAddr;
    this.#reusePort = !!options?.reusePort;
    this.#ipv6Only = !!options?.ipv6Only;
    this.#recvBufferSize = options?.recvBufferSize;
    this.#sendBufferSize = options?.sendBufferSize;
    this.#metadataFlags =
      (options?.receiveMetadata?.destination ? METADATA_DESTINATION : 0) |
      (options?.receiveMetadata?.timestamp ? METADATA_TIMESTAMP : 0);

    this.#backend = createBackend(options?.backend, this.#family, {
      wantsEach: () => this.#open && this.listenerCount('message') > 0,
      wantsBatch: () => this.#open && this.listenerCount('messages') > 0,
      wantsSegments: () => this.#open && this.listenerCount('segments') > 0,
      onBatch: (data, rinfos) => this.#onBatch(data, rinfos),
      onSegments: (data, segmentSizes, rinfos, counted) => this.#onSegments(data, segmentSizes, rinfos, counted),
      onDatagram: (data, rinfo) => {
        // Node never emits 'message' after close(), even mid-batch.
        if (this.#open && !isBlocked(this.#receiveBlockList, rinfo.address, rinfo.family)) this.emit('message', data, rinfo);
      },
      onReceiveError: (errno) => this.emit('error', errnoException(errno, 'recvmsg')),
    });
    if (this.#metadataFlags && !this.#backend.features.receiveMetadata) {
      throw errors.unsupported('receiveMetadata', this.#backend.name);
    }
    if (this.#reusePort && !this.#backend.features.reusePort) {
      throw errors.unsupported('reusePort', this.#backend.name);
    }
    const gso = offloadOption(options?.gso, 'gso', this.#backend);
    this.#gro = offloadOption(options?.gro, 'gro', this.#backend) === true;
    if (gso === false) this.#backend.setGso(false);
    // Applied when the descriptor is made; a kernel without UDP_GRO leaves
    // the socket reading datagrams one by one, and features.gro says why.
    if (this.#gro) this.#backend.setGro();

    if (typeof listener === 'function') this.on('message', listener);

    if (options?.signal !== undefined) {
      const { signal } = options;
      validateAbortSignal(signal, 'options.signal');
      const onAborted = () => {
        if (this.#open) this.close();
      };
      if (signal.aborted) {
        onAborted();
      } else {
        signal.addEventListener('abort', onAborted, { once: true });
        this.once('close', () => signal.removeEventListener('abort', onAborted));
      }
    }
  }

  static {
    legacyView = (socket) => ({
      get bindState() {
        return socket.#bindState;
      },
      set bindState(value) {
        socket.#bindState = value;
      },
      get receiving() {
        return socket.#receiving;
      },
      set receiving(value) {
        socket.#receiving = value;
      },
      get queue() {
        return socket.#queue;
      },
      set queue(value) {
        socket.#queue = value;
      },
      get reuseAddr() {
        return socket.#reuseAddr;
      },
      set reuseAddr(value) {
        socket.#reuseAddr = value;
      },
      open: () => socket.#open,
      fileno: () => socket.#backend.fileno(),
      healthCheck: () => void socket.#healthCheck(),
      stopReceiving: () => socket.#stopReceiving(),
    });
  }

  /** Which backend does the I/O: `'native'` (the C helper) or `'portable'` (node:dgram). */
  get backend(): BackendName {
    return this.#backend.name;
  }

  /** What this socket can do beyond node:dgram, with its GSO and GRO states and, when one is not on, why. */
  get features(): SocketFeatures {
    const backend = this.#backend;
    return {
      ...backend.features,
      gso: backend.gso().status,
      gro: groStatus(this.#gro, this.#open, backend.features.gro, () => backend.groState()),
    };
  }

  // ---- bind / connect -----------------------------------------------------

  bind(port?: number, address?: string, callback?: () => void): this;
  bind(port?: number, callback?: () => void): this;
  bind(callback?: () => void): this;
  bind(options: BindOptions, callback?: () => void): this;
  bind(...args: unknown[]): this {
    let port: unknown = args[0];
    const address_ = args[1];
    const backend = this.#healthCheck();

    if (this.#bindState !== BindState.Unbound) throw errors.alreadyBound();
    this.#bindState = BindState.Binding;

    const cb = args.length > 0 && args[args.length - 1];
    if (typeof cb === 'function') {
      // Newer lines watch errorMonitor, so a bind error with no 'error'
      // listener is thrown; older ones listen to 'error' and swallow it.
      const errorEvent = nodeLine.bindErrorsReachErrorMonitor ? EventEmitter.errorMonitor : 'error';
      const removeListeners = () => {
        (this as EventEmitter).removeListener(errorEvent, removeListeners);
        this.removeListener('listening', onListening);
      };
      const onListening = () => {
        removeListeners();
        cb.call(this);
      };
      (this as EventEmitter).on(errorEvent, removeListeners);
      this.on('listening', onListening);
    }

    if (port !== null && typeof port === 'object') {
      const { fd } = port as BindOptions;
      if (isInt32(fd) && fd > 0) {
        // Adopting a descriptor is synchronous in Node, errors are thrown,
        // and Node leaves the socket "binding" after one: a later bind()
        // throws ERR_SOCKET_ALREADY_BOUND. Kept as is.
        backend.open(fd);
        this.#startListening();
        return this;
      }
    }

    let address: unknown;
    if (port !== null && typeof port === 'object') {
      const options = port as BindOptions;
      address = options.address || '';
      port = options.port;
    } else {
      address = typeof address_ === 'function' ? '' : address_;
    }
    if (!address) address = this.#family === 4 ? '0.0.0.0' : '::';

    let insideBind = true;
    this.#resolve(address as string, (err, ip) => {
      if (!this.#open) return; // closed in the mean time: not even a lookup error is reported
      if (err) {
        this.#bindState = BindState.Unbound;
        this.emit('error', err);
        return;
      }
      // Node's handle takes the port through ToUint32 and keeps 16 bits,
      // here, after the lookup: a Symbol, a BigInt or a throwing valueOf
      // throws out of bind() when the lookup answered at once, and is an
      // uncaught exception when it answered later, where udpkit emits it.
      let numericPort: number;
      try {
        numericPort = (+(port || 0) >>> 0) & 0xffff;
      } catch (error) {
        if (insideBind) throw error;
        this.#bindState = BindState.Unbound;
        this.emit('error', error as Error);
        return;
      }

      this.#backend.bind(ip, numericPort, this.#bindFlags(), (errno) => {
        if (!this.#open) return;
        if (errno) {
          this.#bindState = BindState.Unbound;
          this.emit('error', exceptionWithHostPort(errno, 'bind', ip, port as number));
          return;
        }
        this.#startListening();
      });
    });
    insideBind = false;
    return this;
  }

  /**
   * The bind that connect and send do on an unbound socket. A lookup that
   * answers at once completes it here, and a 'listening' listener may close
   * the socket: Node then fails on its emptied handle; udpkit says so. (A
   * bind that failed leaves the work queued, as in Node.)
   */
  #bindImplicitly(): void {
    if (this.#bindState !== BindState.Unbound) return;
    this.bind({ port: 0, exclusive: true });
    // (bind() has changed the state: TypeScript does not know.)
    if (!this.#open && (this.#bindState as BindState) === BindState.Bound) throw errors.notRunning();
  }

  #bindFlags(): number {
    let flags = 0;
    if (this.#reuseAddr) flags |= BIND_REUSEADDR;
    if (this.#reusePort) flags |= BIND_REUSEPORT;
    if (this.#ipv6Only) flags |= BIND_IPV6ONLY;
    return flags;
  }

  /**
   * Binds now, to an IP literal (no lookup), as Node 24.19 / 26.4 do: errors
   * are thrown, `'listening'` follows on the next tick. Returns `address()`.
   * udpkit offers it on every Node line.
   */
  bindSync(options: { port?: number | undefined; address?: string | undefined } = {}): AddressInfo {
    const backend = this.#healthCheck();
    validateObject(options, 'options');
    if (this.#bindState !== BindState.Unbound) throw errors.alreadyBound();
    // Validated before the state changes: a bad argument leaves the socket reusable.
    const port = validatePort(options.port ?? 0, 'options.port');
    let { address } = options;
    if (!address) {
      address = this.#family === 4 ? '0.0.0.0' : '::';
    } else {
      validateString(address, 'options.address');
      if (isIP(address) === 0) {
        throw errors.invalidArgValue('options.address', address, 'must be a numeric IP address; bindSync does not perform DNS resolution');
      }
    }
    this.#bindState = BindState.Binding;
    const errno = synchronously((done) => backend.bind(address, port, this.#bindFlags(), done), 'bindSync', backend.name);
    if (errno) {
      this.#bindState = BindState.Unbound;
      throw exceptionWithHostPort(errno, 'bind', address, port);
    }
    this.#startReceiving();
    process.nextTick(() => {
      if (this.#open) this.emit('listening');
    });
    return this.address();
  }

  #startListening(): void {
    this.#startReceiving();
    this.emit('listening');
  }

  #startReceiving(): void {
    const backend = this.#backend;
    if (this.#metadataFlags) backend.setReceiveMetadata(this.#metadataFlags);
    // node:dgram underneath starts reading by itself: stop it if paused.
    if (this.#paused) backend.recvStop();
    else backend.recvStart();
    this.#receiving = true;
    this.#bindState = BindState.Bound;
    if (this.#recvBufferSize) this.#bufferSize(this.#recvBufferSize, true);
    if (this.#sendBufferSize) this.#bufferSize(this.#sendBufferSize, false);
  }

  connect(port: number, address?: string, callback?: () => void): void;
  connect(port: number, callback: () => void): void;
  connect(port: unknown, address?: unknown, callback?: unknown): void {
    port = validatePort(port, 'Port', false);
    if (typeof address === 'function') {
      callback = address;
      address = '';
    } else if (address === undefined) {
      address = '';
    }
    validateString(address, 'address');

    if (this.#connectState !== ConnectState.Disconnected) throw errors.isConnected();
    this.#connectState = ConnectState.Connecting;
    // Node's closed socket fails here from bind()'s health check, or, if it
    // had been bound, with a TypeError from its null handle: "Not running"
    // for both. Either way it stays "connecting": a second connect() says
    // ERR_SOCKET_DGRAM_IS_CONNECTED.
    this.#healthCheck();
    // A truthy callback that is not a function fails in #connect's
    // once('connect'): thrown from here once bound, and, as in Node, from
    // the queue (uncaught) while binding.
    this.#bindImplicitly();

    const connect = () => this.#connect(port as number, address as string, callback as (() => void) | undefined);
    if (this.#bindState !== BindState.Bound) {
      this.#enqueue(connect);
      return;
    }
    connect();
  }

  #connect(port: number, address: string, callback: ((err?: Error) => void) | undefined): void {
    if (callback) this.once('connect', callback);
    this.#resolve(address, (err, ip) => {
      if (!this.#open) return;
      if (err) {
        this.#afterConnect(err, callback);
        return;
      }
      // A lookup that calls back twice connects twice: libuv refuses the second.
      if (this.#connectState === ConnectState.Connected) {
        this.#afterConnect(exceptionWithHostPort(UV_EISCONN, 'connect', address, port), callback);
        return;
      }
      if (isBlocked(this.#sendBlockList, ip)) {
        this.#afterConnect(errors.ipBlocked(ip), callback);
        return;
      }
      // Node's connect(2) is synchronous and its outcome comes a tick later;
      // a backend that answers later has already spent that tick.
      let insideConnect = true;
      this.#backend.connect(ip, port, (errno) => {
        if (!this.#open) return;
        const error = errno ? exceptionWithHostPort(errno, 'connect', address, port) : null;
        this.#afterConnect(error, callback, insideConnect);
      });
      insideConnect = false;
    });
  }

  #afterConnect(error: Error | null, callback: ((err?: Error) => void) | undefined, defer = true): void {
    const later = (fn: () => void) => (defer ? process.nextTick(fn) : fn());
    if (error) {
      this.#connectState = ConnectState.Disconnected;
      later(() => {
        if (callback) {
          this.removeListener('connect', callback);
          callback(error);
        } else {
          this.emit('error', error);
        }
      });
      return;
    }
    this.#connectState = ConnectState.Connected;
    later(() => this.emit('connect'));
  }

  /**
   * Connects now, to an IP literal (default localhost), as Node 24.19 /
   * 26.4 do: binds first if unbound, throws errors, `'connect'` follows on
   * the next tick. udpkit offers it on every Node line.
   */
  connectSync(port: number, address?: string): void {
    const backend = this.#healthCheck();
    port = validatePort(port, 'Port', false);
    if (this.#connectState !== ConnectState.Disconnected) throw errors.isConnected();
    if (address == null || address === '') {
      address = this.#localhost;
    } else {
      validateString(address, 'address');
      if (isIP(address) === 0) {
        throw errors.invalidArgValue('address', address, 'must be a numeric IP address; connectSync does not perform DNS resolution');
      }
    }
    if (this.#bindState === BindState.Unbound) this.bindSync();
    else if (this.#bindState !== BindState.Bound) throw errors.alreadyBound();

    if (isBlocked(this.#sendBlockList, address)) throw errors.ipBlocked(address);
    const ip = address;
    const errno = synchronously((done) => backend.connect(ip, port, done), 'connectSync', backend.name);
    if (errno) throw exceptionWithHostPort(errno, 'connect', address, port);
    this.#connectState = ConnectState.Connected;
    process.nextTick(() => {
      if (this.#open) this.emit('connect');
    });
  }

  disconnect(): void {
    if (this.#connectState !== ConnectState.Connected) throw errors.notConnected();
    // Node has no health check here (a closed socket throws a TypeError from
    // its null handle); udpkit says "Not running", as everywhere else.
    const errno = this.#healthCheck().disconnect();
    if (errno) throw errnoException(errno, 'connect');
    this.#connectState = ConnectState.Disconnected;
  }

  // ---- send ---------------------------------------------------------------

  send(msg: string | NodeJS.ArrayBufferView | readonly unknown[], port?: number, address?: string, callback?: SendCallback): void;
  send(msg: string | NodeJS.ArrayBufferView | readonly unknown[], port?: number, callback?: SendCallback): void;
  send(msg: string | NodeJS.ArrayBufferView | readonly unknown[], callback?: SendCallback): void;
  send(msg: string | NodeJS.ArrayBufferView, offset: number, length: number, port?: number, address?: string, callback?: SendCallback): void;
  send(msg: string | NodeJS.ArrayBufferView, offset: number, length: number, port?: number, callback?: SendCallback): void;
  send(msg: string | NodeJS.ArrayBufferView, offset: number, length: number, callback?: SendCallback): void;
  send(buffer: unknown, offset?: unknown, length?: unknown, port?: unknown, address?: unknown, callback?: unknown): void {
    let list: NodeJS.ArrayBufferView[] | null;
    const connected = this.#connectState === ConnectState.Connected;
    if (!connected) {
      if (address || (port && typeof port !== 'function')) {
        buffer = sliceBuffer(buffer, offset, length);
      } else {
        callback = port;
        port = offset;
        address = length;
      }
    } else {
      if (typeof length === 'number') {
        buffer = sliceBuffer(buffer, offset, length);
        // Only a function in the port position is taken as the callback;
        // otherwise the callback stays the sixth argument, as in Node.
        if (typeof port === 'function') {
          callback = port;
          port = null;
        }
      } else {
        callback = offset;
      }
      if (port || address) throw errors.isConnected();
    }

    if (!Array.isArray(buffer)) {
      if (typeof buffer === 'string') list = [Buffer.from(buffer)];
      else if (!isArrayBufferView(buffer)) throw invalidArgType('buffer', sendBufferTypes, buffer);
      // Read when sent, as Node's handle reads it (see currentBytes).
      else list = [buffer];
    } else if (!(list = fixBufferList(buffer))) {
      throw invalidArgType('buffer list arguments', sendBufferTypes, buffer);
    }

    if (!connected) port = validatePort(port, 'Port', false);

    if (typeof callback !== 'function') callback = undefined;
    if (typeof address === 'function') {
      callback = address;
      address = undefined;
    } else if (address != null) {
      validateString(address, 'address');
    }

    this.#healthCheck();
    this.#bindImplicitly();
    if (list.length === 0) list.push(Buffer.alloc(0));

    this.#sendList(list, port as number, address as string | undefined, callback as SendCallback | undefined, connected);
  }

  /**
   * `connected`: as send() found the socket, which Node keeps for the rest
   * of the call, even if a 'listening' listener of the implicit bind
   * connected it meanwhile. Undefined from the queue: as it is then.
   */
  #sendList(
    list: NodeJS.ArrayBufferView[],
    port: number,
    address: string | undefined,
    callback: SendCallback | undefined,
    connected?: boolean,
  ): void {
    if (this.#bindState !== BindState.Bound) {
      this.#enqueue(() => this.#sendList(list, port, address, callback));
      return;
    }
    if (connected ?? this.#connectState === ConnectState.Connected) {
      this.#doSend(null, undefined, list, address, port, callback);
    } else {
      this.#resolve(address, (err, ip) => this.#doSend(err, ip, list, address, port, callback));
    }
  }

  #doSend(
    error: Error | null,
    ip: string | undefined,
    views: NodeJS.ArrayBufferView[],
    address: string | undefined,
    port: number,
    callback: SendCallback | undefined,
  ): void {
    if (error) {
      if (callback) process.nextTick(callback, error);
      else process.nextTick(() => this.emit('error', error));
      return;
    }
    if (!this.#open) return;
    if (ip !== undefined && isBlocked(this.#sendBlockList, ip)) {
      if (callback) process.nextTick(callback, errors.ipBlocked(ip));
      return;
    }

    // libuv refuses an addressed send on a connected socket (a send issued
    // while connect() was pending and resolved after it): EISCONN, or EINVAL
    // first when the address is not of the socket's family.
    const list = currentBytes(views);
    let errno = 0;
    if (ip !== undefined && this.#connectState === ConnectState.Connected) {
      errno = isIP(ip) === this.#family ? UV_EISCONN : UV_EINVAL;
    }
    if (!callback) {
      // Without a callback Node drops send errors silently; so do we.
      if (!errno) this.#backend.send(list, ip, port, ignore, 0);
      return;
    }

    // Node calls back a tick after a send that finished inside the system
    // call, and directly from libuv when it finished later. So: a tick is
    // reserved now; a result in by then is reported in it, a later one at
    // once. This keeps callbacks in Node's order against 'connect' and
    // other ticks, also when the native backend sends a batch a tick later.
    let settled = false;
    let tickPassed = false;
    let failure: Error | undefined;
    // Counted now: the bytes that go, though the buffer may shrink before the callback.
    let bytes = 0;
    for (const chunk of list) bytes += chunk.length;
    // Node passes only the error when there is one: callback(err), not (err, undefined).
    const deliver = () => (failure ? (callback as (error: Error) => void)(failure) : callback(null, bytes));
    const report = (errno: number) => {
      settled = true;
      if (errno) failure = exceptionWithHostPort(errno, 'send', address, port);
      if (tickPassed) deliver();
    };
    process.nextTick(() => {
      tickPassed = true;
      if (settled) deliver();
    });
    if (errno) report(errno);
    else this.#backend.send(list, ip, port, report, 0);
  }

  /**
   * Sends many datagrams, one `sendmmsg(2)` per up to 1024 on the native
   * backend. Destinations may differ; host names are resolved once each.
   * `callback(err, sentCount)` runs when every datagram was handed to the
   * kernel or refused: a datagram the kernel refuses (say, larger than
   * 65507 bytes) is skipped, the others still go, and `err` is the first
   * such error with `sentCount` the number that went.
   */
  sendMany(messages: readonly OutgoingMessage[], callback?: (error: Error | null, sent: number) => void): void {
    if (!Array.isArray(messages)) throw invalidArgType('messages', 'Array', messages);
    if (callback !== undefined) validateFunction(callback, 'callback');
    const batch = prepareBatch(messages, this.#connectState === ConnectState.Connected);

    this.#healthCheck();
    this.#bindImplicitly();
    this.#sendBatch(batch, callback);
  }

  sendSegments(buffer: string | NodeJS.ArrayBufferView, segmentSize: number, port: number, address?: string, callback?: SendManyCallback): void;
  sendSegments(buffer: string | NodeJS.ArrayBufferView, segmentSize: number, port: number, callback?: SendManyCallback): void;
  sendSegments(buffer: string | NodeJS.ArrayBufferView, segmentSize: number, callback?: SendManyCallback): void;
  /**
   * udpkit: sends `buffer` as datagrams of `segmentSize` bytes each (the
   * last one shorter if the length is not a multiple), to one destination;
   * on the native backend with GSO on, up to 64 of them per `UDP_SEGMENT`
   * send, else one by one. `callback(err, sentCount)` as for `sendMany`.
   * The buffer is read when the datagrams are queued, as sendMany reads its
   * messages: leave it unchanged until the callback (one detached or
   * shrunk by then sends nothing: `err` is ERR_INVALID_STATE). An empty
   * buffer, or one detached before the call (read as empty, as Node's
   * send() reads it), is no datagram: `(null, 0)`. Connected sockets
   * leave out port and address. The portable backend throws
   * ERR_UDPKIT_UNSUPPORTED.
   */
  sendSegments(buffer: unknown, segmentSize: unknown, port?: unknown, address?: unknown, callback?: unknown): void {
    const connected = this.#connectState === ConnectState.Connected;
    if (typeof port === 'function') {
      callback = port;
      port = address = undefined;
    } else if (typeof address === 'function') {
      callback = address;
      address = undefined;
    }
    let data: Buffer;
    if (typeof buffer === 'string') data = Buffer.from(buffer);
    else if (isArrayBufferView(buffer)) data = toBuffer(buffer);
    else throw invalidArgType('buffer', sendBufferTypes, buffer);
    validateNumber(segmentSize, 'segmentSize');
    if (!Number.isInteger(segmentSize) || segmentSize < 1 || segmentSize > 0xffff) {
      throw errors.outOfRange('segmentSize', 'an integer >= 1 && <= 65535', segmentSize);
    }
    if (connected) {
      if (port || address) throw errors.isConnected();
    } else {
      port = validatePort(port, 'Port', false);
      if (address != null) validateString(address, 'address');
    }
    if (callback !== undefined) validateFunction(callback, 'callback');
    const backend = this.#healthCheck();
    if (!backend.features.gso) throw errors.unsupported('sendSegments', backend.name);

    const count = Math.ceil(data.length / segmentSize);
    const batch: MessageBatch = {
      data: [],
      ports: new Array(count).fill(connected ? 0 : port),
      addresses: new Array(count).fill(address ?? undefined),
      segments: { buffer: data, size: segmentSize },
    };
    this.#bindImplicitly();
    this.#sendBatch(batch, callback as SendManyCallback | undefined);
  }

  #sendBatch(batch: MessageBatch, callback: ((error: Error | null, sent: number) => void) | undefined): void {
    if (this.#bindState !== BindState.Bound) {
      this.#enqueue(() => this.#sendBatch(batch, callback));
      return;
    }
    const { data, ports, addresses, segments } = batch;
    let firstError: Error | null = null;
    let sent = 0;
    let pending = ports.length;
    const finish = () => {
      if (--pending === 0 && callback) process.nextTick(callback, firstError, sent);
    };
    // One closure for the whole batch: the backend hands back the index.
    const done = (errno: number, i: number) => {
      if (errno) firstError ??= exceptionWithHostPort(errno, 'send', addresses[i], ports[i]);
      else sent++;
      finish();
    };
    if (pending === 0) {
      if (callback) process.nextTick(callback, null, 0);
      return;
    }

    const sendAll = (ips: Map<string | undefined, string> | undefined) => {
      if (!this.#open) return;
      if (segments) {
        // One destination: resolved, or blocked, for all of them.
        const ip = ips?.get(addresses[0]);
        if (ips && ip === undefined) {
          for (let i = 0; i < ports.length; i++) finish();
        } else if (ip !== undefined && isBlocked(this.#sendBlockList, ip)) {
          firstError ??= errors.ipBlocked(ip);
          for (let i = 0; i < ports.length; i++) finish();
        } else {
          // Empty now but not at the call (which counted its datagrams):
          // detached or shrunk since. None can go, and the callback says why.
          const { buffer, size } = segments;
          if (buffer.length === 0) {
            firstError ??= errors.invalidStateDetached();
            for (let i = 0; i < ports.length; i++) finish();
          } else {
            this.#backend.sendSegments!(buffer, size, ip, ports[0]!, done);
          }
        }
        this.#backend.flush();
        return;
      }
      let name: string | undefined;
      let ip: string | undefined;
      for (let i = 0; i < data.length; i++) {
        if (ips && (i === 0 || addresses[i] !== name)) ip = ips.get((name = addresses[i]));
        if (ips && ip === undefined) {
          finish(); // its host name did not resolve: firstError says why
        } else if (ip !== undefined && isBlocked(this.#sendBlockList, ip)) {
          firstError ??= errors.ipBlocked(ip);
          finish();
        } else {
          this.#backend.send(data[i]!, ip, ports[i]!, done, i);
        }
      }
      // The batch is complete: no reason to wait for the end of the tick.
      this.#backend.flush();
    };
    if (this.#connectState === ConnectState.Connected) {
      sendAll(undefined);
      return;
    }

    // Each distinct host name is resolved once; an IP literal needs no
    // lookup (unless a custom one is set).
    const ips = new Map<string | undefined, string>();
    const lookups: (string | undefined)[] = [];
    for (const name of new Set(addresses)) {
      const host = this.#literal(name);
      if (host === undefined) lookups.push(name);
      else ips.set(name, host);
    }
    // Counted before the first lookup starts: a lookup may answer at once.
    let unresolved = lookups.length;
    for (const name of lookups) {
      this.#resolve(name, (err, resolved) => {
        if (err) firstError ??= err;
        else ips.set(name, resolved);
        if (--unresolved === 0) sendAll(ips);
      });
    }
    // Not before the send() calls made earlier in this tick, which wait a
    // tick for their lookup: datagrams leave in the order they were given.
    if (lookups.length === 0) process.nextTick(sendAll, ips);
  }

  // ---- close --------------------------------------------------------------

  close(callback?: () => void): this {
    if (typeof callback === 'function') this.on('close', callback);
    if (this.#queue !== undefined) {
      // Closed already by an earlier queued close(): Node's health check
      // would throw from the queue, uncaught; there is nothing left to do.
      this.#queue.push(() => this.#open && this.close());
      return this;
    }
    const backend = this.#healthCheck();
    this.#stopReceiving();
    // Closed before the backend settles what it still holds.
    this.#open = false;
    backend.close();
    process.nextTick(() => this.emit('close'));
    return this;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (!this.#open) return;
    await new Promise<void>((resolve) => this.close(resolve));
  }

  // ---- addresses ----------------------------------------------------------

  address(): AddressInfo {
    const backend = this.#healthCheck();
    const out = {} as AddressInfo;
    const errno = backend.getsockname(out);
    if (errno) throw errnoException(errno, 'getsockname');
    return out;
  }

  remoteAddress(): AddressInfo {
    const backend = this.#healthCheck();
    if (this.#connectState !== ConnectState.Connected) throw errors.notConnected();
    const out = {} as AddressInfo;
    const errno = backend.getpeername(out);
    if (errno) throw errnoException(errno, 'getpeername');
    return out;
  }

  // ---- options ------------------------------------------------------------

  setBroadcast(flag: boolean): void {
    this.#check(this.#healthCheck().setBroadcast(!!flag), 'setBroadcast');
  }

  setTTL(ttl: number): number {
    validateNumber(ttl, 'ttl');
    // Node's handle takes the value through ToInt32: 1.5 sets 1, NaN sets 0.
    this.#check(this.#healthCheck().setTTL(ttl | 0), 'setTTL');
    return ttl;
  }

  setMulticastTTL(ttl: number): number {
    validateNumber(ttl, 'ttl');
    this.#check(this.#healthCheck().setMulticastTTL(ttl | 0), 'setMulticastTTL');
    return ttl;
  }

  setMulticastLoopback(flag: boolean): boolean {
    this.#check(this.#healthCheck().setMulticastLoopback(!!flag), 'setMulticastLoopback');
    return flag;
  }

  setMulticastInterface(interfaceAddress: string): void {
    const backend = this.#healthCheck();
    validateString(interfaceAddress, 'interfaceAddress');
    this.#check(backend.setMulticastInterface(cString(interfaceAddress)), 'setMulticastInterface');
  }

  addMembership(multicastAddress: string, interfaceAddress?: string): void {
    this.#membership(multicastAddress, interfaceAddress, true);
  }

  dropMembership(multicastAddress: string, interfaceAddress?: string): void {
    this.#membership(multicastAddress, interfaceAddress, false);
  }

  #membership(group: string, iface: string | undefined, join: boolean): void {
    const backend = this.#healthCheck();
    if (!group) throw errors.missingArgs('multicastAddress');
    // Node's C++ converts both before it reports: the last conversion that
    // threw wins. Node takes null like undefined: no interface, the kernel
    // picks one.
    let groupText = '';
    let groupError: unknown;
    try {
      groupText = cString(group);
    } catch (error) {
      groupError = error;
    }
    const ifaceText = iface == null ? undefined : cString(iface);
    if (groupError !== undefined && (typeof iface === 'string' || !nodeLine.membershipIgnoresGroupConversionError)) throw groupError;
    const errno = backend.setMembership(groupText, ifaceText, join);
    this.#check(errno, join ? 'addMembership' : 'dropMembership');
  }

  addSourceSpecificMembership(sourceAddress: string, groupAddress: string, interfaceAddress?: string): void {
    this.#sourceMembership(sourceAddress, groupAddress, interfaceAddress, true);
  }

  dropSourceSpecificMembership(sourceAddress: string, groupAddress: string, interfaceAddress?: string): void {
    this.#sourceMembership(sourceAddress, groupAddress, interfaceAddress, false);
  }

  #sourceMembership(source: string, group: string, iface: string | undefined, join: boolean): void {
    const backend = this.#healthCheck();
    validateString(source, 'sourceAddress');
    validateString(group, 'groupAddress');
    const errno = backend.setSourceMembership(
      cString(source),
      cString(group),
      iface == null ? undefined : cString(iface),
      join,
    );
    this.#check(errno, join ? 'addSourceSpecificMembership' : 'dropSourceSpecificMembership');
  }

  /**
   * udpkit: receive only the groups this socket joined (`false`), instead of
   * every group any socket on the host joined on the bound port (`true`,
   * the kernel's default). `IP_MULTICAST_ALL` / `IPV6_MULTICAST_ALL`.
   */
  setMulticastAll(flag: boolean): void {
    const backend = this.#healthCheck();
    if (!backend.features.multicastAll) throw errors.unsupported('setMulticastAll', backend.name);
    this.#check(backend.setMulticastAll(!!flag), 'setMulticastAll');
  }

  /** udpkit: stop receiving `sourceAddress`'s datagrams to a joined any-source group (`MCAST_BLOCK_SOURCE`). */
  blockSource(sourceAddress: string, groupAddress: string, interfaceAddress?: string): void {
    this.#blockSource(sourceAddress, groupAddress, interfaceAddress, true);
  }

  /** udpkit: undo `blockSource` (`MCAST_UNBLOCK_SOURCE`). */
  unblockSource(sourceAddress: string, groupAddress: string, interfaceAddress?: string): void {
    this.#blockSource(sourceAddress, groupAddress, interfaceAddress, false);
  }

  #blockSource(source: string, group: string, iface: string | undefined, block: boolean): void {
    const backend = this.#healthCheck();
    validateString(source, 'sourceAddress');
    validateString(group, 'groupAddress');
    if (iface !== undefined) validateString(iface, 'interfaceAddress');
    if (!backend.features.blockSource) throw errors.unsupported('blockSource', backend.name);
    const errno = backend.blockSource(cString(source), cString(group), iface === undefined ? undefined : cString(iface), block);
    this.#check(errno, block ? 'blockSource' : 'unblockSource');
  }

  setRecvBufferSize(size: number): void {
    this.#bufferSize(size, true);
  }

  setSendBufferSize(size: number): void {
    this.#bufferSize(size, false);
  }

  getRecvBufferSize(): number {
    return this.#bufferSize(0, true);
  }

  getSendBufferSize(): number {
    return this.#bufferSize(0, false);
  }

  #bufferSize(size: number, recv: boolean): number {
    if (size >>> 0 !== size) throw errors.badBufferSize();
    const result = this.#healthCheck().bufferSize(size, recv);
    if (result < 0) throw bufferSizeError(result, recv);
    return result;
  }

  /**
   * Bytes of the datagrams in the send queue (see `getSendQueueCount()`).
   */
  getSendQueueSize(): number {
    return this.#healthCheck().sendQueueSize();
  }

  /**
   * How many datagrams are in the send queue: handed to `send()` or
   * `sendMany()` (after a lookup, if any), not yet taken by the kernel. As
   * `node:dgram`'s, with one deliberate difference: right after `send()`,
   * in the same tick, the native backend counts that datagram (it waits for
   * the tick's one `sendmmsg`: transparent batching) where Node, whose
   * `send()` hands it to the kernel at once, shows 0. Both count datagrams
   * waiting for room in the socket's send buffer.
   */
  getSendQueueCount(): number {
    return this.#healthCheck().sendQueueCount();
  }

  ref(): this {
    if (this.#open) this.#backend.ref();
    return this;
  }

  unref(): this {
    if (this.#open) this.#backend.unref();
    return this;
  }

  // ---- flow control and counters (udpkit) -------------------------------

  /**
   * Stops reading from the kernel: datagrams wait in the socket's receive
   * buffer (and past its size, the kernel drops them and counts them in
   * `stats().kernelDrops`) instead of growing the heap.
   */
  pause(): this {
    if (!this.#paused) {
      if (!this.#backend.features.pause) throw errors.unsupported('pause', this.#backend.name);
      this.#paused = true;
      if (this.#receiving) this.#backend.recvStop();
    }
    return this;
  }

  /** Starts reading again; what the kernel held is delivered. */
  resume(): this {
    if (this.#paused) {
      this.#paused = false;
      if (this.#receiving) this.#backend.recvStart();
    }
    return this;
  }

  isPaused(): boolean {
    return this.#paused;
  }

  stats(): SocketStats {
    const { counters } = this.#backend;
    const open = this.#open;
    const gso = this.#backend.gso();
    return {
      datagramsSent: counters.datagramsSent,
      bytesSent: counters.bytesSent,
      datagramsReceived: this.#received.datagrams,
      bytesReceived: this.#received.bytes,
      sendBatches: counters.sendBatches,
      receiveBatches: this.#received.batches,
      sendQueueCount: open ? this.#backend.sendQueueCount() : 0,
      sendQueueSize: open ? this.#backend.sendQueueSize() : 0,
      kernelDrops: counters.kernelDrops,
      gsoSends: gso.sends,
      gsoSegments: gso.segments,
    };
  }

  // ---- internals ----------------------------------------------------------

  /** Counts a batch and emits 'messages'; its datagrams then come one by one for 'message'. */
  #onBatch(data: Buffer[], rinfos: RemoteInfo[]): void {
    // Node drops a blocked sender's datagrams before anyone sees them.
    if (this.#receiveBlockList) {
      [data, rinfos] = withoutBlocked(this.#receiveBlockList, data, rinfos);
      if (data.length === 0) return;
    }
    const received = this.#received;
    received.batches++;
    received.datagrams += data.length;
    for (const chunk of data) received.bytes += chunk.length;
    this.emit('messages', data, rinfos);
  }

  /** Emits 'segments'; counts the batch unless #onBatch did. */
  #onSegments(data: Buffer[], segmentSizes: number[], rinfos: RemoteInfo[], counted: boolean): void {
    // A 'messages' listener of the same batch may have closed the socket.
    if (!this.#open) return;
    if (this.#receiveBlockList) {
      const list = this.#receiveBlockList;
      const kept = rinfos.map((rinfo) => !isBlocked(list, rinfo.address, rinfo.family));
      data = data.filter((_, i) => kept[i]);
      segmentSizes = segmentSizes.filter((_, i) => kept[i]);
      rinfos = rinfos.filter((_, i) => kept[i]);
      if (data.length === 0) return;
    }
    if (!counted) {
      const received = this.#received;
      received.batches++;
      for (let i = 0; i < data.length; i++) {
        const length = data[i]!.length;
        received.datagrams += datagramsInRead(length, segmentSizes[i]!);
        received.bytes += length;
      }
    }
    this.emit('segments', data, segmentSizes, rinfos);
  }

  #resolve(address: string | undefined, callback: (err: Error | null, ip: string) => void): void {
    const literal = this.#literal(address);
    if (literal !== undefined) {
      // What dns.lookup does for an IP literal, without its option parsing.
      process.nextTick(callback, null, literal);
      return;
    }
    this.#lookup(address || this.#localhost, this.#family, (err, ip) => callback(err, ip));
  }

  /** `address` (default localhost) when the default lookup would return it as is. */
  #literal(address: string | undefined): string | undefined {
    if (!isDefaultLookup(this.#lookup)) return undefined;
    const host = address || this.#localhost;
    // Not a string (a Symbol, an object with a throwing toString): the
    // lookup itself refuses it, as the running line's does.
    if (typeof host !== 'string') return undefined;
    if (host === this.#lastLiteral) return host;
    // The newer lines skip the lookup only for the socket's own family: a
    // replaced dns.lookup sees the other family's literals.
    const family = isIP(host);
    if (family === 0 || (nodeLine.lookupAtCallTime && family !== this.#family)) return undefined;
    return (this.#lastLiteral = host);
  }

  get #localhost(): string {
    return this.#family === 4 ? '127.0.0.1' : '::1';
  }

  #enqueue(work: () => void): void {
    if (this.#queue === undefined) {
      this.#queue = [];
      const onListenError = () => {
        this.removeListener('listening', onListenSuccess);
        this.#queue = undefined;
      };
      const onListenSuccess = () => {
        (this as EventEmitter).removeListener(EventEmitter.errorMonitor, onListenError);
        const queue = this.#queue!;
        this.#queue = undefined;
        for (const entry of queue) entry();
      };
      (this as EventEmitter).once(EventEmitter.errorMonitor, onListenError);
      this.once('listening', onListenSuccess);
    }
    this.#queue.push(work);
  }

  #stopReceiving(): void {
    if (!this.#receiving) return;
    this.#backend.recvStop();
    this.#receiving = false;
  }

  #healthCheck(): Backend {
    if (!this.#open) throw errors.notRunning();
    return this.#backend;
  }

  #check(errno: number, syscall: string): void {
    if (errno) throw errnoException(errno, syscall);
  }
}

function ignore(): void {}

/** dns.lookup as udpkit found it: the default lookup of the older lines, captured per socket. */
const builtinLookup = dns.lookup as LookupFunction;
/** The newer lines' default: whatever `dns.lookup` is at the time of each call (tests and caches replace it). */
const callTimeLookup: LookupFunction = (hostname, family, callback) => {
  // Node's own order: its IP-literal check first (it converts a non-string,
  // so a Symbol throws its TypeError), then dns.lookup for anything else.
  if (isIP(hostname) === family) {
    process.nextTick(callback, null, hostname, family);
    return;
  }
  (dns.lookup as LookupFunction)(hostname, family, callback);
};

/**
 * The running line's default lookup. Up to Node 24.19 / 26.5, `dns.lookup`
 * as it is when the socket is made, called for every address, IP literals
 * included; from then on, `dns.lookup` as it is at each call, and none for
 * an IP literal.
 */
function defaultLookup(): LookupFunction {
  return nodeLine.lookupAtCallTime ? callTimeLookup : (dns.lookup as LookupFunction);
}

/** A lookup that answers an IP literal with itself, so the Socket may skip calling it. */
function isDefaultLookup(lookup: LookupFunction): boolean {
  return lookup === (nodeLine.lookupAtCallTime ? callTimeLookup : builtinLookup);
}

/** Runs a backend call that reports through a callback and expects it answered before it returns. */
function synchronously(call: (done: (errno: number) => void) => void, method: string, backend: string): number {
  let result: number | undefined;
  call((errno) => (result ??= errno));
  if (result === undefined) throw errors.unsupported(`${method} (an answer that comes later)`, backend);
  return result;
}

function withoutBlocked(list: BlockList, data: Buffer[], rinfos: RemoteInfo[]): [Buffer[], RemoteInfo[]] {
  const keptData: Buffer[] = [];
  const keptInfos: RemoteInfo[] = [];
  for (let i = 0; i < data.length; i++) {
    if (isBlocked(list, rinfos[i]!.address, rinfos[i]!.family)) continue;
    keptData.push(data[i]!);
    keptInfos.push(rinfos[i]!);
  }
  return [keptData, keptInfos];
}

/** sendMany's messages, validated and copied out of the caller's objects; sendSegments' one buffer. */
interface MessageBatch {
  data: Buffer[];
  ports: number[];
  addresses: (string | undefined)[];
  /** sendSegments: `buffer` in datagrams of `size` bytes (`ports` and `addresses` still hold one entry per datagram). */
  segments?: { buffer: Buffer; size: number };
}

function prepareBatch(messages: readonly OutgoingMessage[], connected: boolean): MessageBatch {
  const count = messages.length;
  const batch: MessageBatch = { data: new Array(count), ports: new Array(count), addresses: new Array(count) };
  for (let i = 0; i < count; i++) {
    const message = messages[i];
    if (message === null || typeof message !== 'object') throw invalidArgType(`messages[${i}]`, 'Object', message);
    const { data, port, address } = message;
    if (Buffer.isBuffer(data)) batch.data[i] = data;
    else if (typeof data === 'string') batch.data[i] = Buffer.from(data);
    else if (isArrayBufferView(data)) batch.data[i] = toBuffer(data);
    else throw invalidArgType(`messages[${i}].data`, sendBufferTypes, data);

    if (connected) {
      if (port || address) throw errors.isConnected();
      batch.ports[i] = 0;
      continue;
    }
    // The common case first: the error's name is built only when needed.
    const isPort = typeof port === 'number' && port > 0 && port <= 0xffff && port === Math.floor(port);
    batch.ports[i] = isPort ? port : validatePort(port, `messages[${i}].port`, false);
    if (address != null && typeof address !== 'string') throw invalidArgType(`messages[${i}].address`, 'string', address);
    batch.addresses[i] = address ?? undefined;
  }
  return batch;
}

/**
 * The `gso` or `gro` option: undefined when not given, else a boolean
 * (`ERR_INVALID_ARG_TYPE`) the backend must support when true
 * (`ERR_UDPKIT_UNSUPPORTED`).
 */
function offloadOption(value: unknown, name: 'gso' | 'gro', backend: Backend): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw invalidArgType(`options.${name}`, 'boolean', value);
  if (value && !backend.features[name]) throw errors.unsupported(name, backend.name);
  return value;
}

/**
 * Each chunk as a Buffer over what it covers now. A single view passed to
 * send() is read here, when it is sent, as Node's handle reads it: one that
 * tracks a resizable ArrayBuffer sends the bytes there are at that moment.
 */
function currentBytes(list: NodeJS.ArrayBufferView[]): Buffer[] {
  for (let i = 0; i < list.length; i++) {
    const chunk = list[i]!;
    if (!Buffer.isBuffer(chunk)) list[i] = toBuffer(chunk);
  }
  return list as Buffer[];
}

function toBuffer(view: NodeJS.ArrayBufferView): Buffer {
  if (Buffer.isBuffer(view)) return view;
  // A view of a detached ArrayBuffer reads as empty, as Node's handle reads
  // it (Buffer.from would throw on the detached buffer).
  if (view.byteLength === 0) return Buffer.alloc(0);
  return Buffer.from(view.buffer, view.byteOffset, view.byteLength);
}

/**
 * A string as Node's C++ layer reads an argument: ToString (a Symbol throws
 * its TypeError, an object's toString runs) and up to the first NUL, where
 * the C string ends.
 */
function cString(value: unknown): string {
  const text = `${value as string}`;
  const nul = text.indexOf('\0');
  return nul === -1 ? text : text.slice(0, nul);
}

function sliceBuffer(buffer: unknown, offset: unknown, length: unknown): Buffer {
  let view: NodeJS.ArrayBufferView;
  if (typeof buffer === 'string') view = Buffer.from(buffer);
  else if (!isArrayBufferView(buffer)) throw invalidArgType('buffer', sendBufferTypes, buffer);
  else view = buffer;

  const start = (offset as number) >>> 0;
  const size = (length as number) >>> 0;
  if (start > view.byteLength) throw errors.bufferOutOfBounds('offset');
  if (start + size > view.byteLength) throw errors.bufferOutOfBounds('length');
  return Buffer.from(view.buffer, view.byteOffset + start, size);
}

function fixBufferList(list: readonly unknown[]): Buffer[] | null {
  const fixed = new Array<Buffer>(list.length);
  for (let i = 0; i < list.length; i++) {
    const item = list[i];
    if (typeof item === 'string') fixed[i] = Buffer.from(item);
    else if (!isArrayBufferView(item)) return null;
    else fixed[i] = Buffer.from(item.buffer, item.byteOffset, item.byteLength);
  }
  return fixed;
}

export type { ErrnoError };
