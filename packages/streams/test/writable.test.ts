// The writable side: the chunks written in one tick leave in one sendMany;
// desiredSize and ready; every chunk the Direct Sockets API refuses is a
// TypeError that errors the stream and closes the socket.
import type { Socket } from '@udpkit/core';
import { fromSocket, type UDPMessageInit } from '@udpkit/streams';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { backend, closeCore, coreBound, families, loopback, openBound, openConnected, outcome, text, waitFor } from './support/helpers.js';

/** Resolves with the first `count` datagrams `socket` receives, as text. */
function receive(socket: Socket, count: number): Promise<string[]> {
  return new Promise((resolve) => {
    const got: string[] = [];
    const onMessage = (data: Buffer) => {
      got.push(data.toString());
      if (got.length === count) {
        socket.off('message', onMessage);
        resolve(got);
      }
    };
    socket.on('message', onMessage);
  });
}

const encode = (value: string) => new TextEncoder().encode(value);

/** Watches `socket`'s sendMany and sendSegments; the function answers their calls so far, in order: [method, datagrams]. */
function watchSends(socket: Socket): () => [string, number][] {
  const sendMany = vi.spyOn(socket, 'sendMany');
  const sendSegments = vi.spyOn(socket, 'sendSegments');
  return () =>
    [
      ...sendMany.mock.calls.map((call, i) => [sendMany.mock.invocationCallOrder[i]!, 'sendMany', call[0].length] as const),
      ...sendSegments.mock.calls.map(
        (call, i) => [sendSegments.mock.invocationCallOrder[i]!, 'sendSegments', Math.ceil((call[0] as Uint8Array).byteLength / call[1])] as const,
      ),
    ]
      .sort((a, b) => a[0] - b[0])
      .map(([, method, count]) => [method, count]);
}

describe.each(families)('writable over IPv%i', (family) => {
  const address = loopback(family);
  let sockets: Socket[] = [];
  const track = <T extends Socket[]>(...more: T): T => (sockets.push(...more), more);
  afterEach(async () => {
    vi.restoreAllMocks();
    await closeCore(...sockets);
    sockets = [];
  });

  it('sends the chunks written in one tick in one call, in order', async () => {
    const [sender, receiver] = track(await coreBound(family), await coreBound(family));
    const port = receiver.address().port;
    receiver.setRecvBufferSize(4 << 20);
    const calls = watchSends(sender);
    const writer = fromSocket(sender, { writableHighWaterMark: 1000 }).writable.getWriter();
    await writer.ready;
    const arrived = receive(receiver, 300);
    // From an async function (inside the microtask queue) ...
    for (let i = 0; i < 100; i++) void writer.write({ data: encode(String(i)), remoteAddress: address, remotePort: port });
    await waitFor(() => sender.stats().datagramsSent === 100, 'the first 100');
    // ... and from a plain callback, where Node runs process.nextTick before microtasks.
    await new Promise<void>((resolve) =>
      setTimeout(() => {
        for (let i = 100; i < 300; i++) void writer.write({ data: encode(String(i)), remoteAddress: address, remotePort: port });
        resolve();
      }),
    );
    expect(await arrived).toEqual(Array.from({ length: 300 }, (_, i) => String(i)));
    // "0" to "99" differ in size: messages; "100" to "299" are one run (segments where the backend has them).
    expect(calls()).toEqual([
      ['sendMany', 100],
      [backend === 'native' ? 'sendSegments' : 'sendMany', 200],
    ]);
  });

  it('sends an array chunk in one sendMany; desiredSize counts its datagrams', async () => {
    const [sender, receiver] = track(await coreBound(family), await coreBound(family));
    const port = receiver.address().port;
    const sendMany = vi.spyOn(sender, 'sendMany');
    const writer = fromSocket(sender, { writableHighWaterMark: 100 }).writable.getWriter();
    await writer.ready;
    const arrived = receive(receiver, 64);
    void writer.write(Array.from({ length: 64 }, (_, i) => ({ data: encode(String(i)), remoteAddress: address, remotePort: port })));
    expect(writer.desiredSize).toBe(36);
    expect(await arrived).toEqual(Array.from({ length: 64 }, (_, i) => String(i)));
    expect(sendMany).toHaveBeenCalledTimes(1);
  });

  it('sends none of an array chunk that holds one bad message', async () => {
    const [sender, receiver] = track(await coreBound(family), await coreBound(family));
    const port = receiver.address().port;
    const sendMany = vi.spyOn(sender, 'sendMany');
    const { writable, closed } = fromSocket(sender);
    const writer = writable.getWriter();
    const chunk = [{ data: encode('good'), remoteAddress: address, remotePort: port }, { data: encode('no port'), remoteAddress: address }];
    await expect(writer.write(chunk)).rejects.toThrow(/either none or both/);
    await expect(closed).rejects.toThrow(TypeError);
    expect(sendMany).not.toHaveBeenCalled();
  });

  // Around UDP_SEGMENT's 64 segments per send and sendmmsg's 1024 messages per call.
  it.each([63, 64, 65, 1023, 1024, 1025, 2049])('sends a run of %i equal chunks written in one tick in one call, once each, in order', async (count) => {
    const [sender, receiver] = track(await coreBound(family), await coreBound(family));
    receiver.setRecvBufferSize(8 << 20);
    const port = receiver.address().port;
    const calls = watchSends(sender);
    const writer = fromSocket(sender, { writableHighWaterMark: 4096 }).writable.getWriter();
    await writer.ready;
    const arrived = receive(receiver, count);
    const { gsoSegments } = sender.stats();
    const numbered = Array.from({ length: count }, (_, i) => String(i).padStart(6, '0'));
    for (const text of numbered) void writer.write({ data: encode(text), remoteAddress: address, remotePort: port });
    expect(await arrived).toEqual(numbered);
    expect(calls()).toEqual([[backend === 'native' ? 'sendSegments' : 'sendMany', count]]);
    expect(sender.stats().datagramsSent).toBe(count);
    // Where the kernel segments, they went in UDP_SEGMENT sends (but a lone last one of a group of 64, which goes plain).
    if (sender.features.gso.active) expect(sender.stats().gsoSegments - gsoSegments).toBeGreaterThanOrEqual(count - 1);
  });

  it.each([1023, 1024, 1025, 2049])('sends %i chunks of mixed sizes and destinations written in one tick in one sendMany, each where it was addressed', async (count) => {
    const [sender, first, second] = track(await coreBound(family), await coreBound(family), await coreBound(family));
    for (const receiver of [first, second]) receiver.setRecvBufferSize(8 << 20);
    const sendMany = vi.spyOn(sender, 'sendMany');
    const writer = fromSocket(sender, { writableHighWaterMark: 4096 }).writable.getWriter();
    await writer.ready;
    // Runs of 3 to one receiver, then the next 3 to the other; sizes grow with the number.
    const to = (i: number) => (Math.floor(i / 3) % 2 === 0 ? first : second);
    const expected = new Map<Socket, string[]>([[first, []], [second, []]]);
    for (let i = 0; i < count; i++) expected.get(to(i))!.push(String(i));
    const arrived = [first, second].map((receiver) => receive(receiver, expected.get(receiver)!.length));
    for (let i = 0; i < count; i++) void writer.write({ data: encode(String(i)), remoteAddress: address, remotePort: to(i).address().port });
    expect(await Promise.all(arrived)).toEqual([expected.get(first), expected.get(second)]);
    expect(sendMany.mock.calls.map((call) => call[0].length)).toEqual([count]);
    expect(sender.stats().datagramsSent).toBe(count);
  });

  it('sends a run whose last chunk is shorter, and an empty chunk after it, byte for byte', async () => {
    const [sender, receiver] = track(await coreBound(family), await coreBound(family));
    const port = receiver.address().port;
    const writer = fromSocket(sender).writable.getWriter();
    const got: number[][] = [];
    receiver.on('message', (data) => got.push([...data]));
    const sizes = [5, 5, 5, 2];
    for (const [i, size] of sizes.entries()) void writer.write({ data: new Uint8Array(size).fill(i), remoteAddress: address, remotePort: port });
    await waitFor(() => got.length === 4, 'the run');
    void writer.write({ data: new Uint8Array(0), remoteAddress: address, remotePort: port });
    await waitFor(() => got.length === 5, 'the empty datagram');
    expect(got).toEqual([...sizes.map((size, i) => Array(size).fill(i)), []]);
  });

  it('an oversized chunk starts no run: the shorter chunk after it still goes, as node:dgram sends it', async () => {
    const [sender, receiver, viaNode] = track(await coreBound(family), await coreBound(family), await coreBound(family));
    const { writable, closed } = fromSocket(sender);
    const writer = writable.getWriter();
    const got: number[] = [];
    receiver.on('message', (data) => got.push(data.length));
    const outcomes = await Promise.all([
      outcome(writer.write({ data: new Uint8Array(70000), remoteAddress: address, remotePort: receiver.address().port })),
      outcome(writer.write({ data: new Uint8Array(10), remoteAddress: address, remotePort: receiver.address().port })),
    ]);
    expect(outcomes.every((o) => 'ok' in o)).toBe(true);
    const error = (await outcome(closed)) as { error: Error & { cause?: { code?: string } } };
    expect(error.error.name).toBe('NetworkError');
    expect(error.error.cause?.code).toBe('EMSGSIZE');
    // The same two datagrams through node:dgram: the large one is refused, the small one arrives.
    const dgram = (await import('node:dgram')).createSocket(family === 4 ? 'udp4' : 'udp6');
    const byNode: number[] = [];
    viaNode.on('message', (data) => byNode.push(data.length));
    const codes = await Promise.all(
      [70000, 10].map((size) => new Promise<string | undefined>((resolve) => dgram.send(new Uint8Array(size), viaNode.address().port, address, (e) => resolve((e as NodeJS.ErrnoException | null)?.code)))),
    );
    await waitFor(() => got.length === 1 && byNode.length === 1, 'the small datagram');
    dgram.close();
    expect(codes).toEqual(['EMSGSIZE', undefined]);
    expect(got).toEqual(byNode);
  });

  it('sends a run on a connected socket', async () => {
    const [receiver] = track(await coreBound(family));
    const sender = await coreBound(family);
    track(sender);
    await new Promise<void>((resolve) => sender.connect(receiver.address().port, address, resolve));
    const calls = watchSends(sender);
    const writer = fromSocket(sender).writable.getWriter();
    const arrived = receive(receiver, 10);
    for (let i = 0; i < 10; i++) void writer.write({ data: encode(`#${i}`) });
    expect(await arrived).toEqual(Array.from({ length: 10 }, (_, i) => `#${i}`));
    expect(calls()).toEqual([[backend === 'native' ? 'sendSegments' : 'sendMany', 10]]);
  });

  it('has desiredSize = high-water mark - chunks queued, and ready follows it', async () => {
    const [sender, receiver] = track(await coreBound(family), await coreBound(family));
    const port = receiver.address().port;
    const writer = fromSocket(sender, { writableHighWaterMark: 4 }).writable.getWriter();
    await writer.ready;
    expect(writer.desiredSize).toBe(4);
    const arrived = receive(receiver, 10);
    const sizes: (number | null)[] = [];
    for (let i = 0; i < 10; i++) {
      void writer.write({ data: encode(String(i)), remoteAddress: address, remotePort: port });
      sizes.push(writer.desiredSize);
    }
    expect(sizes).toEqual([3, 2, 1, 0, -1, -2, -3, -4, -5, -6]);
    let ready = false;
    void writer.ready.then(() => (ready = true));
    await Promise.resolve();
    expect(ready).toBe(false);
    expect(await arrived).toEqual(Array.from({ length: 10 }, (_, i) => String(i)));
    await writer.ready;
    await waitFor(() => writer.desiredSize === 4, 'an empty queue');
  });

  it('abort() does not wait behind a write that waits for room', async () => {
    const [sender] = track(await coreBound(family));
    // A send that never completes (a real one only stalls in a throttled namespace, see below).
    const sendMany = vi.spyOn(sender, 'sendMany').mockImplementation(() => {});
    const { writable, closed } = fromSocket(sender, { writableHighWaterMark: 1 });
    const writer = writable.getWriter();
    const held = writer.write({ data: encode('stuck'), remoteAddress: address, remotePort: 9 });
    await waitFor(() => sendMany.mock.calls.length === 1, 'the datagram to be handed to the socket');
    expect(writer.desiredSize).toBe(0);
    const reason = new Error('give up');
    await writer.abort(reason);
    // Its chunk was taken and handed to the socket: the write resolves (a
    // rejection would make a producer that retries send it twice).
    await expect(held).resolves.toBeUndefined();
    await expect(closed).rejects.toBe(reason);
  });

  it('counts the high-water mark in bytes', async () => {
    const [sender, receiver] = track(await coreBound(family), await coreBound(family));
    const port = receiver.address().port;
    const writer = fromSocket(sender, { writableHighWaterMark: { bytes: 1000 } }).writable.getWriter();
    await writer.ready;
    void writer.write({ data: new Uint8Array(300), remoteAddress: address, remotePort: port });
    expect(writer.desiredSize).toBe(700);
    void writer.write({ data: new Uint8Array(800), remoteAddress: address, remotePort: port });
    expect(writer.desiredSize).toBe(-100);
    await writer.ready;
    await waitFor(() => writer.desiredSize === 1000, 'an empty queue');
  });

  it('copies the data at write(): changing the buffer afterwards changes nothing', async () => {
    const [sender, receiver] = track(await coreBound(family), await coreBound(family));
    const port = receiver.address().port;
    const writer = fromSocket(sender).writable.getWriter();
    const arrived = receive(receiver, 1);
    const data = Buffer.from('original');
    // Once write() has resolved, the buffer is the caller's again (the datagram leaves in the next tick).
    await writer.write({ data, remoteAddress: address, remotePort: port });
    data.fill(0x2d);
    expect(await arrived).toEqual(['original']);
  });

  it('refuses a detached buffer with a TypeError; detaching after write() changes nothing', async () => {
    const [sender, receiver] = track(await coreBound(family), await coreBound(family));
    const port = receiver.address().port;
    const { writable, closed } = fromSocket(sender);
    const writer = writable.getWriter();
    const arrived = receive(receiver, 1);
    const sent = encode('kept');
    await writer.write({ data: sent, remoteAddress: address, remotePort: port });
    structuredClone(sent.buffer, { transfer: [sent.buffer] });
    expect(await arrived).toEqual(['kept']);
    const gone = new DataView(new ArrayBuffer(4));
    structuredClone(gone.buffer, { transfer: [gone.buffer] });
    await expect(writer.write({ data: gone, remoteAddress: address, remotePort: port })).rejects.toThrow("UDPMessage: 'data' is detached.");
    await expect(closed).rejects.toThrow(TypeError);
  });

  it('takes an ArrayBuffer, a DataView, any typed array and an empty datagram', async () => {
    const [sender, receiver] = track(await coreBound(family), await coreBound(family));
    const port = receiver.address().port;
    const writer = fromSocket(sender).writable.getWriter();
    const got: number[][] = [];
    receiver.on('message', (data) => got.push([...data]));
    const bytes = new Uint8Array([1, 2, 3, 4, 5, 6]);
    for (const data of [bytes.buffer, new DataView(bytes.buffer, 1, 2), new Uint16Array([0x0201]), bytes.subarray(4), new Uint8Array(0)]) {
      void writer.write({ data, remoteAddress: address, remotePort: port });
    }
    await waitFor(() => got.length === 5, 'five datagrams');
    expect(got).toEqual([[1, 2, 3, 4, 5, 6], [2, 3], [1, 2], [5, 6], []]);
  });

  // One datagram goes as a message; two of one size to one destination as a run.
  it.each([1, 2])('errors with a NetworkError (cause: the core error) when the kernel refuses %i datagram(s), and closes the socket', async (count) => {
    const { socket, info } = await openBound(family);
    const writer = info.writable.getWriter();
    const tooLarge = family === 4 ? 65508 : 65528;
    // The writes themselves are accepted (sent in the next tick); the failure errors the stream.
    const writes = Array.from({ length: count }, () => writer.write({ data: new Uint8Array(tooLarge), remoteAddress: address, remotePort: 9 }));
    await Promise.all(writes);
    const closed = await outcome(writer.closed);
    expect(closed).toMatchObject({ error: { name: 'NetworkError', cause: { code: 'EMSGSIZE', syscall: 'send' } } });
    const socketClosed = await outcome(socket.closed);
    expect((socketClosed as { error: unknown }).error).toBe((closed as { error: unknown }).error);
    await expect(info.readable.getReader().read()).rejects.toMatchObject({ name: 'NetworkError' });
  });
});

describe('writable chunks that are TypeErrors', () => {
  const bad: [string, 'bound' | 'connected', unknown, RegExp][] = [
    ['a number as the chunk', 'bound', 42, /UDPMessage must be an object/],
    ['no data', 'connected', {}, /missing 'data' field/],
    ['a string as data', 'connected', { data: 'text' }, /'data' must be an ArrayBuffer or an ArrayBufferView/],
    ['no destination in bound mode', 'bound', { data: encode('x') }, /must be specified in 'bound' mode/],
    ['a destination in connected mode', 'connected', { data: encode('x'), remoteAddress: '127.0.0.1', remotePort: 9 }, /must not be specified in 'connected' mode/],
    ['remoteAddress without remotePort', 'bound', { data: encode('x'), remoteAddress: '127.0.0.1' }, /either none or both/],
    ['remotePort without remoteAddress', 'connected', { data: encode('x'), remotePort: 9 }, /either none or both/],
    ['an empty remoteAddress', 'bound', { data: encode('x'), remoteAddress: '', remotePort: 9 }, /'remoteAddress' must not be empty/],
    ['remotePort 0', 'bound', { data: encode('x'), remoteAddress: '127.0.0.1', remotePort: 0 }, /'remotePort' must be greater than zero/],
    ['remotePort 65536', 'bound', { data: encode('x'), remoteAddress: '127.0.0.1', remotePort: 65536 }, /'remotePort' must be between 0 and 65535/],
    ['dnsQueryType in connected mode', 'connected', { data: encode('x'), dnsQueryType: 'ipv4' }, /'dnsQueryType' must not be specified in 'connected' mode/],
    ['dnsQueryType of the other family', 'bound', { data: encode('x'), remoteAddress: 'localhost', remotePort: 9, dnsQueryType: 'ipv6' }, /'dnsQueryType' is 'ipv6' but the socket is IPv4/],
    ['a data getter that throws', 'bound', { get data() { throw new TypeError('no data for you'); } }, /no data for you/],
    ['an unknown dnsQueryType', 'bound', { data: encode('x'), remoteAddress: 'localhost', remotePort: 9, dnsQueryType: 'AAAA' }, /must be 'ipv4' or 'ipv6'/],
  ];

  it.each(bad)('%s: write() rejects, the stream errors, the socket closes with the TypeError', async (_, mode, chunk, message) => {
    const peer = await openBound(4);
    const { socket, info } = mode === 'bound' ? await openBound(4) : await openConnected(4, peer.info.localPort);
    const writer = info.writable.getWriter();
    const write = await outcome(writer.write(chunk as UDPMessageInit));
    expect(write).toMatchObject({ error: expect.any(TypeError) });
    expect(String((write as { error: Error }).error.message)).toMatch(message);
    await expect(writer.closed).rejects.toBe((write as { error: unknown }).error);
    await expect(socket.closed).rejects.toBe((write as { error: unknown }).error);
    await peer.socket.close();
  });
});

// A write() that resolved was taken: its datagram goes out even when the
// stream ends in the same tick, before the tick's batch was sent.
describe.each(families)('writes taken before the writable ends, over IPv%i', (family) => {
  const address = loopback(family);
  const RUN = 50;
  let sockets: Socket[] = [];
  afterEach(async () => {
    await closeCore(...sockets);
    sockets = [];
  });

  /** A receiver and a stream pair over a fresh sender; `write(i)` writes datagram i of a run (or another chunk). */
  async function setUp() {
    const receiver = await coreBound(family);
    const sender = await coreBound(family);
    sockets.push(receiver, sender);
    const pair = fromSocket(sender, { writableHighWaterMark: 1000 });
    const writer = pair.writable.getWriter();
    await writer.ready;
    const port = receiver.address().port;
    const numbered = Array.from({ length: RUN }, (_, i) => `run ${String(i).padStart(3, '0')}`);
    const write = (i: number) => writer.write({ data: encode(numbered[i]!), remoteAddress: address, remotePort: port });
    return { receiver, sender, pair, writer, port, numbered, write };
  }

  /** Writes the run; resolves once every write() has resolved, still before the tick's batch goes. */
  function writeRun(write: (i: number) => Promise<void>): Promise<void[]> {
    return Promise.all(Array.from({ length: RUN }, (_, i) => write(i)));
  }

  it('abort() right after: the run arrives, then the socket closes', async () => {
    const { receiver, sender, pair, writer, numbered, write } = await setUp();
    const arrived = receive(receiver, RUN);
    await writeRun(write);
    expect(sender.stats().datagramsSent).toBe(0);
    const reason = new Error('enough');
    await writer.abort(reason);
    expect(await arrived).toEqual(numbered);
    await expect(pair.closed).rejects.toBe(reason);
  });

  it('abort() once the run was handed to the socket, before the kernel took it', async () => {
    const { receiver, sender, pair, writer, numbered, write } = await setUp();
    const handed = watchSends(sender);
    const arrived = receive(receiver, RUN);
    await writeRun(write);
    // The batch goes in a tick queued from the microtask queue; this tick runs after it and
    // before the socket's own tick that hands the run to the kernel.
    const atAbort = await new Promise<{ calls: number; sent: number }>((resolve) =>
      process.nextTick(() => {
        resolve({ calls: handed().length, sent: sender.stats().datagramsSent });
        void writer.abort(new Error('enough'));
      }),
    );
    expect(atAbort).toEqual({ calls: 1, sent: 0 });
    expect(await arrived).toEqual(numbered);
    await pair.closed.catch(() => {});
  });

  it('a write rejected mid-run: the chunks before it arrive, it rejects, the stream errors with its TypeError', async () => {
    const { receiver, sender, pair, writer, numbered, write } = await setUp();
    const arrived = receive(receiver, 20);
    const sendMany = vi.spyOn(sender, 'sendMany');
    const sendSegments = vi.spyOn(sender, 'sendSegments');
    const good = Array.from({ length: 20 }, (_, i) => write(i));
    const bad = outcome(writer.write({ data: encode(numbered[20]!), remoteAddress: address } as UDPMessageInit));
    const after = outcome(write(21));
    await Promise.all(good);
    const refused = await bad;
    expect(refused).toMatchObject({ error: expect.any(TypeError) });
    // The stream is errored: what was written after the bad chunk is refused with its error.
    expect(await after).toEqual(refused);
    expect(await arrived).toEqual(numbered.slice(0, 20));
    await expect(pair.closed).rejects.toBe((refused as { error: unknown }).error);
    expect(sendMany.mock.calls.length + sendSegments.mock.calls.length).toBe(1);
    expect(sender.stats().datagramsSent).toBe(20);
  });

  it('an array chunk with a bad message mid-run: the chunks before it arrive, none of the array', async () => {
    const { receiver, sender, pair, writer, port, numbered, write } = await setUp();
    const arrived = receive(receiver, 10);
    const good = Array.from({ length: 10 }, (_, i) => write(i));
    const array = [10, 11, 12].map((i) => ({ data: encode(numbered[i]!), remoteAddress: address, remotePort: i === 12 ? 0 : port }));
    const refused = await outcome(writer.write(array));
    await Promise.all(good);
    expect(refused).toMatchObject({ error: expect.any(TypeError) });
    expect(await arrived).toEqual(numbered.slice(0, 10));
    await pair.closed.catch(() => {});
    expect(sender.stats().datagramsSent).toBe(10);
  });

  it('close() of the pair right after: the run arrives, closed resolves', async () => {
    const { receiver, pair, writer, numbered, write } = await setUp();
    const arrived = receive(receiver, RUN);
    await writeRun(write);
    writer.releaseLock();
    await pair.close();
    expect(await arrived).toEqual(numbered);
  });

  it('the readable cancelled right after: the run arrives', async () => {
    const { receiver, pair, numbered, write } = await setUp();
    const arrived = receive(receiver, RUN);
    await writeRun(write);
    await pair.readable.cancel();
    expect(await arrived).toEqual(numbered);
    await pair.closed;
  });

  it('writer.close() while the run is in flight resolves once the kernel took all of it', async () => {
    const { receiver, sender, writer, numbered, write } = await setUp();
    const arrived = receive(receiver, RUN);
    await writeRun(write);
    await writer.close();
    expect(sender.stats().datagramsSent).toBe(RUN);
    expect(await arrived).toEqual(numbered);
  });
});

describe('writable in bound mode', () => {
  it('resolves a host name destination through the socket family', async () => {
    const { socket, info } = await openBound(4);
    const receiver = await coreBound(4);
    const arrived = receive(receiver, 1);
    const writer = info.writable.getWriter();
    await writer.write({ data: encode('by name'), remoteAddress: 'localhost', remotePort: receiver.address().port, dnsQueryType: 'ipv4' });
    expect(await arrived).toEqual(['by name']);
    writer.releaseLock();
    await socket.close();
    await closeCore(receiver);
  });
});

const canThrottle = process.getuid?.() === 0;
if (!canThrottle) console.warn('the full-send-buffer test is skipped: it needs root to make a network namespace');

// Loopback frees the send buffer as it transmits: only a rate-limited lo in a
// private namespace makes the kernel say EAGAIN and the socket queue datagrams.
describe.runIf(canThrottle)('writable against a full send buffer (EAGAIN)', () => {
  it('waits: desiredSize drops below 0 while the socket queues, and every datagram arrives once, in order', async () => {
    const { execFileSync } = await import('node:child_process');
    const { fileURLToPath } = await import('node:url');
    const script = `
      import { createSocket } from '@udpkit/core';
      import { fromSocket } from '@udpkit/streams';
      const total = 3000;
      const receiver = createSocket('udp4');
      await new Promise((resolve) => receiver.bind(0, '127.0.0.1', resolve));
      receiver.setRecvBufferSize(4 << 20);
      const got = [];
      receiver.on('message', (data) => got.push(data.readUInt32BE(0)));
      const sender = createSocket('udp4');
      await new Promise((resolve) => sender.bind(0, '127.0.0.1', resolve));
      sender.setSendBufferSize(1);
      const port = receiver.address().port;
      // 512 in flight: more than the qdisc's 16 kB burst, so the kernel must queue and say EAGAIN.
      const pair = fromSocket(sender, { writableHighWaterMark: 512 });
      const writer = pair.writable.getWriter();
      let peakQueue = 0, waits = 0, lowestDesired = 512;
      for (let i = 0; i < total; i++) {
        const data = Buffer.alloc(64);
        data.writeUInt32BE(i);
        if (writer.desiredSize <= 0) {
          // While the writer waits, what is in flight sits in the socket's queue.
          waits++;
          let ready = false;
          void writer.ready.then(() => (ready = true));
          while (!ready) {
            peakQueue = Math.max(peakQueue, sender.getSendQueueCount());
            await new Promise((resolve) => setImmediate(resolve));
          }
        }
        void writer.write({ data, remoteAddress: '127.0.0.1', remotePort: port });
        lowestDesired = Math.min(lowestDesired, writer.desiredSize);
      }
      await writer.close();
      const deadline = Date.now() + 10000;
      while (got.length < total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      console.log(JSON.stringify({ received: got.length, inOrder: got.every((n, i) => n === i), waits, peakQueue, lowestDesired,
        sent: sender.stats().datagramsSent }));
      writer.releaseLock();
      await pair.close();
      receiver.close();`;
    const output = execFileSync(
      'unshare',
      ['-n', 'sh', '-c', 'ip link set lo up && tc qdisc add dev lo root tbf rate 20mbit burst 16kb latency 200ms && exec "$@"', 'sh', process.execPath, '--input-type=module', '-e', script],
      { cwd: fileURLToPath(new URL('..', import.meta.url)), encoding: 'utf8', timeout: 20_000, env: { ...process.env, UDPKIT_BACKEND: backend } },
    );
    const result = JSON.parse(output);
    const seen = `run: ${output.trim()}`;
    expect(result, seen).toMatchObject({ received: 3000, inOrder: true, sent: 3000, lowestDesired: 0 });
    // The writer had to wait on ready: the kernel pushed back through the stream.
    expect(result.waits, seen).toBeGreaterThan(0);
    if (backend === 'native') expect(result.peakQueue, seen).toBeGreaterThan(0);
  });
});
