// Errors of @udpkit/rx, with a `code` like Node's errors.

/** The `{ buffer, overflow: 'error' }` strategy's queue was full when a datagram came. */
export class BufferOverflowError extends Error {
  readonly code = 'ERR_UDPKIT_BUFFER_OVERFLOW';
  /** The strategy's bound, in datagrams. */
  readonly bound: number;

  constructor(bound: number) {
    super(`@udpkit/rx: the buffer of ${bound} datagrams overflowed (strategy { buffer: ${bound}, overflow: 'error' })`);
    this.name = 'BufferOverflowError';
    this.bound = bound;
  }
}

/** A feed's `datagrams$` or its `consume()` subscribed a second time while the first is active. */
export class FeedBusyError extends Error {
  readonly code = 'ERR_UDPKIT_FEED_BUSY';

  constructor(what: 'source' | 'consume') {
    super(
      what === 'source'
        ? '@udpkit/rx: this feed is already subscribed; a feed has one subscriber at a time (share() after consume() to fan out)'
        : '@udpkit/rx: this feed already has an active consume(); a feed drives one consumer at a time',
    );
    this.name = 'FeedBusyError';
  }
}
