// fromSocket: an existing core Socket as streams. The mode follows the
// socket; the streams own it from then on.
import { fromSocket } from '@udpkit/streams';
import { describe, expect, it } from 'vitest';
import { closeCore, coreBound, families, loopback, text } from './support/helpers.js';

const encode = (value: string) => new TextEncoder().encode(value);

describe.each(families)('fromSocket over IPv%i', (family) => {
  const address = loopback(family);

  it('takes a connected socket in connected mode: chunks without a destination', async () => {
    const peer = await coreBound(family);
    const socket = await coreBound(family);
    await new Promise<void>((resolve) => socket.connect(peer.address().port, address, resolve));
    const { writable, readable, close } = fromSocket(socket);
    const got = new Promise<string>((resolve) => peer.once('message', (data) => resolve(data.toString())));
    const writer = writable.getWriter();
    await writer.write({ data: encode('connected') });
    expect(await got).toBe('connected');
    await expect(writer.write({ data: encode('x'), remoteAddress: address, remotePort: 9 })).rejects.toThrow(/must not be specified in 'connected' mode/);
    await expect(readable.getReader().closed).rejects.toThrow(TypeError);
    // The socket is closing already: close() gives `closed`, rejected with the TypeError.
    await expect(close()).rejects.toThrow(TypeError);
    await closeCore(peer);
  });

  it('ends the readable and errors the writable when the owner closes the socket; closed resolves', async () => {
    const socket = await coreBound(family);
    const sender = await coreBound(family);
    const { readable, writable, closed } = fromSocket(socket);
    sender.send('before close', socket.address().port, address);
    const reader = readable.getReader();
    expect(text((await reader.read()).value!.data)).toBe('before close');
    socket.close();
    expect(await reader.read()).toEqual({ done: true, value: undefined });
    await expect(writable.getWriter().closed).rejects.toMatchObject({ name: 'InvalidStateError' });
    await expect(closed).resolves.toBeUndefined();
    await closeCore(sender);
  });

  it("close() from the owner's own 'messages' listener, which runs before the stream's, ends it cleanly", async () => {
    const socket = await coreBound(family);
    const sender = await coreBound(family);
    const uncaught: unknown[] = [];
    const record = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', record);
    let pair: ReturnType<typeof fromSocket> | undefined;
    const closing = new Promise<void>((resolve) => socket.once('messages', () => resolve(pair!.close())));
    pair = fromSocket(socket);
    sender.send('last', socket.address().port, address);
    await closing;
    await expect(pair.closed).resolves.toBeUndefined();
    // The stream's listener ran after close() in the same emit: it must not enqueue into the closed stream.
    await new Promise((resolve) => setImmediate(resolve));
    process.off('uncaughtException', record);
    expect(uncaught).toEqual([]);
    await closeCore(sender);
  });

  it('refuses a closed socket with InvalidStateError', async () => {
    const socket = await coreBound(family);
    await closeCore(socket);
    expect(() => fromSocket(socket)).toThrow(expect.objectContaining({ name: 'InvalidStateError' }));
  });
});
