// Push sources: fromSocket and the batch sources, over an existing socket
// and over one they own.
import { createSocket as createNodeSocket } from 'node:dgram';
import { createSocket, type Socket } from '@udpkit/core';
import { flattenBatches, fromSocket, fromSocketBatches, mapBatch, udpFeed, type SocketSource } from '@udpkit/rx';
import { firstValueFrom, lastValueFrom, map, take, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { sendMany, seqOf, testSockets, until } from './support/sockets.js';

const sockets = testSockets();
const pair = sockets.pair;

describe('fromSocket', () => {
  it('emits received datagrams in order and leaves the socket open on unsubscribe', async () => {
    const { receiver, sender, port } = await pair();
    const received = lastValueFrom(fromSocket(receiver).pipe(map((d) => d.data.toString()), take(3), toArray()));
    for (const text of ['one', 'two', 'three']) sender.send(text, port, '127.0.0.1');
    expect(await received).toEqual(['one', 'two', 'three']);
    expect(receiver.listenerCount('messages')).toBe(0);
    expect(receiver.listenerCount('error')).toBe(0);
    expect(receiver.listenerCount('close')).toBe(0);
    expect(() => receiver.address()).not.toThrow();
  });

  it('completes when the socket closes', async () => {
    const { receiver } = await pair();
    const all = lastValueFrom(fromSocket(receiver).pipe(toArray()));
    receiver.close();
    expect(await all).toEqual([]);
  });

  it('closing the socket from inside next() completes the stream without an error', async () => {
    const { receiver, sender, port } = await pair();
    const seen: number[] = [];
    const all = lastValueFrom(fromSocket(receiver).pipe(map(seqOf), toArray()));
    fromSocket(receiver).subscribe((d) => {
      seen.push(seqOf(d));
      if (seen.length === 1) receiver.close();
    });
    await sendMany(sender, port, 0, 10);
    const delivered = await all;
    // The rest of the wake-up that carried the first datagram still arrives; nothing after it.
    expect(delivered).toEqual(seen);
    expect(seen[0]).toBe(0);
    expect(receiver.listenerCount('messages')).toBe(0);
  });

  it('carries the sender address in rinfo', async () => {
    const { receiver, sender, port } = await pair();
    const first = firstValueFrom(fromSocket(receiver));
    sender.send('hi', port, '127.0.0.1');
    const { rinfo } = await first;
    expect(rinfo).toMatchObject({ address: '127.0.0.1', family: 'IPv4', port: sender.address().port, size: 2 });
  });

  it('carries receive metadata when the socket asks for it (native backend)', async (context) => {
    const { sender } = await pair();
    if (sender.backend !== 'native') context.skip(); // the portable backend refuses receiveMetadata
    const receiver = await sockets.bound({ receiveMetadata: { destination: true, timestamp: true } });
    const first = firstValueFrom(fromSocket(receiver));
    sender.send('hi', receiver.address().port, '127.0.0.1');
    const { rinfo } = await first;
    expect(rinfo.destination).toBe('127.0.0.1');
    expect(typeof rinfo.timestamp).toBe('bigint');
  });

  it('owns a socket made from options: bound on subscribe, closed on unsubscribe', async () => {
    const sender = await sockets.bound();
    let socket: Socket | undefined;
    const first = firstValueFrom(
      fromSocket({ address: '127.0.0.1', onListening: (s) => ((socket = s), sender.send('owned', s.address().port, '127.0.0.1')) }),
    );
    expect((await first).data.toString()).toBe('owned');
    expect(() => socket!.address()).toThrow(expect.objectContaining({ code: 'ERR_SOCKET_DGRAM_NOT_RUNNING' }));
  });

  it('owns a udp6 socket on ::1', async () => {
    const sender = createSocket('udp6');
    const first = firstValueFrom(
      fromSocket({ type: 'udp6', address: '::1', onListening: (s) => sender.send('six', s.address().port, '::1') }),
    );
    const { data, rinfo } = await first;
    expect(data.toString()).toBe('six');
    expect(rinfo.family).toBe('IPv6');
    expect(rinfo.address).toBe('::1');
    sender.close();
  });

  it('an owned socket that cannot bind errors the stream', async () => {
    const taken = await sockets.bound();
    await expect(firstValueFrom(fromSocket({ address: '127.0.0.1', port: taken.address().port }))).rejects.toMatchObject({
      code: 'EADDRINUSE',
    });
  });
});

describe('sources that are neither a core Socket nor options', () => {
  it('a node:dgram socket or no source is refused with ERR_INVALID_ARG_TYPE', async () => {
    const nodeSocket = createNodeSocket('udp4');
    try {
      for (const source of [nodeSocket, undefined, 9000] as unknown as SocketSource[]) {
        expect(() => udpFeed(source)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
        await expect(firstValueFrom(fromSocket(source))).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
        await expect(firstValueFrom(fromSocketBatches(source))).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
      }
    } finally {
      nodeSocket.close();
    }
  });
});

describe('batches', () => {
  it('fromSocketBatches emits one value per wake-up, flattenBatches restores the datagrams in order', async () => {
    const { receiver, sender, port } = await pair();
    const batchesBefore = receiver.stats().receiveBatches;
    let batches = 0;
    const seqs = lastValueFrom(
      fromSocketBatches(receiver).pipe(
        map((batch) => (batches++, batch)),
        flattenBatches(),
        map(seqOf),
        take(300),
        toArray(),
      ),
    );
    await sendMany(sender, port, 0, 300);
    expect(await seqs).toEqual(Array.from({ length: 300 }, (_, i) => i));
    expect(batches).toBe(receiver.stats().receiveBatches - batchesBefore);
    if (receiver.backend === 'portable') expect(batches).toBe(300); // batches of one
    else expect(batches).toBeLessThanOrEqual(300);
  });

  it('mapBatch maps each datagram and emits one array per batch', async () => {
    const { receiver, sender, port } = await pair();
    const arrays: number[][] = [];
    const done = new Promise<void>((resolve) => {
      const subscription = fromSocketBatches(receiver)
        .pipe(mapBatch((data, rinfo) => data.readUInt32BE(0) + rinfo.size))
        .subscribe((values) => {
          arrays.push(values);
          if (arrays.flat().length === 100) {
            subscription.unsubscribe();
            resolve();
          }
        });
    });
    await sendMany(sender, port, 0, 100);
    await done;
    expect(arrays.flat()).toEqual(Array.from({ length: 100 }, (_, i) => i + 64));
    expect(receiver.listenerCount('messages')).toBe(0);
  });

  it('mapBatch: a project that throws errors the stream', async () => {
    const { receiver, sender, port } = await pair();
    const failed = firstValueFrom(
      fromSocketBatches(receiver).pipe(
        mapBatch(() => {
          throw new Error('bad datagram');
        }),
      ),
    );
    await sendMany(sender, port, 0, 1);
    await expect(failed).rejects.toThrow('bad datagram');
    await until(() => receiver.listenerCount('messages') === 0, 5000, 'the listener to go');
  });
});
