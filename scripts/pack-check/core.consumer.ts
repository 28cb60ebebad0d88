// Type-checks against @udpkit/core's published types, as an ES module
// consumer. The @ts-expect-error lines fail if the types went `any`.
import dgram, { createSocket, type BackendName, type OutgoingMessage, type RemoteInfo, type Socket, type SocketStats } from '@udpkit/core';

const socket: Socket = createSocket({ type: 'udp4', reuseAddr: true }, (message: Buffer, rinfo: RemoteInfo) => {
  const size: number = rinfo.size + message.length;
  void size;
});
const messages: OutgoingMessage[] = [{ data: 'a', port: 9, address: '127.0.0.1' }];
socket.sendMany(messages, (error: Error | null, sent: number) => void [error, sent]);
const stats: SocketStats = socket.stats();
const backend: BackendName = socket.backend;
const reason: Error | undefined = dgram.nativeLoadError;
void [stats.kernelDrops, backend, reason, dgram.createSocket('udp6')];

// @ts-expect-error: not a socket type
createSocket('udp5');
// @ts-expect-error: a backend udpkit does not have
const wrong: BackendName = 'wasm';
void wrong;
