// udpFeed: datagrams from a socket with backpressure that reaches the
// kernel. The Flow does the demand and the strategy; this file connects it
// to a socket's 'messages' and 'error'/'close', pauses and resumes the
// socket, and reads the kernel's drop counter.
import type { Socket, SocketStats } from '@udpkit/core';
import { interval, map, type Observable, type ObservableInput, type OperatorFunction } from 'rxjs';
import { Flow, type ConsumeOptions, type FlowCounters, type FlowOptions } from './flow.js';
import { attachSocket, isSocket, type Datagram, type SocketSource } from './socket-source.js';

export type FeedOptions = FlowOptions<Datagram>;

export interface FeedCounters extends FlowCounters {
  /**
   * Datagrams the kernel dropped because the socket's receive buffer was
   * full, since this subscription started (`SO_RXQ_OVFL`, native backend;
   * always 0 on the portable backend, which can't see them).
   */
  kernelDrops: number;
}

export interface FeedStats {
  feed: FeedCounters;
  /** The socket's counters; undefined while an owning feed has no socket. */
  socket: SocketStats | undefined;
}

export interface UdpFeed {
  /** The datagrams; one subscriber at a time. */
  readonly datagrams$: Observable<Datagram>;
  /** The socket of the current subscription (or the one given); undefined while an owning feed is not subscribed. */
  readonly socket: Socket | undefined;
  /**
   * The operator whose handler's completions are this feed's demand: at most
   * `concurrency` handlers run at once, and when none is free the feed
   * applies its strategy. Put it anywhere after `datagrams$` behind
   * synchronous operators (`map`, `filter`, `scan`, `tap`, ...).
   */
  consume<V, R>(handler: (value: V, index: number) => ObservableInput<R>, options?: ConsumeOptions): OperatorFunction<V, R>;
  /** A snapshot of the counters of the current (or last) subscription. */
  counters(): FeedCounters;
  /** The feed's and the socket's counters every `periodMs`, starting after one period. */
  stats$(periodMs: number): Observable<FeedStats>;
}

/**
 * A feed over `source`: an existing core Socket (unsubscribing removes the
 * listeners and leaves it open) or the options of a socket the feed owns
 * (created and bound on subscribe, closed on unsubscribe). A socket 'error'
 * (a bind error included) errors the stream; 'close' completes it once the
 * queue is delivered.
 */
export function udpFeed(source: SocketSource, options: FeedOptions = {}): UdpFeed {
  let current: Socket | undefined = isSocket(source) ? source : undefined;
  let kernelDropsAtStart = 0;
  let kernelDropsAtEnd = 0;
  let live = false;

  const flow = new Flow<Datagram>((sink) => {
    const attachment = attachSocket(source, {
      messages(buffers, rinfos) {
        for (let i = 0; i < buffers.length; i++) sink.push({ data: buffers[i]!, rinfo: rinfos[i]! });
      },
      error: (error) => sink.error(error),
      close: () => sink.complete(),
    });
    const { socket } = attachment;
    current = socket;
    live = true;
    kernelDropsAtStart = socket.stats().kernelDrops;
    return {
      pause: () => socket.pause(),
      resume: () => socket.resume(),
      disconnect() {
        kernelDropsAtEnd = socket.stats().kernelDrops;
        live = false;
        attachment.detach();
        if (!isSocket(source)) current = undefined;
      },
    };
  }, options);

  const kernelDrops = () => (live && current ? current.stats().kernelDrops : kernelDropsAtEnd) - kernelDropsAtStart;
  const counters = (): FeedCounters => ({ ...flow.counters(), kernelDrops: kernelDrops() });

  return {
    datagrams$: flow.values$,
    get socket() {
      return current;
    },
    consume: (handler, consumeOptions) => flow.consume(handler, consumeOptions),
    counters,
    stats$: (periodMs) => interval(periodMs).pipe(map(() => ({ feed: counters(), socket: current?.stats() }))),
  };
}
