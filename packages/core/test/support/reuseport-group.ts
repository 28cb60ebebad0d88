// A reusePort group for tests: N worker threads, each with its own
// @udpkit/core socket bound with `reusePort` to one port, and a flood from
// many source ports (one socket per flow) whose datagrams carry a sequence
// number. Who got each datagram is recorded in shared memory, so it survives
// a worker's termination.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Socket } from '@udpkit/core';
import { bound, closeAll } from './sockets.js';

const udpkitEntry = pathToFileURL(fileURLToPath(new URL('../../dist/index.js', import.meta.url))).href;

/** Enough for every datagram of a window in one socket's buffer (the kernel caps it at 2 × net.core.rmem_max). */
const RECV_BUFFER = 1 << 20;

/**
 * Runs in each worker. `owner[seq]` becomes the worker's id + 1 for the
 * first worker that gets `seq`; a second arrival counts as a duplicate.
 */
const workerSource = `
const { parentPort, workerData } = require('node:worker_threads');
const { id, entry, type, address, port, recvBufferSize, ledger } = workerData;
const owner = new Int8Array(ledger.owner);
const counters = new Int32Array(ledger.counters);
const DUPLICATES = counters.length - 1;
import(entry).then(({ createSocket }) => {
  let socket;
  try {
    socket = createSocket({ type, reusePort: true, recvBufferSize });
  } catch (error) {
    parentPort.postMessage({ error: { code: error.code, message: error.message } });
    return;
  }
  socket.on('message', (data) => {
    const seq = data.readUInt32BE(0);
    if (Atomics.compareExchange(owner, seq, 0, id + 1) !== 0) Atomics.add(counters, DUPLICATES, 1);
    Atomics.add(counters, id, 1);
  });
  socket.once('error', (error) => parentPort.postMessage({ error: { code: error.code, message: error.message } }));
  parentPort.on('message', () => {
    const { datagramsReceived, kernelDrops } = socket.stats();
    parentPort.postMessage({ datagramsReceived, kernelDrops });
  });
  socket.bind(port, address, () => parentPort.postMessage({ port: socket.address().port, backend: socket.backend }));
});`;

export type Family = 'udp4' | 'udp6';

export const loopback = (type: Family) => (type === 'udp4' ? '127.0.0.1' : '::1');

/** The inodes of the UDP sockets bound to `port` in this network namespace, as the kernel lists them. */
export function boundSocketInodes(type: Family, port: number): string[] {
  const table = readFileSync(type === 'udp4' ? '/proc/net/udp' : '/proc/net/udp6', 'utf8');
  return table
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((columns) => columns.length > 9 && Number.parseInt(columns[1]!.split(':')[1]!, 16) === port)
    .map((columns) => columns[9]!);
}

/** The socket inodes this process holds a descriptor for. */
export function openSocketInodes(): Set<string> {
  const inodes = new Set<string>();
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`));
      if (match) inodes.add(match[1]!);
    } catch {
      // closed between readdir and readlink (the readdir's own descriptor)
    }
  }
  return inodes;
}

export const openDescriptorCount = () => readdirSync('/proc/self/fd').length;

export class ReusePortGroup {
  readonly type: Family;
  readonly port: number;
  readonly backend: string;
  readonly workers: Worker[];
  /** The kernel's inode of each worker's socket. */
  readonly inodes: string[];
  readonly #owner: Int8Array;
  readonly #counters: Int32Array;

  private constructor(type: Family, port: number, backend: string, workers: Worker[], inodes: string[], owner: Int8Array, counters: Int32Array) {
    this.type = type;
    this.port = port;
    this.backend = backend;
    this.workers = workers;
    this.inodes = inodes;
    this.#owner = owner;
    this.#counters = counters;
  }

  /**
   * Starts `size` workers one after the other: the first binds port 0, the
   * others its port. `capacity` bounds the sequence numbers recorded.
   */
  static async start(type: Family, size: number, capacity: number): Promise<ReusePortGroup> {
    const ledger = { owner: new SharedArrayBuffer(capacity), counters: new SharedArrayBuffer(4 * (size + 1)) };
    const workers: Worker[] = [];
    const inodes: string[] = [];
    let port = 0;
    let backend = '';
    try {
      for (let id = 0; id < size; id++) {
        const before = port === 0 ? [] : boundSocketInodes(type, port);
        const worker = new Worker(workerSource, {
          eval: true,
          workerData: { id, entry: udpkitEntry, type, address: loopback(type), port, recvBufferSize: RECV_BUFFER, ledger },
        });
        workers.push(worker);
        const reply = await nextMessage<{ port?: number; backend?: string; error?: { code: string; message: string } }>(worker);
        if (reply.error) throw Object.assign(new Error(reply.error.message), { code: reply.error.code });
        port = reply.port!;
        backend = reply.backend!;
        const added = boundSocketInodes(type, port).filter((inode) => !before.includes(inode));
        if (added.length !== 1) throw new Error(`worker ${id}: expected one new socket on port ${port}, found ${added.length}`);
        inodes.push(added[0]!);
      }
    } catch (error) {
      await Promise.all(workers.map((w) => w.terminate()));
      throw error;
    }
    return new ReusePortGroup(type, port, backend, workers, inodes, new Int8Array(ledger.owner), new Int32Array(ledger.counters));
  }

  /** How many sequence numbers the ledger records. */
  get capacity(): number {
    return this.#owner.length;
  }

  /** The worker that received `seq`, or -1. */
  ownerOf(seq: number): number {
    return Atomics.load(this.#owner, seq) - 1;
  }

  received(id: number): number {
    return Atomics.load(this.#counters, id);
  }

  receivedByAll(): number {
    let sum = 0;
    for (let id = 0; id < this.workers.length; id++) sum += this.received(id);
    return sum;
  }

  /** Datagrams a worker got that another (or the same) had already got. */
  duplicates(): number {
    return Atomics.load(this.#counters, this.workers.length);
  }

  /** The worker's socket.stats(): what its socket counted, and the kernel's drops. */
  stats(id: number): Promise<{ datagramsReceived: number; kernelDrops: number }> {
    const reply = nextMessage<{ datagramsReceived: number; kernelDrops: number }>(this.workers[id]!);
    this.workers[id]!.postMessage('stats');
    return reply;
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

function nextMessage<T>(worker: Worker): Promise<T> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number) => reject(new Error(`worker exited (${code}) before answering`));
    worker.once('error', reject);
    worker.once('exit', onExit);
    worker.once('message', (message: T) => {
      worker.off('error', reject);
      worker.off('exit', onExit);
      resolve(message);
    });
  });
}

/**
 * One socket per flow; datagram `seq` goes from flow `(seq - firstSeq) % flows`. Sends in
 * rounds of one datagram per flow and keeps at most `window` datagrams in
 * flight (sent and not yet received by any worker), so no socket buffer can
 * overflow and every loss is a real one.
 */
export class Flood {
  readonly flows: number;
  readonly #sockets: Socket[];
  readonly #group: ReusePortGroup;
  readonly #window: number;
  /** Sent and not yet seen received. */
  #pending: number[] = [];
  readonly firstSeq: number;
  /** The next sequence number: firstSeq + datagrams sent. */
  sent: number;

  private constructor(group: ReusePortGroup, sockets: Socket[], window: number, firstSeq: number) {
    this.#group = group;
    this.firstSeq = firstSeq;
    this.sent = firstSeq;
    this.#sockets = sockets;
    this.flows = sockets.length;
    this.#window = window;
  }

  /** `firstSeq`: where this flood's sequence numbers start (after another flood's on the same group). */
  static async start(group: ReusePortGroup, flows: number, window: number, firstSeq = 0): Promise<Flood> {
    const sockets = await Promise.all(Array.from({ length: flows }, () => bound(group.type)));
    return new Flood(group, sockets, window, firstSeq);
  }

  flowOf(seq: number): number {
    return (seq - this.firstSeq) % this.flows;
  }

  /**
   * Sends rounds while `more()` says so, waiting after each for the window.
   * `mayBeLost(seq)` marks datagrams the window must not wait for.
   */
  async send(more: () => boolean, mayBeLost: (seq: number) => boolean = () => false, afterRound: () => void = () => {}): Promise<void> {
    while (more()) {
      await this.#round();
      afterRound();
      await this.#waitForWindow(mayBeLost);
    }
  }

  /** Waits until every datagram sent (but those that `mayBeLost`) was received. */
  async drain(mayBeLost: (seq: number) => boolean = () => false): Promise<void> {
    await this.#waitForWindow(mayBeLost, 0);
  }

  async close(): Promise<void> {
    await closeAll(...this.#sockets);
  }

  #round(): Promise<unknown> {
    const { port, type } = this.#group;
    const address = loopback(type);
    const sends: Promise<void>[] = [];
    if (this.sent + this.flows > this.#group.capacity) throw new Error(`the flood outgrew the group's ledger (${this.#group.capacity})`);
    for (const socket of this.#sockets) {
      const seq = this.sent++;
      const data = Buffer.alloc(16);
      data.writeUInt32BE(seq, 0);
      this.#pending.push(seq);
      sends.push(new Promise((resolve, reject) => socket.send(data, port, address, (error) => (error ? reject(error) : resolve()))));
    }
    return Promise.all(sends);
  }

  async #waitForWindow(mayBeLost: (seq: number) => boolean, window = this.#window): Promise<void> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      this.#pending = this.#pending.filter((seq) => this.#group.ownerOf(seq) < 0 && !mayBeLost(seq));
      if (this.#pending.length <= window) return;
      if (Date.now() > deadline) throw new Error(`${this.#pending.length} datagrams never arrived (first: ${this.#pending[0]})`);
      await sleep(1);
    }
  }
}
