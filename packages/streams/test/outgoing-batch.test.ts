// OutgoingBatch: the bytes of a tick's datagrams back to back, taken as one
// run (same destination, same size, the last may be shorter) or as messages.
import { Buffer } from 'node:buffer';
import type { OutgoingMessage } from '@udpkit/core';
import { describe, expect, it } from 'vitest';
import { OutgoingBatch, type Run } from '../src/outgoing-batch.js';

const bytes = (length: number, fill: number) => new Uint8Array(length).fill(fill);

/** The datagrams of what take() answered: [bytes, address, port] each, in order. */
function datagrams(taken: Run | OutgoingMessage[]): [number[], string | undefined, number | undefined][] {
  if (Array.isArray(taken)) return taken.map((m) => [[...(m.data as Uint8Array)], m.address, m.port]);
  const out: [number[], string | undefined, number | undefined][] = [];
  for (let at = 0; at < taken.segments.length; at += taken.segmentSize) {
    out.push([[...taken.segments.subarray(at, at + taken.segmentSize)], taken.address, taken.port]);
  }
  expect(out).toHaveLength(taken.count);
  return out;
}

describe('OutgoingBatch', () => {
  it('gives a small batch no buffer of its own: one datagram per tick shares Node\'s Buffer pool, a large one is exact', () => {
    const batch = new OutgoingBatch(true);
    const memory: ArrayBufferLike[] = [];
    for (let i = 0; i < 3; i++) {
      batch.add(bytes(1, i), '127.0.0.1', 9);
      memory.push(((batch.take() as OutgoingMessage[])[0]!.data as Uint8Array).buffer);
    }
    expect(new Set(memory).size).toBe(1);
    expect(memory[0]!.byteLength).toBeGreaterThanOrEqual(Buffer.poolSize); // Node 26 adds a little to its pool
    // After a 70000-byte batch, the next batch's first buffer is no larger than that batch was.
    batch.add(bytes(70000, 1), '127.0.0.1', 9);
    expect(((batch.take() as OutgoingMessage[])[0]!.data as Uint8Array).buffer.byteLength).toBe(70000);
  });

  it('starts no run with a datagram over 65507 bytes', () => {
    const batch = new OutgoingBatch(true);
    batch.add(bytes(65508, 1), '127.0.0.1', 9);
    batch.add(bytes(10, 2), '127.0.0.1', 9);
    expect(Array.isArray(batch.take())).toBe(true);
    batch.add(bytes(65507, 1), '127.0.0.1', 9);
    batch.add(bytes(10, 2), '127.0.0.1', 9);
    expect(batch.take()).toMatchObject({ segmentSize: 65507, count: 2 });
  });

  it('takes same-size datagrams to one destination as one run', () => {
    const batch = new OutgoingBatch(true);
    for (let i = 0; i < 3; i++) batch.add(bytes(4, i), '127.0.0.1', 9);
    const taken = batch.take();
    expect(taken).toMatchObject({ segmentSize: 4, count: 3, address: '127.0.0.1', port: 9 });
    expect([...(taken as Run).segments]).toEqual([0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2]);
    expect(batch.count).toBe(0);
  });

  it('takes a shorter last datagram into the run, and a connected run without destination', () => {
    const batch = new OutgoingBatch(true);
    batch.add(bytes(4, 1), undefined, undefined);
    batch.add(bytes(4, 2), undefined, undefined);
    batch.add(bytes(1, 3), undefined, undefined);
    const taken = batch.take() as Run;
    expect(taken).toMatchObject({ segmentSize: 4, count: 3, address: undefined, port: undefined });
    expect([...taken.segments]).toEqual([1, 1, 1, 1, 2, 2, 2, 2, 3]);
  });

  // Each of these breaks the run: the batch goes as messages, every datagram as added.
  it.each([
    ['one datagram', [[4, 'a', 9]]],
    ['a shorter one before the last', [[4, 'a', 9], [2, 'a', 9], [4, 'a', 9]]],
    ['a longer one after the first', [[4, 'a', 9], [5, 'a', 9]]],
    ['another address', [[4, 'a', 9], [4, 'b', 9]]],
    ['another port', [[4, 'a', 9], [4, 'a', 10]]],
    ['an empty first datagram', [[0, 'a', 9], [0, 'a', 9]]],
    ['an empty last datagram', [[4, 'a', 9], [0, 'a', 9]]],
  ] as [string, [number, string, number][]][])('takes messages for %s', (_, adds) => {
    const batch = new OutgoingBatch(true);
    adds.forEach(([length, address, port], i) => batch.add(bytes(length, i + 1), address, port));
    const taken = batch.take();
    expect(Array.isArray(taken)).toBe(true);
    expect(datagrams(taken)).toEqual(adds.map(([length, address, port], i) => [Array(length).fill(i + 1), address, port]));
  });

  it('takes messages, never a run, when runs are not wanted', () => {
    const batch = new OutgoingBatch(false);
    for (let i = 0; i < 3; i++) batch.add(bytes(4, i), undefined, undefined);
    const taken = batch.take();
    expect(Array.isArray(taken)).toBe(true);
    expect(datagrams(taken)).toEqual([0, 1, 2].map((i) => [[i, i, i, i], undefined, undefined]));
  });

  it('copies at add(): changing the source afterwards changes nothing', () => {
    const batch = new OutgoingBatch(true);
    const source = bytes(3, 7);
    batch.add(source, 'a', 9);
    source.fill(0);
    expect(datagrams(batch.take())).toEqual([[[7, 7, 7], 'a', 9]]);
  });

  it('grows past its first buffer without losing or moving bytes; a batch taken keeps its bytes', () => {
    const batch = new OutgoingBatch(true);
    // 3 x 3000 bytes: past the 4096 of a first buffer, twice.
    for (let i = 0; i < 3; i++) batch.add(bytes(3000, i + 1), 'a', 9);
    const first = batch.take() as Run;
    for (let i = 0; i < 5; i++) batch.add(bytes(3000, 9), 'a', 9);
    const second = batch.take() as Run;
    expect(datagrams(first).map(([data]) => new Set(data))).toEqual([new Set([1]), new Set([2]), new Set([3])]);
    expect(first.segments.length).toBe(9000);
    expect(second.count).toBe(5);
    expect(new Set(second.segments)).toEqual(new Set([9]));
  });

  it('truncate() drops the last datagrams, and the run is judged again on what is left', () => {
    const batch = new OutgoingBatch(true);
    batch.add(bytes(4, 1), 'a', 9);
    batch.add(bytes(4, 2), 'a', 9);
    batch.add(bytes(2, 3), 'b', 9);
    batch.truncate(2);
    expect(batch.count).toBe(2);
    batch.add(bytes(4, 4), 'a', 9);
    const taken = batch.take() as Run;
    expect(taken).toMatchObject({ segmentSize: 4, count: 3, address: 'a' });
    expect([...taken.segments]).toEqual([1, 1, 1, 1, 2, 2, 2, 2, 4, 4, 4, 4]);
  });

  it('truncate(0) leaves an empty batch that takes nothing', () => {
    const batch = new OutgoingBatch(true);
    batch.add(bytes(4, 1), 'a', 9);
    batch.truncate(0);
    expect(batch.count).toBe(0);
    expect(batch.take()).toEqual([]);
  });
});
