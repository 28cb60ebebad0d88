// The I/O layer under a Socket. The Socket holds every semantic of node:dgram
// (validation, states, queueing, errors, events); a backend only moves
// datagrams and sets options. System call failures come back as negative
// errno numbers (libuv's convention); the Socket turns them into Node errors.
import type { GsoStatus } from './gso.js';

export type BackendName = 'native' | 'portable';
export type Family = 4 | 6;

/** What a backend can do beyond node:dgram. */
export interface BackendFeatures {
  /** `IP_PKTINFO` / `SO_TIMESTAMPNS` receive metadata. */
  readonly receiveMetadata: boolean;
  /** `IP_MULTICAST_ALL` / `IPV6_MULTICAST_ALL`. */
  readonly multicastAll: boolean;
  /** `MCAST_BLOCK_SOURCE` / `MCAST_UNBLOCK_SOURCE`. */
  readonly blockSource: boolean;
  /** `SO_REUSEPORT` on bind. */
  readonly reusePort: boolean;
  /** `pause()`: reading from the kernel can be stopped and restarted. */
  readonly pause: boolean;
  /** GSO send (`UDP_SEGMENT`) and `sendSegments()`; each socket probes the kernel (`Backend.gso()`). */
  readonly gso: boolean;
  /** `UDP_GRO`: reads of coalesced datagrams (the kernel may still refuse it per socket). */
  readonly gro: boolean;
}

/** Bind flags, the same bits as libuv's UV_UDP_* flags. */
export const BIND_IPV6ONLY = 1;
export const BIND_REUSEADDR = 4;
export const BIND_REUSEPORT = 8;

/** Receive metadata flags. */
export const METADATA_DESTINATION = 1;
export const METADATA_TIMESTAMP = 2;

export interface AddressInfo {
  address: string;
  family: 'IPv4' | 'IPv6';
  port: number;
}

/** Extra per-datagram fields, present only when requested with `receiveMetadata`. */
export interface ReceiveMetadata {
  /** The address the datagram was sent to (`IP_PKTINFO` / `IPV6_PKTINFO`). */
  destination?: string;
  /** The index of the interface it arrived on. */
  interfaceIndex?: number;
  /** Kernel receive time, nanoseconds since the Unix epoch (`SO_TIMESTAMPNS`). */
  timestamp?: bigint;
  /**
   * The datagram was larger than the receive slot and was cut. With GRO, on
   * the last datagram of a coalesced read that was cut: that datagram may be
   * short, and those that followed it in the read are lost.
   */
  truncated?: boolean;
}

export interface RemoteInfo extends ReceiveMetadata {
  address: string;
  family: 'IPv4' | 'IPv6';
  port: number;
  size: number;
}

/** Called once per queued datagram: errno 0 when the kernel took it, else why not; `tag` as given to `send`. */
export type SendDone = (errno: number, tag: number) => void;

/** What a backend reports upward. */
export interface BackendEvents {
  /** Whether datagrams also go one by one to `onDatagram` (the Socket has `'message'` listeners). */
  wantsEach(): boolean;
  /** Whether the Socket has `'messages'` listeners. */
  wantsBatch(): boolean;
  /** Whether the Socket has `'segments'` listeners. */
  wantsSegments(): boolean;
  /**
   * The datagrams of one wake-up, in arrival order. When `wantsEach()`,
   * each Buffer has an ArrayBuffer of its own (as Node's); otherwise they
   * may share one.
   */
  onBatch(data: Buffer[], rinfos: RemoteInfo[]): void;
  /**
   * One datagram of the batch, after `onBatch` and only when `wantsEach()`
   * said so, each in a callback of its own from the event loop (as Node
   * delivers them): Node's tick and microtask queues drain in between, and
   * an exception thrown for one does not keep the next from arriving.
   */
  onDatagram(data: Buffer, rinfo: RemoteInfo): void;
  /**
   * The reads of one wake-up as the kernel gave them, only when
   * `wantsSegments()`: `data[i]` holds datagrams of `segmentSizes[i]` bytes
   * each, the last one shorter if it is (one datagram unless GRO coalesced
   * several); `rinfos[i].size` is `data[i].length`. Called after `onBatch`
   * if the backend called it for this wake-up (`counted`), instead of it if
   * not (only `'segments'` listens).
   */
  onSegments(data: Buffer[], segmentSizes: number[], rinfos: RemoteInfo[], counted: boolean): void;
  /** A receive error (negative errno). */
  onReceiveError(errno: number): void;
}

export interface BackendCounters {
  datagramsSent: number;
  bytesSent: number;
  sendBatches: number;
  kernelDrops: number;
}

export interface Backend {
  readonly name: BackendName;
  readonly features: BackendFeatures;
  readonly counters: BackendCounters;

  /** Binds; calls `done(errno)` (0 on success), synchronously or later. */
  bind(ip: string, port: number, flags: number, done: (errno: number) => void): void;
  /** Adopts an existing descriptor. Throws Node's errors (ERR_INVALID_FD_TYPE, `open` errno). */
  open(fd: number): void;
  connect(ip: string, port: number, done: (errno: number) => void): void;
  disconnect(): number;
  /** The descriptor, or a negative errno (EBADF) while there is none: Node's legacy `_handle.fd`. */
  fileno(): number;
  getsockname(out: AddressInfo): number;
  getpeername(out: AddressInfo): number;

  setBroadcast(on: boolean): number;
  setTTL(ttl: number): number;
  setMulticastTTL(ttl: number): number;
  setMulticastLoopback(on: boolean): number;
  setMulticastInterface(address: string): number;
  setMembership(group: string, iface: string | undefined, join: boolean): number;
  setSourceMembership(source: string, group: string, iface: string | undefined, join: boolean): number;
  setMulticastAll(on: boolean): number;
  blockSource(source: string, group: string, iface: string | undefined, block: boolean): number;
  setReceiveMetadata(flags: number): number;
  /** Asks for `UDP_GRO`, applied when the descriptor is made (see `groState`). */
  setGro(): void;
  /** 1 when `UDP_GRO` is on, 0 when not (yet), a negative errno when the kernel refused it. */
  groState(): number;
  /** `size` 0 reads; otherwise sets. Returns the kernel's value or a negative errno. */
  bufferSize(size: number, recv: boolean): number;

  /**
   * Queues one datagram, its chunks gathered into one; `ip` is resolved
   * already, undefined on a connected socket. Datagrams leave in the order
   * queued; `done(errno, tag)` runs once the kernel took or refused it.
   */
  send(chunks: Buffer | readonly Buffer[], ip: string | undefined, port: number, done: SendDone, tag: number): void;
  /**
   * Queues `data` as datagrams of `segmentSize` bytes (the last shorter), as
   * `send` would queue each; `done(errno, i)` for the i-th. Backends with
   * `features.gso` only.
   */
  sendSegments?(data: Buffer, segmentSize: number, ip: string | undefined, port: number, done: SendDone): void;
  /** Hands what is queued to the kernel now instead of at the end of the tick; calls no send callback before it returns. */
  flush(): void;
  /** Datagrams and bytes in the send queue: given to send(), not yet taken by the kernel. */
  sendQueueCount(): number;
  sendQueueSize(): number;

  recvStart(): number;
  recvStop(): number;

  /** Turns GSO send off (or back on) for this socket. */
  setGso(on: boolean): void;
  /** This socket's GSO state, and the UDP_SEGMENT sends and segments so far. */
  gso(): { status: GsoStatus; sends: number; segments: number };

  ref(): void;
  unref(): void;
  /**
   * Sends what is queued as far as the kernel takes it now, then closes;
   * what waits for room is cancelled (ECANCELED), called back after the
   * Socket's 'close', as libuv's close phase does.
   */
  close(): void;
}

/** Runs `call`; what it throws is thrown again from a tick of its own, uncaught (so one listener's exception costs the next event nothing). */
export function rethrowLater(call: () => void): void {
  try {
    call();
  } catch (error) {
    process.nextTick(() => {
      throw error;
    });
  }
}
