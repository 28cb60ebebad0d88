// What udpkit adds to node:dgram: sendMany, transparent batching, 'messages',
// pause/resume, stats(), receive metadata and the backend switch. Runs on
// both backends; where the portable backend can't do a thing, it must say so.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createSocket, defaultBackend, nativeLoadError, type Socket } from '@udpkit/core';
import { describe, expect, it } from 'vitest';
import { backend, collect, sendManyAsync, waitFor, socketsClosedAfterEach } from './support/sockets.js';

const { socket, track } = socketsClosedAfterEach();

function numbered(count: number, size = 16): Buffer[] {
  return Array.from({ length: count }, (_, i) => {
    const data = Buffer.alloc(size);
    data.writeUInt32BE(i, 0);
    return data;
  });
}

describe('backend selection', () => {
  it('runs the backend UDPKIT_BACKEND asks for, and says which', async () => {
    expect(defaultBackend()).toBe(backend);
    expect(createSocket('udp4').backend).toBe(backend);
    expect(createSocket({ type: 'udp4', backend: 'portable' }).backend).toBe('portable');
  });

  it('loads the native helper on Linux, or says why not', () => {
    if (process.platform === 'linux') expect(nativeLoadError).toBeUndefined();
    else expect(nativeLoadError).toBeInstanceOf(Error);
  });

  it('rejects an unknown backend name', () => {
    expect(() => createSocket({ type: 'udp4', backend: 'fast' as never })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE', name: 'TypeError' }),
    );
  });
});

describe("the order createSocket reports udpkit's invalid options in", () => {
  // Node's own options keep Node's order (differential.test.ts); udpkit's
  // come after the type and before the signal, which Node checks last.
  const cases: [string, Record<string, unknown>, string, string][] = [
    ['the type before all of them', { type: 'x', backend: 'fast', gso: 1, gro: 1 }, 'ERR_SOCKET_BAD_TYPE', 'Bad socket type'],
    ['the backend before gso and gro', { backend: 'fast', gso: 1, gro: 1 }, 'ERR_INVALID_ARG_VALUE', 'options.backend'],
    [
      'receiveMetadata before gso and gro',
      { backend: 'portable', receiveMetadata: { destination: true }, gso: 1, gro: 1 },
      'ERR_UDPKIT_UNSUPPORTED',
      'receiveMetadata is not supported',
    ],
    ['gso before gro', { gso: 1, gro: 1 }, 'ERR_INVALID_ARG_TYPE', '"options.gso"'],
    ['gso before gro, support too', { backend: 'portable', gso: true, gro: 1 }, 'ERR_UDPKIT_UNSUPPORTED', 'gso is not supported'],
    ['a gso: false that is fine, then gro', { backend: 'portable', gso: false, gro: true }, 'ERR_UDPKIT_UNSUPPORTED', 'gro is not supported'],
    ['gro before the signal', { gro: 'yes', signal: 1 }, 'ERR_INVALID_ARG_TYPE', '"options.gro"'],
    ['then the signal', { gso: false, gro: false, signal: 1 }, 'ERR_INVALID_ARG_TYPE', '"options.signal"'],
  ];
  it.each(cases)('%s', (_, options, code, message) => {
    expect(() => createSocket({ type: 'udp4', ...options } as never)).toThrow(
      expect.objectContaining({ code, message: expect.stringContaining(message) }),
    );
  });
});

describe('module formats', () => {
  it('loads with require() too, with the named exports', () => {
    const script = `
      const dgram = require('@udpkit/core');
      const socket = dgram.createSocket('udp4');
      console.log(JSON.stringify([typeof dgram.createSocket, dgram.defaultBackend() === socket.backend, socket instanceof dgram.Socket, socket.backend]));
      socket.close();`;
    const output = execFileSync(process.execPath, ['-e', script], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      encoding: 'utf8',
      env: { ...process.env, UDPKIT_BACKEND: backend },
    });
    expect(JSON.parse(output)).toEqual(['function', true, true, backend]);
  });
});

describe('sendMany', () => {
  it('calls back with 0 for no datagrams', async () => {
    const sender = await socket();
    expect(await sendManyAsync(sender, [])).toEqual({ error: null, sent: 0 });
  });

  it.each([1, 1024, 1025])('delivers a batch of %i datagrams, in order', async (count) => {
    const receiver = await socket();
    receiver.setRecvBufferSize(4 * 1024 * 1024);
    const sender = await socket();
    const { port } = receiver.address();
    const received = collect(receiver, count);
    const result = await sendManyAsync(
      sender,
      numbered(count).map((data) => ({ data, port, address: '127.0.0.1' })),
    );
    expect(result).toEqual({ error: null, sent: count });
    const order = (await received).map(({ data }) => data.readUInt32BE(0));
    expect(order).toEqual(Array.from({ length: count }, (_, i) => i));
    const stats = sender.stats();
    expect(stats.datagramsSent).toBe(count);
    expect(stats.bytesSent).toBe(count * 16);
    if (backend === 'native') expect(stats.sendBatches).toBe(Math.ceil(count / 1024));
  });

  it('sends to mixed destinations and resolves host names', async () => {
    const a = await socket();
    const b = await socket();
    const sender = await socket();
    const toA = collect(a, 2);
    const toB = collect(b, 2);
    const result = await sendManyAsync(sender, [
      { data: 'a1', port: a.address().port, address: '127.0.0.1' },
      { data: 'b1', port: b.address().port, address: 'localhost' },
      { data: new Uint8Array([0x61, 0x32]), port: a.address().port },
      { data: 'b2', port: b.address().port, address: 'localhost' },
    ]);
    expect(result).toEqual({ error: null, sent: 4 });
    expect((await toA).map(({ data }) => data.toString())).toEqual(['a1', 'a2']);
    expect((await toB).map(({ data }) => data.toString())).toEqual(['b1', 'b2']);
  });

  it('skips a datagram the kernel refuses, sends the rest, and reports the first error', async () => {
    const receiver = await socket();
    const sender = await socket();
    const { port } = receiver.address();
    const received = collect(receiver, 2);
    const result = await sendManyAsync(sender, [
      { data: 'before', port },
      { data: Buffer.alloc(65508), port }, // over IPv4's 65507-byte limit
      { data: 'after', port },
    ]);
    expect(result.sent).toBe(2);
    expect(result.error).toMatchObject({ code: 'EMSGSIZE', syscall: 'send', port });
    expect((await received).map(({ data }) => data.toString())).toEqual(['before', 'after']);
  });

  it('reports a host name that does not resolve, and sends the others', async () => {
    const receiver = await socket();
    const sender = createSocket({
      type: 'udp4',
      lookup: (host, _family, callback) =>
        host === 'nowhere.invalid'
          ? callback(Object.assign(new Error('getaddrinfo ENOTFOUND nowhere.invalid'), { code: 'ENOTFOUND' }), '', 4)
          : callback(null, '127.0.0.1', 4),
    });
    track(sender);
    const { port } = receiver.address();
    const received = collect(receiver, 1);
    const result = await sendManyAsync(sender, [
      { data: 'lost', port, address: 'nowhere.invalid' },
      { data: 'kept', port, address: 'here' },
    ]);
    expect(result.sent).toBe(1);
    expect(result.error).toMatchObject({ code: 'ENOTFOUND' });
    expect((await received)[0]!.data.toString()).toBe('kept');
  });

  it('on a connected socket, needs no port and refuses one', async () => {
    const receiver = await socket();
    const sender = createSocket('udp4');
    track(sender);
    await new Promise<void>((resolve) => sender.connect(receiver.address().port, '127.0.0.1', resolve));
    const received = collect(receiver, 2);
    expect(await sendManyAsync(sender, [{ data: 'x' }, { data: 'y' }])).toEqual({ error: null, sent: 2 });
    expect((await received).map(({ data }) => data.toString())).toEqual(['x', 'y']);
    expect(() => sender.sendMany([{ data: 'z', port: 9 }])).toThrow(
      expect.objectContaining({ code: 'ERR_SOCKET_DGRAM_IS_CONNECTED' }),
    );
  });

  it('validates its arguments before sending anything', async () => {
    const sender = await socket();
    expect(() => sender.sendMany('x' as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => sender.sendMany([{ data: 'a', port: 9 }, { data: 'b', port: 0 }])).toThrow(
      expect.objectContaining({
        code: 'ERR_SOCKET_BAD_PORT',
        message: 'messages[1].port should be > 0 and < 65536. Received type number (0).',
      }),
    );
    expect(() => sender.sendMany([{ data: 42 as never, port: 9 }])).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }),
    );
    expect(() => sender.sendMany([null as never])).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => sender.sendMany([], 'cb' as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(sender.stats().datagramsSent).toBe(0);
  });

  it('binds implicitly and queues until listening, like send()', async () => {
    const receiver = await socket();
    const sender = createSocket('udp4');
    track(sender);
    const events: string[] = [];
    sender.on('listening', () => events.push('listening'));
    const result = sendManyAsync(sender, [{ data: 'q', port: receiver.address().port }]);
    events.push('returned');
    expect(await result).toEqual({ error: null, sent: 1 });
    expect(events).toEqual(['returned', 'listening']);
  });

  it('throws ERR_SOCKET_DGRAM_NOT_RUNNING after close', async () => {
    const sender = await socket();
    sender.close();
    expect(() => sender.sendMany([{ data: 'x', port: 9 }])).toThrow(
      expect.objectContaining({ code: 'ERR_SOCKET_DGRAM_NOT_RUNNING' }),
    );
  });
});

describe('transparent batching', () => {
  it('sends the send() calls of one tick together, with Node-shaped callbacks in order', async () => {
    const receiver = await socket();
    const sender = await socket();
    const { port } = receiver.address();
    const received = collect(receiver, 100);
    const callbacks: [Error | null, number | undefined][] = [];
    const done = new Promise<void>((resolve) => {
      for (let i = 0; i < 100; i++) {
        sender.send(`message ${i}`, port, '127.0.0.1', (error, bytes) => {
          callbacks.push([error, bytes]);
          if (callbacks.length === 100) resolve();
        });
      }
    });
    await done;
    expect(callbacks).toEqual(Array.from({ length: 100 }, (_, i) => [null, `message ${i}`.length]));
    expect((await received).map(({ data }) => data.toString())).toEqual(
      Array.from({ length: 100 }, (_, i) => `message ${i}`),
    );
    expect(sender.stats().sendBatches).toBe(backend === 'native' ? 1 : 100);
  });

  it('sends what was queued when the socket closes in the same tick (connected)', async () => {
    const receiver = await socket();
    const sender = createSocket('udp4');
    await new Promise<void>((resolve) => sender.connect(receiver.address().port, '127.0.0.1', resolve));
    const received = collect(receiver, 3);
    sender.send('1');
    sender.send('2');
    sender.send('3');
    sender.close();
    expect((await received).map(({ data }) => data.toString())).toEqual(['1', '2', '3']);
  });
});

describe('send queue re-entrancy', () => {
  function sendThree(sender: Socket, port: number, onFirst: () => void): Promise<[number, string | null, number | undefined][]> {
    return new Promise((resolve) => {
      const calls: [number, string | null, number | undefined][] = [];
      for (let i = 0; i < 3; i++) {
        sender.send(`x${i}`, port, '127.0.0.1', (error, bytes) => {
          calls.push([i, (error as NodeJS.ErrnoException | null)?.code ?? null, bytes]);
          if (i === 0) onFirst();
          if (calls.length === 3) resolve(calls);
        });
      }
    });
  }

  it('calls every send callback once when one of them closes the socket', async () => {
    const receiver = await socket();
    const sender = await socket();
    let closes = 0;
    sender.on('close', () => closes++);
    const calls = await sendThree(sender, receiver.address().port, () => sender.close());
    expect(calls).toEqual([[0, null, 2], [1, null, 2], [2, null, 2]]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(closes).toBe(1);
  });

  it('calls every send callback once when one of them sends more', async () => {
    const receiver = await socket();
    const sender = await socket();
    const port = receiver.address().port;
    const received = collect(receiver, 5);
    let many: unknown;
    const calls = await sendThree(sender, port, () => {
      sender.sendMany([{ data: 'm', port }], (error, sent) => (many = [error, sent]));
      sender.send('after', port);
    });
    expect(calls).toEqual([[0, null, 2], [1, null, 2], [2, null, 2]]);
    expect((await received).map(({ data }) => data.toString())).toEqual(['x0', 'x1', 'x2', 'm', 'after']);
    expect(many).toEqual([null, 1]);
    expect(sender.stats()).toMatchObject({ datagramsSent: 5, bytesSent: 12, sendQueueCount: 0, sendQueueSize: 0 });
  });

  it('keeps the order of send() and sendMany() calls made in one tick', async () => {
    const receiver = await socket();
    const sender = await socket();
    const port = receiver.address().port;
    const received = collect(receiver, 15);
    for (let i = 0; i < 10; i++) sender.send(`d${i}`, port, '127.0.0.1');
    sender.sendMany(Array.from({ length: 5 }, (_, i) => ({ data: `m${i}`, port, address: '127.0.0.1' })));
    const order = (await received).map(({ data }) => data.toString());
    expect(order).toEqual([...Array.from({ length: 10 }, (_, i) => `d${i}`), ...Array.from({ length: 5 }, (_, i) => `m${i}`)]);
  });
});

describe("'messages' batches", () => {
  it('carries every datagram once, in the order of the per-datagram events', async () => {
    const receiver = await socket();
    receiver.setRecvBufferSize(1024 * 1024);
    const sender = await socket();
    const batches: number[][] = [];
    const singles: number[] = [];
    receiver.on('messages', (data: Buffer[], rinfos: { size: number }[]) => {
      expect(rinfos.map((r) => r.size)).toEqual(data.map((d) => d.length));
      batches.push(data.map((d) => d.readUInt32BE(0)));
    });
    receiver.on('message', (data: Buffer) => singles.push(data.readUInt32BE(0)));
    receiver.pause();
    const port = receiver.address().port;
    await sendManyAsync(sender, numbered(200).map((data) => ({ data, port })));
    receiver.resume();
    await waitFor(() => singles.length === 200, 5000, '200 datagrams');
    expect(batches.flat()).toEqual(singles);
    expect(singles).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(receiver.stats().receiveBatches).toBe(batches.length);
    // Held by the kernel while paused, the native backend takes them 32 at a
    // time while 'message' listens (libuv's width; 64 for 'messages' alone).
    if (backend === 'native') expect(Math.max(...batches.map((b) => b.length))).toBe(32);
    else expect(batches.every((b) => b.length === 1)).toBe(true);
  });
});

describe('pause and resume', () => {
  it('stops delivery while paused and delivers what the kernel held on resume', async () => {
    const receiver = await socket();
    const sender = await socket();
    const port = receiver.address().port;
    const seen: string[] = [];
    receiver.on('message', (data: Buffer) => seen.push(data.toString()));

    receiver.pause();
    expect(receiver.isPaused()).toBe(true);
    await sendManyAsync(sender, ['a', 'b', 'c'].map((data) => ({ data, port })));
    // A datagram sent after the paused ones proves the loop ran: none may arrive.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(seen).toEqual([]);

    receiver.resume();
    expect(receiver.isPaused()).toBe(false);
    await waitFor(() => seen.length === 3, 5000, 'held datagrams');
    expect(seen).toEqual(['a', 'b', 'c']);
  });

  it('can be paused before bind, and stays paused once listening', async () => {
    const receiver = createSocket('udp4');
    track(receiver);
    receiver.pause();
    await new Promise<void>((resolve) => receiver.bind(0, '127.0.0.1', resolve));
    const sender = await socket();
    const seen: string[] = [];
    receiver.on('message', (data: Buffer) => seen.push(data.toString()));
    await sendManyAsync(sender, [{ data: 'held', port: receiver.address().port }]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(seen).toEqual([]);
    receiver.resume();
    await waitFor(() => seen.length === 1);
    expect(seen).toEqual(['held']);
  });
});

describe('stats()', () => {
  it('counts datagrams and bytes both ways', async () => {
    const receiver = await socket();
    const sender = await socket();
    const received = collect(receiver, 10);
    await sendManyAsync(sender, numbered(10, 100).map((data) => ({ data, port: receiver.address().port })));
    await received;
    expect(sender.stats()).toMatchObject({ datagramsSent: 10, bytesSent: 1000, sendQueueCount: 0, sendQueueSize: 0 });
    expect(receiver.stats()).toMatchObject({ datagramsReceived: 10, bytesReceived: 1000, kernelDrops: 0 });
    expect(receiver.stats().receiveBatches).toBeGreaterThanOrEqual(1);
  });

  it.runIf(backend === 'native')('counts exactly the datagrams the kernel dropped while paused', async () => {
    const receiver = await socket();
    receiver.setRecvBufferSize(4096); // the kernel doubles it; a few datagrams fit
    const sender = await socket();
    receiver.pause();
    const sent = 300;
    const result = await sendManyAsync(sender, numbered(sent, 200).map((data) => ({ data, port: receiver.address().port })));
    expect(result).toEqual({ error: null, sent });
    let received = 0;
    let probed = false;
    receiver.on('message', (data: Buffer) => {
      if (data.toString() === 'probe') probed = true;
      else received++;
    });
    receiver.resume();
    await waitFor(() => received > 0, 5000, 'the held datagrams');
    // The kernel stamps each datagram with the drop count when it queues it:
    // the held ones predate the drops, so one more datagram brings the news.
    await new Promise((resolve) => setTimeout(resolve, 50));
    await sendManyAsync(sender, [{ data: 'probe', port: receiver.address().port }]);
    await waitFor(() => probed, 5000, 'the probe');
    expect(receiver.stats().kernelDrops).toBe(sent - received);
    expect(receiver.stats().kernelDrops).toBeGreaterThan(0);
  });
});

describe('receive metadata', () => {
  it.runIf(backend === 'native').each(['udp4', 'udp6'] as const)(
    'gives destination, interface index and kernel timestamp (%s)',
    async (type) => {
      const loopback = type === 'udp4' ? '127.0.0.1' : '::1';
      const receiver = await socket(type, { receiveMetadata: { destination: true, timestamp: true } });
      const sender = await socket(type);
      const before = BigInt(Date.now()) * 1_000_000n;
      const received = collect(receiver, 1);
      sender.send('meta', receiver.address().port, loopback);
      const { rinfo } = (await received)[0]!;
      const after = BigInt(Date.now() + 1) * 1_000_000n;
      const loIndex = Number(readFileSync('/sys/class/net/lo/ifindex', 'utf8'));
      expect(rinfo).toMatchObject({ address: loopback, destination: loopback, interfaceIndex: loIndex, truncated: false, size: 4 });
      expect(rinfo.timestamp).toBeTypeOf('bigint');
      expect(rinfo.timestamp! >= before - 1_000_000n && rinfo.timestamp! <= after).toBe(true);
    },
  );

  it.runIf(backend === 'native')('adds nothing to rinfo unless asked', async () => {
    const receiver = await socket();
    const sender = await socket();
    const received = collect(receiver, 1);
    sender.send('plain', receiver.address().port, '127.0.0.1');
    const { rinfo } = (await received)[0]!;
    expect(Object.keys(rinfo).sort()).toEqual(['address', 'family', 'port', 'size']);
  });

  it.runIf(backend === 'portable')('says the portable backend cannot give it', () => {
    expect(() => createSocket({ type: 'udp4', receiveMetadata: { destination: true } })).toThrow(
      expect.objectContaining({ code: 'ERR_UDPKIT_UNSUPPORTED' }),
    );
  });
});

describe('Linux socket options', () => {
  it.runIf(backend === 'native')('setMulticastAll works on a bound socket and fails like Node before bind', async () => {
    const s = await socket();
    expect(() => s.setMulticastAll(false)).not.toThrow();
    const unbound = createSocket('udp4');
    expect(() => unbound.setMulticastAll(false)).toThrow(expect.objectContaining({ code: 'EBADF', message: 'setMulticastAll EBADF' }));
  });

  it.runIf(backend === 'portable')('says the portable backend cannot set them', async () => {
    const s = await socket();
    expect(() => s.setMulticastAll(false)).toThrow(expect.objectContaining({ code: 'ERR_UDPKIT_UNSUPPORTED' }));
    expect(() => s.blockSource('127.0.0.2', '239.1.1.1')).toThrow(expect.objectContaining({ code: 'ERR_UDPKIT_UNSUPPORTED' }));
  });

  it('validates blockSource arguments first', async () => {
    const s = await socket();
    expect(() => s.blockSource(1 as never, '239.1.1.1')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => s.unblockSource('127.0.0.1', null as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
  });
});

describe.runIf(backend === 'native')('lifetime without close()', () => {
  function runChild(script: string): Record<string, unknown> {
    const output = execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      encoding: 'utf8',
      timeout: 15_000,
    });
    return JSON.parse(output);
  }

  it('releases the descriptors of sockets dropped while not reading, after GC', () => {
    const result = runChild(`
      import { createSocket } from '@udpkit/core';
      import { readdirSync } from 'node:fs';
      const fds = () => readdirSync('/proc/self/fd').length;
      const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
      const before = fds();
      await Promise.all(Array.from({ length: 20 }, () => new Promise((resolve) => {
        const socket = createSocket('udp4');
        socket.bind(0, '127.0.0.1', () => resolve(socket.pause()));
      })));
      const held = fds();
      for (let i = 0; i < 20 && fds() > before; i++) { globalThis.gc(); await sleep(10); }
      console.log(JSON.stringify({ before, held, after: fds() }));`);
    expect(result.held).toBe((result.before as number) + 20);
    expect(result.after).toBe(result.before);
  });

  it('keeps a reading socket alive without a reference, as Node does', () => {
    const result = runChild(`
      import { createSocket } from '@udpkit/core';
      const port = await new Promise((resolve) => {
        const socket = createSocket('udp4', (msg) => {
          console.log(JSON.stringify({ received: msg.toString() }));
          socket.close();
        });
        socket.bind(0, '127.0.0.1', () => resolve(socket.address().port));
      });
      globalThis.gc();
      await new Promise((resolve) => setTimeout(resolve, 20));
      globalThis.gc();
      const sender = createSocket('udp4');
      sender.send('still here', port, '127.0.0.1', () => sender.close());`);
    expect(result).toEqual({ received: 'still here' });
  });
});

// Loopback frees the send buffer as it transmits, so the kernel only says
// EAGAIN with a queue in the way: a rate-limited lo in a private namespace.
const canThrottle = process.getuid?.() === 0;
describe.runIf(canThrottle)('a full send buffer (EAGAIN)', () => {
  it('queues, waits for writability and delivers every datagram once, in order', () => {
    const script = `
      import { createSocket } from '@udpkit/core';
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
      let peakQueue = 0;
      const sample = setInterval(() => (peakQueue = Math.max(peakQueue, sender.getSendQueueCount())), 1);
      const callbacks = [];
      for (let i = 0; i < total; i++) {
        const data = Buffer.alloc(64);
        data.writeUInt32BE(i);
        sender.send(data, port, '127.0.0.1', (error, bytes) => callbacks.push(error ? error.code : bytes));
      }
      const many = await new Promise((resolve) => {
        const messages = Array.from({ length: 500 }, (_, i) => {
          const data = Buffer.alloc(64);
          data.writeUInt32BE(total + i);
          return { data, port };
        });
        sender.sendMany(messages, (error, sent) => resolve([error, sent]));
      });
      const deadline = Date.now() + 10000;
      while (got.length < total + 500 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      clearInterval(sample);
      const inOrder = got.every((n, i) => n === i);
      console.log(JSON.stringify({ received: got.length, inOrder, callbacks: callbacks.length,
        allOk: callbacks.every((c) => c === 64), many, peakQueue, queue: sender.getSendQueueCount(), stats: sender.stats().datagramsSent }));
      sender.close();
      receiver.close();`;
    const output = execFileSync(
      'unshare',
      ['-n', 'sh', '-c', 'ip link set lo up && tc qdisc add dev lo root tbf rate 20mbit burst 16kb latency 200ms && exec "$@"', 'sh', process.execPath, '--input-type=module', '-e', script],
      { cwd: fileURLToPath(new URL('..', import.meta.url)), encoding: 'utf8', timeout: 20_000, env: { ...process.env, UDPKIT_BACKEND: backend } },
    );
    const result = JSON.parse(output);
    expect(result).toMatchObject({ received: 3500, inOrder: true, callbacks: 3000, allOk: true, many: [null, 500], queue: 0, stats: 3500 });
    // The kernel did push back: datagrams waited in udpkit's queue (or node:dgram's).
    if (backend === 'native') expect(result.peakQueue).toBeGreaterThan(0);
  });
});
