// Demand that survives synchronous operators. A Flow sits between a push
// producer (a socket) and one consume() operator further down the pipe.
// Instead of counting credits (which a filter() would swallow), the Flow
// asks the consumer, before each value, whether it has room: a value that
// map/filter/scan/tap turn into nothing never takes a slot, and nothing has
// to be given back. When the consumer has no room, the strategy decides:
// pause the producer, queue with a bound, or keep the latest.
import { from, Observable, Subscription, type ObservableInput, type OperatorFunction, type Subscriber } from 'rxjs';
import { BoundedQueue, type Overflow } from './bounded-queue.js';
import { FeedBusyError } from './errors.js';

/**
 * What the source does when the consumer has no room:
 * - `'pause'`: pause the producer (the socket): lossless until the kernel's receive buffer is full;
 * - `{ buffer, overflow }`: queue up to `buffer` values, then drop the oldest, drop the newest, or error;
 * - `'latest'`: keep only the newest value (a queue of one that drops the oldest).
 */
export type Strategy = 'pause' | 'latest' | { buffer: number; overflow: Overflow };

export interface FlowOptions<T> {
  /** Default `'pause'`. */
  strategy?: Strategy | undefined;
  /** Called with each value the strategy drops, as it drops it. A throw errors the stream. */
  onDrop?: ((value: T) => void) | undefined;
}

export interface ConsumeOptions {
  /** Handlers running at once; default 1. */
  concurrency?: number | undefined;
}

/** Counters of one subscription; reset when the source is subscribed again. */
export interface FlowCounters {
  /** Values the producer gave the source. */
  received: number;
  /** Values the source passed down the pipe. */
  delivered: number;
  /** Values the strategy dropped, plus those still queued, or still coming in the same batch, when the stream ended early. */
  libraryDrops: number;
  /** Values waiting in the source's queue now. */
  queueLength: number;
  /** The queue's high-water mark: the most values it held at once. */
  queuePeak: number;
  /** Times the source paused the producer (`'pause'` strategy). */
  pauses: number;
}

/** What a Flow writes into. */
export interface FlowSink<T> {
  push(value: T): void;
  complete(): void;
  error(error: unknown): void;
}

/** A running producer, as the Flow controls it. */
export interface Connection {
  /** Makes sure the producer is paused (called again while it should already be). */
  pause(): void;
  resume(): void;
  disconnect(): void;
}

interface Demand {
  hasRoom(): boolean;
}

export class Flow<T> {
  readonly strategy: Strategy;
  /** The values; subscribing connects the producer, unsubscribing disconnects it. */
  readonly values$: Observable<T>;
  readonly #onDrop: ((value: T) => void) | undefined;
  #queue: BoundedQueue<T>;
  #subscriber: Subscriber<T> | undefined;
  #connection: Connection | undefined;
  #demand: Demand | undefined;
  #paused = false;
  #draining = false;
  #ending = false;
  #received = 0;
  #delivered = 0;
  #libraryDrops = 0;
  #pauses = 0;

  constructor(connect: (sink: FlowSink<T>) => Connection, options: FlowOptions<T> = {}) {
    this.strategy = options.strategy ?? 'pause';
    this.#onDrop = options.onDrop;
    this.#queue = newQueue(this.strategy);
    this.values$ = new Observable<T>((subscriber) => {
      if (this.#subscriber) {
        subscriber.error(new FeedBusyError('source'));
        return undefined;
      }
      this.#open(subscriber);
      const sink: FlowSink<T> = {
        // The rest of a batch that was being pushed when this subscriber left
        // goes to the next one (a retry or repeat over the same socket would
        // miss it otherwise), or is counted as lost.
        push: (value) => (this.#subscriber ? this.#push(value) : this.#lost()),
        complete: () => this.#subscriber === subscriber && this.#complete(),
        error: (error) => this.#subscriber === subscriber && subscriber.error(error),
      };
      let connection: Connection;
      try {
        connection = connect(sink);
      } catch (error) {
        subscriber.error(error);
        return () => this.#close(subscriber);
      }
      this.#connection = connection;
      // A producer that pushed while connecting may already be over its demand.
      if (this.#paused) connection.pause();
      return () => {
        this.#close(subscriber);
        connection.disconnect();
      };
    });
  }

  counters(): FlowCounters {
    return {
      received: this.#received,
      delivered: this.#delivered,
      libraryDrops: this.#libraryDrops,
      queueLength: this.#queue.length,
      queuePeak: this.#queue.peak,
      pauses: this.#pauses,
    };
  }

  /**
   * Runs `handler` for each value, at most `concurrency` at once, and emits
   * what the handlers emit (in completion order, like mergeMap). A handler's
   * completion is the demand: the source sends the next value only when a
   * handler slot is free. Synchronous operators may sit between the source
   * and this operator.
   */
  consume<V, R>(handler: (value: V, index: number) => ObservableInput<R>, options: ConsumeOptions = {}): OperatorFunction<V, R> {
    const concurrency = options.concurrency ?? 1;
    if (!(concurrency >= 1) || (concurrency !== Infinity && !Number.isInteger(concurrency))) {
      throw new RangeError(`@udpkit/rx: concurrency must be an integer >= 1, got ${concurrency}`);
    }
    return (source) =>
      new Observable<R>((subscriber) => {
        if (this.#demand) {
          subscriber.error(new FeedBusyError('consume'));
          return undefined;
        }
        let active = 0;
        let index = 0;
        let upstreamDone = false;
        const waiting: V[] = [];
        const demand: Demand = { hasRoom: () => active < concurrency && waiting.length === 0 };

        const settle = (inner: Subscription) => {
          subscriber.remove(inner);
          active--;
          if (waiting.length > 0) run(waiting.shift()!);
          else if (upstreamDone) {
            if (active === 0) subscriber.complete();
          } else if (this.#demand === demand) this.#pull();
        };
        const run = (value: V) => {
          active++;
          const inner = new Subscription();
          subscriber.add(inner);
          try {
            inner.add(
              from(handler(value, index++)).subscribe({
                next: (result) => subscriber.next(result),
                error: (error: unknown) => subscriber.error(error),
                complete: () => settle(inner),
              }),
            );
          } catch (error) {
            subscriber.error(error);
          }
        };

        // Registered before subscribing upstream, so the source finds it from its first value.
        this.#demand = demand;
        subscriber.add(() => {
          if (this.#demand === demand) this.#demand = undefined;
        });
        subscriber.add(
          source.subscribe({
            next: (value) => {
              if (active < concurrency && waiting.length === 0) run(value);
              else waiting.push(value); // more than one per source value: a flatten upstream
            },
            error: (error: unknown) => subscriber.error(error),
            complete: () => {
              upstreamDone = true;
              if (active === 0 && waiting.length === 0) subscriber.complete();
            },
          }),
        );
        return undefined;
      });
  }

  #open(subscriber: Subscriber<T>): void {
    this.#subscriber = subscriber;
    this.#queue = newQueue(this.strategy);
    this.#paused = false;
    this.#ending = false;
    this.#received = 0;
    this.#delivered = 0;
    this.#libraryDrops = 0;
    this.#pauses = 0;
  }

  /** Teardown: what is still queued is lost (counted), a paused producer is resumed. */
  #close(subscriber: Subscriber<T>): void {
    if (this.#subscriber !== subscriber) return;
    this.#libraryDrops += this.#queue.clear();
    if (this.#paused) {
      this.#paused = false;
      this.#connection?.resume();
    }
    this.#subscriber = undefined;
    this.#connection = undefined;
  }

  #hasRoom(): boolean {
    const demand = this.#demand;
    return demand === undefined || demand.hasRoom();
  }

  #push(value: T): void {
    this.#received++;
    const subscriber = this.#subscriber!;
    if (this.#queue.length === 0 && this.#hasRoom()) {
      this.#delivered++;
      subscriber.next(value);
      return;
    }
    this.#admit(value, subscriber);
    if (this.#hasRoom()) this.#pull();
  }

  /** A value that came after the subscriber left, with no new one to take it. */
  #lost(): void {
    this.#received++;
    this.#libraryDrops++;
  }

  /**
   * The consumer has no room: the strategy decides. Errors go to `subscriber`,
   * not to whoever is current once a first error made retry() resubscribe.
   */
  #admit(value: T, subscriber: Subscriber<T>): void {
    if (this.strategy === 'pause') {
      this.#queue.offer(value);
      if (!this.#paused) {
        this.#paused = true;
        this.#pauses++;
      }
      // Every time, not once: other code may have resumed the socket meanwhile.
      this.#connection?.pause();
      return;
    }
    let dropped: T | undefined;
    try {
      dropped = this.#queue.offer(value);
    } catch (overflow) {
      this.#drop(value, subscriber);
      subscriber.error(overflow); // a no-op if onDrop's error ended it first
      return;
    }
    if (dropped !== undefined) this.#drop(dropped, subscriber);
  }

  #drop(value: T, subscriber: Subscriber<T>): void {
    this.#libraryDrops++;
    if (!this.#onDrop) return;
    try {
      this.#onDrop(value);
    } catch (error) {
      subscriber.error(error);
    }
  }

  /** Passes queued values down while the consumer has room; resumes the producer once the queue is empty. */
  #pull(): void {
    const subscriber = this.#subscriber;
    if (this.#draining || subscriber === undefined) return;
    this.#draining = true;
    const queue = this.#queue;
    while (queue.length > 0 && this.#hasRoom() && this.#subscriber === subscriber) {
      this.#delivered++;
      subscriber.next(queue.shift()!);
    }
    this.#draining = false;
    if (this.#subscriber !== subscriber || queue.length > 0) return;
    if (this.#ending) subscriber.complete();
    else if (this.#paused) {
      this.#paused = false;
      this.#connection?.resume();
    }
  }

  /** The producer ended: what is queued is still delivered, then the stream completes. */
  #complete(): void {
    this.#ending = true;
    if (this.#queue.length === 0) this.#subscriber!.complete();
  }
}

function newQueue<T>(strategy: Strategy): BoundedQueue<T> {
  if (strategy === 'pause') return new BoundedQueue<T>(Infinity, 'drop-newest');
  if (strategy === 'latest') return new BoundedQueue<T>(1, 'drop-oldest');
  if (strategy !== null && typeof strategy === 'object') return new BoundedQueue<T>(strategy.buffer, strategy.overflow);
  throw new TypeError(`@udpkit/rx: unknown strategy ${JSON.stringify(strategy)}`);
}
