// The receive batch names each distinct sender once per wake-up: datagrams
// from senders that alternate within one batch must each keep their own
// address and port, in 'messages' and 'message' alike.
import { createSocket, type Socket } from '@udpkit/core';
import { describe, expect, it } from 'vitest';
import { backend, socketsClosedAfterEach, waitFor } from './support/sockets.js';

const { socket: bound, track } = socketsClosedAfterEach();

function send(from: Socket, data: string, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) => from.send(data, port, address, (error) => (error ? reject(error) : resolve())));
}

describe('a batch from senders that alternate', () => {
  it.each(['udp4', 'udp6'] as const)('%s: each datagram keeps its sender', async (type) => {
    const rx = await bound(type);
    const addresses = type === 'udp4' ? ['127.0.0.1', '127.0.0.2', '127.0.0.3'] : ['::1', '::1', '::1'];
    const senders = await Promise.all(
      addresses.map(
        (address) =>
          new Promise<Socket>((resolve) => {
            const s = track(createSocket(type));
            s.bind(0, address, () => resolve(s));
          }),
      ),
    );
    const { port } = rx.address();
    const batches: number[] = [];
    const fromBatches: string[] = [];
    const fromMessage: string[] = [];
    rx.on('messages', (data, rinfos) => {
      batches.push(data.length);
      data.forEach((d, i) => fromBatches.push(`${d} ${rinfos[i]!.address}:${rinfos[i]!.port}`));
    });
    rx.on('message', (d, rinfo) => fromMessage.push(`${d} ${rinfo.address}:${rinfo.port}`));
    // Held in the kernel while paused, they come in one wake-up (native).
    if (backend === 'native') rx.pause();
    const want: string[] = [];
    for (let i = 0; i < 12; i++) {
      const s = senders[i % 3]!;
      want.push(`d${i} ${s.address().address}:${s.address().port}`);
      await send(s, `d${i}`, port, type === 'udp4' ? '127.0.0.1' : '::1');
    }
    rx.resume();
    await waitFor(() => fromMessage.length === 12, 5000, 'every datagram');
    expect(fromBatches).toEqual(want);
    expect(fromMessage).toEqual(want);
    if (backend === 'native') expect(batches).toEqual([12]);
  });
});
