// A FIFO of values with a bound and a rule for what goes when it is full.
// A ring buffer that grows by doubling up to the bound, so a large bound
// costs nothing until it is used.
import { BufferOverflowError } from './errors.js';

export type Overflow = 'drop-oldest' | 'drop-newest' | 'error';

export class BoundedQueue<T> {
  readonly bound: number;
  readonly overflow: Overflow;
  #items: (T | undefined)[] = new Array(16);
  #head = 0;
  #length = 0;
  /** The most values the queue held at once. */
  peak = 0;

  /** `bound` may be Infinity (the queue never overflows). */
  constructor(bound: number, overflow: Overflow) {
    if (!(bound >= 1) || (bound !== Infinity && !Number.isInteger(bound))) {
      throw new RangeError(`@udpkit/rx: a buffer bound must be an integer >= 1, got ${bound}`);
    }
    if (overflow !== 'drop-oldest' && overflow !== 'drop-newest' && overflow !== 'error') {
      throw new TypeError(`@udpkit/rx: overflow must be 'drop-oldest', 'drop-newest' or 'error', got ${String(overflow)}`);
    }
    this.bound = bound;
    this.overflow = overflow;
  }

  get length(): number {
    return this.#length;
  }

  /**
   * Adds `value` at the tail. When the queue is full, returns the value that
   * made room (the oldest for 'drop-oldest', `value` itself for
   * 'drop-newest'), or throws BufferOverflowError for 'error'; otherwise
   * returns undefined.
   */
  offer(value: T): T | undefined {
    if (this.#length < this.bound) {
      this.#push(value);
      return undefined;
    }
    if (this.overflow === 'drop-newest') return value;
    if (this.overflow === 'error') throw new BufferOverflowError(this.bound);
    const oldest = this.shift();
    this.#push(value);
    return oldest;
  }

  /** Removes and returns the oldest value; undefined when empty. */
  shift(): T | undefined {
    if (this.#length === 0) return undefined;
    const value = this.#items[this.#head];
    this.#items[this.#head] = undefined;
    this.#head = (this.#head + 1) & (this.#items.length - 1);
    this.#length--;
    return value;
  }

  /** Empties the queue; returns how many values it held. */
  clear(): number {
    const count = this.#length;
    this.#items = new Array(16);
    this.#head = 0;
    this.#length = 0;
    return count;
  }

  #push(value: T): void {
    // The capacity is a power of two: the index wraps with a mask.
    if (this.#length === this.#items.length) this.#grow();
    this.#items[(this.#head + this.#length) & (this.#items.length - 1)] = value;
    this.#length++;
    if (this.#length > this.peak) this.peak = this.#length;
  }

  #grow(): void {
    const old = this.#items;
    const items = new Array<T | undefined>(old.length * 2);
    for (let i = 0; i < this.#length; i++) items[i] = old[(this.#head + i) & (old.length - 1)];
    this.#items = items;
    this.#head = 0;
  }
}
