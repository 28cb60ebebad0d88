// @udpkit/rx: RxJS 7 sources and operators over @udpkit/core sockets, with
// backpressure that reaches the kernel.
export { BufferOverflowError, FeedBusyError } from './errors.js';
export type { Overflow } from './bounded-queue.js';
export type { ConsumeOptions, FlowCounters, Strategy } from './flow.js';
export { udpFeed, type FeedCounters, type FeedOptions, type FeedStats, type UdpFeed } from './feed.js';
export { flattenBatches, fromSocket, fromSocketBatches, mapBatch } from './from-socket.js';
export { createSender, sendTo, type SendOptions } from './send.js';
export { socketStats$ } from './stats.js';
export type { Datagram, DatagramBatch, OwnedSocketOptions, SocketSource } from './socket-source.js';
