// Real sockets on loopback for the tests, datagrams that carry a sequence
// number, a windowed sender, and waiting for a condition without fixed sleeps.
import { createSocket, type OutgoingMessage, type Socket, type SocketOptions } from '@udpkit/core';
import type { Datagram } from '@udpkit/rx';
import { afterEach } from 'vitest';

export const LOOPBACK = '127.0.0.1';

/**
 * A udp4 socket bound to 127.0.0.1 on a port the kernel picks, with a 4 MB
 * receive buffer (the default holds only ~256 small datagrams, fewer than
 * one sendMany of a test puts in flight).
 */
export function bound(options: Omit<SocketOptions, 'type'> = {}): Promise<Socket> {
  const socket = createSocket({ type: 'udp4', recvBufferSize: 4 * 1024 * 1024, ...options });
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, LOOPBACK, () => {
      socket.off('error', reject);
      resolve(socket);
    });
  });
}

/** A 64-byte datagram whose first 4 bytes are `seq`. */
export function sequenced(seq: number): Buffer {
  const data = Buffer.alloc(64);
  data.writeUInt32BE(seq, 0);
  return data;
}

export function seqOf(datagram: Datagram): number {
  return datagram.data.readUInt32BE(0);
}

export function sendMany(sender: Socket, port: number, from: number, to: number): Promise<number> {
  const messages: OutgoingMessage[] = [];
  for (let seq = from; seq < to; seq++) messages.push({ data: sequenced(seq), port, address: LOOPBACK });
  return new Promise((resolve, reject) => sender.sendMany(messages, (error, sent) => (error ? reject(error) : resolve(sent))));
}

/**
 * Sends datagrams 0..count-1 in bursts, keeping at most `window` of them
 * ahead of `consumed()`: the receiver is always the slower side, and the
 * kernel buffer never has to hold more than `window`.
 */
export async function sendWindowed(
  sender: Socket,
  port: number,
  count: number,
  { window, burst, consumed }: { window: number; burst: number; consumed: () => number },
): Promise<number> {
  let sent = 0;
  while (sent < count) {
    await until(() => sent - consumed() + burst <= window, 60_000, `the consumer to fall under the window (sent ${sent}, consumed ${consumed()})`);
    sent += await sendMany(sender, port, sent, Math.min(count, sent + burst));
  }
  return sent;
}

/** Resolves once `condition()` holds, checking every few milliseconds; rejects after `timeoutMs`. */
export function until(condition: () => boolean, timeoutMs = 10_000, what = 'a condition'): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const check = () => {
      if (condition()) return resolve();
      if (Date.now() - started > timeoutMs) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(check, 2);
    };
    check();
  });
}

export const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function closeAll(...sockets: Socket[]): Promise<void[]> {
  return Promise.all(
    sockets.map((socket) => new Promise<void>((resolve) => {
      try {
        socket.close(() => resolve());
      } catch {
        resolve(); // already closed
      }
    })),
  );
}

/**
 * The sockets of one test file: what `bound()` and `pair()` open, or
 * `track()` is given, is closed after each test.
 */
export function testSockets() {
  const open: Socket[] = [];
  afterEach(async () => {
    await closeAll(...open.splice(0));
  });
  const track = <T extends Socket>(socket: T): T => (open.push(socket), socket);
  return {
    track,
    bound: async (options?: Omit<SocketOptions, 'type'>) => track(await bound(options)),
    /** A receiver and a sender on loopback, and the receiver's port. */
    async pair(): Promise<{ receiver: Socket; sender: Socket; port: number }> {
      const receiver = track(await bound());
      const sender = track(await bound());
      return { receiver, sender, port: receiver.address().port };
    },
  };
}
