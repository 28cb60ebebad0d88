// The native backend's SendQueue on its own: its invariants at every
// capacity boundary, its memory under a queue that never drains, and where
// each datagram arrives when its packed arrays go to the helper's send() on
// real loopback sockets.
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import { SOCKADDR_SIZE, SendQueue } from '../src/send-queue.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const b: any = createRequire(import.meta.url)('../native/build/Release/udpkit.node');

interface Peer {
  h: object;
  port: number;
  got: number[];
  to: Buffer;
}

const handles: object[] = [];
afterEach(() => {
  for (const h of handles.splice(0)) b.close(h);
});

const meta = new Int32Array(640);
const status = new Int32Array(4);

function peer(): Peer {
  const p: Peer = { h: {}, port: 0, got: [], to: Buffer.alloc(0) };
  p.h = b.create(4, (n: number, data: ArrayBuffer) => {
    for (let i = 0; i < n; i++) p.got.push(new DataView(data, meta[i * 10]!, meta[i * 10 + 1]!).getUint32(0));
  }, () => {}, meta, status);
  handles.push(p.h);
  expect(b.bind(p.h, '127.0.0.1', 0, 0)).toBe(0);
  b.bufferSize(p.h, 4 << 20, true);
  const out: { port?: number } = {};
  b.getsockname(p.h, out);
  p.port = out.port!;
  p.to = b.sockaddr(4, '127.0.0.1', p.port);
  return p;
}

async function waitFor(what: string, predicate: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Datagram i: its number, then filler so sizes vary (4..64 bytes). */
function datagram(i: number): Buffer {
  const data = Buffer.alloc(4 + (i % 61));
  data.writeUInt32BE(i);
  return data;
}

/** Hands the whole queue to the helper as the backend does, 1024 at a time, and reports. */
function drain(queue: SendQueue, h: object): void {
  while (queue.count > 0) {
    const start = queue.head;
    const stop = Math.min(queue.end, start + 1024);
    const settled = b.send(h, queue.slab, queue.offsets, queue.slots, queue.table, start, stop, queue.errnos);
    expect(status[0]).toBe(0);
    queue.take(start + settled).report();
  }
}

/** The queue's invariants, as the helper relies on them. */
function checkInvariants(queue: SendQueue): void {
  const { capacity } = queue;
  expect(queue.offsets.length).toBe(capacity + 1);
  expect(queue.slots.length).toBe(capacity);
  expect(queue.errnos.length).toBe(capacity);
  expect(queue.end).toBeLessThanOrEqual(capacity);
  for (let i = queue.head; i < queue.end; i++) {
    expect(queue.offsets[i]!).toBeLessThanOrEqual(queue.offsets[i + 1]!);
    expect(queue.slots[i]!).toBeGreaterThanOrEqual(-1);
    expect((queue.slots[i]! + 1) * SOCKADDR_SIZE).toBeLessThanOrEqual(queue.table.length);
  }
  expect(queue.offsets[queue.end]!).toBeLessThanOrEqual(queue.slab.length);
}

describe('SendQueue', () => {
  const sizes = [1023, 1024, 1025, 2047, 2048, 2049, 2050, 4095, 4096, 4097, 4098, 4099, 4100];

  it.each(sizes)('holds %i datagrams for mixed destinations, and each arrives where it was sent', async (count) => {
    const receivers = [peer(), peer(), peer()];
    const connectedPeer = peer();
    const tx = peer();
    expect(b.connect(tx.h, '127.0.0.1', connectedPeer.port)).toBe(0);
    const queue = new SendQueue();
    const outcomes: [number, number][] = [];
    for (const p of [...receivers, connectedPeer]) b.recvStart(p.h);
    for (let i = 0; i < count; i++) {
      // Runs of one destination and single changes, and the connected peer.
      const which = Math.floor(i / 3) % 4;
      const dest = which < 3 ? receivers[which]!.to : undefined;
      expect(queue.push(datagram(i), dest, (errno, tag) => outcomes.push([tag, errno]), i)).toBe(true);
    }
    expect(queue.count).toBe(count);
    expect(queue.bytes).toBe(Array.from({ length: count }, (_, i) => 4 + (i % 61)).reduce((a, n) => a + n, 0));
    checkInvariants(queue);

    drain(queue, tx.h);
    expect(outcomes).toEqual(Array.from({ length: count }, (_, i) => [i, 0]));
    expect(queue.count).toBe(0);
    expect(queue.bytes).toBe(0);
    const expected = [0, 1, 2, 3].map((which) => Array.from({ length: count }, (_, i) => i).filter((i) => Math.floor(i / 3) % 4 === which));
    const all = [...receivers, connectedPeer];
    await waitFor(`${count} datagrams`, () => all.reduce((n, p) => n + p.got.length, 0) >= count);
    expect(all.map((p) => p.got)).toEqual(expected);
  });

  it('gathers chunks, and copies a chunk detached since as empty', () => {
    const queue = new SendQueue();
    const gone = new ArrayBuffer(8);
    const detached = Buffer.from(gone);
    structuredClone(gone, { transfer: [gone] });
    expect(queue.push([Buffer.from('ab'), detached, Buffer.from('c')], undefined, () => {}, 0)).toBe(true);
    expect(queue.push(detached, undefined, () => {}, 1)).toBe(true);
    expect(queue.slab.subarray(queue.offsets[0], queue.offsets[1]).toString()).toBe('abc');
    expect(queue.offsets[2]! - queue.offsets[1]!).toBe(0);
    expect(queue.bytes).toBe(3);
  });

  it('releases callbacks when it takes their datagrams, and reports errnos given or written', () => {
    const queue = new SendQueue();
    const calls: [number, number][] = [];
    for (let i = 0; i < 5; i++) queue.push(datagram(i), undefined, (errno, tag) => calls.push([tag, errno]), i);
    queue.errnos.set([0, -90, 0], 0);
    const first = queue.take(3);
    expect([first.sent, first.sentBytes]).toEqual([2, 4 + 6]);
    const rest = queue.take(5, -125);
    expect(rest.sent).toBe(0);
    rest.report();
    first.report();
    expect(calls).toEqual([[3, -125], [4, -125], [0, 0], [1, -90], [2, 0]]);
    expect(queue.count).toBe(0);
  });

  it.each([
    [1, 64, 0],
    [63, 64, 1],
    [64 * 100 + 17, 64, 1],
    [1024 * 5, 5, 7],
    [4097, 1, 3],
  ])('pushSegments of %i bytes in %i-byte segments (%i datagrams waiting before): each segment a datagram, in order', async (size, segmentSize, before) => {
    const rx = peer();
    const tx = peer();
    b.recvStart(rx.h);
    const count = Math.ceil(size / segmentSize);
    // Numbered segments, read back by a receiver, when each has room for its number.
    const numbered = segmentSize >= 4 && size - (count - 1) * segmentSize >= 4;
    const data = Buffer.alloc(size);
    for (let k = 0; k < count && numbered; k++) data.writeUInt32BE(k, k * segmentSize);
    const dest = numbered ? rx.to : tx.to; // tx does not read: what it gets stays in its buffer
    const queue = new SendQueue();
    const outcomes: [number, number][] = [];
    const done = (errno: number, tag: number) => outcomes.push([tag, errno]);
    for (let i = 0; i < before; i++) queue.push(datagram(1_000_000 + i), dest, done, 1_000_000 + i);
    expect(queue.pushSegments(data, segmentSize, dest, done, 0)).toBe(true);
    expect([queue.count, queue.bytes]).toEqual([before + count, size + Array.from({ length: before }, (_, i) => datagram(1_000_000 + i).length).reduce((a, n) => a + n, 0)]);
    checkInvariants(queue);
    for (let k = 0; k < count; k++) {
      const at = queue.head + before + k;
      expect(queue.offsets[at + 1]! - queue.offsets[at]!).toBe(Math.min(segmentSize, size - k * segmentSize));
      expect(queue.slots[at]).toBe(queue.slots[queue.head + before]);
    }
    expect(queue.slab.subarray(queue.offsets[queue.head + before], queue.offsets[queue.end])).toEqual(data);
    drain(queue, tx.h);
    expect(outcomes).toEqual([
      ...Array.from({ length: before }, (_, i) => [1_000_000 + i, 0]),
      ...Array.from({ length: count }, (_, k) => [k, 0]),
    ]);
    if (numbered) {
      await waitFor(`${before + count} datagrams`, () => rx.got.length >= before + count);
      expect(rx.got).toEqual([...Array.from({ length: before }, (_, i) => 1_000_000 + i), ...Array.from({ length: count }, (_, k) => k)]);
    }
  });

  it('pushSegments of nothing appends nothing; past the byte limit it appends nothing and says so', () => {
    const queue = new SendQueue(1000);
    expect(queue.pushSegments(Buffer.alloc(0), 10, undefined, () => {}, 0)).toBe(true);
    expect(queue.count).toBe(0);
    expect(queue.pushSegments(Buffer.alloc(1001), 10, undefined, () => {}, 0)).toBe(false);
    expect([queue.count, queue.bytes]).toEqual([0, 0]);
    expect(queue.pushSegments(Buffer.alloc(1000), 10, undefined, () => {}, 0)).toBe(true);
    expect([queue.count, queue.bytes]).toEqual([100, 1000]);
    checkInvariants(queue);
  });

  it('refuses what would exceed its byte limit, and takes it once there is room', () => {
    const queue = new SendQueue(1000);
    expect(queue.push(Buffer.alloc(600), undefined, () => {}, 0)).toBe(true);
    expect(queue.push(Buffer.alloc(600), undefined, () => {}, 1)).toBe(false);
    expect(queue.count).toBe(1);
    queue.take(1);
    expect(queue.push(Buffer.alloc(600), undefined, () => {}, 1)).toBe(true);
  });

  it('never fully drained, it keeps its memory in proportion to what waits, and its contents intact', async () => {
    const receivers = Array.from({ length: 8 }, () => peer());
    const tx = peer();
    for (const p of receivers) b.recvStart(p.h);
    const queue = new SendQueue();
    const waiting = 100;
    let peakCapacity = 0;
    let peakSlab = 0;
    let peakTable = 0;
    // 200k datagrams pass through; at most 101 wait at any time.
    for (let i = 0; i < 200_000; i++) {
      queue.push(datagram(i), receivers[i % 8]!.to, () => {}, i);
      if (queue.count > waiting) queue.take(queue.head + 1);
      peakCapacity = Math.max(peakCapacity, queue.capacity);
      peakSlab = Math.max(peakSlab, queue.slab.length);
      peakTable = Math.max(peakTable, queue.table.length);
    }
    checkInvariants(queue);
    // What waits is at most 101 datagrams of at most 64 bytes.
    expect(peakCapacity).toBeLessThanOrEqual(512);
    expect(peakSlab).toBeLessThanOrEqual(64 * 1024);
    expect(peakTable).toBeLessThanOrEqual(512 * SOCKADDR_SIZE);
    // The last 100 still go where they were meant to.
    drain(queue, tx.h);
    await waitFor('the last 100', () => receivers.reduce((n, p) => n + p.got.length, 0) >= waiting);
    for (const [k, p] of receivers.entries()) {
      expect(p.got).toEqual(Array.from({ length: waiting }, (_, j) => 200_000 - waiting + j).filter((i) => i % 8 === k));
    }
  });

  it.each([0, 1])('never fully drained with %i-byte datagrams (the slab never fills), its arrays stay in proportion to what waits', (size) => {
    // Only the arrays can run out here: without compacting them in place
    // they would double at every fill.
    const queue = new SendQueue();
    let peakCapacity = 0;
    for (let i = 0; i < 200_000; i++) {
      expect(queue.push(Buffer.alloc(size), undefined, () => {}, i)).toBe(true);
      if (queue.count > 100) queue.take(queue.head + 1);
      peakCapacity = Math.max(peakCapacity, queue.capacity);
    }
    checkInvariants(queue);
    expect(queue.count).toBe(100);
    expect(peakCapacity).toBeLessThanOrEqual(256);
  });

  it('passes more than 4 GiB through without a full drain, offsets never wrapping', () => {
    const queue = new SendQueue();
    const big = Buffer.alloc(65_000);
    let total = 0;
    let i = 0;
    let refused = 0;
    let outside = 0;
    while (total < 2 ** 32 + 2 ** 20) {
      big.writeUInt32BE(i);
      if (!queue.push(big, undefined, () => {}, i++)) refused++;
      total += big.length;
      if (queue.count > 3) queue.take(queue.head + 1);
      if (queue.offsets[queue.end]! > queue.slab.length) outside++;
    }
    expect([refused, outside]).toEqual([0, 0]);
    expect(queue.slab.length).toBeLessThanOrEqual(1 << 20);
    const head = queue.head;
    for (let k = 0; k < queue.count; k++) {
      expect(queue.slab.readUInt32BE(queue.offsets[head + k]!)).toBe(i - queue.count + k);
      expect(queue.offsets[head + k + 1]! - queue.offsets[head + k]!).toBe(65_000);
    }
  });

  it('shrinks back once drained after a backlog', () => {
    const queue = new SendQueue();
    for (let i = 0; i < 10_000; i++) queue.push(Buffer.alloc(1000), undefined, () => {}, i);
    expect(queue.capacity).toBeGreaterThanOrEqual(10_000);
    queue.take(queue.end);
    expect(queue.capacity).toBeLessThan(1024);
    expect(queue.slab.length).toBeLessThan(1 << 20);
  });
});
