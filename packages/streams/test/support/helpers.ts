// Helpers for tests on real loopback sockets.
import { createSocket, type Socket, type SocketOptions } from '@udpkit/core';
import { UDPSocket, type UDPSocketOpenInfo, type UDPSocketOptions } from '@udpkit/streams';

export const backend = process.env.UDPKIT_BACKEND === 'portable' ? 'portable' : 'native';

export type Family = 4 | 6;
export const families: Family[] = [4, 6];
export const loopback = (family: Family) => (family === 4 ? '127.0.0.1' : '::1');

/** A UDPSocket bound to loopback on an ephemeral port, opened. */
export async function openBound(
  family: Family,
  options: Omit<UDPSocketOptions, 'localAddress'> = {},
): Promise<{ socket: UDPSocket; info: UDPSocketOpenInfo }> {
  const socket = new UDPSocket({ localAddress: loopback(family), ...options });
  return { socket, info: await socket.opened };
}

/** A UDPSocket connected to `port` on loopback, opened. */
export async function openConnected(
  family: Family,
  port: number,
  options: Omit<UDPSocketOptions, 'remoteAddress' | 'remotePort'> = {},
): Promise<{ socket: UDPSocket; info: UDPSocketOpenInfo }> {
  const socket = new UDPSocket({ remoteAddress: loopback(family), remotePort: port, ...options });
  return { socket, info: await socket.opened };
}

/** A core socket bound to loopback. */
export function coreBound(family: Family, options: Partial<SocketOptions> = {}): Promise<Socket> {
  const socket = createSocket({ type: family === 4 ? 'udp4' : 'udp6', ...options });
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, loopback(family), () => {
      socket.off('error', reject);
      resolve(socket);
    });
  });
}

export function closeCore(...sockets: Socket[]): Promise<void[]> {
  return Promise.all(
    sockets.map(
      (socket) =>
        new Promise<void>((resolve) => {
          try {
            socket.close(() => resolve());
          } catch {
            resolve(); // already closed
          }
        }),
    ),
  );
}

/** Sends `count` datagrams "0", "1", ... from `sender` and waits until the kernel took them all. */
export function sendNumbered(sender: Socket, count: number, port: number, address: string, from = 0): Promise<void> {
  const messages = Array.from({ length: count }, (_, i) => ({ data: String(from + i), port, address }));
  return new Promise((resolve, reject) =>
    sender.sendMany(messages, (error, sent) => (error ? reject(error) : sent === count ? resolve() : reject(new Error(`sent ${sent}`)))),
  );
}

/** Polls `condition` until it holds; fails after `timeoutMs`. */
export async function waitFor(condition: () => boolean, what = 'condition', timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Settles to what the promise did: `{ ok: value }` or `{ error }`. */
export async function outcome<T>(promise: Promise<T>): Promise<{ ok: T } | { error: unknown }> {
  try {
    return { ok: await promise };
  } catch (error) {
    return { error };
  }
}

export const text = (data: Uint8Array) => Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString();
