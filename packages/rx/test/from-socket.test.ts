import { createSocket } from '@udpkit/core';
import { fromSocket } from '@udpkit/rx';
import { firstValueFrom, lastValueFrom, map, take, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';

function bound(): Promise<ReturnType<typeof createSocket>> {
  const socket = createSocket('udp4');
  return new Promise((resolve) => socket.bind(0, '127.0.0.1', () => resolve(socket)));
}

describe('fromSocket', () => {
  it('emits received datagrams in order and leaves the socket open on unsubscribe', async () => {
    const receiver = await bound();
    const sender = createSocket('udp4');
    const received = lastValueFrom(fromSocket(receiver).pipe(map((d) => d.data.toString()), take(3), toArray()));
    for (const text of ['one', 'two', 'three']) sender.send(text, receiver.address().port, '127.0.0.1');
    expect(await received).toEqual(['one', 'two', 'three']);
    expect(receiver.listenerCount('message')).toBe(0);
    expect(() => receiver.address()).not.toThrow();
    sender.close();
    receiver.close();
  });

  it('completes when the socket closes', async () => {
    const receiver = await bound();
    const all = lastValueFrom(fromSocket(receiver).pipe(toArray()));
    receiver.close();
    expect(await all).toEqual([]);
  });

  it('carries the sender address in rinfo', async () => {
    const receiver = await bound();
    const sender = await bound();
    const first = firstValueFrom(fromSocket(receiver));
    sender.send('hi', receiver.address().port, '127.0.0.1');
    const { rinfo } = await first;
    expect(rinfo).toMatchObject({ address: '127.0.0.1', family: 'IPv4', port: sender.address().port, size: 2 });
    sender.close();
    receiver.close();
  });
});
