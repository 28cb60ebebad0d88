// Differential suite: every scenario runs with node:dgram and with
// @udpkit/core, and what the two did must be identical (see
// support/differential.ts). Only loopback addresses are used, multicast
// joins only 239.0.0.0/8 and 232.0.0.0/8 on 127.0.0.1.
import fs from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { boundSocket, describeError, implementations, type Run, runChild, same, type Sock } from './support/differential.js';

const LO4 = '127.0.0.1';
const LO6 = '::1';
const BACKEND = process.env.UDPKIT_BACKEND;

/** A custom lookup that resolves every name to `ip` and records its calls. */
function loggingLookup(run: Run, ip = LO4, family = 4) {
  return (hostname: string, fam: number, callback: (err: Error | null, address: string, family: number) => void) => {
    run.record('lookup', hostname, fam, typeof callback);
    callback(null, ip, family);
  };
}

/** A bound socket that records every datagram, with `until(n)` to wait for the n-th. */
async function receiver(run: Run, type: 'udp4' | 'udp6' = 'udp4') {
  const socket = await boundSocket(run, { type });
  let count = 0;
  const waiters: [number, () => void][] = [];
  socket.on('message', () => {
    count++;
    for (const [n, resolve] of waiters) if (count >= n) resolve();
  });
  const until = (n: number) =>
    count >= n
      ? Promise.resolve()
      : Promise.race([
          new Promise<void>((resolve) => waiters.push([n, resolve])),
          new Promise<void>((_, reject) =>
            setTimeout(() => reject(new Error(`only ${count} of ${n} datagrams arrived`)), 3000).unref(),
          ),
        ]);
  return { socket, port: run.learn(socket), until, count: () => count };
}

/**
 * Proves that nothing more arrives at `rx`: a sentinel from a fresh socket
 * is queued behind anything already sent, so once it is in, the rest is too.
 */
async function drain(run: Run, rx: Awaited<ReturnType<typeof receiver>>, type: 'udp4' | 'udp6' = 'udp4') {
  const sentinel = implementations.theirs.createSocket(type);
  const host = type === 'udp4' ? LO4 : LO6;
  await new Promise<void>((resolve) => sentinel.bind(0, host, resolve));
  const sentinelPort = sentinel.address().port;
  run.namePort(sentinelPort, '<sentinel>');
  let timer: NodeJS.Timeout | undefined;
  const arrived = new Promise<void>((resolve, reject) => {
    const onMessage = (_msg: Buffer, rinfo: { port: number }) => {
      if (rinfo.port !== sentinelPort) return;
      rx.socket.removeListener('message', onMessage);
      resolve();
    };
    rx.socket.on('message', onMessage);
    timer = setTimeout(() => reject(new Error('the sentinel did not arrive')), 3000);
  });
  sentinel.send('sentinel', rx.port, host, () => sentinel.close());
  await arrived.finally(() => clearTimeout(timer));
}

/** The file descriptor under a node:dgram socket. */
function fdOf(socket: Sock): number {
  const state = Object.getOwnPropertySymbols(socket).find((s) => s.description === 'state symbol')!;
  return (socket as unknown as Record<symbol, { handle: { fd: number } }>)[state]!.handle.fd;
}

// ---------------------------------------------------------------------------

describe('createSocket and the Socket class', () => {
  same('bad socket types throw ERR_SOCKET_BAD_TYPE', (run) => {
    for (const type of ['udp5', 'UDP4', '', undefined, null, 4, {}, { type: 'tcp' }]) {
      run.call(`createSocket(${String(JSON.stringify(type))})`, () => run.dgram.createSocket(type as 'udp4'));
    }
  });

  same('a bad lookup option is refused, before the type is checked', (run) => {
    for (const lookup of [42, 'dns', null, {}]) {
      run.call(`lookup ${String(lookup)}`, () => run.dgram.createSocket({ type: 'udp4', lookup: lookup as never }));
    }
    run.call('bad type and bad lookup', () => run.dgram.createSocket({ type: 'tcp' as 'udp4', lookup: 42 as never }));
  });

  same('sockets of both families, by type string, options object and new Socket()', async (run) => {
    // @types/node declares neither `type` nor Socket's own constructor.
    type Typed = Sock & { type: string };
    const SocketClass = run.dgram.Socket as unknown as new (type: unknown) => Typed;
    for (const arg of ['udp4', 'udp6', { type: 'udp4' }, { type: 'udp6', ipv6Only: true }] as const) {
      const socket = run.call('createSocket', () => run.dgram.createSocket(arg as 'udp4')) as Typed;
      run.record('type', socket.type, socket instanceof run.dgram.Socket, typeof socket.on);
      socket.close();
    }
    const direct = new SocketClass('udp4');
    run.record('new Socket', direct.type, direct instanceof run.dgram.Socket);
    direct.close();
    run.call('new Socket bad type', () => new SocketClass('x'));
  });

  same('the listener argument of createSocket receives messages', async (run) => {
    const rx = run.socket('udp4', (msg: Buffer, rinfo: object) => run.record('listener', msg, rinfo));
    const rxListening = run.next(rx, 'listening');
    rx.bind(0, LO4);
    await rxListening;
    const tx = await boundSocket(run);
    run.learn(tx);
    const got = run.next(rx, 'message');
    tx.send('hi', rx.address().port, LO4);
    await got;
    run.call('not a function listener', () => run.dgram.createSocket('udp4', 'nope' as never).close());
  });

  same('signal: bad values are refused', (run) => {
    for (const signal of [{}, 'abort', 1, null]) {
      run.call(`signal ${String(signal)}`, () => run.dgram.createSocket({ type: 'udp4', signal: signal as never }));
    }
  });

  same('signal already aborted: the socket closes at once', async (run) => {
    const socket = run.socket({ type: 'udp4', signal: AbortSignal.abort() });
    run.call('bind after abort', () => socket.bind(0, LO4));
    run.call('address after abort', () => socket.address());
    run.call('send after abort', () => socket.send('x', 9, LO4));
    await run.next(socket, 'close').catch(() => {});
    run.call('close after abort', () => socket.close());
  });

  same('signal aborted later closes the socket once', async (run) => {
    const controller = new AbortController();
    const socket = run.socket({ type: 'udp4', signal: controller.signal });
    const listening = run.next(socket, 'listening');
    socket.bind(0, LO4);
    await listening;
    const closed = run.next(socket, 'close');
    controller.abort();
    await closed;
    controller.abort();
    run.call('close again', () => socket.close());
    // Closing by hand first, then aborting, is quiet.
    const other = new AbortController();
    const second = run.socket({ type: 'udp4', signal: other.signal });
    await run.close(second);
    other.abort();
    await new Promise((resolve) => setImmediate(resolve));
  });

  same('recvBufferSize and sendBufferSize options apply at bind', async (run) => {
    const socket = run.socket({ type: 'udp4', recvBufferSize: 65536, sendBufferSize: 32768 });
    run.call('recv before bind', () => socket.getRecvBufferSize());
    const listening = run.next(socket, 'listening');
    socket.bind(0, LO4);
    await listening;
    run.call('getRecvBufferSize', () => socket.getRecvBufferSize());
    run.call('getSendBufferSize', () => socket.getSendBufferSize());
  });

  same('recvBufferSize and sendBufferSize options are validated when truthy', (run) => {
    for (const size of [0, -1, 1.5, '1024', null, false, true, 2 ** 32, NaN, 2 ** 40, 1024]) {
      for (const key of ['recvBufferSize', 'sendBufferSize']) {
        run.call(`${key} ${String(size)}`, () => run.dgram.createSocket({ type: 'udp4', [key]: size } as never).close());
      }
    }
    // Which option is checked first: sizes, then lookup, then type, then signal.
    const everythingBad = { type: 'x', lookup: 1, recvBufferSize: -1, sendBufferSize: 'x', signal: 1 };
    run.call('all bad', () => run.dgram.createSocket(everythingBad as never));
    run.call('all but recvBufferSize', () => run.dgram.createSocket({ ...everythingBad, recvBufferSize: 1 } as never));
    run.call('type and signal bad', () => run.dgram.createSocket({ type: 'x', signal: 1 } as never));
    run.call('signal bad', () => run.dgram.createSocket({ type: 'udp4', signal: 1 } as never));
  });

  same('a synchronous lookup makes bind emit listening synchronously', (run) => {
    const syncLookup = (_h: string, _f: number, cb: (e: null, a: string, f: number) => void) => cb(null, LO4, 4);
    const socket = run.socket({ type: 'udp4', lookup: syncLookup });
    run.call('bind', () => socket.bind(0));
    run.record('bound by now', (() => {
      try {
        return typeof socket.address().port;
      } catch (error) {
        return describeError(error);
      }
    })());
  });
});

describe('bind', () => {
  same('every argument form binds, the default address goes through lookup', async (run) => {
    const lookup = loggingLookup(run);
    const free = await run.freePort();
    const forms: [string, (s: Sock, done: () => void) => unknown][] = [
      ['bind(port)', (s) => s.bind(free)],
      ['bind(port, address)', (s) => s.bind(0, 'somewhere')],
      ['bind(port, address, cb)', (s, done) => s.bind(0, 'somewhere', done)],
      ['bind(port, cb)', (s, done) => s.bind(0, done)],
      ['bind(cb)', (s, done) => s.bind(done)],
      ['bind()', (s) => s.bind()],
      ['bind(options)', (s) => s.bind({ port: 0, address: 'somewhere' })],
      ['bind(options, cb)', (s, done) => s.bind({}, done)],
      ['bind(options exclusive)', (s) => s.bind({ port: 0, exclusive: true })],
      ['bind(options exclusive false)', (s) => s.bind({ port: 0, address: '', exclusive: false })],
      ['bind(undefined, address)', (s) => s.bind(undefined, 'somewhere')],
      ['bind(string port)', (s) => s.bind('0' as never)],
      ['bind(port beyond 16 bits)', (s) => s.bind(65536 + free)],
      ['bind(port NaN string)', (s) => s.bind('abc' as never)],
      ['bind({ fd: 0 })', (s) => s.bind({ fd: 0 })],
      ['bind({ fd: -1 })', (s) => s.bind({ fd: -1 })],
      ['bind({ fd: 1.5 })', (s) => s.bind({ fd: 1.5 })],
    ];
    for (const [label, bindIt] of forms) {
      const socket = run.socket({ type: 'udp4', lookup });
      const listening = run.next(socket, 'listening');
      const cb = run.callback(`${label} callback`);
      run.call(label, () => bindIt(socket, () => cb.fn(socket.address().address)));
      await listening;
      if (label.includes('cb')) await cb.called;
      const { address, family, port } = socket.address();
      run.record(label, address, family, port === free ? 'the given port' : typeof port);
      await run.close(socket);
    }
  });

  same('bind returns the socket and emits listening once', async (run) => {
    const socket = run.socket('udp4');
    const listening = run.next(socket, 'listening');
    run.call('bind', () => socket.bind(0, LO4));
    await listening;
    run.call('address', () => socket.address());
  });

  same('bind twice: ERR_SOCKET_ALREADY_BOUND, while binding and when bound', async (run) => {
    const socket = run.socket('udp4');
    const listening = run.next(socket, 'listening');
    socket.bind(0, LO4);
    run.call('bind while binding', () => socket.bind(0, LO4));
    await listening;
    run.call('bind when bound', () => socket.bind(0, LO4));
    run.call('bind with options when bound', () => socket.bind({ port: 0 }));
  });

  same('EADDRINUSE: error event with host and port, then bind again', async (run) => {
    const first = await boundSocket(run);
    const port = run.learn(first);
    const second = run.socket('udp4');
    const error = run.next(second, 'error');
    run.call('bind taken', () => second.bind(port, LO4));
    await error;
    run.call('address after failed bind', () => second.address());
    const listening = run.next(second, 'listening');
    run.call('bind again', () => second.bind(0, LO4));
    await listening;
  });

  // Node 24.21 / 26.8 stopped swallowing it (bind's callback watches
  // errorMonitor): an uncaught error then ends the process, so in a child.
  it('EADDRINUSE with a bind callback and no error listener: swallowed or thrown, as the running Node does', async () => {
    const program = `
      const first = dgram.createSocket('udp4');
      first.bind(0, '127.0.0.1', () => {
        const second = dgram.createSocket('udp4');
        second.bind(first.address().port, '127.0.0.1', () => console.log('bound'));
        setTimeout(() => { console.log('survived', second.listenerCount('error'), second.listenerCount('listening')); process.exit(0); }, 200);
      });`;
    const outcome = async (which: 'theirs' | 'ours') => {
      const result = await runChild(which, program, 10_000);
      const survived = /survived \d+ \d+/.exec(result.output)?.[0];
      return { outcome: result.outcome, code: result.code, survived, threw: /Error: bind EADDRINUSE/.test(result.output) };
    };
    const theirs = await outcome('theirs');
    expect(theirs.survived !== undefined || theirs.threw).toBe(true);
    expect(await outcome('ours')).toEqual(theirs);
  });

  same('reuseAddr lets two sockets bind one port', async (run) => {
    const first = await boundSocket(run, { reuseAddr: true });
    const port = run.learn(first);
    const second = run.socket({ type: 'udp4', reuseAddr: true });
    const listening = run.next(second, 'listening');
    second.bind(port, LO4);
    await listening;
    run.record('same port', second.address().port === port);
  });

  same('bind to the name localhost', async (run) => {
    const socket = run.socket('udp4');
    const listening = run.next(socket, 'listening');
    socket.bind(0, 'localhost');
    await listening;
    run.record('address', socket.address().address, socket.address().family);
  });

  same('bind lookup errors come as error events, the socket can bind again', async (run) => {
    const failure = Object.assign(new Error('getaddrinfo ENOTFOUND nowhere'), { code: 'ENOTFOUND', syscall: 'getaddrinfo' });
    let fail = true;
    const socket = run.socket({
      type: 'udp4',
      lookup: (host: string, family: number, cb: (e: Error | null, a: string, f: number) => void) => {
        run.record('lookup', host, family);
        setImmediate(() => (fail ? cb(failure, '', 0) : cb(null, LO4, 4)));
      },
    });
    const error = run.next(socket, 'error');
    socket.bind(0, 'nowhere');
    await error;
    fail = false;
    const listening = run.next(socket, 'listening');
    socket.bind(0, 'somewhere');
    await listening;
  });

  same('bind to an address the family cannot use: EINVAL', async (run) => {
    const v4 = run.socket('udp4');
    const e1 = run.next(v4, 'error');
    v4.bind(1234, LO6);
    await e1;
    const v6 = run.socket('udp6');
    const e2 = run.next(v6, 'error');
    v6.bind(0, LO4);
    await e2;
    const bad = run.socket({ type: 'udp4', lookup: (_h: string, _f: number, cb: (e: null, a: string, f: number) => void) => cb(null, 'not-an-ip', 4) });
    const e3 = run.next(bad, 'error');
    bad.bind(0, 'x');
    await e3;
  });

  same('bind({ fd }) adopts an existing UDP socket', async (run) => {
    const { UDP } = (process as unknown as { binding(name: string): { UDP: new () => { bind(ip: string, port: number, flags: number): number; fd: number } } }).binding('udp_wrap');
    const raw = new UDP();
    raw.bind(LO4, 0, 0);
    const socket = run.socket('udp4');
    const listening = run.next(socket, 'listening');
    const cb = run.callback('bind callback');
    run.call('bind fd', () => socket.bind({ fd: raw.fd }, cb.fn));
    run.record('listening emitted synchronously', await Promise.race([listening.then(() => 'yes'), Promise.resolve('no')]));
    await listening;
    await cb.called;
    run.learn(socket);
    run.call('address', () => socket.address());
    const rx = await receiver(run);
    const sent = run.callback('send callback');
    socket.send('from fd', rx.port, LO4, sent.fn);
    await sent.called;
    await rx.until(1);
    await run.close(socket);
  });

  same('bind({ fd }) of a non-UDP descriptor: ERR_INVALID_FD_TYPE, socket stays binding', async (run) => {
    const file = fs.openSync(fileURLToPath(import.meta.url), 'r');
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, LO4, resolve));
    const tcpFd = (server as unknown as { _handle: { fd: number } })._handle.fd;
    try {
      for (const [label, fd] of [['file', file], ['tcp', tcpFd], ['not open', 99_999]] as const) {
        const socket = run.socket('udp4');
        run.call(`bind fd ${label}`, () => socket.bind({ fd }, () => run.record('never')));
        run.call(`bind again after ${label}`, () => socket.bind(0, LO4));
        run.record('listeners', socket.listenerCount('listening'));
        await run.close(socket);
      }
      const stdout = run.socket('udp4');
      run.call('bind fd 1', () => stdout.bind({ fd: 1 }));
    } finally {
      fs.closeSync(file);
      server.close();
    }
  });

  same('bind({ fd }) of a descriptor another socket polls: open EEXIST', async (run) => {
    const donor = implementations.theirs.createSocket('udp4');
    await new Promise<void>((resolve) => donor.bind(0, LO4, resolve));
    const socket = run.socket('udp4');
    run.call('bind fd in use', () => socket.bind({ fd: fdOf(donor) }));
    donor.close();
  });

  same('IPv6: bind ::1, EADDRINUSE message', async (run) => {
    const first = await boundSocket(run, { type: 'udp6' });
    const port = run.learn(first);
    run.call('address', () => first.address());
    const second = run.socket('udp6');
    const error = run.next(second, 'error');
    second.bind(port, LO6);
    await error;
  });
});

describe('connect, disconnect, remoteAddress', () => {
  same('misuse when not connected', async (run) => {
    const socket = run.socket('udp4');
    run.call('remoteAddress unbound', () => socket.remoteAddress());
    run.call('disconnect unbound', () => socket.disconnect());
    const listening = run.next(socket, 'listening');
    socket.bind(0, LO4);
    await listening;
    run.call('remoteAddress bound', () => socket.remoteAddress());
    run.call('disconnect bound', () => socket.disconnect());
  });

  same('bad ports and addresses', (run) => {
    const socket = run.socket('udp4');
    for (const port of [0, 65536, -1, 'abc', '', ' ', 1.5, NaN, null, undefined, true, {}, '0x10000']) {
      run.call(`connect(${String(port)})`, () => socket.connect(port as number, LO4));
    }
    for (const address of [42, null, {}, true]) {
      run.call(`connect(1234, ${String(address)})`, () => socket.connect(1234, address as string));
    }
  });

  same('connect, remoteAddress, send without address, disconnect', async (run) => {
    const rx = await receiver(run);
    const socket = run.socket('udp4');
    const cb = run.callback('connect callback');
    run.call('connect', () => socket.connect(rx.port, LO4, cb.fn));
    run.call('connect while connecting', () => socket.connect(rx.port, LO4));
    run.call('remoteAddress while connecting', () => socket.remoteAddress());
    await cb.called;
    run.learn(socket);
    run.call('remoteAddress', () => socket.remoteAddress());
    run.call('connect when connected', () => socket.connect(rx.port));
    const sent = run.callback('send callback');
    socket.send('connected', sent.fn);
    await sent.called;
    await rx.until(1);
    run.call('disconnect', () => socket.disconnect());
    run.call('remoteAddress after disconnect', () => socket.remoteAddress());
    run.call('send without port after disconnect', () => socket.send('x'));
    run.call('disconnect twice', () => socket.disconnect());
    const again = run.callback('connect again callback');
    socket.connect(rx.port, again.fn);
    await again.called;
    run.call('remoteAddress again', () => socket.remoteAddress());
  });

  same('connect(port) defaults to localhost and goes through lookup', async (run) => {
    const rx = await receiver(run);
    const socket = run.socket({ type: 'udp4', lookup: loggingLookup(run) });
    const connected = run.next(socket, 'connect');
    socket.connect(rx.port);
    await connected;
    run.call('remoteAddress', () => socket.remoteAddress());
    const named = run.socket({ type: 'udp4', lookup: loggingLookup(run) });
    const cb = run.callback('connect(port, host, cb)');
    named.connect(rx.port, 'some.host', cb.fn);
    await cb.called;
  });

  same('connect to localhost by name, and on a bound socket', async (run) => {
    const rx = await receiver(run);
    const socket = await boundSocket(run);
    const connected = run.next(socket, 'connect');
    run.call('connect', () => socket.connect(rx.port, 'localhost'));
    await connected;
    run.call('remoteAddress', () => socket.remoteAddress());
  });

  same('connect lookup errors: to the callback, else an error event', async (run) => {
    const failure = Object.assign(new Error('lookup failed'), { code: 'ENOTFOUND' });
    const lookup = (host: string, _f: number, cb: (e: Error | null, a: string, f: number) => void) =>
      host === 'bad' ? setImmediate(() => cb(failure, '', 0)) : cb(null, LO4, 4);
    const rx = await receiver(run);
    const socket = run.socket({ type: 'udp4', lookup });
    const cb = run.callback('connect callback');
    socket.connect(rx.port, 'bad', cb.fn);
    await cb.called;
    run.call('remoteAddress after failure', () => socket.remoteAddress());
    run.record('connect listeners', socket.listenerCount('connect'));
    const error = run.next(socket, 'error');
    socket.connect(rx.port, 'bad');
    await error;
    const ok = run.next(socket, 'connect');
    socket.connect(rx.port, 'good');
    await ok;
  });

  same('connect to an address of the wrong family: EINVAL', async (run) => {
    const socket = run.socket('udp4');
    const cb = run.callback('connect callback');
    socket.connect(1234, LO6, cb.fn);
    await cb.called;
  });

  same('send while connecting is an unconnected send', async (run) => {
    const rx = await receiver(run);
    const socket = run.socket('udp4');
    socket.connect(rx.port, LO4);
    run.call('send(msg, cb)', () => socket.send('x', () => run.record('cb')));
    const sent = run.callback('send with port');
    run.call('send(msg, port, addr, cb)', () => socket.send('while connecting', rx.port, LO4, sent.fn));
    await run.next(socket, 'connect');
    await sent.called;
    await drain(run, rx);
  });

  same('IPv6 connect and remoteAddress', async (run) => {
    const rx = await receiver(run, 'udp6');
    const socket = run.socket('udp6');
    const cb = run.callback('connect callback');
    socket.connect(rx.port, LO6, cb.fn);
    await cb.called;
    run.learn(socket);
    run.call('remoteAddress', () => socket.remoteAddress());
    const sent = run.callback('send');
    socket.send(Buffer.from('v6'), sent.fn);
    await sent.called;
    await rx.until(1);
  });
});

describe('send', () => {
  same('every unconnected overload delivers the same bytes', async (run) => {
    const rx = await receiver(run);
    const tx = await boundSocket(run);
    run.learn(tx);
    const p = rx.port;
    const bytes = Buffer.from('0123456789');
    const calls: [string, (cb: (...a: unknown[]) => void) => unknown][] = [
      ['buffer, port, address, cb', (cb) => tx.send(bytes, p, LO4, cb)],
      ['buffer, port, cb', (cb) => tx.send(bytes, p, cb)],
      ['string, port, address, cb', (cb) => tx.send('text', p, LO4, cb)],
      ['utf-8 string', (cb) => tx.send('héllo €😀', p, LO4, cb)],
      ['array', (cb) => tx.send([Buffer.from('a'), 'bc', new Uint8Array([100, 101]), new DataView(new Uint8Array([102]).buffer)], p, LO4, cb)],
      ['Uint16Array', (cb) => tx.send(new Uint16Array([0x4142, 0x4344]), p, LO4, cb)],
      ['Float64Array subarray', (cb) => tx.send(new Float64Array([1.5, 2.5, 3.5]).subarray(1, 2), p, LO4, cb)],
      ['DataView', (cb) => tx.send(new DataView(bytes.buffer, bytes.byteOffset + 2, 3), p, LO4, cb)],
      ['buffer, offset, length, port, address, cb', (cb) => tx.send(bytes, 2, 5, p, LO4, cb)],
      ['buffer, offset, length, port, cb', (cb) => tx.send(bytes, 3, 4, p, cb)],
      ['string, offset, length (bytes of utf-8)', (cb) => tx.send('€uro', 1, 4, p, LO4, cb)],
      ['Uint16Array, offset, length (bytes)', (cb) => tx.send(new Uint16Array([0x4142, 0x4344]), 1, 2, p, LO4, cb)],
      ['offset to the end, length 0', (cb) => tx.send(bytes, 10, 0, p, LO4, cb)],
      ['empty buffer', (cb) => tx.send(Buffer.alloc(0), p, LO4, cb)],
      ['empty string', (cb) => tx.send('', p, LO4, cb)],
      ['empty array', (cb) => tx.send([], p, LO4, cb)],
      ['port as a string', (cb) => tx.send('sp', String(p) as never, LO4, cb)],
      ['address null', (cb) => tx.send('an', p, null as never, cb)],
      ['address undefined', (cb) => tx.send('au', p, undefined, cb)],
      ['to localhost', (cb) => tx.send('lh', p, 'localhost', cb)],
      ['65507 bytes', (cb) => tx.send(Buffer.alloc(65507, 7), p, LO4, cb)],
    ];
    let expected = 0;
    for (const [label, send] of calls) {
      const cb = run.callback(label);
      run.call(label, () => send(cb.fn));
      await cb.called;
      await rx.until(++expected);
    }
    // Without a callback too.
    run.call('no callback', () => tx.send('nocb', p, LO4));
    run.call('no callback, default host', () => tx.send('nocb2', p));
    await rx.until(expected + 2);
  });

  same('wrong message types', (run) => {
    const socket = run.socket('udp4');
    for (const msg of [42, {}, null, undefined, true, [1, 2], ['ok', 3], [null], new ArrayBuffer(4), Symbol('s')]) {
      run.call(`send(${typeof msg})`, () => socket.send(msg as never, 1234, LO4));
    }
    run.call('offset form, bad buffer', () => socket.send(42 as never, 0, 1, 1234, LO4));
    run.call('offset form, array', () => socket.send([Buffer.from('a')] as never, 0, 1, 1234, LO4));
    run.record('still unbound', (() => {
      try {
        return socket.address();
      } catch (error) {
        return describeError(error);
      }
    })());
  });

  same('wrong ports and addresses', (run) => {
    const socket = run.socket('udp4');
    for (const port of [0, 65536, -1, 'abc', '', 1.5, NaN, null, undefined, true, {}, () => {}]) {
      run.call(`send to port ${String(port)}`, () => socket.send('x', port as number, LO4));
    }
    run.call('send() no port', () => socket.send('x'));
    for (const address of [42, {}, true, []]) {
      run.call(`send to address ${String(address)}`, () => socket.send('x', 1234, address as string));
    }
    run.call('offset form, address 42', () => socket.send('x', 0, 1, 1234, 42 as never));
    run.call('offset form, port 0', () => socket.send('x', 0, 1, 0, LO4));
  });

  same('offset and length out of bounds', (run) => {
    const socket = run.socket('udp4');
    const buf = Buffer.from('abcd');
    const cases: [number, number][] = [[5, 0], [4, 1], [2, 3], [-1, 1], [0, -1], [1.5, 2], [0, 2 ** 32 + 1]];
    for (const [offset, length] of cases) {
      run.call(`offset ${offset} length ${length}`, () => socket.send(buf, offset, length, 1234, LO4));
    }
    run.call('string out of bounds', () => socket.send('€', 1, 3, 1234, LO4));
    run.call('typed array out of bounds', () => socket.send(new Uint16Array(2), 3, 2, 1234, LO4));
  });

  same('connected overloads, and what a connected socket refuses', async (run) => {
    const rx = await receiver(run);
    const tx = run.socket('udp4');
    await new Promise<void>((resolve) => tx.connect(rx.port, LO4, resolve));
    run.learn(tx);
    const buf = Buffer.from('connected!');
    const calls: [string, (cb: (...a: unknown[]) => void) => unknown][] = [
      ['msg, cb', (cb) => tx.send(buf, cb)],
      ['string, cb', (cb) => tx.send('str', cb)],
      ['array, cb', (cb) => tx.send(['a', Buffer.from('b')], cb)],
      ['msg, offset, length, cb', (cb) => tx.send(buf, 2, 3, cb)],
      ['msg, offset, length, undefined, undefined, cb', (cb) => tx.send(buf, 1, 1, undefined, undefined, cb)],
      ['empty', (cb) => tx.send(Buffer.alloc(0), cb)],
    ];
    let expected = 0;
    for (const [label, send] of calls) {
      const cb = run.callback(label);
      run.call(label, () => send(cb.fn));
      await cb.called;
      await rx.until(++expected);
    }
    run.call('no callback', () => tx.send('plain'));
    run.call('msg, offset, length', () => tx.send(buf, 0, 1));
    await rx.until(expected + 2);
    run.call('with port', () => tx.send(buf, rx.port));
    run.call('with port and address', () => tx.send(buf, rx.port, LO4));
    run.call('with offset, length and port', () => tx.send(buf, 0, 1, rx.port));
    run.call('with undefined port and an address', () => tx.send(buf, 0, 1, undefined, LO4));
    run.call('bad buffer', () => tx.send(42 as never));
    run.call('out of bounds', () => tx.send(buf, 20, 1));
  });

  same('65508 bytes over IPv4: EMSGSIZE in the callback, dropped silently without one', async (run) => {
    const rx = await receiver(run);
    const tx = await boundSocket(run);
    run.learn(tx);
    const big = Buffer.alloc(65508);
    const cb = run.callback('send callback');
    tx.send(big, rx.port, LO4, cb.fn);
    await cb.called;
    tx.send(big, rx.port, LO4);
    tx.send([big.subarray(0, 30000), big.subarray(30000)], rx.port, LO4);
    const after = run.callback('after');
    tx.send('after', rx.port, LO4, after.fn);
    await after.called;
    await drain(run, rx);
    const connected = run.socket('udp4');
    await new Promise<void>((resolve) => connected.connect(rx.port, LO4, resolve));
    const ccb = run.callback('connected send callback');
    connected.send(big, ccb.fn);
    await ccb.called;
    connected.send(big);
    await drain(run, rx);
  });

  same('IPv6: send and receive, size limits', async (run) => {
    const rx = await receiver(run, 'udp6');
    const tx = await boundSocket(run, { type: 'udp6' });
    run.learn(tx);
    for (const size of [0, 1, 65507, 65527, 65528]) {
      const cb = run.callback(`send ${size}`);
      tx.send(Buffer.alloc(size, 1), rx.port, LO6, cb.fn);
      await cb.called;
    }
    run.call('v4 address on a v6 socket', () => tx.send('x', rx.port, LO4, (...a: unknown[]) => run.record('v4 cb', ...a)));
    const cb = run.callback('default host');
    tx.send('default', rx.port, cb.fn);
    await cb.called;
    await drain(run, rx, 'udp6');
  });

  same('send before bind: implicit bind, queued in order, listening first', async (run) => {
    const rx = await receiver(run);
    const tx = run.socket('udp4');
    const first = run.callback('first');
    const second = run.callback('second');
    run.call('send 1', () => tx.send('one', rx.port, LO4, first.fn));
    run.call('address while binding', () => tx.address());
    run.call('send 2', () => tx.send(['two', 'parts'], rx.port, second.fn));
    run.call('bind while binding', () => tx.bind(0));
    await first.called;
    await second.called;
    run.learn(tx);
    await rx.until(2);
    run.record('address family', tx.address().family, tx.address().address);
  });

  same('send then close: queued sends still go out, bound sends are dropped', async (run) => {
    const rx = await receiver(run);
    const unbound = run.socket('udp4');
    unbound.send('queued', rx.port, LO4, (...a: unknown[]) => run.record('queued cb', ...a));
    const cb = run.callback('close callback');
    run.call('close with queue', () => unbound.close(cb.fn));
    await cb.called;
    const boundTx = await boundSocket(run);
    boundTx.send('dropped', rx.port, LO4, (...a: unknown[]) => run.record('dropped cb', ...a));
    await run.close(boundTx);
    await drain(run, rx);
  });

  same('send on a closed socket', async (run) => {
    const socket = await boundSocket(run);
    await run.close(socket);
    run.call('send', () => socket.send('x', 1234, LO4));
    run.call('send bad port', () => socket.send('x', 0, LO4));
    run.call('send bad message', () => socket.send(1 as never, 1234, LO4));
  });

  same('callbacks of sends and connects issued together fire in Node\'s order', async (run) => {
    const rx = await receiver(run);
    const a = await boundSocket(run);
    const b = await boundSocket(run);
    const c = await boundSocket(run);
    run.learn(a);
    run.learn(b);
    run.learn(c);
    const done = [
      run.callback('a sent'),
      run.callback('b connected'),
      run.callback('c connect failed'),
      run.callback('a sent again'),
      run.callback('d sent'),
    ];
    const d = run.socket('udp4');
    a.send('1', rx.port, LO4, done[0]!.fn);
    b.connect(rx.port, LO4, done[1]!.fn);
    c.connect(rx.port, LO6, done[2]!.fn);
    a.send(['2', '3'], rx.port, done[3]!.fn);
    d.send('4', rx.port, LO4, done[4]!.fn);
    process.nextTick(() => run.record('a tick later'));
    setImmediate(() => run.record('an immediate later'));
    for (const each of done) await each.called;
    await rx.until(3);
  });

  same('ping-pong: the order of events across two sockets', async (run) => {
    const a = run.socket('udp4');
    const b = run.socket('udp4');
    b.on('message', (msg: Buffer, rinfo: { port: number; address: string }) => {
      b.send(Buffer.concat([msg, Buffer.from('!')]), rinfo.port, rinfo.address, (...args: unknown[]) => run.record('b sent', ...args));
    });
    await new Promise<void>((resolve) => b.bind(0, LO4, resolve));
    run.learn(b);
    const reply = run.next(a, 'message');
    a.send('ping', b.address().port, LO4, (...args: unknown[]) => run.record('a sent', ...args));
    await reply;
    run.learn(a);
    await run.close(a);
    await run.close(b);
  });
});

describe('custom lookup', () => {
  same('called per unconnected send with (host, family, callback), not for connected sends', async (run) => {
    const rx = await receiver(run);
    const tx = run.socket({ type: 'udp4', lookup: loggingLookup(run) });
    for (const host of ['alpha', 'beta', undefined, '']) {
      const cb = run.callback(`send via ${String(host)}`);
      tx.send('x', rx.port, host as string, cb.fn);
      await cb.called;
    }
    const v6 = run.socket({ type: 'udp6', lookup: loggingLookup(run, LO6, 6) });
    const v6rx = await receiver(run, 'udp6');
    const cb6 = run.callback('v6 send');
    v6.send('y', v6rx.port, cb6.fn);
    await cb6.called;
    const connected = run.socket({ type: 'udp4', lookup: loggingLookup(run) });
    const ok = run.callback('connect');
    connected.connect(rx.port, 'gamma', ok.fn);
    await ok.called;
    const sent = run.callback('connected send');
    connected.send('z', sent.fn);
    await sent.called;
    await rx.until(5);
  });

  same('lookup errors go to the send callback, else to an error event', async (run) => {
    const failure = Object.assign(new Error('no such host'), { code: 'ENOTFOUND', hostname: 'nowhere' });
    const lookup = (host: string, _f: number, cb: (e: Error | null, a: string, f: number) => void) =>
      host === 'nowhere' ? cb(failure, '', 0) : cb(null, LO4, 4);
    const tx = run.socket({ type: 'udp4', lookup });
    const cb = run.callback('send callback');
    tx.send('x', 1234, 'nowhere', cb.fn);
    await cb.called;
    run.record('same error object', (await cb.called)[0] === failure);
    const error = run.next(tx, 'error');
    tx.send('x', 1234, 'nowhere');
    await error;
  });

  same('a lookup answering with the wrong family: send EINVAL', async (run) => {
    const tx = run.socket({
      type: 'udp4',
      lookup: (host: string, _f: number, cb: (e: null, a: string, f: number) => void) =>
        host === 'somewhere' ? cb(null, LO6, 6) : cb(null, host, 4),
    });
    const listening = run.next(tx, 'listening');
    tx.bind(0, LO4);
    await listening;
    const cb = run.callback('send callback');
    tx.send('x', 1234, 'somewhere', cb.fn);
    await cb.called;
    tx.send('x', 1234, 'somewhere');
    const after = run.callback('after');
    tx.send('x', 1234, LO4, after.fn);
    await after.called;
  });
});

describe('close and asyncDispose', () => {
  same('close twice, close with a callback', async (run) => {
    const socket = await boundSocket(run);
    const cb = run.callback('close callback');
    run.call('close', () => socket.close(cb.fn));
    run.call('close again', () => socket.close());
    run.call('close again with callback', () => socket.close(() => run.record('second callback')));
    await cb.called;
    const unbound = run.socket('udp4');
    await run.close(unbound);
    run.call('close unbound again', () => unbound.close());
  });

  same('methods on a closed socket', async (run) => {
    const socket = await boundSocket(run);
    await run.close(socket);
    run.call('address', () => socket.address());
    run.call('remoteAddress', () => socket.remoteAddress());
    run.call('bind', () => socket.bind(0, LO4));
    run.call('addMembership', () => socket.addMembership('239.1.2.3'));
    run.call('dropMembership', () => socket.dropMembership('239.1.2.3'));
    run.call('addSourceSpecificMembership', () => socket.addSourceSpecificMembership(LO4, '232.1.2.3'));
    run.call('dropSourceSpecificMembership', () => socket.dropSourceSpecificMembership(LO4, '232.1.2.3'));
    run.call('setMulticastInterface', () => socket.setMulticastInterface(LO4));
    run.call('ref', () => socket.ref());
    run.call('unref', () => socket.unref());
    run.call('disconnect', () => socket.disconnect());
  });

  same('close during a pending bind: no listening, no error', async (run) => {
    const socket = run.socket('udp4');
    socket.bind(0, LO4);
    await run.close(socket);
    const failing = run.socket({
      type: 'udp4',
      lookup: (_h: string, _f: number, cb: (e: Error, a: string, f: number) => void) => setImmediate(() => cb(new Error('late failure'), '', 0)),
    });
    failing.bind(0, 'x');
    await run.close(failing);
    await new Promise((resolve) => setTimeout(resolve, 20));
  });

  same('close during a pending connect', async (run) => {
    const rx = await receiver(run);
    const socket = run.socket('udp4');
    socket.connect(rx.port, LO4, () => run.record('connected'));
    await run.close(socket);
    const alreadyBound = await boundSocket(run);
    alreadyBound.connect(rx.port, LO4, () => run.record('connected'));
    await run.close(alreadyBound);
    await new Promise((resolve) => setTimeout(resolve, 20));
  });

  same('send, connect and close in one tick: the send callback first, then connect, then close', async (run) => {
    const rx = await receiver(run);
    const socket = run.socket({ type: 'udp4', lookup: loggingLookup(run) });
    const sent = run.callback('send callback');
    run.call('send', () => socket.send('hello', rx.port, LO4, sent.fn));
    run.call('connect', () => socket.connect(rx.port));
    await run.close(socket);
    await sent.called;
    // Bound first: two sends, both called back before 'connect'.
    const alreadyBound = await boundSocket(run, { lookup: loggingLookup(run) });
    const sentBound = run.callback('bound send callback');
    alreadyBound.send('hello', rx.port, LO4, sentBound.fn);
    alreadyBound.send('again', rx.port, LO4, run.callback('second send callback').fn);
    alreadyBound.connect(rx.port, LO4);
    await run.close(alreadyBound);
    await sentBound.called;
  });

  same('connect and disconnect after close', async (run) => {
    const rx = await receiver(run);
    const socket = await boundSocket(run);
    const connected = run.callback('connected');
    socket.connect(rx.port, LO4, connected.fn);
    await connected.called;
    await run.close(socket);
    run.call('remoteAddress', () => socket.remoteAddress());
    run.call('connect when connected', () => socket.connect(rx.port, LO4));
    run.call('connect bad port', () => socket.connect(0, LO4));
    const unbound = run.socket('udp4');
    await run.close(unbound);
    run.call('connect never bound', () => unbound.connect(rx.port, LO4));
    // disconnect() here and connect() on a closed bound socket: see
    // 'deliberate differences'.
  });

  same('Symbol.asyncDispose closes once and is idempotent', async (run) => {
    const socket = await boundSocket(run);
    const dispose = socket[Symbol.asyncDispose];
    run.record('type', typeof dispose);
    const result = socket[Symbol.asyncDispose]();
    run.record('returns a promise', result instanceof Promise);
    run.record('resolved with', await result);
    run.record('second dispose', await socket[Symbol.asyncDispose]());
    run.call('close after dispose', () => socket.close());
    const unbound = run.socket('udp4');
    await unbound[Symbol.asyncDispose]();
  });
});

describe('socket options', () => {
  same('before bind: EBADF from every option setter', (run) => {
    const socket = run.socket('udp4');
    run.call('setBroadcast', () => socket.setBroadcast(true));
    run.call('setTTL', () => socket.setTTL(64));
    run.call('setMulticastTTL', () => socket.setMulticastTTL(2));
    run.call('setMulticastLoopback', () => socket.setMulticastLoopback(true));
    run.call('setMulticastInterface', () => socket.setMulticastInterface(LO4));
    run.call('address', () => socket.address());
  });

  same('bad types', (run) => {
    const socket = run.socket('udp4');
    for (const value of ['1', null, undefined, {}, 1n, true]) {
      run.call(`setTTL(${typeof value})`, () => socket.setTTL(value as never));
      run.call(`setMulticastTTL(${typeof value})`, () => socket.setMulticastTTL(value as never));
      run.call(`setMulticastInterface(${typeof value})`, () => socket.setMulticastInterface(value as never));
    }
    run.call('setMulticastInterface(42)', () => socket.setMulticastInterface(42 as never));
  });

  same('values in and out of range after bind', async (run) => {
    const socket = await boundSocket(run);
    for (const ttl of [1, 64, 255, 0, 256, -1, 1.5, 255.9, NaN, Infinity, 2 ** 32 + 1]) {
      run.call(`setTTL(${ttl})`, () => socket.setTTL(ttl));
      run.call(`setMulticastTTL(${ttl})`, () => socket.setMulticastTTL(ttl));
    }
    for (const flag of [true, false, 1, 0, 'yes', '', null, undefined]) {
      run.call(`setBroadcast(${String(flag)})`, () => socket.setBroadcast(flag as boolean));
      run.call(`setMulticastLoopback(${String(flag)})`, () => socket.setMulticastLoopback(flag as boolean));
    }
    for (const iface of [LO4, '0.0.0.0', 'not-an-ip', '', LO6, '10.0.0.1']) {
      run.call(`setMulticastInterface(${iface})`, () => socket.setMulticastInterface(iface));
    }
  });

  same('IPv6 option values', async (run) => {
    const socket = await boundSocket(run, { type: 'udp6' });
    for (const ttl of [1, 255, 0, 256]) {
      run.call(`setTTL(${ttl})`, () => socket.setTTL(ttl));
      run.call(`setMulticastTTL(${ttl})`, () => socket.setMulticastTTL(ttl));
    }
    run.call('setMulticastLoopback', () => socket.setMulticastLoopback(false));
    run.call('setBroadcast', () => socket.setBroadcast(true));
    for (const iface of ['::%lo', '::', LO6, LO4, 'nope', '::%nosuchif']) {
      run.call(`setMulticastInterface(${iface})`, () => socket.setMulticastInterface(iface));
    }
  });
});

describe('multicast membership', () => {
  same('argument errors', (run) => {
    const socket = run.socket('udp4');
    for (const group of [undefined, '', null, 0]) {
      run.call(`addMembership(${String(group)})`, () => socket.addMembership(group as never));
      run.call(`dropMembership(${String(group)})`, () => socket.dropMembership(group as never));
    }
    const bad = [
      [undefined, '232.1.2.3'],
      [42, '232.1.2.3'],
      [LO4, undefined],
      [LO4, 42],
      [null, null],
    ];
    for (const [source, group] of bad) {
      run.call(`addSourceSpecificMembership(${String(source)}, ${String(group)})`, () =>
        socket.addSourceSpecificMembership(source as never, group as never),
      );
      run.call(`dropSourceSpecificMembership(${String(source)}, ${String(group)})`, () =>
        socket.dropSourceSpecificMembership(source as never, group as never),
      );
    }
  });

  same('joins on 127.0.0.1, repeated joins and bad groups', async (run) => {
    const socket = await boundSocket(run);
    const calls: [string, () => unknown][] = [
      ['add', () => socket.addMembership('239.1.2.3', LO4)],
      ['add again', () => socket.addMembership('239.1.2.3', LO4)],
      ['add null iface', () => socket.addMembership('239.1.2.4', null as never)],
      ['drop null iface', () => socket.dropMembership('239.1.2.4', null as never)],
      ['drop', () => socket.dropMembership('239.1.2.3', LO4)],
      ['drop again', () => socket.dropMembership('239.1.2.3', LO4)],
      ['drop never joined', () => socket.dropMembership('239.9.9.9', LO4)],
      ['add unicast group', () => socket.addMembership(LO4, LO4)],
      ['add not an ip', () => socket.addMembership('not-an-ip', LO4)],
      ['add bad iface', () => socket.addMembership('239.1.2.5', 'not-an-ip')],
      ['add v6 group', () => socket.addMembership('ff3e::1234', LO4)],
      ['add number group', () => socket.addMembership(42 as never, LO4)],
      ['ssm add', () => socket.addSourceSpecificMembership(LO4, '232.1.2.3', LO4)],
      ['ssm add again', () => socket.addSourceSpecificMembership(LO4, '232.1.2.3', LO4)],
      ['ssm drop', () => socket.dropSourceSpecificMembership(LO4, '232.1.2.3', LO4)],
      ['ssm drop again', () => socket.dropSourceSpecificMembership(LO4, '232.1.2.3', LO4)],
      ['ssm add null iface', () => socket.addSourceSpecificMembership(LO4, '232.1.2.4', null as never)],
      ['ssm drop null iface', () => socket.dropSourceSpecificMembership(LO4, '232.1.2.4', null as never)],
      ['ssm bad source', () => socket.addSourceSpecificMembership('nope', '232.1.2.3', LO4)],
      ['ssm bad group', () => socket.addSourceSpecificMembership(LO4, 'nope', LO4)],
      ['ssm unicast group', () => socket.addSourceSpecificMembership(LO4, LO4, LO4)],
    ];
    for (const [label, call] of calls) run.call(label, call);
  });

  same('IPv6 socket with IPv4 groups: errors', async (run) => {
    const socket = await boundSocket(run, { type: 'udp6' });
    run.call('add v4 group', () => socket.addMembership('239.1.2.3', LO4));
    run.call('ssm v4', () => socket.addSourceSpecificMembership(LO4, '232.1.2.3'));
    run.call('add not an ip', () => socket.addMembership('nope'));
  });
});

describe('buffer sizes and send queue', () => {
  same('before bind: ERR_SOCKET_BUFFER_SIZE with info', (run) => {
    const socket = run.socket('udp4');
    run.call('getRecvBufferSize', () => socket.getRecvBufferSize());
    run.call('getSendBufferSize', () => socket.getSendBufferSize());
    run.call('setRecvBufferSize', () => socket.setRecvBufferSize(8192));
    run.call('setSendBufferSize', () => socket.setSendBufferSize(8192));
  });

  same('bad sizes: ERR_SOCKET_BAD_BUFFER_SIZE', (run) => {
    const socket = run.socket('udp4');
    for (const size of [-1, 1.5, '1024', 2 ** 32, NaN, undefined, null, Infinity]) {
      run.call(`setRecvBufferSize(${String(size)})`, () => socket.setRecvBufferSize(size as number));
      run.call(`setSendBufferSize(${String(size)})`, () => socket.setSendBufferSize(size as number));
    }
  });

  same('set and get after bind', async (run) => {
    const socket = await boundSocket(run);
    run.call('setRecvBufferSize', () => socket.setRecvBufferSize(65536));
    run.call('getRecvBufferSize', () => socket.getRecvBufferSize());
    run.call('setSendBufferSize', () => socket.setSendBufferSize(16384));
    run.call('getSendBufferSize', () => socket.getSendBufferSize());
    run.call('setRecvBufferSize(0)', () => socket.setRecvBufferSize(0));
    run.call('getRecvBufferSize again', () => socket.getRecvBufferSize());
  });

  same('getSendQueueSize and getSendQueueCount', async (run) => {
    const socket = run.socket('udp4');
    run.call('size unbound', () => socket.getSendQueueSize());
    run.call('count unbound', () => socket.getSendQueueCount());
    const rx = await receiver(run);
    const cb = run.callback('sent');
    socket.send('x', rx.port, LO4, cb.fn);
    await cb.called;
    run.learn(socket);
    run.call('size bound', () => socket.getSendQueueSize());
    run.call('count bound', () => socket.getSendQueueCount());
  });
});

describe('ref and unref', () => {
  same('return the socket, in every state', async (run) => {
    const socket = run.socket('udp4');
    run.call('unref unbound', () => socket.unref());
    run.call('ref unbound', () => socket.ref());
    const listening = run.next(socket, 'listening');
    socket.bind(0, LO4);
    await listening;
    run.call('unref bound', () => socket.unref());
    run.call('ref bound', () => socket.ref());
    await run.close(socket);
    run.call('unref closed', () => socket.unref());
    run.call('ref closed', () => socket.ref());
  });

  it('an unref\'d socket lets the process exit, a ref\'d one keeps it alive', async () => {
    // [program, how long after "ready" it may take]: a process expected to
    // exit gets a generous bound (exiting is slow under load), one expected
    // to stay must still be there after 800 ms.
    const programs: Record<string, [string, number]> = {
      'unref after bind': [`const s = dgram.createSocket('udp4'); s.bind(0, '127.0.0.1', () => { s.unref(); console.log('ready'); });`, 8_000],
      'unref before bind': [`const s = dgram.createSocket('udp4'); s.unref(); s.bind(0, '127.0.0.1', () => console.log('ready'));`, 8_000],
      // 'ready' before the send completes: an unref'd socket lets Node exit
      // before a send that libuv had to queue calls back (seen under load).
      'unref then send': [`const s = dgram.createSocket('udp4'); s.unref(); s.send('x', 9, '127.0.0.1'); console.log('ready');`, 8_000],
      'bound, referenced': [`const s = dgram.createSocket('udp4'); s.bind(0, '127.0.0.1', () => console.log('ready'));`, 800],
      'unref then ref': [`const s = dgram.createSocket('udp4'); s.bind(0, '127.0.0.1', () => { s.unref(); s.ref(); console.log('ready'); });`, 800],
      'connected, referenced': [`const s = dgram.createSocket('udp4'); s.connect(9, '127.0.0.1', () => console.log('ready'));`, 800],
    };
    const observe = (which: 'theirs' | 'ours') =>
      Promise.all(
        Object.entries(programs).map(async ([label, [body, afterReady]]) => {
          const result = await runChild(which, body, 15_000, afterReady);
          return [label, result];
        }),
      );
    const [theirs, ours] = await Promise.all([observe('theirs'), observe('ours')]);
    expect(theirs).toEqual([
      ['unref after bind', { outcome: 'exited', code: 0, output: 'ready\n' }],
      ['unref before bind', { outcome: 'exited', code: 0, output: 'ready\n' }],
      ['unref then send', { outcome: 'exited', code: 0, output: 'ready\n' }],
      ['bound, referenced', { outcome: 'still running', output: 'ready\n' }],
      ['unref then ref', { outcome: 'still running', output: 'ready\n' }],
      ['connected, referenced', { outcome: 'still running', output: 'ready\n' }],
    ]);
    expect(ours).toEqual(theirs);
  });
});

// ---------------------------------------------------------------------------

describe('deliberate differences', () => {
  // Node calls these on its handle without a health check, so after close()
  // they throw a TypeError from the null handle; udpkit checks and throws
  // ERR_SOCKET_DGRAM_NOT_RUNNING, the error every other method gives.
  it('(1) option calls after close: Node TypeError from a null handle, udpkit ERR_SOCKET_DGRAM_NOT_RUNNING', async () => {
    const calls: [string, (s: Sock) => unknown][] = [
      ['setTTL', (s) => s.setTTL(64)],
      ['setBroadcast', (s) => s.setBroadcast(true)],
      ['setMulticastTTL', (s) => s.setMulticastTTL(1)],
      ['setMulticastLoopback', (s) => s.setMulticastLoopback(true)],
      ['getSendQueueSize', (s) => s.getSendQueueSize()],
      ['getSendQueueCount', (s) => s.getSendQueueCount()],
      ['getRecvBufferSize', (s) => s.getRecvBufferSize()],
      ['setSendBufferSize', (s) => s.setSendBufferSize(8192)],
    ];
    for (const [name, call] of calls) {
      const errors = [];
      for (const dgram of [implementations.theirs, implementations.ours]) {
        const socket = dgram.createSocket('udp4');
        await new Promise<void>((resolve) => socket.bind(0, LO4, resolve));
        await new Promise<void>((resolve) => socket.close(resolve));
        errors.push(describeError(captureThrow(() => call(socket))));
      }
      const [theirs, ours] = errors as Record<string, unknown>[];
      expect(theirs, name).toMatchObject({ name: 'TypeError', kind: 'TypeError' });
      expect(theirs!.code, name).toBeUndefined();
      expect(ours, name).toMatchObject({ name: 'Error', code: 'ERR_SOCKET_DGRAM_NOT_RUNNING', message: 'Not running' });
    }
  });

  // The same for the two connect-state calls Node makes on its handle
  // without a health check.
  it('(1) disconnect() and connect() on a closed socket: Node TypeError, udpkit ERR_SOCKET_DGRAM_NOT_RUNNING', async () => {
    const calls: [string, (s: Sock) => unknown, boolean][] = [
      ['disconnect a closed connected socket', (s) => s.disconnect(), true],
      ['connect a closed bound socket', (s) => s.connect(9, LO4), false],
    ];
    for (const [name, call, connect] of calls) {
      const errors = [];
      for (const dgram of [implementations.theirs, implementations.ours]) {
        const socket = dgram.createSocket('udp4');
        await new Promise<void>((resolve) => socket.bind(0, LO4, resolve));
        if (connect) await new Promise<void>((resolve) => socket.connect(9, LO4, resolve));
        await new Promise<void>((resolve) => socket.close(resolve));
        errors.push(describeError(captureThrow(() => call(socket))));
      }
      const [theirs, ours] = errors as Record<string, unknown>[];
      expect(theirs, name).toMatchObject({ name: 'TypeError', kind: 'TypeError' });
      expect(theirs!.message, name).toMatch(/^Cannot read properties of null/);
      expect(ours, name).toMatchObject({ name: 'Error', code: 'ERR_SOCKET_DGRAM_NOT_RUNNING', message: 'Not running' });
    }
  });

  // (2) reusePort: see node-lines.test.ts, which asks the running Node.

  // In a cluster worker Node hands a non-exclusive bind to the primary, so
  // workers share a port; udpkit has no cluster support and always binds in
  // the worker's own process, like `exclusive: true`.
  it('(3) cluster: Node workers share a port, udpkit workers bind exclusively', async () => {
    const program = (port: number) => `
      import cluster from 'node:cluster';
      if (cluster.isPrimary) {
        const results = [];
        for (let i = 0; i < 2; i++) {
          const worker = cluster.fork();
          worker.on('message', (m) => { results.push(m); worker.kill(); if (results.length === 2) { console.log(results.sort().join(',')); process.exit(0); } });
        }
      } else {
        const s = dgram.createSocket('udp4');
        s.on('error', (e) => process.send(e.code));
        s.bind(${port}, '127.0.0.1', () => setTimeout(() => process.send('listening'), 300));
      }`;
    const port = await freePort();
    const theirs = await runChild('theirs', program(port), 10_000);
    expect(theirs).toMatchObject({ outcome: 'exited', output: 'listening,listening\n' });
    const ours = await runChild('ours', program(port), 10_000);
    expect(ours).toMatchObject({ outcome: 'exited', output: 'EADDRINUSE,listening\n' });
  });

  // Transparent batching: the native backend holds the send() calls of a
  // tick for one sendmmsg at its end, so right after send() they are in the
  // send queue; Node's went out inside send(). After the callbacks both are empty.
  it('(4) send queue right after send(): native counts the datagrams of this tick, Node 0', async () => {
    const results = [];
    for (const dgram of [implementations.theirs, implementations.ours]) {
      const rx = dgram.createSocket('udp4');
      await new Promise<void>((resolve) => rx.bind(0, LO4, resolve));
      // A lookup that answers at once: Node's send() reaches its handle inside the call.
      const tx = dgram.createSocket({ type: 'udp4', lookup: (_h, _f, cb) => cb(null, LO4, 4) });
      await new Promise<void>((resolve) => tx.bind(0, LO4, resolve));
      const sent = Promise.all(['hello', 'again!'].map((text) => new Promise((resolve) => tx.send(text, rx.address().port, LO4, resolve))));
      const sameTick = [tx.getSendQueueCount(), tx.getSendQueueSize()];
      await sent;
      results.push({ sameTick, afterCallbacks: [tx.getSendQueueCount(), tx.getSendQueueSize()] });
      tx.close();
      rx.close();
    }
    const [theirs, ours] = results;
    expect(theirs).toEqual({ sameTick: [0, 0], afterCallbacks: [0, 0] });
    expect(ours).toEqual({ sameTick: BACKEND === 'native' ? [2, 11] : [0, 0], afterCallbacks: [0, 0] });
  });
});

function captureThrow(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

async function freePort(): Promise<number> {
  const probe = implementations.theirs.createSocket('udp4');
  await new Promise<void>((resolve) => probe.bind(0, LO4, resolve));
  const { port } = probe.address();
  await new Promise<void>((resolve) => probe.close(resolve));
  return port;
}
