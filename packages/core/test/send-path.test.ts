// The send path through the Socket, on both backends: queue sizes around
// every internal capacity with mixed destinations, a connected socket after
// unconnected sends, datagrams the kernel refuses in bulk, counted batches,
// buffers detached between send() and the flush.
import { createSocket, type Socket } from '@udpkit/core';
import { describe, expect, it } from 'vitest';
import { observeBoth, runChild, type Run } from './support/differential.js';
import { backend, sendManyAsync, waitFor, socketsClosedAfterEach } from './support/sockets.js';

const { socket, track } = socketsClosedAfterEach();

/** Datagram i: its number, then filler so that sizes vary (4..64 bytes). */
function datagram(i: number): Buffer {
  const data = Buffer.alloc(4 + (i % 61));
  data.writeUInt32BE(i);
  return data;
}

/** Bound receivers that record the numbers of the datagrams they get. */
async function receivers(count: number): Promise<{ sockets: Socket[]; got: number[][]; total: () => number }> {
  const sockets = await Promise.all(Array.from({ length: count }, () => socket()));
  const got = sockets.map(() => [] as number[]);
  sockets.forEach((s, k) => {
    s.setRecvBufferSize(4 << 20);
    s.on('message', (data) => got[k]!.push(data.readUInt32BE(0)));
  });
  return { sockets, got, total: () => got.reduce((n, g) => n + g.length, 0) };
}

/** Which of `n` receivers datagram i goes to: runs of three, then the next. */
const target = (i: number, n: number) => Math.floor(i / 3) % n;
const numbers = (count: number, keep: (i: number) => boolean) => Array.from({ length: count }, (_, i) => i).filter(keep);

/** ES2024's resizable ArrayBuffer (Node 20+), which this TypeScript lib doesn't declare. */
const ResizableArrayBuffer = ArrayBuffer as unknown as new (length: number, options: { maxByteLength: number }) => ArrayBuffer & {
  resize(length: number): void;
};

const boundaries = [1023, 1024, 1025, 2047, 2048, 2049, 2050, 4095, 4096, 4097, 4098, 4099, 4100];

describe('queue sizes around every capacity', () => {
  it('sendMany of 2049 (the reported crash) calls back with every datagram sent', async () => {
    const tx = createSocket('udp4');
    track(tx);
    const result = await sendManyAsync(tx, Array.from({ length: 2049 }, () => ({ data: 'x', port: 9, address: '127.0.0.1' })));
    expect(result).toEqual({ error: null, sent: 2049 });
  });

  it.each(boundaries)('sendMany of %i to mixed destinations: each datagram arrives where it was sent', async (count) => {
    const rx = await receivers(3);
    const tx = await socket();
    const ports = rx.sockets.map((s) => s.address().port);
    const messages = Array.from({ length: count }, (_, i) => ({ data: datagram(i), port: ports[target(i, 3)]!, address: '127.0.0.1' }));
    expect(await sendManyAsync(tx, messages)).toEqual({ error: null, sent: count });
    await waitFor(() => rx.total() >= count, 10_000, `${count} datagrams`);
    expect(rx.got).toEqual([0, 1, 2].map((k) => numbers(count, (i) => target(i, 3) === k)));
    expect(tx.stats()).toMatchObject({ datagramsSent: count, sendQueueCount: 0, sendQueueSize: 0 });
  });

  it.each([1025, 2049, 4097])('%i send() calls in one tick to mixed destinations: each calls back once and arrives', async (count) => {
    const rx = await receivers(3);
    const tx = await socket();
    const ports = rx.sockets.map((s) => s.address().port);
    const callbacks: [number, Error | null, number][] = [];
    await new Promise<void>((resolve) => {
      for (let i = 0; i < count; i++) {
        tx.send(datagram(i), ports[target(i, 3)], '127.0.0.1', (error, bytes) => {
          callbacks.push([i, error, bytes]);
          if (callbacks.length === count) resolve();
        });
      }
    });
    expect(callbacks).toEqual(Array.from({ length: count }, (_, i) => [i, null, 4 + (i % 61)]));
    await waitFor(() => rx.total() >= count, 10_000, `${count} datagrams`);
    expect(rx.got).toEqual([0, 1, 2].map((k) => numbers(count, (i) => target(i, 3) === k)));
  });

  it.each([1025, 2049, 4097])('a connected socket that sent unconnected before sends all %i to its peer', async (count) => {
    const rx = await receivers(2);
    const [old, peer] = rx.sockets.map((s) => s.address().port);
    const tx = await socket();
    // Fill the queue's destination table with the old address first.
    expect(await sendManyAsync(tx, Array.from({ length: count }, (_, i) => ({ data: datagram(i), port: old! })))).toEqual({ error: null, sent: count });
    await new Promise<void>((resolve) => tx.connect(peer!, '127.0.0.1', resolve));
    expect(await sendManyAsync(tx, Array.from({ length: count }, (_, i) => ({ data: datagram(count + i) })))).toEqual({ error: null, sent: count });
    await waitFor(() => rx.total() >= 2 * count, 10_000, 'all');
    expect(rx.got).toEqual([numbers(count, () => true), numbers(count, () => true).map((i) => count + i)]);
  });
});

describe('more destinations in one tick than the sockaddr cache holds (4096)', () => {
  it('5000 send() calls to 5000 addresses: the cache is cleared mid-queue, each datagram arrives where it was sent', async () => {
    // Receivers on the wildcard address take datagrams to any 127.1.x.y.
    const sockets = await Promise.all([0, 1].map(() => new Promise<Socket>((resolve) => {
      const s = createSocket('udp4');
      track(s);
      s.bind(0, '0.0.0.0', () => resolve(s));
    })));
    const got = sockets.map(() => [] as number[]);
    sockets.forEach((s, k) => {
      s.setRecvBufferSize(4 << 20);
      s.on('message', (data) => got[k]!.push(data.readUInt32BE(0)));
    });
    const ports = sockets.map((s) => s.address().port);
    const tx = await socket();
    const count = 5000;
    let calls = 0;
    await new Promise<void>((resolve, reject) => {
      for (let i = 0; i < count; i++) {
        tx.send(datagram(i), ports[target(i, 2)], `127.1.${i >> 8}.${i & 255}`, (error) => {
          if (error) reject(error);
          if (++calls === count) resolve();
        });
      }
    });
    await waitFor(() => got[0]!.length + got[1]!.length >= count, 10_000, `${count} datagrams`);
    expect(got).toEqual([0, 1].map((k) => numbers(count, (i) => target(i, 2) === k)));
  });
});

describe('datagrams the kernel refuses', () => {
  // An IPv6-only socket can't send to an IPv4-mapped address: ENETUNREACH
  // from the kernel for each datagram, with nothing leaving the machine.
  const refused = '::ffff:127.0.0.1';

  it('65,536 refused datagrams in one sendMany all complete, with the error', async () => {
    const tx = await socket('udp6', { ipv6Only: true });
    const count = 65_536;
    const result = await sendManyAsync(tx, Array.from({ length: count }, () => ({ data: 'x', port: 9, address: refused })));
    expect(result.sent).toBe(0);
    expect((result.error as NodeJS.ErrnoException).code).toBe('ENETUNREACH');
    expect(tx.stats()).toMatchObject({ datagramsSent: 0, sendBatches: 0, sendQueueCount: 0 });
  });

  it('65,536 refused send() calls in one tick each call back once with the error', async () => {
    const tx = await socket('udp6', { ipv6Only: true });
    const count = 65_536;
    const codes = new Map<string, number>();
    let calls = 0;
    await new Promise<void>((resolve) => {
      for (let i = 0; i < count; i++) {
        tx.send('x', 9, refused, (error) => {
          const code = (error as NodeJS.ErrnoException | null)?.code ?? 'ok';
          codes.set(code, (codes.get(code) ?? 0) + 1);
          if (++calls === count) resolve();
        });
      }
    });
    expect(Object.fromEntries(codes)).toEqual({ ENETUNREACH: count });
  });

  it('refused and accepted datagrams interleaved: the accepted ones arrive, in order', async () => {
    const rx = await socket('udp6');
    rx.setRecvBufferSize(4 << 20);
    const got: number[] = [];
    rx.on('message', (data) => got.push(data.readUInt32BE(0)));
    const tx = await socket('udp6', { ipv6Only: true });
    const port = rx.address().port;
    const count = 4100;
    const messages = Array.from({ length: count }, (_, i) => ({ data: datagram(i), port: i % 2 ? 9 : port, address: i % 2 ? refused : '::1' }));
    const result = await sendManyAsync(tx, messages);
    expect(result.sent).toBe(count / 2);
    expect((result.error as NodeJS.ErrnoException).code).toBe('ENETUNREACH');
    await waitFor(() => got.length >= count / 2, 10_000, 'the accepted half');
    expect(got).toEqual(numbers(count, (i) => i % 2 === 0));
  });
});

describe('stats().sendBatches', () => {
  it('counts the system calls that sent something', async () => {
    const rx = await socket('udp6');
    rx.setRecvBufferSize(4 << 20);
    const tx = await socket('udp6', { ipv6Only: true });
    const port = rx.address().port;
    await sendManyAsync(tx, Array.from({ length: 3000 }, () => ({ data: 'x', port, address: '::1' })));
    // native: 3 sendmmsg calls (1024 + 1024 + 952); portable: one sendmsg each
    expect(tx.stats().sendBatches).toBe(backend === 'native' ? 3 : 3000);
    // Refused datagrams split a batch and count nothing themselves.
    await sendManyAsync(tx, Array.from({ length: 10 }, (_, i) => ({ data: 'x', port, address: i % 2 ? '::ffff:127.0.0.1' : '::1' })));
    expect(tx.stats().sendBatches).toBe(backend === 'native' ? 3 + 5 : 3005);
  });
});

describe('sending from a message listener', () => {
  it('a sendMany() per datagram received loses nothing of the batch being delivered', async () => {
    // The helper hands a batch over one datagram at a time; the sends made
    // in between (their flush runs between two datagrams) must not disturb it.
    const rx = await receivers(2);
    const echo = rx.sockets[0]!;
    const acks = rx.got[1]!;
    const sinkPort = rx.sockets[1]!.address().port;
    echo.removeAllListeners('message');
    const seen: number[] = [];
    echo.on('message', (data) => {
      seen.push(data.readUInt32BE(0));
      echo.sendMany([{ data, port: sinkPort, address: '127.0.0.1' }]);
    });
    const tx = await socket();
    const count = 1000;
    const messages = Array.from({ length: count }, (_, i) => ({ data: datagram(i), port: echo.address().port, address: '127.0.0.1' }));
    expect(await sendManyAsync(tx, messages)).toEqual({ error: null, sent: count });
    await waitFor(() => seen.length >= count && acks.length >= count, 10_000, 'every datagram and its echo');
    expect(seen).toEqual(numbers(count, () => true));
    expect(acks).toEqual(numbers(count, () => true));
  });
});

describe('a send callback that throws', () => {
  it('leaves the other callbacks of its batch to run, its error uncaught, as node:dgram', async () => {
    // In a child: the exception must reach process 'uncaughtException'.
    const body = `
      const rx = dgram.createSocket('udp4'); await new Promise((r) => rx.bind(0, '127.0.0.1', r));
      const tx = dgram.createSocket('udp4'); await new Promise((r) => tx.bind(0, '127.0.0.1', r));
      const log = [];
      process.on('uncaughtException', (e) => log.push('uncaught ' + e.message));
      for (let i = 0; i < 1100; i++) {
        tx.send('x', rx.address().port, '127.0.0.1', (error) => {
          if (i < 3 || i > 1096) log.push('callback ' + i);
          if (i === 0 || i === 1098) throw new Error('from ' + i);
        });
      }
      setTimeout(() => { console.log(JSON.stringify(log)); tx.close(); rx.close(); }, 500);`;
    const [theirs, ours] = await Promise.all([runChild('theirs', body, 15_000), runChild('ours', body, 15_000)]);
    expect(JSON.parse(theirs.output)).toEqual([
      'callback 0', 'uncaught from 0', 'callback 1', 'callback 2',
      'callback 1097', 'callback 1098', 'uncaught from 1098', 'callback 1099',
    ]);
    expect(ours.output).toBe(theirs.output);
  });
});

describe('close() with many sends pending', () => {
  it.each([1025, 5000])('calls each of %i callbacks exactly once, whatever their outcome', async (count) => {
    const rx = await socket();
    const tx = await socket();
    const calls = new Array<number>(count).fill(0);
    const codes = new Set<string>();
    let closes = 0;
    tx.on('close', () => closes++);
    for (let i = 0; i < count; i++) {
      tx.send(datagram(i), rx.address().port, '127.0.0.1', (error) => {
        calls[i]!++;
        codes.add((error as NodeJS.ErrnoException | null)?.code ?? 'ok');
      });
    }
    tx.sendMany(Array.from({ length: count }, (_, i) => ({ data: datagram(i), port: rx.address().port })), () => calls.push(1));
    // A tick later, when the sends have left the Socket for the queue below
    // (closed before that, Node drops a send and never calls back).
    process.nextTick(() => tx.close());
    await waitFor(() => calls.length === count + 1 && calls.every((n) => n > 0) && closes === 1, 10_000, 'every callback');
    await new Promise((resolve) => setTimeout(resolve, 50)); // a second call would show by now
    expect(calls.every((n) => n === 1)).toBe(true);
    expect(closes).toBe(1);
    expect([...codes].every((code) => code === 'ok' || code === 'ECANCELED')).toBe(true);
  });
});


describe('a buffer detached or shrunk after send()', () => {
  it('on a bound socket: sends what is left and calls back, as node:dgram', async () => {
    const scenario = async (run: Run) => {
      const rx = run.socket('udp4');
      await new Promise<void>((resolve) => rx.bind(0, '127.0.0.1', () => resolve()));
      const port = run.learn(rx);
      const tx = run.socket('udp4');
      await new Promise<void>((resolve) => tx.bind(0, '127.0.0.1', () => resolve()));
      run.learn(tx);
      const detachable = new ArrayBuffer(10);
      const resizable = new ResizableArrayBuffer(16, { maxByteLength: 64 });
      const callbacks = ['detached', 'shrunk', 'list'].map((label) => run.callback(label));
      tx.send(Buffer.from(detachable), port, '127.0.0.1', callbacks[0]!.fn);
      tx.send(new Uint8Array(resizable, 4, 8), port, '127.0.0.1', callbacks[1]!.fn);
      tx.send([Buffer.from('ab'), new Uint8Array(resizable, 8, 4)], port, '127.0.0.1', callbacks[2]!.fn);
      structuredClone(detachable, { transfer: [detachable] });
      resizable.resize(2);
      for (const callback of callbacks) await callback.called;
      await run.next(rx, 'message');
      await new Promise((resolve) => setTimeout(resolve, 50));
    };
    const { theirs, ours } = await observeBoth(scenario);
    expect(theirs.length).toBeGreaterThan(3);
    expect(ours).toEqual(theirs);
  });

  it('a view that tracks a resizable ArrayBuffer sends what is there when it goes, as node:dgram', async () => {
    const scenario = async (run: Run) => {
      const rx = run.socket('udp4');
      await new Promise<void>((resolve) => rx.bind(0, '127.0.0.1', () => resolve()));
      const port = run.learn(rx);
      const received = run.callback('all received');
      let count = 0;
      rx.on('message', () => ++count === 10 && received.fn());
      const views = {
        tracking: (buffer: ArrayBuffer) => new Uint8Array(buffer),
        trackingFromOffset: (buffer: ArrayBuffer) => new Uint8Array(buffer, 1),
        dataView: (buffer: ArrayBuffer) => new DataView(buffer),
        fixed: (buffer: ArrayBuffer) => new Uint8Array(buffer, 0, 8),
        inList: (buffer: ArrayBuffer) => [new Uint8Array(buffer)],
      };
      // Bound (the send waits for its lookup), then unbound (it waits for 'listening').
      for (const bind of [true, false]) {
        const tx = run.socket('udp4');
        if (bind) await new Promise<void>((resolve) => tx.bind(0, '127.0.0.1', () => resolve()));
        const callbacks = Object.entries(views).map(([label, view], i) => {
          const buffer = new ResizableArrayBuffer(8, { maxByteLength: 16 });
          new Uint8Array(buffer).fill(i + 1);
          const callback = run.callback(`${bind ? 'bound' : 'unbound'} ${label}`);
          tx.send(view(buffer), port, '127.0.0.1', callback.fn);
          buffer.resize(i % 2 === 0 ? 2 : 12); // shrunk, or grown
          return callback;
        });
        for (const callback of callbacks) await callback.called;
      }
      await received.called;
    };
    const { theirs, ours } = await observeBoth(scenario);
    expect(theirs.length).toBeGreaterThan(10);
    expect(ours).toEqual(theirs);
  });

  it('sends what is left of it (nothing) and calls back, also from the queue before listening', async () => {
    const rx = await socket();
    const got: number[] = [];
    rx.on('message', (data) => got.push(data.length));
    const port = rx.address().port;
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    try {
      const tx = createSocket('udp4'); // not bound yet: sends wait in the queue for 'listening'
      track(tx);
      const callbacks: [string, string | null, number | undefined][] = [];
      const detachable = new ArrayBuffer(10);
      const resizable = new ResizableArrayBuffer(16, { maxByteLength: 64 });
      const done = (label: string) => (error: Error | null, bytes?: number) => callbacks.push([label, (error as NodeJS.ErrnoException | null)?.code ?? null, bytes]);
      tx.send(Buffer.from(detachable), port, '127.0.0.1', done('detached'));
      tx.send(new Uint8Array(resizable, 4, 8), port, '127.0.0.1', done('shrunk'));
      tx.send([Buffer.from('ab'), new Uint8Array(resizable, 8, 4)], port, '127.0.0.1', done('list'));
      tx.sendMany([{ data: new Uint8Array(resizable, 0, 12), port }], (error, sent) => callbacks.push(['sendMany', error ? 'error' : null, sent]));
      structuredClone(detachable, { transfer: [detachable] });
      resizable.resize(2);
      await waitFor(() => callbacks.length === 4, 5000, '4 callbacks');
      await waitFor(() => got.length === 4, 5000, '4 datagrams');
      expect(uncaught).toEqual([]);
      expect(callbacks).toEqual([['detached', null, 0], ['shrunk', null, 0], ['list', null, 2], ['sendMany', null, 1]]);
      expect(got).toEqual([0, 0, 2, 0]);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });
});
