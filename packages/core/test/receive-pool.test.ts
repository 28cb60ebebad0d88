// The native receive pool: a 'messages' batch of up to 4 KiB is copied right
// after the previous one into a 16 KiB ArrayBuffer shared by the handle's
// batches (8-byte aligned), a larger batch into an ArrayBuffer of its own;
// no byte handed out is written again, and the pool can't be transferred
// away from under the Buffers that view it.
import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import type { Socket } from '@udpkit/core';
import { backend, bound, closeAll, sendManyAsync, waitFor } from './support/sockets.js';

const POOL = 16384;

/** One batch per burst: a sendmmsg queues them all before the receiver wakes. */
async function batchesOf(rx: Socket, tx: Socket, bursts: Buffer[][]): Promise<Buffer[][]> {
  const batches: Buffer[][] = [];
  rx.on('messages', (msgs) => batches.push(msgs));
  const port = rx.address().port;
  for (const burst of bursts) {
    const before = batches.length;
    const { error } = await sendManyAsync(tx, burst.map((data) => ({ data, port, address: '127.0.0.1' })));
    expect(error).toBeNull();
    await waitFor(() => batches.length > before && batches.flat().length >= bursts.slice(0, bursts.indexOf(burst) + 1).flat().length, 5000, 'the burst');
  }
  return batches;
}

/** Datagram `i` of a run: its bytes tell which it is, so an overwrite shows. */
function datagram(i: number, size: number): Buffer {
  const data = Buffer.alloc(size);
  for (let at = 0; at < size; at++) data[at] = (i * 31 + at) & 0xff;
  return data;
}

describe.skipIf(backend !== 'native')('the receive pool', () => {
  it('fills a pool back to back, 8-byte aligned, up to its end; 4 KiB batches go in, 4097 B ones get their own memory', async () => {
    const rx = await bound();
    const tx = await bound('udp4', { gso: false });
    try {
      let n = 0;
      const burst = (sizes: number[]) => sizes.map((size) => datagram(n++, size));
      const bursts = [
        burst([3]), // 3 bytes: the next batch starts at 8
        burst([8, 8]),
        burst(Array(64).fill(64)), // exactly 4096: into the pool
        burst([4000, 97]), // 4097: its own
        burst(Array(64).fill(64)),
        burst(Array(64).fill(64)), // the pool is now 24 + 3 * 4096 = 12312 full: 4072 left
        burst([4000, 72]), // 4072: fits exactly
        burst([0]), // an empty datagram at the very end of a full pool
        burst([1]), // a new pool
      ];
      const batches = await batchesOf(rx, tx, bursts);
      expect(batches.map((b) => b.length)).toEqual(bursts.map((b) => b.length));
      const starts = batches.map((b) => b[0]!.byteOffset);
      const sizes = batches.map((b) => b[0]!.buffer.byteLength);
      expect(starts).toEqual([0, 8, 24, 0, 4120, 8216, 12312, POOL, 0]);
      expect(sizes).toEqual([POOL, POOL, POOL, 4097, POOL, POOL, POOL, POOL, POOL]);
      const pool = batches[0]![0]!.buffer;
      expect([0, 1, 2, 4, 5, 6, 7].every((i) => batches[i]![0]!.buffer === pool)).toBe(true);
      expect(batches[8]![0]!.buffer).not.toBe(pool);
      // Within a batch the datagrams lie back to back; nothing was overwritten.
      for (const batch of batches) {
        let at = batch[0]!.byteOffset;
        for (const msg of batch) {
          expect(msg.byteOffset).toBe(at);
          at += msg.length;
        }
      }
      expect(batches.flat().map((msg) => msg.toString('hex'))).toEqual(bursts.flat().map((d) => d.toString('hex')));
    } finally {
      await closeAll(rx, tx);
    }
  });

  it('hands out no byte twice: 600 batches of mixed sizes, all held, arrive intact', async () => {
    const rx = await bound();
    const tx = await bound('udp4', { gso: false });
    try {
      const sizes = [0, 1, 7, 63, 64, 65, 1023, 1024, 1025, 2047, 2048, 2049, 4095, 4096, 4097, 9000];
      const bursts: Buffer[][] = [];
      let n = 0;
      for (let b = 0; b < 600; b++) {
        const count = 1 + (b % 5);
        bursts.push(Array.from({ length: count }, (_, k) => datagram(n++, sizes[(b * 7 + k * 3) % sizes.length]!)));
      }
      const batches = await batchesOf(rx, tx, bursts);
      const pools = new Set(batches.flat().filter((msg) => msg.buffer.byteLength === POOL).map((msg) => msg.buffer));
      expect(pools.size).toBeGreaterThan(10);
      expect(batches.flat().map((msg) => msg.toString('hex'))).toEqual(bursts.flat().map((d) => d.toString('hex')));
    } finally {
      await closeAll(rx, tx);
    }
  });

  it('refuses to transfer a pool or a batch of its own (or copies it, on Node 20): every datagram in it stays whole', async () => {
    const rx = await bound();
    const tx = await bound('udp4', { gso: false });
    try {
      const bursts = [[datagram(0, 100)], [datagram(1, 200), datagram(2, 300)], [datagram(3, 1400), datagram(4, 1400), datagram(5, 1400)]];
      const batches = await batchesOf(rx, tx, bursts);
      const pool = batches[0]![0]!.buffer as ArrayBuffer;
      const own = batches[2]![0]!.buffer as ArrayBuffer;
      expect(batches[1]![0]!.buffer).toBe(pool);
      expect(own.byteLength).toBe(4200);
      for (const memory of [pool, own]) {
        const size = memory.byteLength;
        let refused = false;
        try {
          structuredClone(memory, { transfer: [memory] });
        } catch (error) {
          expect((error as Error).name).toBe('DataCloneError');
          refused = true;
        }
        expect(memory.byteLength).toBe(size);
        // Node 22 and later refuse; Node 20 copies an untransferable ArrayBuffer.
        expect(refused).toBe(Number(process.versions.node.split('.')[0]) >= 22);
      }
      expect(batches.flat().map((msg) => msg.toString('hex'))).toEqual(bursts.flat().map((d) => d.toString('hex')));
    } finally {
      await closeAll(rx, tx);
    }
  });

  it('replaces a pool that was detached (a byte stream took it): later batches arrive intact in a new one', async () => {
    const rx = await bound();
    const tx = await bound('udp4', { gso: false });
    try {
      const first = await batchesOf(rx, tx, [[datagram(0, 100)]]);
      const pool = first[0]![0]!.buffer as ArrayBuffer;
      let detached = false;
      try {
        // A byte stream takes the memory of what is enqueued, mark or not, on
        // Node 20 and 22 (as it takes Node's own Buffer pool); later lines throw.
        new ReadableStream({ type: 'bytes', start: (controller) => controller.enqueue(first[0]![0]!) });
        detached = pool.byteLength === 0;
      } catch (error) {
        expect(error).toBeInstanceOf(TypeError);
      }
      // Where it detaches, the helper must not write into it again.
      expect(detached).toBe(Number(process.versions.node.split('.')[0]) <= 22);
      rx.removeAllListeners('messages');
      const bursts = [[datagram(1, 50), datagram(2, 60)], [datagram(3, 70)]];
      const later = await batchesOf(rx, tx, bursts);
      expect(later.flat().map((msg) => msg.toString('hex'))).toEqual(bursts.flat().map((d) => d.toString('hex')));
      expect(later[0]![0]!.buffer === pool).toBe(!detached);
      expect(later[0]![0]!.byteOffset).toBe(detached ? 0 : 104);
    } finally {
      await closeAll(rx, tx);
    }
  });
});
