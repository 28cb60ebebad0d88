// Small helpers for tests on real loopback sockets.
import { createSocket, type RemoteInfo, type Socket, type SocketOptions } from '@udpkit/core';
import { afterEach } from 'vitest';

export const backend = process.env.UDPKIT_BACKEND === 'portable' ? 'portable' : 'native';

export function bound(type: 'udp4' | 'udp6' = 'udp4', options: Partial<SocketOptions> = {}): Promise<Socket> {
  const socket = createSocket({ type, ...options });
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, type === 'udp4' ? '127.0.0.1' : '::1', () => {
      socket.off('error', reject);
      resolve(socket);
    });
  });
}

/** Resolves with the first `count` datagrams `socket` receives. */
export function collect(socket: Socket, count: number, timeoutMs = 5000): Promise<{ data: Buffer; rinfo: RemoteInfo }[]> {
  return new Promise((resolve, reject) => {
    const received: { data: Buffer; rinfo: RemoteInfo }[] = [];
    const timer = setTimeout(() => {
      socket.off('message', onMessage);
      reject(new Error(`received ${received.length} of ${count} datagrams`));
    }, timeoutMs);
    const onMessage = (data: Buffer, rinfo: RemoteInfo) => {
      received.push({ data, rinfo });
      if (received.length === count) {
        clearTimeout(timer);
        socket.off('message', onMessage);
        resolve(received);
      }
    };
    socket.on('message', onMessage);
  });
}

/** Polls `condition` until it holds; fails after `timeoutMs`. */
export async function waitFor(condition: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export function sendManyAsync(socket: Socket, messages: Parameters<Socket['sendMany']>[0]): Promise<{ error: Error | null; sent: number }> {
  return new Promise((resolve) => socket.sendMany(messages, (error, sent) => resolve({ error, sent })));
}

export function closeAll(...sockets: Socket[]): Promise<void[]> {
  return Promise.all(sockets.map((socket) => new Promise<void>((resolve) => socket.close(() => resolve()))));
}

/**
 * For a test file: `socket()` binds like `bound()`, and `track()` adopts a
 * socket made otherwise; every one still open is closed after each test.
 */
export function socketsClosedAfterEach(): { socket: typeof bound; track: (socket: Socket) => Socket } {
  const open: Socket[] = [];
  const track = (socket: Socket) => {
    open.push(socket);
    return socket;
  };
  afterEach(async () => {
    await closeAll(...open.splice(0).filter(isOpen));
  });
  return { socket: async (...args) => track(await bound(...args)), track };
}

function isOpen(socket: Socket): boolean {
  try {
    socket.address();
    return true;
  } catch {
    return false;
  }
}
