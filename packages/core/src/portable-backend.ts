// The portable backend: node:dgram underneath, for platforms or installs
// without the native helper. One system call per datagram; the Linux-only
// extras report themselves unsupported through `features`.
import { Buffer } from 'node:buffer';
import dgram from 'node:dgram';
import { isIP } from 'node:net';
import type {
  AddressInfo,
  Backend,
  BackendCounters,
  BackendEvents,
  BackendFeatures,
  Family,
  RemoteInfo,
  SendDone,
} from './backend.js';
import { BIND_IPV6ONLY, BIND_REUSEADDR, BIND_REUSEPORT, rethrowLater } from './backend.js';
import { UV_EBADF, UV_EINVAL, UV_ENOTSUP } from './errno.js';
import { portableGsoStatus } from './gso.js';

const EMPTY = Buffer.alloc(0);

// node:dgram takes `reusePort` from Node 22.12 / 23.1 on.
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
const nodeHasReusePort = major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);

interface UdpHandle {
  readonly fd: number;
  recvStart(): number;
  recvStop(): number;
}

/**
 * node:dgram's handle under `socket`, for the reading control only it
 * offers (recvStart/recvStop). It sits behind a private symbol of
 * node:dgram: undefined on a Node where it is not found.
 */
function dgramHandle(socket: dgram.Socket): UdpHandle | undefined {
  const stateSymbol = Object.getOwnPropertySymbols(socket).find((s) => s.description === 'state symbol');
  if (stateSymbol === undefined) return undefined;
  const state = (socket as unknown as Record<symbol, { handle?: Partial<UdpHandle> | null } | undefined>)[stateSymbol];
  const handle = state?.handle;
  if (typeof handle?.recvStart !== 'function' || typeof handle.recvStop !== 'function') return undefined;
  return handle as UdpHandle;
}

let handleReachable: boolean | undefined;

/** Whether this Node's node:dgram lets pause() reach its handle; checked once, on a socket never bound. */
function canPause(): boolean {
  if (handleReachable === undefined) {
    const probe = dgram.createSocket('udp4');
    handleReachable = dgramHandle(probe) !== undefined;
    probe.close();
  }
  return handleReachable;
}

const features: BackendFeatures = {
  receiveMetadata: false,
  multicastAll: false,
  blockSource: false,
  reusePort: nodeHasReusePort,
  gro: false,
  get pause() {
    return canPause();
  },
  gso: false,
};

// node:dgram calls its lookup as (address, family, callback); @types/node
// declares dns.lookup's signature instead, hence the cast where it is used.
function resolved(ip: string, family: number, callback: (err: null, address: string, family: number) => void): void {
  callback(null, ip, family);
}

/** The errno a node:dgram call threw, so the Socket can rebuild Node's error with its own context. */
function errnoOf(call: () => unknown): number {
  try {
    call();
    return 0;
  } catch (error) {
    const { errno, info } = error as { errno?: number; info?: { errno: number } };
    if (typeof errno === 'number') return errno;
    if (info) return info.errno;
    throw error;
  }
}

export class PortableBackend implements Backend {
  readonly name = 'portable';
  readonly features = features;
  readonly counters: BackendCounters = { datagramsSent: 0, bytesSent: 0, sendBatches: 0, kernelDrops: 0 };
  readonly #family: Family;
  readonly #events: BackendEvents;
  #socket: dgram.Socket | undefined;
  /** bind() was called and has not failed: node:dgram would throw on another. */
  #bound = false;
  #referenced = true;

  constructor(family: Family, events: BackendEvents) {
    this.#family = family;
    this.#events = events;
  }

  /** The node:dgram socket, made on first need, as libuv makes its descriptor. */
  #ensureSocket(flags = 0): dgram.Socket {
    if (this.#socket) return this.#socket;
    const socket = dgram.createSocket({
      type: this.#family === 4 ? 'udp4' : 'udp6',
      reuseAddr: !!(flags & BIND_REUSEADDR),
      ipv6Only: !!(flags & BIND_IPV6ONLY),
      ...(flags & BIND_REUSEPORT ? { reusePort: true } : {}),
      // The Socket above already resolved every address: answering at once
      // keeps bind/connect/send as synchronous as Node's own handle calls
      // (no extra tick, no DNS query for a string that is not an IP).
      lookup: resolved as unknown as dgram.SocketOptions['lookup'],
    });
    socket.on('message', (data, rinfo) => this.#receive(data, rinfo));
    if (!this.#referenced) socket.unref();
    this.#socket = socket;
    return socket;
  }

  /** node:dgram already calls back once per datagram, with a Buffer of its own: a batch of one. */
  #receive(data: Buffer, rinfo: RemoteInfo): void {
    const events = this.#events;
    const each = events.wantsEach();
    const segments = events.wantsSegments();
    if (!each && !segments) return events.onBatch([data], [rinfo]);
    // A throwing 'messages' or 'segments' listener costs the other events
    // nothing (as on native); its exception still reaches uncaughtException.
    rethrowLater(() => events.onBatch([data], [rinfo]));
    if (segments) rethrowLater(() => events.onSegments([data], [data.length], [rinfo], true));
    if (each) events.onDatagram(data, rinfo);
  }

  #withSocket(call: (socket: dgram.Socket) => unknown): number {
    const socket = this.#socket;
    return socket ? errnoOf(() => call(socket)) : UV_EBADF;
  }

  bind(ip: string, port: number, flags: number, done: (errno: number) => void): void {
    // A second bind (say, from a lookup that calls back twice): the kernel
    // refuses it, as it does under libuv.
    if (this.#bound) return done(UV_EINVAL);
    this.#bound = true;
    const socket = this.#ensureSocket(flags);
    const onError = (error: NodeJS.ErrnoException) => {
      this.#bound = false;
      socket.removeListener('listening', onListening);
      done(error.errno ?? UV_EBADF);
    };
    const onListening = () => {
      socket.removeListener('error', onError);
      socket.on('error', (error: NodeJS.ErrnoException) => this.#events.onReceiveError(error.errno ?? UV_EBADF));
      done(0);
    };
    socket.once('error', onError);
    socket.once('listening', onListening);
    socket.bind({ address: ip, port, exclusive: true });
  }

  open(fd: number): void {
    const socket = this.#ensureSocket();
    this.#bound = true;
    socket.on('error', (error: NodeJS.ErrnoException) => this.#events.onReceiveError(error.errno ?? UV_EBADF));
    socket.bind({ fd });
  }

  connect(ip: string, port: number, done: (errno: number) => void): void {
    const socket = this.#socket;
    if (!socket) return done(UV_EBADF);
    // Node 24.19 / 26.4 connect synchronously and say how it went at once.
    const { connectSync } = socket as { connectSync?: (port: number, address: string) => void };
    if (typeof connectSync === 'function') return done(errnoOf(() => connectSync.call(socket, port, ip)));
    let reported = false;
    socket.connect(port, ip, ((error?: NodeJS.ErrnoException) => {
      if (!reported) done(error ? (error.errno ?? UV_EBADF) : 0);
    }) as () => void);
    // With the `resolved` lookup, connect(2) has already happened: report a
    // success now, as Node's own handle does, not a tick later. (A failure
    // still comes a tick later, through the callback.)
    try {
      socket.remoteAddress();
    } catch {
      return; // not connected: the callback brings the error
    }
    reported = true;
    done(0);
  }

  disconnect(): number {
    return this.#withSocket((socket) => socket.disconnect());
  }

  fileno(): number {
    return (this.#socket && dgramHandle(this.#socket)?.fd) ?? UV_EBADF;
  }

  getsockname(out: AddressInfo): number {
    return this.#withSocket((socket) => Object.assign(out, socket.address()));
  }

  getpeername(out: AddressInfo): number {
    return this.#withSocket((socket) => Object.assign(out, socket.remoteAddress()));
  }

  setBroadcast(on: boolean): number {
    return this.#withSocket((socket) => socket.setBroadcast(on));
  }

  // libuv checks the range before it touches the descriptor: EINVAL even
  // before bind, where node:dgram's own unbound socket says EBADF.
  setTTL(ttl: number): number {
    if (ttl < 1 || ttl > 255) return UV_EINVAL;
    return this.#withSocket((socket) => socket.setTTL(ttl));
  }

  setMulticastTTL(ttl: number): number {
    if (ttl < 0 || ttl > 255) return UV_EINVAL;
    return this.#withSocket((socket) => socket.setMulticastTTL(ttl));
  }

  setMulticastLoopback(on: boolean): number {
    return this.#withSocket((socket) => socket.setMulticastLoopback(on));
  }

  setMulticastInterface(address: string): number {
    // libuv parses the address before it touches the descriptor, so a bad
    // one is EINVAL even before bind.
    if (!this.#socket && isIP(address) === 0) return UV_EINVAL;
    return this.#withSocket((socket) => socket.setMulticastInterface(address));
  }

  setMembership(group: string, iface: string | undefined, join: boolean): number {
    // An empty group (from `[]`, or a NUL first) is libuv's EINVAL; node:dgram
    // would take it for a missing argument.
    if (group === '') return UV_EINVAL;
    // libuv binds an unbound socket here; so does node:dgram underneath.
    const socket = this.#ensureSocket();
    return errnoOf(() => (join ? socket.addMembership(group, iface) : socket.dropMembership(group, iface)));
  }

  setSourceMembership(source: string, group: string, iface: string | undefined, join: boolean): number {
    const socket = this.#ensureSocket();
    return errnoOf(() =>
      join
        ? socket.addSourceSpecificMembership(source, group, iface)
        : socket.dropSourceSpecificMembership(source, group, iface),
    );
  }

  setMulticastAll(): number {
    return UV_ENOTSUP;
  }

  blockSource(): number {
    return UV_ENOTSUP;
  }

  setReceiveMetadata(): number {
    return UV_ENOTSUP;
  }

  /** Never on: the Socket refuses `gro` on this backend (features.gro). */
  setGro(): void {}

  groState(): number {
    return 0;
  }

  bufferSize(size: number, recv: boolean): number {
    const socket = this.#socket;
    if (!socket) return UV_EBADF;
    let value = 0;
    const errno = errnoOf(() => {
      if (size === 0) value = recv ? socket.getRecvBufferSize() : socket.getSendBufferSize();
      else if (recv) socket.setRecvBufferSize(size);
      else socket.setSendBufferSize(size);
    });
    return errno || value;
  }

  send(chunks: Buffer | readonly Buffer[], ip: string | undefined, port: number, done: SendDone, tag: number): void {
    const socket = this.#socket;
    if (!socket) return done(UV_EBADF, tag);
    // node:dgram rebuilds each Buffer of a list from its ArrayBuffer, which
    // throws for one detached or shrunk since send(): what is left of such a
    // chunk is nothing, so it goes as nothing.
    const list = Buffer.isBuffer(chunks) ? chunks : chunks.map((chunk) => (chunk.length === 0 ? EMPTY : chunk));
    const onSent = (error: NodeJS.ErrnoException | null, bytes: number) => {
      if (error) return done(error.errno ?? UV_EBADF, tag);
      this.counters.datagramsSent++;
      this.counters.bytesSent += bytes;
      this.counters.sendBatches++;
      done(0, tag);
    };
    if (ip === undefined) socket.send(list, onSent);
    else socket.send(list, port, ip, onSent);
  }

  flush(): void {
    // node:dgram sends each datagram as it is given.
  }

  sendQueueCount(): number {
    return this.#socket?.getSendQueueCount() ?? 0;
  }

  sendQueueSize(): number {
    return this.#socket?.getSendQueueSize() ?? 0;
  }

  // Without a reachable handle pause() refuses (features.pause), so these
  // only run without one at close, where node:dgram stops reading itself,
  // and at bind, where it starts by itself.
  recvStart(): number {
    const socket = this.#socket;
    return (socket && dgramHandle(socket)?.recvStart()) ?? 0;
  }

  recvStop(): number {
    const socket = this.#socket;
    return (socket && dgramHandle(socket)?.recvStop()) ?? 0;
  }

  /** Nothing to turn off: node:dgram sends one datagram per call. */
  setGso(): void {}

  gso(): { status: typeof portableGsoStatus; sends: number; segments: number } {
    return { status: portableGsoStatus, sends: 0, segments: 0 };
  }

  ref(): void {
    this.#referenced = true;
    this.#socket?.ref();
  }

  unref(): void {
    this.#referenced = false;
    this.#socket?.unref();
  }

  close(): void {
    this.#socket?.close();
    this.#socket = undefined;
  }
}
