// @udpkit/streams: WHATWG streams over udpkit sockets, in the shape of the
// WICG Direct Sockets UDPSocket.
export { UDPSocket, type UDPSocketOpenInfo } from './udp-socket.js';
export type { UDPSocketOptions } from './options.js';
export type { UDPMessage, UDPMessageInit, WriteChunk } from './message.js';
export { MulticastController, type MulticastGroupOptions, type MulticastMembership } from './multicast-controller.js';
export { fromSocket, type FromSocketOptions, type SocketStreamPair } from './from-socket.js';
export type { HighWaterMark } from './high-water-mark.js';
export type { SocketDnsQueryType } from './webidl.js';
