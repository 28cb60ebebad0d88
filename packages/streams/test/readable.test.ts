// The readable side: pull-driven, a kernel batch per step, the socket
// paused (reading nothing) while the queue is full. The queue is observed on
// the stream's own controller; what the socket read, on its counters.
import { createSocket, type Socket } from '@udpkit/core';
import { fromSocket, type UDPMessage } from '@udpkit/streams';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { backend, closeCore, coreBound, families, loopback, sendNumbered, text, waitFor } from './support/helpers.js';

/** The controllers of the readable streams made from now on, as their sources enqueue. */
function watchControllers(): () => ReadableStreamDefaultController<UDPMessage> {
  const enqueue = vi.spyOn(ReadableStreamDefaultController.prototype, 'enqueue');
  return () => {
    const controller = enqueue.mock.contexts[0];
    if (!controller) throw new Error('nothing enqueued yet');
    return controller as ReadableStreamDefaultController<UDPMessage>;
  };
}

/** A few turns of the event loop: time for a socket that is reading to read what the kernel holds. */
async function loopTurns(count = 5): Promise<void> {
  for (let i = 0; i < count; i++) await new Promise((resolve) => setImmediate(resolve));
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe.each(families)('readable over IPv%i', (family) => {
  const address = loopback(family);
  let sockets: Socket[] = [];
  const track = <T extends Socket[]>(...more: T): T => (sockets.push(...more), more);
  afterEach(async () => {
    await closeCore(...sockets);
    sockets = [];
  });

  it('takes a kernel batch in one step, then reads nothing and is not pulled while the queue is full', async () => {
    const [receiver, sender] = track(await coreBound(family), await coreBound(family));
    const port = receiver.address().port;
    // Ten datagrams wait in the kernel before the stream exists.
    receiver.pause();
    await sendNumbered(sender, 10, port, address);
    const controllerOf = watchControllers();
    const resume = vi.spyOn(receiver, 'resume');
    const { readable } = fromSocket(receiver, { readableHighWaterMark: 4 });
    await waitFor(() => receiver.isPaused() && receiver.stats().datagramsReceived > 0, 'the queue to fill');
    // pull() (which resumes the socket) ran while the queue had room.
    const pulls = resume.mock.calls.length;
    expect(pulls).toBeGreaterThan(0);
    const controller = controllerOf();
    const { datagramsReceived, receiveBatches } = receiver.stats();
    if (backend === 'native') {
      // One recvmmsg took all ten: the queue is 6 past its high-water mark.
      expect({ datagramsReceived, receiveBatches }).toEqual({ datagramsReceived: 10, receiveBatches: 1 });
      expect(controller.desiredSize).toBe(-6);
    } else {
      // node:dgram delivers one at a time: paused as the fourth arrived.
      expect(datagramsReceived).toBe(4);
      expect(controller.desiredSize).toBe(0);
    }
    expect(receiver.isPaused()).toBe(true);

    // More arrive in the kernel; the full stream neither pulls nor reads.
    await sendNumbered(sender, 5, port, address, 10);
    await loopTurns();
    expect(receiver.stats().datagramsReceived).toBe(datagramsReceived);
    expect(resume).toHaveBeenCalledTimes(pulls);

    // Each read frees one place: desiredSize is always the mark minus what is queued.
    const reader = readable.getReader();
    const seen: string[] = [];
    while (seen.length < 15) {
      const { value } = await reader.read();
      seen.push(text(value!.data));
      const queued = receiver.stats().datagramsReceived - seen.length;
      expect(controller.desiredSize).toBe(4 - queued);
      if (queued >= 4) expect(receiver.isPaused()).toBe(true);
    }
    expect(seen).toEqual(Array.from({ length: 15 }, (_, i) => String(i)));
    expect(receiver.stats().kernelDrops).toBe(0);
  });

  it('counts the high-water mark in bytes, an empty datagram as one', async () => {
    const [receiver, sender] = track(await coreBound(family), await coreBound(family));
    const port = receiver.address().port;
    const controllerOf = watchControllers();
    const { readable } = fromSocket(receiver, { readableHighWaterMark: { bytes: 250 } });
    await new Promise<void>((resolve) => sender.send(Buffer.alloc(0), port, address, () => resolve()));
    await waitFor(() => receiver.stats().datagramsReceived === 1, 'the empty datagram');
    const controller = controllerOf();
    expect(controller.desiredSize).toBe(249);
    for (let i = 0; i < 3; i++) sender.send(Buffer.alloc(100, i), port, address);
    await waitFor(() => receiver.isPaused(), 'the pause');
    // 1 + 100 + 100 reached 201 < 250, the third made it 301.
    expect(receiver.stats().datagramsReceived).toBe(4);
    expect(controller.desiredSize).toBe(-51);
    const reader = readable.getReader();
    const sizes: number[] = [];
    for (let i = 0; i < 4; i++) sizes.push((await reader.read()).value!.data.byteLength);
    expect(sizes).toEqual([0, 100, 100, 100]);
    expect(controller.desiredSize).toBe(250);
  });

  it.each([false, true])('(batches: %s) transferring the buffer of one datagram leaves the others of its kernel batch intact', async (readableBatches) => {
    const [receiver, sender] = track(await coreBound(family), await coreBound(family));
    const port = receiver.address().port;
    // Three datagrams wait in the kernel: the native backend reads them in one batch.
    receiver.pause();
    await sendNumbered(sender, 3, port, address);
    const reader = fromSocket(receiver, { readableBatches }).readable.getReader();
    const messages: UDPMessage[] = [];
    while (messages.length < 3) {
      const { value } = await reader.read();
      messages.push(...(Array.isArray(value) ? value : [value as UDPMessage]));
    }
    // A worker gets a chunk by transferring its buffer: the stream's other chunks must not go empty.
    // Node 20 copies a buffer it can't transfer; later lines refuse it.
    const [first, ...others] = messages;
    try {
      const buffer = first!.data.buffer as ArrayBuffer;
      structuredClone(buffer, { transfer: [buffer] });
    } catch (error) {
      expect(error).toMatchObject({ name: 'DataCloneError' });
    }
    expect(others.map((message) => text(message.data))).toEqual(['1', '2']);
  });

  it('with a high-water mark of 0 reads only while a read is pending', async () => {
    const [receiver, sender] = track(await coreBound(family), await coreBound(family));
    const port = receiver.address().port;
    receiver.pause();
    await sendNumbered(sender, 3, port, address);
    const { readable } = fromSocket(receiver, { readableHighWaterMark: 0 });
    await loopTurns();
    expect(receiver.stats().datagramsReceived).toBe(0);
    const reader = readable.getReader();
    expect(text((await reader.read()).value!.data)).toBe('0');
    expect(receiver.isPaused()).toBe(true);
    // native: the one batch held all three; portable: one datagram per read.
    expect(receiver.stats().datagramsReceived).toBe(backend === 'native' ? 3 : 1);
    expect(text((await reader.read()).value!.data)).toBe('1');
    expect(text((await reader.read()).value!.data)).toBe('2');
  });

  it('delivers datagrams of every size around the internal capacities, with their sender', async () => {
    const [receiver, sender] = track(await coreBound(family), await coreBound(family));
    const port = receiver.address().port;
    const sizes = [0, 1, 63, 64, 65, 1023, 1024, 1025, 2047, 2048, 2049, 4095, 4096, 4097, 65507];
    const { readable } = fromSocket(receiver);
    for (const size of sizes) sender.send(Buffer.alloc(size, size % 251), port, address);
    const reader = readable.getReader();
    for (const size of sizes) {
      const { value } = await reader.read();
      expect(value!.data.byteLength).toBe(size);
      expect(value!.data.every((byte) => byte === size % 251)).toBe(true);
      expect(value!.data).toBeInstanceOf(Uint8Array);
      expect({ remoteAddress: value!.remoteAddress, remotePort: value!.remotePort }).toEqual({
        remoteAddress: address,
        remotePort: sender.address().port,
      });
    }
  });

  it('loses nothing in a flood to a slow reader while the kernel buffer has room', async () => {
    const [receiver, sender] = track(await coreBound(family), await coreBound(family));
    receiver.setRecvBufferSize(4 << 20);
    const port = receiver.address().port;
    const { readable } = fromSocket(receiver, { readableHighWaterMark: 16 });
    const total = 1000;
    for (let sent = 0; sent < total; sent += 100) await sendNumbered(sender, 100, port, address, sent);
    const seen: string[] = [];
    // A slow consumer: one datagram per turn of the event loop.
    await readable.pipeTo(
      new WritableStream({
        async write(message) {
          seen.push(text(message.data));
          await new Promise((resolve) => setImmediate(resolve));
          if (seen.length === total) receiver.close();
        },
      }),
    );
    expect(seen).toEqual(Array.from({ length: total }, (_, i) => String(i)));
    expect(receiver.stats()).toMatchObject({ datagramsReceived: total, kernelDrops: 0 });
  });

  it('past the kernel buffer, loses datagrams and counts every loss in kernelDrops', async () => {
    const [receiver, sender] = track(await coreBound(family), await coreBound(family));
    receiver.setRecvBufferSize(64 << 10);
    const port = receiver.address().port;
    const { readable } = fromSocket(receiver, { readableHighWaterMark: 8 });
    await waitFor(() => !receiver.isPaused(), 'the first pull');
    const flood = 4000;
    for (let sent = 0; sent < flood; sent += 500) await sendNumbered(sender, 500, port, address, sent);
    const reader = readable.getReader();
    let read = 0;
    // Drain what the queue and the kernel held; then one more datagram,
    // stamped with the drop count as of its arrival.
    while (read < flood) {
      const next = reader.read();
      const drained = await Promise.race([next.then(() => false), waitUntilIdle(receiver).then(() => true)]);
      if (drained) {
        await sendNumbered(sender, 1, port, address, flood);
        await next;
        read++;
        break;
      }
      read++;
    }
    const { datagramsReceived, kernelDrops } = receiver.stats();
    expect(read).toBe(datagramsReceived);
    expect(datagramsReceived).toBeLessThan(flood);
    if (backend === 'native') expect(datagramsReceived + kernelDrops).toBe(flood + 1);
    else expect(kernelDrops).toBe(0); // node:dgram has no SO_RXQ_OVFL
  });

  it('with readableBatches, reads one UDPMessage[] per kernel batch, counted by its length', async () => {
    const [receiver, sender] = track(await coreBound(family), await coreBound(family));
    const port = receiver.address().port;
    receiver.pause();
    await sendNumbered(sender, 10, port, address);
    const { readable } = fromSocket(receiver, { readableBatches: true, readableHighWaterMark: 4 });
    await waitFor(() => receiver.isPaused() && receiver.stats().datagramsReceived > 0, 'the queue to fill');
    const reader = readable.getReader();
    const seen: string[] = [];
    const batchSizes: number[] = [];
    while (seen.length < 10) {
      const { value } = await reader.read();
      batchSizes.push(value!.length);
      for (const message of value!) seen.push(text(message.data));
    }
    expect(seen).toEqual(Array.from({ length: 10 }, (_, i) => String(i)));
    // native: the ten came in one recvmmsg; portable: node:dgram hands them over one by one.
    expect(batchSizes).toEqual(backend === 'native' ? [10] : Array(10).fill(1));
    expect(receiver.stats().receiveBatches).toBe(batchSizes.length);
  });

  it('is async-iterable, and breaking out of the loop closes the socket', async () => {
    const [receiver, sender] = track(await coreBound(family), await coreBound(family));
    const port = receiver.address().port;
    const { readable, closed } = fromSocket(receiver);
    await sendNumbered(sender, 5, port, address);
    const seen: string[] = [];
    for await (const message of readable) {
      seen.push(text(message.data));
      if (seen.length === 3) break;
    }
    expect(seen).toEqual(['0', '1', '2']);
    await expect(closed).resolves.toBeUndefined();
    expect(() => receiver.address()).toThrow(expect.objectContaining({ code: 'ERR_SOCKET_DGRAM_NOT_RUNNING' }));
  });
});

/** Resolves once `socket` has received nothing new for a few event-loop turns while unpaused. */
async function waitUntilIdle(socket: Socket): Promise<void> {
  let last = -1;
  while (socket.stats().datagramsReceived !== last || socket.isPaused()) {
    last = socket.stats().datagramsReceived;
    await loopTurns(20);
  }
}

describe('readable with receive metadata', () => {
  it.runIf(backend === 'native')('puts the destination and the kernel timestamp on each message', async () => {
    const receiver = createSocket({ type: 'udp4', receiveMetadata: { destination: true, timestamp: true } });
    await new Promise<void>((resolve) => receiver.bind(0, '127.0.0.1', resolve));
    const sender = await coreBound(4);
    const { readable } = fromSocket(receiver, { receiveMetadata: true });
    sender.send('meta', receiver.address().port, '127.0.0.1');
    const reader = readable.getReader();
    const { value } = await reader.read();
    expect(value).toMatchObject({ remoteAddress: '127.0.0.1', destination: '127.0.0.1', truncated: false });
    expect(typeof value!.timestamp).toBe('bigint');
    expect(typeof value!.interfaceIndex).toBe('number');
    await closeCore(receiver, sender);
  });
});
