// UDPSocket's life: what opened gives, the NetworkErrors of opening, close()
// and its InvalidStateErrors, and how cancel and abort reasons reach `closed`.
import { execFileSync } from 'node:child_process';
import { MulticastController, UDPSocket } from '@udpkit/streams';
import { describe, expect, it } from 'vitest';
import { backend, closeCore, coreBound, families, loopback, openBound, openConnected, outcome, text } from './support/helpers.js';

const encode = (value: string) => new TextEncoder().encode(value);

describe.each(families)('UDPSocket over IPv%i', (family) => {
  const address = loopback(family);

  it('opens in bound mode: local address and port, a multicast controller, no remote fields', async () => {
    const { socket, info } = await openBound(family);
    expect(info.localAddress).toBe(address);
    expect(info.localPort).toBeGreaterThan(0);
    expect(info.multicastController).toBeInstanceOf(MulticastController);
    expect(info.readable).toBeInstanceOf(ReadableStream);
    expect(info.writable).toBeInstanceOf(WritableStream);
    expect('remoteAddress' in info).toBe(false);
    expect('remotePort' in info).toBe(false);
    await socket.close();
  });

  it('opens in connected mode: both addresses, no multicast controller; exchanges datagrams both ways', async () => {
    const server = await openBound(family);
    const { socket, info } = await openConnected(family, server.info.localPort);
    expect(info).toMatchObject({ localAddress: address, remoteAddress: address, remotePort: server.info.localPort });
    expect(info.multicastController).toBeUndefined();
    const writer = info.writable.getWriter();
    await writer.write({ data: encode('ping') });
    const serverReader = server.info.readable.getReader();
    const { value: ping } = (await serverReader.read()) as { value: { data: Uint8Array; remoteAddress: string; remotePort: number } };
    expect({ text: text(ping.data), from: ping.remoteAddress, port: ping.remotePort }).toEqual({ text: 'ping', from: address, port: info.localPort });
    const serverWriter = server.info.writable.getWriter();
    await serverWriter.write({ data: encode('pong'), remoteAddress: ping.remoteAddress, remotePort: ping.remotePort });
    const reader = info.readable.getReader();
    const { value: pong } = await reader.read();
    expect(text(pong!.data)).toBe('pong');
    for (const lock of [writer, serverReader, serverWriter, reader]) lock.releaseLock();
    await Promise.all([socket.close(), server.socket.close()]);
  });

  it('rejects opened and closed with the same NetworkError when the port is taken (cause: EADDRINUSE)', async () => {
    const taken = await coreBound(family);
    const socket = new UDPSocket({ localAddress: address, localPort: taken.address().port });
    const opened = await outcome(socket.opened);
    expect(opened).toMatchObject({ error: { name: 'NetworkError', cause: { code: 'EADDRINUSE', syscall: 'bind' } } });
    const { error } = opened as { error: DOMException };
    expect(error).toBeInstanceOf(DOMException);
    await expect(socket.closed).rejects.toBe(error);
    await expect(socket.close()).rejects.toBe(error);
    await closeCore(taken);
  });

  it('close() rejects with InvalidStateError while opening and while a stream is locked; then closes once', async () => {
    const socket = new UDPSocket({ localAddress: address });
    await expect(socket.close()).rejects.toMatchObject({ name: 'InvalidStateError', message: 'Socket is not properly initialized.' });
    const info = await socket.opened;
    const reader = info.readable.getReader();
    await expect(socket.close()).rejects.toMatchObject({ name: 'InvalidStateError', message: 'Close called on locked streams.' });
    reader.releaseLock();
    const writer = info.writable.getWriter();
    await expect(socket.close()).rejects.toMatchObject({ name: 'InvalidStateError' });
    writer.releaseLock();
    const first = socket.close();
    expect(socket.close()).toBe(first);
    await expect(first).resolves.toBeUndefined();
    await expect(socket.closed).resolves.toBeUndefined();
    // The streams were cancelled and aborted with an AbortError.
    expect(await info.readable.getReader().read()).toEqual({ done: true, value: undefined });
    await expect(info.writable.getWriter().write({ data: encode('late'), remoteAddress: address, remotePort: 9 })).rejects.toMatchObject({
      name: 'AbortError',
    });
    await expect(socket.close()).resolves.toBeUndefined();
    // The port is free again: the socket under it is closed.
    const again = new UDPSocket({ localAddress: address, localPort: info.localPort });
    expect((await again.opened).localPort).toBe(info.localPort);
    await again.close();
  });

  it('cancel(reason) on the readable closes the socket; the reason errors the writable and rejects closed', async () => {
    const { socket, info } = await openBound(family);
    const reason = new Error('enough reading');
    const writer = info.writable.getWriter();
    await info.readable.cancel(reason);
    await expect(socket.closed).rejects.toBe(reason);
    await expect(writer.closed).rejects.toBe(reason);
    await expect(info.multicastController!.joinGroup(family === 4 ? '239.1.1.1' : 'ff12::1')).rejects.toMatchObject({
      name: 'InvalidStateError',
    });
    await expectPortFree(family, info.localPort);
  });

  it('abort(reason) on the writable closes the socket; the reason errors the readable and rejects closed', async () => {
    const { socket, info } = await openBound(family);
    const reason = new Error('enough writing');
    const reader = info.readable.getReader();
    const pending = reader.read();
    await info.writable.abort(reason);
    await expect(pending).rejects.toBe(reason);
    await expect(socket.closed).rejects.toBe(reason);
    await expectPortFree(family, info.localPort);
  });

  it('cancel() without a reason closes the socket and resolves closed', async () => {
    const { socket, info } = await openBound(family);
    await info.readable.cancel();
    await expect(socket.closed).resolves.toBeUndefined();
    await expect(info.writable.getWriter().closed).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('abort() without a reason closes the socket too (it is not a graceful close) and resolves closed', async () => {
    const { socket, info } = await openBound(family);
    const reader = info.readable.getReader();
    const pending = reader.read();
    await info.writable.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    await expect(socket.closed).resolves.toBeUndefined();
    await expectPortFree(family, info.localPort);
  });

  it('settles closed only once both sides are done: closing the writer leaves the readable reading', async () => {
    const { socket, info } = await openBound(family);
    const sender = await coreBound(family);
    let settled = false;
    void socket.closed.then(() => (settled = true));
    const writer = info.writable.getWriter();
    await writer.write({ data: encode('last word'), remoteAddress: address, remotePort: sender.address().port });
    await writer.close();
    sender.send('still listening', info.localPort, address);
    const reader = info.readable.getReader();
    expect(text((await reader.read()).value!.data)).toBe('still listening');
    expect(settled).toBe(false);
    await reader.cancel();
    await expect(socket.closed).resolves.toBeUndefined();
    await closeCore(sender);
  });

  it('errors both streams with a NetworkError when the peer refuses (cause: ECONNREFUSED)', async () => {
    // A port nobody listens on: bind one, note it, close it.
    const gone = await coreBound(family);
    const port = gone.address().port;
    await closeCore(gone);
    const { socket, info } = await openConnected(family, port);
    const writer = info.writable.getWriter();
    const reader = info.readable.getReader();
    const read = reader.read();
    // The ICMP port-unreachable shows as ECONNREFUSED on the next receive or send.
    for (let i = 0; i < 20 && !(await settledWithin(read)); i++) void writer.write({ data: encode('anyone?') }).catch(() => {});
    await expect(read).rejects.toMatchObject({ name: 'NetworkError', cause: { code: 'ECONNREFUSED' } });
    await expect(socket.closed).rejects.toMatchObject({ name: 'NetworkError', cause: { code: 'ECONNREFUSED' } });
  });

  it('closes the socket with the error of a transform that throws mid-pipeline', async () => {
    const server = await openBound(family);
    const failure = new Error('cannot parse');
    const picky = new TransformStream<{ data: Uint8Array }, { data: Uint8Array; remoteAddress: string; remotePort: number }>({
      transform({ data }) {
        if (text(data) === 'bad') throw failure;
      },
    });
    const served = server.info.readable.pipeThrough(picky).pipeTo(server.info.writable);
    const client = await openConnected(family, server.info.localPort);
    const writer = client.info.writable.getWriter();
    await writer.write({ data: encode('fine') });
    await writer.write({ data: encode('bad') });
    await expect(served).rejects.toBe(failure);
    await expect(server.socket.closed).rejects.toBe(failure);
    await expectPortFree(family, server.info.localPort);
    writer.releaseLock();
    await client.socket.close();
  });

  it('serves an echo as readable.pipeThrough(transform).pipeTo(writable), stopped by an AbortSignal', async () => {
    const server = await openBound(family);
    const stop = new AbortController();
    const upper = new TransformStream<{ data: Uint8Array; remoteAddress: string; remotePort: number }, { data: Uint8Array; remoteAddress: string; remotePort: number }>({
      transform({ data, remoteAddress, remotePort }, controller) {
        controller.enqueue({ data: encode(text(data).toUpperCase()), remoteAddress, remotePort });
      },
    });
    const served = server.info.readable.pipeThrough(upper).pipeTo(server.info.writable, { signal: stop.signal });

    const client = await openConnected(family, server.info.localPort);
    const writer = client.info.writable.getWriter();
    const reader = client.info.readable.getReader();
    const words = Array.from({ length: 200 }, (_, i) => `word ${i}`);
    for (const word of words) void writer.write({ data: encode(word) });
    const echoed: string[] = [];
    while (echoed.length < words.length) echoed.push(text((await reader.read()).value!.data));
    expect(echoed).toEqual(words.map((word) => word.toUpperCase()));

    const reason = new Error('server stopping');
    stop.abort(reason);
    await expect(served).rejects.toBe(reason);
    await expect(server.socket.closed).rejects.toBe(reason);
    await expectPortFree(family, server.info.localPort);
    writer.releaseLock();
    reader.releaseLock();
    await client.socket.close();
  });
});

describe('UDPSocket opening', () => {
  it('connects to a host name, resolved with dnsQueryType', async () => {
    const server = await openBound(4);
    const socket = new UDPSocket({ remoteAddress: 'localhost', remotePort: server.info.localPort, dnsQueryType: 'ipv4' });
    expect(await socket.opened).toMatchObject({ remoteAddress: '127.0.0.1', remotePort: server.info.localPort });
    await Promise.all([socket.close(), server.socket.close()]);
  });

  it('rejects with a NetworkError for an address the host does not have (cause: EADDRNOTAVAIL)', async () => {
    // 192.0.2.0/24 is TEST-NET-1: never assigned here, so bind fails before anything is sent.
    const socket = new UDPSocket({ localAddress: '192.0.2.1' });
    await expect(socket.opened).rejects.toMatchObject({ name: 'NetworkError', cause: { code: 'EADDRNOTAVAIL' } });
    await expect(socket.closed).rejects.toMatchObject({ name: 'NetworkError' });
  });

  it('applies receiveBufferSize and sendBufferSize to the socket (as ss(8) reports them)', async () => {
    const { socket, info } = await openBound(4, { receiveBufferSize: 100_000, sendBufferSize: 50_000 });
    const line = execFileSync('ss', ['-uamnH', 'src', `127.0.0.1:${info.localPort}`], { encoding: 'utf8' });
    // Linux doubles what it is asked for (socket(7)).
    expect(line).toMatch(/skmem:\(r\d+,rb200000,t\d+,tb100000,/);
    await socket.close();
  });

  it.runIf(backend === 'portable')('throws NotSupportedError for receiveMetadata on the portable backend', () => {
    expect(() => new UDPSocket({ localAddress: '127.0.0.1', receiveMetadata: { timestamp: true } })).toThrow(
      expect.objectContaining({ name: 'NotSupportedError', cause: expect.objectContaining({ code: 'ERR_UDPKIT_UNSUPPORTED' }) }),
    );
  });

  it('does not report a failed open as an unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    const socket = new UDPSocket({ localAddress: '192.0.2.1' });
    // Let the failure happen and Node look for unhandled rejections (after each tick).
    await new Promise((resolve) => setTimeout(resolve, 50));
    process.off('unhandledRejection', onUnhandled);
    expect(unhandled).toEqual([]);
    await expect(socket.closed).rejects.toMatchObject({ name: 'NetworkError' });
  });
});

/** Binding the port again succeeds only once the socket that had it is closed. */
async function expectPortFree(family: 4 | 6, port: number): Promise<void> {
  const socket = new UDPSocket({ localAddress: loopback(family), localPort: port });
  expect((await socket.opened).localPort).toBe(port);
  await socket.close();
}

/** Whether `promise` settles within a few event-loop turns. */
async function settledWithin(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (let i = 0; i < 10 && !settled; i++) await new Promise((resolve) => setTimeout(resolve, 5));
  return settled;
}
