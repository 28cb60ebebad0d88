// The native backend: the C helper (native/udpkit.c) owns the descriptor,
// reads with recvmmsg and writes with sendmmsg. This file adapts it to the
// Backend interface: it coalesces the datagrams queued in one tick into one
// sendmmsg, waits for writability on EAGAIN, and turns each receive batch
// into Buffers and rinfo objects.
import { Buffer } from 'node:buffer';
import { existsSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { markAsUntransferable } from 'node:worker_threads';
import type {
  AddressInfo,
  Backend,
  BackendCounters,
  BackendEvents,
  BackendFeatures,
  Family,
  SendDone,
  RemoteInfo,
} from './backend.js';
import { METADATA_DESTINATION, METADATA_TIMESTAMP, rethrowLater } from './backend.js';
import { copyOf, viewOf } from './buffers.js';
import { datagramsInRead } from './gro.js';
import { errnoException, errors } from './errors.js';
import { UV_EAGAIN, UV_ECANCELED, UV_ENOMEM } from './errno.js';
import { nativeGsoStatus, type GsoStatus, type NativeGsoStatus } from './gso.js';
import { describeMachine, prebuildFor, runningLibc, type Machine } from './prebuilds.js';
import { SendQueue, type SettledSends } from './send-queue.js';

/** The helper's functions, as described in native/BINDING.md. */
interface Binding {
  create(
    family: Family,
    onmessages: OnMessages,
    onwritable: (this: Handle) => void,
    meta: Int32Array,
    status: Int32Array,
    onmessage?: (this: Handle) => void,
  ): Handle;
  bind(h: Handle, ip: string, port: number, flags: number): number;
  open(h: Handle, fd: number): number;
  guessHandleType(fd: number): string;
  connect(h: Handle, ip: string, port: number): number;
  disconnect(h: Handle): number;
  fileno(h: Handle): number;
  getsockname(h: Handle, out: AddressInfo): number;
  getpeername(h: Handle, out: AddressInfo): number;
  setBroadcast(h: Handle, on: boolean): number;
  setTTL(h: Handle, ttl: number): number;
  setMulticastTTL(h: Handle, ttl: number): number;
  setMulticastLoopback(h: Handle, on: boolean): number;
  setMulticastInterface(h: Handle, address: string): number;
  setMembership(h: Handle, group: string, iface: string | undefined, join: boolean): number;
  setSourceMembership(h: Handle, source: string, group: string, iface: string | undefined, join: boolean): number;
  blockSource(h: Handle, source: string, group: string, iface: string | undefined, block: boolean): number;
  setMulticastAll(h: Handle, on: boolean): number;
  bufferSize(h: Handle, size: number, recv: boolean): number;
  setRecvMetadata(h: Handle, flags: number): number;
  setGro(h: Handle): number;
  groState(h: Handle): number;
  sockaddr(family: Family, ip: string, port: number): Buffer | number;
  send(h: Handle, slab: Buffer, offsets: Uint32Array, slots: Int32Array, table: Buffer, start: number, end: number, errnos: Int32Array): number;
  setGso(h: Handle, on: boolean, fault: number): void;
  gsoStatus(h: Handle, out: NativeGsoStatus): void;
  awaitWritable(h: Handle): number;
  recvStart(h: Handle): number;
  recvStop(h: Handle): number;
  ref(h: Handle): void;
  unref(h: Handle): void;
  close(h: Handle): void;
}

type Handle = object & { readonly __brand?: 'udpkit handle' };
type Defer = (report: () => void) => void;
/** `senders`: the batch's one sender address, or its distinct ones (see BINDING.md). */
type Senders = string | string[];
type OnMessages = (this: Handle, count: number, data?: ArrayBuffer, senders?: Senders, destinations?: string[]) => void;

const MAX_BATCH = 64;
/** Per read: offset, length, port, flags, interface, seconds (low, high), nanoseconds, GRO segment size, sender. */
const META_STRIDE = 10;
const META_SEGMENT = 8;
const META_SENDER = 9;
/** status[2]: datagrams of the current batch the helper is still to hand to onmessage; -1: none, the batch went whole. */
const STATUS_EACH = 2;
/** status[3]: the sendmmsg calls of the last send() that sent something. */
const STATUS_SENDS = 3;
/** Datagrams per helper send() call: one sendmmsg. */
const SENDMMSG_MAX = 1024;
/** Cached destination sockaddrs per socket; cleared past this many. */
const DESTINATION_CACHE_LIMIT = 4096;

/** Loads the prebuilt helper that fits this machine; when none does, says which file it looked for and for what machine. */
export function loadBinding(machine: Machine = { platform: process.platform, arch: process.arch, libc: runningLibc() }): {
  binding?: Binding;
  error?: Error;
} {
  const file = prebuildFor(machine);
  if (!file) return { error: new Error(`no prebuilt native helper for ${describeMachine(machine)}`) };
  const path = fileURLToPath(new URL(`../${file}`, import.meta.url));
  if (!existsSync(path)) return { error: new Error(`the native helper for ${describeMachine(machine)} is missing: ${path}`) };
  try {
    return { binding: createRequire(import.meta.url)(path) as Binding };
  } catch (error) {
    const cause = error as Error;
    return { error: new Error(`the native helper for ${describeMachine(machine)} did not load: ${path}: ${cause.message}`, { cause }) };
  }
}

const loaded = loadBinding();
const binding = loaded.binding;

/** Why the native backend is unavailable, or undefined when it loaded. */
export const nativeLoadError: Error | undefined = loaded.error;

/** Backends by handle: the helper calls back with `this` = the handle, and this map holds no socket alive. */
const owners = new WeakMap<Handle, NativeBackend>();

function onMessages(this: Handle, count: number, data?: ArrayBuffer, senders?: Senders, destinations?: string[]): void {
  owners.get(this)?.deliver(count, data, senders, destinations);
}

function onMessage(this: Handle): void {
  owners.get(this)?.deliverNext();
}

function onWritable(this: Handle): void {
  owners.get(this)?.drain();
}

/** The address of the sender `index` of a batch. */
function senderOf(senders: Senders, index: number): string {
  return typeof senders === 'string' ? senders : senders[index]!;
}

const features: BackendFeatures = {
  receiveMetadata: true,
  multicastAll: true,
  blockSource: true,
  reusePort: true,
  pause: true,
  gso: true,
  gro: true,
};

/**
 * For udpkit's own tests only: `UDPKIT_TEST_GSO_FAULT=EIO` (or any errno
 * name) makes the first UDP_SEGMENT send of each new socket fail so, and
 * `ENOPROTOOPT` the probe, without a system call (see setGso in BINDING.md).
 */
function testGsoFault(): number {
  const name = process.env.UDPKIT_TEST_GSO_FAULT;
  if (!name) return 0;
  const errno = (osConstants.errno as Record<string, number>)[name];
  if (errno === undefined) throw new Error(`UDPKIT_TEST_GSO_FAULT: no errno named ${name}`);
  return errno;
}

export class NativeBackend implements Backend {
  readonly name = 'native';
  readonly features = features;
  readonly counters: BackendCounters = { datagramsSent: 0, bytesSent: 0, sendBatches: 0, kernelDrops: 0 };
  readonly #binding: Binding;
  readonly #handle: Handle;
  readonly #family: Family;
  readonly #familyName: 'IPv4' | 'IPv6';
  readonly #events: BackendEvents;
  readonly #meta = new Int32Array(MAX_BATCH * META_STRIDE);
  readonly #status = new Int32Array(4);
  #metadataFlags = 0;
  readonly #queue = new SendQueue();
  /** The destination of the newest queued datagram, and its sockaddr. */
  #lastIp: string | undefined;
  #lastPort = 0;
  #lastDest: Buffer | undefined;
  #flushScheduled = false;
  #awaitingWritable = false;
  /** Reports of sends close() completed, for the flush tick of their send() (see close()). */
  #closeReports: (() => void)[] = [];
  #destinations = new Map<string, Map<number, Buffer>>();
  #destinationCount = 0;
  /** The batch being handed to 'message' one datagram at a time, and the next one. */
  #batch: readonly Buffer[] = [];
  #batchInfo: readonly RemoteInfo[] = [];
  #next = 0;

  constructor(family: Family, events: BackendEvents) {
    this.#binding = binding!;
    this.#family = family;
    this.#familyName = family === 4 ? 'IPv4' : 'IPv6';
    this.#events = events;
    this.#handle = this.#binding.create(family, onMessages, onWritable, this.#meta, this.#status, onMessage);
    owners.set(this.#handle, this);
    const fault = testGsoFault();
    if (fault) this.#binding.setGso(this.#handle, true, fault);
  }

  bind(ip: string, port: number, flags: number, done: (errno: number) => void): void {
    done(this.#binding.bind(this.#handle, ip, port, flags));
  }

  open(fd: number): void {
    const type = this.#binding.guessHandleType(fd);
    if (type !== 'UDP') throw errors.invalidFdType(type);
    const errno = this.#binding.open(this.#handle, fd);
    if (errno) throw errnoException(errno, 'open');
  }

  connect(ip: string, port: number, done: (errno: number) => void): void {
    done(this.#binding.connect(this.#handle, ip, port));
  }

  disconnect(): number {
    return this.#binding.disconnect(this.#handle);
  }

  fileno(): number {
    return this.#binding.fileno(this.#handle);
  }

  getsockname(out: AddressInfo): number {
    return this.#binding.getsockname(this.#handle, out);
  }

  getpeername(out: AddressInfo): number {
    return this.#binding.getpeername(this.#handle, out);
  }

  setBroadcast(on: boolean): number {
    return this.#binding.setBroadcast(this.#handle, on);
  }

  setTTL(ttl: number): number {
    return this.#binding.setTTL(this.#handle, ttl);
  }

  setMulticastTTL(ttl: number): number {
    return this.#binding.setMulticastTTL(this.#handle, ttl);
  }

  setMulticastLoopback(on: boolean): number {
    return this.#binding.setMulticastLoopback(this.#handle, on);
  }

  setMulticastInterface(address: string): number {
    return this.#binding.setMulticastInterface(this.#handle, address);
  }

  setMembership(group: string, iface: string | undefined, join: boolean): number {
    return this.#binding.setMembership(this.#handle, group, iface, join);
  }

  setSourceMembership(source: string, group: string, iface: string | undefined, join: boolean): number {
    return this.#binding.setSourceMembership(this.#handle, source, group, iface, join);
  }

  setMulticastAll(on: boolean): number {
    return this.#binding.setMulticastAll(this.#handle, on);
  }

  blockSource(source: string, group: string, iface: string | undefined, block: boolean): number {
    return this.#binding.blockSource(this.#handle, source, group, iface, block);
  }

  setReceiveMetadata(flags: number): number {
    const errno = this.#binding.setRecvMetadata(this.#handle, flags);
    if (!errno) this.#metadataFlags = flags;
    return errno;
  }

  setGro(): void {
    this.#binding.setGro(this.#handle);
  }

  groState(): number {
    return this.#binding.groState(this.#handle);
  }

  bufferSize(size: number, recv: boolean): number {
    return this.#binding.bufferSize(this.#handle, size, recv);
  }

  // ---- send ---------------------------------------------------------------
  //
  // Datagrams wait in a SendQueue, packed for the helper, so that one call
  // hands it a batch without a JavaScript object per datagram.

  send(chunks: Buffer | readonly Buffer[], ip: string | undefined, port: number, done: SendDone, tag: number): void {
    const dest = this.#sockaddr(ip, port);
    // An address the kernel can't take (from a custom lookup) fails alone.
    if (typeof dest === 'number') return done(dest, tag);
    if (!this.#queue.push(chunks, dest, done, tag)) return done(UV_ENOMEM, tag);
    this.#scheduleFlush();
  }

  sendSegments(data: Buffer, segmentSize: number, ip: string | undefined, port: number, done: SendDone): void {
    const count = Math.ceil(data.length / segmentSize);
    const dest = this.#sockaddr(ip, port);
    const failed = typeof dest === 'number' ? dest : this.#queue.pushSegments(data, segmentSize, dest, done, 0) ? 0 : UV_ENOMEM;
    if (failed) for (let i = 0; i < count; i++) done(failed, i);
    else this.#scheduleFlush();
  }

  /** The sockaddr for ip:port (undefined: connected), or a negative errno. */
  #sockaddr(ip: string | undefined, port: number): Buffer | undefined | number {
    if (ip === undefined) return undefined;
    // Runs of one destination are the common case.
    if (ip === this.#lastIp && port === this.#lastPort) return this.#lastDest;
    const made = this.#destination(ip, port);
    if (typeof made === 'number') return made;
    this.#lastIp = ip;
    this.#lastPort = port;
    this.#lastDest = made;
    return made;
  }

  /** Everything sent in this tick leaves together, in one sendmmsg. */
  #scheduleFlush(): void {
    if (!this.#flushScheduled && !this.#awaitingWritable) {
      this.#flushScheduled = true;
      process.nextTick(() => this.drain());
    }
  }

  /**
   * sendMany's batch is complete: it goes now, unless the queue waits for
   * room. Its callbacks, and those of earlier sends, run in a later tick:
   * never inside the caller (which may be a send callback), as in Node.
   */
  flush(): void {
    if (!this.#awaitingWritable) this.drain(process.nextTick);
  }

  /**
   * Hands the queue to the kernel until it is empty or the socket buffer
   * is full; from the loop (end of tick, writability) unless `later` says
   * when to call back.
   */
  drain(later?: Defer): void {
    this.#flushScheduled = false;
    this.#awaitingWritable = false;
    const queue = this.#queue;
    try {
      while (this.#closeReports.length > 0) this.#closeReports.shift()!();
      while (queue.count > 0) {
        const full = this.#sendSome(later);
        if (full) {
          const cannotWait = this.#binding.awaitWritable(this.#handle);
          // Without a writability wait nothing would send the rest: it fails.
          if (cannotWait) this.#settle(queue.take(queue.end, cannotWait), later);
          else this.#awaitingWritable = true;
        }
        if (this.#awaitingWritable) return;
      }
    } finally {
      // A callback threw (its error goes on, uncaught): the rest still goes.
      const left = (queue.count > 0 && !this.#awaitingWritable) || this.#closeReports.length > 0;
      if (left && !this.#flushScheduled) {
        this.#flushScheduled = true;
        process.nextTick(() => this.drain());
      }
    }
  }

  /**
   * One helper call: up to SENDMMSG_MAX datagrams from the head of the
   * queue. Settles what the kernel took or refused, reporting at once or
   * through `later`; true when the socket buffer is full and the rest must
   * wait.
   */
  #sendSome(later?: Defer): boolean {
    const queue = this.#queue;
    const start = queue.head;
    const stop = Math.min(queue.end, start + SENDMMSG_MAX);
    const settled = this.#binding.send(this.#handle, queue.slab, queue.offsets, queue.slots, queue.table, start, stop, queue.errnos);
    const errno = this.#status[0]!;
    this.counters.sendBatches += this.#status[STATUS_SENDS]!;
    // Callbacks run once the queue is consistent, since one may send or close.
    if (settled > 0) this.#settle(queue.take(start + settled), later);
    if (errno === UV_EAGAIN) return true;
    // The helper could not send at all (closed, implicit bind failed): all fail.
    if (errno !== 0) this.#settle(queue.take(queue.end, errno), later);
    return false;
  }

  #settle(settled: SettledSends, later?: Defer): void {
    this.counters.datagramsSent += settled.sent;
    this.counters.bytesSent += settled.sentBytes;
    if (later) later(() => settled.report());
    else settled.report();
  }

  /** The helper's sockaddr for ip:port, cached; a negative errno when the address does not parse. */
  #destination(ip: string, port: number): Buffer | number {
    let byPort = this.#destinations.get(ip);
    const cached = byPort?.get(port);
    if (cached) return cached;
    const made = this.#binding.sockaddr(this.#family, ip, port);
    if (typeof made === 'number') return made;
    if (this.#destinationCount >= DESTINATION_CACHE_LIMIT) {
      this.#destinations.clear();
      this.#destinationCount = 0;
      byPort = undefined;
    }
    if (!byPort) this.#destinations.set(ip, (byPort = new Map()));
    byPort.set(port, made);
    this.#destinationCount++;
    return made;
  }

  setGso(on: boolean): void {
    this.#binding.setGso(this.#handle, on, 0);
  }

  gso(): { status: GsoStatus; sends: number; segments: number } {
    const out: NativeGsoStatus = { state: 0, errno: 0, recverr: 0, maxSize: 0, sends: 0, segments: 0 };
    this.#binding.gsoStatus(this.#handle, out);
    return { status: nativeGsoStatus(out), sends: out.sends, segments: out.segments };
  }

  sendQueueCount(): number {
    return this.#queue.count;
  }

  sendQueueSize(): number {
    return this.#queue.bytes;
  }

  // ---- receive ------------------------------------------------------------

  /**
   * Called by the helper with one wake-up's reads: emits them as one batch of
   * datagrams (a GRO read split into the datagrams it coalesced) and/or as
   * the reads themselves ('segments'), then the first datagram for
   * 'message'; the helper calls deliverNext() for each of the others, from a
   * callback of its own.
   */
  deliver(count: number, data?: ArrayBuffer, senders?: Senders, destinations?: string[]): void {
    const events = this.#events;
    if (count < 0) {
      events.onReceiveError(count);
      return;
    }
    this.counters.kernelDrops = this.#status[1]! >>> 0;
    // A batch at offset 0 starts a new ArrayBuffer: a receive pool that later
    // batches fill too, or the batch's own. Transferring it (postMessage, a
    // worker) would empty the Buffers of every datagram in it; untransferable,
    // it is copied (Node 20) or refused with a DataCloneError, as Node's own
    // Buffer pool is.
    if (this.#meta[0] === 0) markAsUntransferable(data!);
    const each = events.wantsEach();
    const segments = events.wantsSegments();
    const split = each || !segments || events.wantsBatch();
    const datagrams = split ? this.#datagramsIn(count) : 0;
    // Sized up front: a GRO batch may hold thousands, and growing by push() costs more than filling them.
    const buffers = new Array<Buffer>(datagrams);
    const rinfos = new Array<RemoteInfo>(datagrams);
    if (split) this.#split(count, data!, senders!, destinations, each, buffers, rinfos);
    if (each) {
      this.#batch = buffers;
      this.#batchInfo = rinfos;
      this.#next = 0;
    }
    // Set first: if a listener throws, the helper still hands over every
    // datagram. Negative: the batch goes whole, and the helper reads the
    // next one 64 wide instead of libuv's 32.
    this.#status[STATUS_EACH] = each ? buffers.length : -1;
    if (!segments) {
      // 'messages' gets arrays of its own: a listener may shift, splice or sort them.
      events.onBatch(each ? buffers.slice() : buffers, each ? rinfos.slice() : rinfos);
    } else {
      // A throwing 'messages' listener costs 'segments' nothing, and the reverse.
      if (split) rethrowLater(() => events.onBatch(each ? buffers.slice() : buffers, each ? rinfos.slice() : rinfos));
      rethrowLater(() => this.#deliverReads(count, data!, senders!, destinations, split));
    }
    this.deliverNext();
  }

  /** The datagrams of the batch's `count` reads: one each, or with GRO the segments a read holds. */
  #datagramsIn(count: number): number {
    const meta = this.#meta;
    let datagrams = 0;
    for (let m = 0; m < count * META_STRIDE; m += META_STRIDE) datagrams += datagramsInRead(meta[m + 1]!, meta[m + META_SEGMENT]!);
    return datagrams;
  }

  /**
   * The datagrams of the batch, into `buffers` and `rinfos` (of their length). A 'message'
   * Buffer owns its memory, as Node's do; a batch-only consumer reads views
   * of the one copy the helper made.
   */
  #split(
    count: number,
    data: ArrayBuffer,
    senders: Senders,
    destinations: string[] | undefined,
    own: boolean,
    buffers: Buffer[],
    rinfos: RemoteInfo[],
  ): void {
    const meta = this.#meta;
    const family = this.#familyName;
    let k = 0;
    for (let i = 0; i < count; i++) {
      const m = i * META_STRIDE;
      const offset = meta[m]!;
      const length = meta[m + 1]!;
      const port = meta[m + 2]!;
      const segment = meta[m + META_SEGMENT]!;
      const address = senderOf(senders, meta[m + META_SENDER]!);
      const extra = this.#metadataFlags !== 0 || meta[m + 3] !== 0;
      if (segment === 0 || length <= segment) {
        buffers[k] = own ? copyOf(data, offset, length) : viewOf(data, offset, length);
        const rinfo: RemoteInfo = { address, family, port, size: length };
        if (extra) this.#addMetadata(rinfo, m, i, destinations, true);
        rinfos[k++] = rinfo;
        continue;
      }
      // A GRO read: datagrams of `segment` bytes, the last one shorter if it is.
      for (let at = 0; at < length; at += segment) {
        const size = Math.min(segment, length - at);
        buffers[k] = own ? copyOf(data, offset + at, size) : viewOf(data, offset + at, size);
        const rinfo: RemoteInfo = { address, family, port, size };
        if (extra) this.#addMetadata(rinfo, m, i, destinations, at + size === length);
        rinfos[k++] = rinfo;
      }
    }
  }

  /** Emits the reads of the batch as the kernel gave them ('segments'). */
  #deliverReads(count: number, data: ArrayBuffer, senders: Senders, destinations: string[] | undefined, counted: boolean): void {
    const meta = this.#meta;
    const family = this.#familyName;
    const buffers = new Array<Buffer>(count);
    const segmentSizes = new Array<number>(count);
    const rinfos = new Array<RemoteInfo>(count);
    for (let i = 0; i < count; i++) {
      const m = i * META_STRIDE;
      const length = meta[m + 1]!;
      const segment = meta[m + META_SEGMENT]!;
      buffers[i] = viewOf(data, meta[m]!, length);
      segmentSizes[i] = segment === 0 || length <= segment ? length : segment;
      const rinfo: RemoteInfo = { address: senderOf(senders, meta[m + META_SENDER]!), family, port: meta[m + 2]!, size: length };
      if (this.#metadataFlags !== 0 || meta[m + 3] !== 0) this.#addMetadata(rinfo, m, i, destinations, true);
      rinfos[i] = rinfo;
    }
    this.#events.onSegments(buffers, segmentSizes, rinfos, counted);
  }

  /**
   * The metadata asked for, and truncation whenever the kernel cut a read:
   * `last` says whether this datagram ends its read (where the cut is).
   */
  #addMetadata(rinfo: RemoteInfo, m: number, i: number, destinations: string[] | undefined, last: boolean): void {
    const meta = this.#meta;
    const truncated = last && (meta[m + 3]! & 1) !== 0;
    if (this.#metadataFlags !== 0 || truncated) rinfo.truncated = truncated;
    if (this.#metadataFlags & METADATA_DESTINATION) {
      rinfo.destination = destinations?.[i];
      rinfo.interfaceIndex = meta[m + 4]!;
    }
    if (this.#metadataFlags & METADATA_TIMESTAMP) {
      const seconds = BigInt(meta[m + 5]! >>> 0) + (BigInt(meta[m + 6]!) << 32n);
      rinfo.timestamp = seconds * 1_000_000_000n + BigInt(meta[m + 7]!);
    }
  }

  /** Hands the next datagram of the batch to 'message', if the helper still owes one. */
  deliverNext(): void {
    const left = this.#status[STATUS_EACH]!;
    if (left <= 0) return;
    this.#status[STATUS_EACH] = left - 1;
    const i = this.#next++;
    const data = this.#batch[i]!;
    const rinfo = this.#batchInfo[i]!;
    // Held no longer than needed: a listener may keep one message, not its batch.
    if (left === 1) this.#batch = this.#batchInfo = [];
    this.#events.onDatagram(data, rinfo);
  }

  recvStart(): number {
    return this.#binding.recvStart(this.#handle);
  }

  recvStop(): number {
    return this.#binding.recvStop(this.#handle);
  }

  ref(): void {
    this.#binding.ref(this.#handle);
  }

  unref(): void {
    this.#binding.unref(this.#handle);
  }

  close(): void {
    const queue = this.#queue;
    // Datagrams of this tick that the kernel takes now still go (Node sends
    // synchronously when the buffer has room). Their callbacks run after
    // close() returns, from the flush tick their send() scheduled: Node
    // queues a send's callback when it sends, so before a 'connect' or
    // 'close' queued by later calls in the same tick.
    if (!this.#awaitingWritable) {
      const later: Defer = (report) => this.#closeReports.push(report);
      while (queue.count > 0 && !this.#sendSome(later));
      if (this.#closeReports.length > 0 && !this.#flushScheduled) {
        this.#flushScheduled = true;
        process.nextTick(() => this.drain());
      }
    }
    // What waits for room is cancelled, as libuv does on close: after
    // 'close' (a tick from now), as libuv's close phase calls them.
    if (queue.count > 0) this.#settle(queue.take(queue.end, UV_ECANCELED), setImmediate);
    this.#awaitingWritable = false;
    this.#binding.close(this.#handle);
    // Closed mid-batch: the rest of it is never delivered, so nothing holds it.
    this.#status[STATUS_EACH] = 0;
    this.#batch = this.#batchInfo = [];
  }
}
