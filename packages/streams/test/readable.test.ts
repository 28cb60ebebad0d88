import { createSocket, type Socket } from '@udpkit/core';
import { readableFrom } from '@udpkit/streams';
import { describe, expect, it } from 'vitest';

function bound(): Promise<Socket> {
  const socket = createSocket('udp4');
  return new Promise((resolve) => socket.bind(0, '127.0.0.1', () => resolve(socket)));
}

describe('readableFrom', () => {
  it('reads datagrams as UDPMessage chunks', async () => {
    const receiver = await bound();
    const sender = await bound();
    const reader = readableFrom(receiver).getReader();
    sender.send('hello', receiver.address().port, '127.0.0.1');
    const { value } = await reader.read();
    expect(Buffer.from(value!.data).toString()).toBe('hello');
    expect(value).toMatchObject({ remoteAddress: '127.0.0.1', remotePort: sender.address().port });
    await reader.cancel();
    sender.close();
    receiver.close();
  });

  it('pauses the socket when its queue is full and resumes on pull, losing nothing', async () => {
    const receiver = await bound();
    const sender = await bound();
    const stream = readableFrom(receiver, { highWaterMark: 2 });
    const port = receiver.address().port;
    for (let i = 0; i < 10; i++) sender.send(String(i), port, '127.0.0.1');
    await new Promise<void>((resolve) => {
      const check = () => (receiver.isPaused() ? resolve() : setTimeout(check, 5));
      check();
    });
    const reader = stream.getReader();
    const texts: string[] = [];
    while (texts.length < 10) {
      const { value } = await reader.read();
      texts.push(Buffer.from(value!.data).toString());
    }
    expect(texts).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    await reader.cancel();
    sender.close();
    receiver.close();
  });

  it('closes when the socket closes', async () => {
    const receiver = await bound();
    const reader = readableFrom(receiver).getReader();
    receiver.close();
    expect(await reader.read()).toEqual({ done: true, value: undefined });
  });
});
