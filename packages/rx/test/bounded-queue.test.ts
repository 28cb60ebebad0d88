import { describe, expect, it } from 'vitest';
import { BoundedQueue } from '../src/bounded-queue.js';
import { BufferOverflowError } from '../src/errors.js';

function drain<T>(queue: BoundedQueue<T>): T[] {
  const out: T[] = [];
  while (queue.length > 0) out.push(queue.shift()!);
  return out;
}

describe('BoundedQueue', () => {
  it('is first in, first out across growth and wrap-around', () => {
    const queue = new BoundedQueue<number>(Infinity, 'error');
    let next = 0;
    const expected: number[] = [];
    // Interleave pushes and shifts so the head wraps while the ring grows past 16, 32, 64.
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 3; i++) {
        queue.offer(next);
        expected.push(next++);
      }
      expect(queue.shift()).toBe(expected.shift());
    }
    expect(queue.length).toBe(100);
    expect(drain(queue)).toEqual(expected);
    expect(queue.shift()).toBeUndefined();
    expect(queue.peak).toBe(101);
  });

  it("'drop-newest' refuses the newcomer when full", () => {
    const queue = new BoundedQueue<number>(3, 'drop-newest');
    expect([1, 2, 3, 4, 5].map((v) => queue.offer(v))).toEqual([undefined, undefined, undefined, 4, 5]);
    expect(drain(queue)).toEqual([1, 2, 3]);
  });

  it("'drop-oldest' evicts the oldest when full", () => {
    const queue = new BoundedQueue<number>(3, 'drop-oldest');
    expect([1, 2, 3, 4, 5].map((v) => queue.offer(v))).toEqual([undefined, undefined, undefined, 1, 2]);
    expect(drain(queue)).toEqual([3, 4, 5]);
    expect(queue.peak).toBe(3);
  });

  it("'error' throws a BufferOverflowError naming the bound, and keeps what it had", () => {
    const queue = new BoundedQueue<number>(2, 'error');
    queue.offer(1);
    queue.offer(2);
    expect(() => queue.offer(3)).toThrow(BufferOverflowError);
    expect(() => queue.offer(3)).toThrow(/buffer of 2 datagrams/);
    expect(drain(queue)).toEqual([1, 2]);
  });

  it('a bound at and around the ring sizes (16, 32) holds exactly that many', () => {
    for (const bound of [1, 15, 16, 17, 31, 32, 33]) {
      const queue = new BoundedQueue<number>(bound, 'drop-oldest');
      for (let i = 0; i < bound * 3; i++) queue.offer(i);
      expect(queue.length).toBe(bound);
      expect(drain(queue)).toEqual(Array.from({ length: bound }, (_, i) => bound * 2 + i));
    }
  });

  it('clear() empties it and says how many it dropped', () => {
    const queue = new BoundedQueue<number>(10, 'drop-oldest');
    for (let i = 0; i < 7; i++) queue.offer(i);
    expect(queue.clear()).toBe(7);
    expect(queue.length).toBe(0);
    queue.offer(42);
    expect(drain(queue)).toEqual([42]);
  });

  it('refuses a bound that is not an integer >= 1, and an unknown overflow', () => {
    for (const bound of [0, -1, 1.5, Number.NaN]) expect(() => new BoundedQueue(bound, 'error')).toThrow(RangeError);
    expect(() => new BoundedQueue(1, 'drop' as 'error')).toThrow(TypeError);
  });
});
