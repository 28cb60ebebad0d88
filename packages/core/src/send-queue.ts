// The native backend's send queue: datagrams waiting for the kernel, packed
// the way the helper's send() takes them (native/BINDING.md). Datagram i is
// slab[offsets[i], offsets[i + 1]); its destination is the sockaddr at slot
// slots[i] of `table` (-1: the connected peer); the helper writes its
// outcome to errnos[i]. Datagrams [head, end) wait.
//
// Invariants: every per-datagram array has room for `capacity` datagrams
// (offsets one more); offsets[head] <= ... <= offsets[end] <= slab.length,
// which never exceeds `maxBytes` (so Uint32 offsets cannot wrap); each slot
// in use holds the sockaddr of a waiting datagram, or of one taken since the
// last relocation. Taking datagrams releases their callbacks at once;
// making room first moves the waiting datagrams to the front when the sent
// prefix is at least as large as they are, so a queue that never fully
// drains still uses memory in proportion to what waits.
import { Buffer, constants } from 'node:buffer';
import type { SendDone } from './backend.js';

/** sizeof(struct sockaddr_in6): one slot of the destination table. */
export const SOCKADDR_SIZE = 28;
const INITIAL_CAPACITY = 64;
const INITIAL_SLAB = 16 * 1024;
const INITIAL_TABLE_SLOTS = 4;
/** A queue that drained while larger than this goes back to its first size. */
const MAX_IDLE_CAPACITY = 4096;
const MAX_IDLE_SLAB = 4 * 1024 * 1024;
/** Offsets are Uint32: the slab stays below 4 GiB. */
const MAX_BYTES = Math.min(constants.MAX_LENGTH, 0xffffffff);

/** Datagrams taken off the queue, and what to tell their callbacks. */
export class SettledSends {
  constructor(
    readonly dones: readonly SendDone[],
    readonly tags: Int32Array,
    readonly errnos: Int32Array,
    /** How many went (errno 0), and their bytes. */
    readonly sent: number,
    readonly sentBytes: number,
  ) {}

  /**
   * Calls the callbacks in order. One that throws doesn't stop the others:
   * as in Node, where each send callback runs on its own, its exception
   * goes on (uncaught) and the rest run in the next tick.
   */
  report(from = 0): void {
    const { dones, tags, errnos } = this;
    for (let i = from; i < dones.length; i++) {
      try {
        dones[i]!(errnos[i]!, tags[i]!);
      } catch (error) {
        process.nextTick(() => this.report(i + 1));
        throw error;
      }
    }
  }
}

export class SendQueue {
  slab = Buffer.allocUnsafe(INITIAL_SLAB);
  offsets = new Uint32Array(INITIAL_CAPACITY + 1);
  slots = new Int32Array(INITIAL_CAPACITY);
  errnos = new Int32Array(INITIAL_CAPACITY);
  table = Buffer.alloc(SOCKADDR_SIZE * INITIAL_TABLE_SLOTS);
  #tags = new Int32Array(INITIAL_CAPACITY);
  #dones: (SendDone | undefined)[] = new Array(INITIAL_CAPACITY);
  #capacity = INITIAL_CAPACITY;
  #head = 0;
  #end = 0;
  /** Bytes of the waiting datagrams. */
  #bytes = 0;
  /** The sockaddr in each slot of `table`, and the slot of each sockaddr. */
  #slotDests: Buffer[] = [];
  #slotOf = new Map<Buffer, number>();
  #lastDest: Buffer | undefined;
  #lastSlot = -1;
  readonly #maxBytes: number;

  /** `maxBytes` bounds what may wait at once (a parameter for tests). */
  constructor(maxBytes = MAX_BYTES) {
    this.#maxBytes = Math.min(maxBytes, MAX_BYTES);
  }

  /** The first waiting datagram. */
  get head(): number {
    return this.#head;
  }

  /** One past the last waiting datagram. */
  get end(): number {
    return this.#end;
  }

  /** Datagrams waiting. */
  get count(): number {
    return this.#end - this.#head;
  }

  /** Bytes waiting. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Room for this many datagrams before the arrays are reallocated. */
  get capacity(): number {
    return this.#capacity;
  }

  /**
   * Appends one datagram, its chunks gathered, for `dest` (a sockaddr from
   * the helper's sockaddr(); undefined: connected). False when it cannot be
   * held: more than `maxBytes` would wait, or memory ran out.
   */
  push(chunks: Buffer | readonly Buffer[], dest: Buffer | undefined, done: SendDone, tag: number): boolean {
    let size = 0;
    if (Buffer.isBuffer(chunks)) size = chunks.length;
    else for (const chunk of chunks) size += chunk.length;
    if (!this.#makeRoom(size)) return false;

    const index = this.#end;
    const start = this.offsets[index]!;
    // A chunk detached or shrunk since send() has length 0 (and `set`
    // would throw for it): it goes as what is left of it, nothing, as
    // node:dgram sends it.
    if (Buffer.isBuffer(chunks)) {
      if (size !== 0) this.slab.set(chunks, start);
    } else {
      let at = start;
      for (const chunk of chunks) {
        const length = chunk.length;
        if (length !== 0) this.slab.set(chunk, at);
        at += length;
      }
    }
    this.offsets[index + 1] = start + size;
    this.slots[index] = dest === undefined ? -1 : this.#slot(dest);
    this.#dones[index] = done;
    this.#tags[index] = tag;
    this.#end = index + 1;
    this.#bytes += size;
    return true;
  }

  /**
   * Appends `data` as datagrams of `segmentSize` bytes each (the last one
   * shorter if the length is not a multiple), all for `dest`, tagged
   * `firstTag`, `firstTag + 1`, …: one copy, nothing allocated per datagram.
   * False, with nothing appended, as for push().
   */
  pushSegments(data: Buffer, segmentSize: number, dest: Buffer | undefined, done: SendDone, firstTag: number): boolean {
    const size = data.length;
    const count = Math.ceil(size / segmentSize);
    if (count === 0) return true;
    if (!this.#makeRoom(size, count)) return false;

    const index = this.#end;
    const start = this.offsets[index]!;
    this.slab.set(data, start);
    for (let i = 1; i < count; i++) this.offsets[index + i] = start + i * segmentSize;
    this.offsets[index + count] = start + size;
    this.slots.fill(dest === undefined ? -1 : this.#slot(dest), index, index + count);
    this.#dones.fill(done, index, index + count);
    for (let i = 0; i < count; i++) this.#tags[index + i] = firstTag + i;
    this.#end = index + count;
    this.#bytes += size;
    return true;
  }

  /**
   * Takes the waiting datagrams before `stop` off the queue: their outcome
   * is `errno` if given, else what the helper wrote to `errnos`.
   */
  take(stop: number, errno?: number): SettledSends {
    const head = this.#head;
    const dones = this.#dones.slice(head, stop) as SendDone[];
    this.#dones.fill(undefined, head, stop);
    const tags = this.#tags.slice(head, stop);
    const errnos = errno === undefined ? this.errnos.slice(head, stop) : new Int32Array(stop - head).fill(errno);
    const offsets = this.offsets;
    let sent = 0;
    let sentBytes = 0;
    for (let i = head; i < stop; i++) {
      const size = offsets[i + 1]! - offsets[i]!;
      this.#bytes -= size;
      if (errnos[i - head] === 0) {
        sent++;
        sentBytes += size;
      }
    }
    this.#head = stop;
    if (stop === this.#end) this.#reset();
    return new SettledSends(dones, tags, errnos, sent, sentBytes);
  }

  /** Empties the table and the positions; a queue grown by a backlog shrinks back. */
  #reset(): void {
    this.#head = 0;
    this.#end = 0;
    this.#bytes = 0;
    this.offsets[0] = 0;
    this.#slotDests = [];
    this.#slotOf.clear();
    this.#lastDest = undefined;
    if (this.#capacity > MAX_IDLE_CAPACITY) this.#allocate(INITIAL_CAPACITY);
    if (this.slab.length > MAX_IDLE_SLAB) this.slab = Buffer.allocUnsafe(INITIAL_SLAB);
  }

  #allocate(capacity: number): void {
    this.#capacity = capacity;
    this.offsets = new Uint32Array(capacity + 1);
    this.slots = new Int32Array(capacity);
    this.errnos = new Int32Array(capacity);
    this.#tags = new Int32Array(capacity);
    this.#dones = new Array(capacity);
  }

  /** Room for `datagrams` more datagrams of `size` bytes in all; false if it can't be had. */
  #makeRoom(size: number, datagrams = 1): boolean {
    if (this.#bytes + size > this.#maxBytes) return false;
    if (this.#fits(size, datagrams)) return true;
    // Moving what waits costs no more than what was sent since: amortized O(1).
    const sentBytes = this.offsets[this.#head]!;
    if (this.#head > 0 && (this.#head >= this.count || sentBytes >= this.#bytes)) {
      this.#relocate(this.#capacity, this.slab.length);
      if (this.#fits(size, datagrams)) return true;
    }
    let capacity = this.#end + datagrams <= this.#capacity ? this.#capacity : this.#capacity * 2;
    while (this.count + datagrams > capacity) capacity *= 2;
    const need = this.#bytes + size;
    const slabLength = need <= this.slab.length ? this.slab.length : Math.min(Math.max(need, this.slab.length * 2), this.#maxBytes);
    try {
      this.#relocate(capacity, slabLength);
    } catch {
      return false; // out of memory: the queue is unchanged
    }
    return true;
  }

  #fits(size: number, datagrams: number): boolean {
    return this.#end + datagrams <= this.#capacity && this.offsets[this.#end]! + size <= this.slab.length;
  }

  /**
   * Moves the waiting datagrams to the front of arrays of this size (new
   * ones if it differs), with a table of only the slots they use.
   */
  #relocate(capacity: number, slabLength: number): void {
    const head = this.#head;
    const count = this.#end - head;
    const base = this.offsets[head]!;
    const top = this.offsets[this.#end]!;
    // Allocate everything before changing anything.
    const grow = capacity !== this.#capacity;
    const slab = slabLength === this.slab.length ? this.slab : Buffer.allocUnsafe(slabLength);
    const offsets = grow ? new Uint32Array(capacity + 1) : this.offsets;
    const slots = grow ? new Int32Array(capacity) : this.slots;
    const tags = grow ? new Int32Array(capacity) : this.#tags;
    const table = Buffer.alloc(Math.max(INITIAL_TABLE_SLOTS, Math.min(this.#slotDests.length, count)) * SOCKADDR_SIZE);

    this.slab.copy(slab, 0, base, top);
    for (let i = 0; i <= count; i++) offsets[i] = this.offsets[head + i]! - base;
    tags.set(this.#tags.subarray(head, head + count));
    const oldSlots = this.slots;
    const oldDests = this.#slotDests;
    const renumbered = new Int32Array(oldDests.length).fill(-1);
    this.#slotDests = [];
    this.#slotOf.clear();
    this.#lastDest = undefined;
    this.table = table;
    for (let i = 0; i < count; i++) {
      const old = oldSlots[head + i]!;
      if (old >= 0 && renumbered[old] === -1) renumbered[old] = this.#addSlot(oldDests[old]!);
      slots[i] = old >= 0 ? renumbered[old]! : -1;
    }
    const dones = this.#dones.slice(head, head + count);
    dones.length = capacity;

    this.slab = slab;
    this.offsets = offsets;
    this.slots = slots;
    this.#tags = tags;
    this.#dones = dones;
    if (grow) this.errnos = new Int32Array(capacity);
    this.#capacity = capacity;
    this.#head = 0;
    this.#end = count;
  }

  /** The slot of `dest`, copied into the table on first use. */
  #slot(dest: Buffer): number {
    if (dest === this.#lastDest) return this.#lastSlot;
    const slot = this.#slotOf.get(dest) ?? this.#addSlot(dest);
    this.#lastDest = dest;
    this.#lastSlot = slot;
    return slot;
  }

  #addSlot(dest: Buffer): number {
    const slot = this.#slotDests.length;
    if ((slot + 1) * SOCKADDR_SIZE > this.table.length) {
      const table = Buffer.alloc(this.table.length * 2);
      this.table.copy(table);
      this.table = table;
    }
    dest.copy(this.table, slot * SOCKADDR_SIZE);
    this.#slotDests.push(dest);
    this.#slotOf.set(dest, slot);
    return slot;
  }
}
