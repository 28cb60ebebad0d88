// Hostile arguments at the Socket level, each compared with node:dgram of
// the running Node (see support/differential.ts): detached buffers, Symbols
// and throwing toString() where strings belong, NULs inside addresses, TTLs
// out of range before bind, and a lookup that calls back twice. Loopback
// only; multicast joins 239.0.0.0/8 on 127.0.0.1.
import { describe, expect, it } from 'vitest';
import { createSocket } from '@udpkit/core';
import { waitFor } from './support/sockets.js';
import { boundSocket, describeError, implementations, type Run, runChild, same, type Sock } from './support/differential.js';

const LO4 = '127.0.0.1';

function detachedView(): Uint8Array {
  const view = new Uint8Array(8);
  structuredClone(view.buffer, { transfer: [view.buffer] });
  return view;
}

const throwingToString = {
  toString(): string {
    throw new Error('toString called');
  },
};

describe('a detached buffer', () => {
  same('is checked after the port, as in Node', (run) => {
    const socket = run.socket('udp4');
    run.call('bad port', () => socket.send(detachedView(), 'x' as never));
    run.call('port 0', () => socket.send(detachedView(), 0, LO4));
    run.call('out of bounds', () => socket.send(detachedView(), 0, 4, 9, LO4));
  });

  same('sends an empty datagram from a bound socket, as in Node', async (run) => {
    const rx = await boundSocket(run);
    const tx = await boundSocket(run);
    const sent = run.callback('send callback');
    const got = run.next(rx, 'message');
    run.call('send', () => tx.send(detachedView(), rx.address().port, LO4, sent.fn));
    await sent.called;
    await got;
    // In a list or with offset and length, Node's Buffer.from throws: so do we.
    run.call('in a list', () => tx.send([detachedView()], rx.address().port, LO4));
    run.call('offset and length 0', () => tx.send(detachedView(), 0, 0, rx.address().port, LO4));
  });

  it('in sendMany: an empty datagram, like send()', async () => {
    const rx = createSocket('udp4');
    await new Promise<void>((resolve) => rx.bind(0, LO4, resolve));
    const tx = createSocket('udp4');
    const got = new Promise<Buffer>((resolve) => rx.once('message', resolve));
    const result = await new Promise<[Error | null, number]>((resolve) =>
      tx.sendMany([{ data: detachedView(), port: rx.address().port, address: LO4 }], (error, sent) => resolve([error, sent])),
    );
    expect(result).toEqual([null, 1]);
    expect((await got).length).toBe(0);
    await Promise.all([rx, tx].map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  });
});

describe('bind with an address that is not a string', () => {
  same("Symbol, throwing toString and number: the lookup's ERR_INVALID_ARG_TYPE, and the socket stays binding", (run) => {
    const cases: [string, (s: Sock) => unknown][] = [
      ['Symbol', (s) => s.bind(0, Symbol('address') as never)],
      ['throwing toString', (s) => s.bind(0, throwingToString as never)],
      ['options.address Symbol', (s) => s.bind({ port: 0, address: Symbol('address') as never })],
      ['options.address throwing toString', (s) => s.bind({ port: 0, address: throwingToString as never })],
      ['number', (s) => s.bind(0, 127001 as never)],
    ];
    for (const [label, bind] of cases) {
      const socket = run.socket('udp4');
      run.call(label, () => bind(socket));
      run.call(`${label}, bind again`, () => socket.bind(0, LO4));
    }
  });
});

describe('multicast arguments as Node reads them in C++', () => {
  same('Symbols and throwing toString(): the TypeError or error of the conversion', async (run) => {
    const socket = await boundSocket(run);
    const symbol = Symbol('group') as never;
    const calls: [string, () => unknown][] = [
      ['addMembership(Symbol)', () => socket.addMembership(symbol)],
      ['dropMembership(Symbol)', () => socket.dropMembership(symbol)],
      ['addMembership(group, Symbol)', () => socket.addMembership('239.1.2.3', symbol)],
      ['dropMembership(group, Symbol)', () => socket.dropMembership('239.1.2.3', symbol)],
      ['addMembership(throwing)', () => socket.addMembership(throwingToString as never)],
      ['addMembership(group, throwing)', () => socket.addMembership('239.1.2.3', throwingToString as never)],
      // Both converted, the last error wins; a group that fails reads as '' on the lines after 20 unless the interface is a string.
      ['addMembership(Symbol, throwing)', () => socket.addMembership(symbol, throwingToString as never)],
      ['addMembership(throwing, Symbol)', () => socket.addMembership(throwingToString as never, symbol)],
      ['addMembership(Symbol, string)', () => socket.addMembership(symbol, 'not an ip')],
      ['addMembership(Symbol, null)', () => socket.addMembership(symbol, null as never)],
      ['addMembership(Symbol, 0)', () => socket.addMembership(symbol, 0 as never)],
      ['dropMembership(throwing)', () => socket.dropMembership(throwingToString as never)],
      ['addSourceSpecificMembership(Symbol source)', () => socket.addSourceSpecificMembership(symbol, '232.1.2.3')],
      ['addSourceSpecificMembership(iface Symbol)', () => socket.addSourceSpecificMembership(LO4, '232.1.2.3', symbol)],
      ['dropSourceSpecificMembership(iface Symbol)', () => socket.dropSourceSpecificMembership(LO4, '232.1.2.3', symbol)],
      ['addSourceSpecificMembership(iface throwing)', () =>
        socket.addSourceSpecificMembership(LO4, '232.1.2.3', throwingToString as never)],
      ['setMulticastInterface(Symbol)', () => socket.setMulticastInterface(symbol)],
      ['addMembership([])', () => socket.addMembership([] as never)],
      ['dropMembership([])', () => socket.dropMembership([] as never)],
      ['addMembership([group])', () => socket.addMembership(['239.1.2.6'] as never, LO4)],
      ['dropMembership([group])', () => socket.dropMembership(['239.1.2.6'] as never, LO4)],
    ];
    for (const [label, call] of calls) run.call(label, call);
  });

  same('an address with a NUL ends there, as a C string does', async (run) => {
    const unbound = run.socket('udp4');
    run.call('unbound setMulticastInterface', () => unbound.setMulticastInterface(`${LO4}\0junk`));
    run.call('unbound addMembership([])', () => unbound.addMembership([] as never));
    const socket = await boundSocket(run);
    const calls: [string, () => unknown][] = [
      ['add', () => socket.addMembership('239.1.2.3\0junk', `${LO4}\0junk`)],
      ['drop', () => socket.dropMembership('239.1.2.3\0junk', `${LO4}\0junk`)],
      ['add NUL first', () => socket.addMembership('\u0000239.1.2.3', LO4)],
      ['ssm add', () => socket.addSourceSpecificMembership(`${LO4}\0x`, '232.1.2.3\0y', `${LO4}\0z`)],
      ['ssm drop', () => socket.dropSourceSpecificMembership(`${LO4}\0x`, '232.1.2.3\0y', `${LO4}\0z`)],
      ['setMulticastInterface', () => socket.setMulticastInterface(`${LO4}\0junk`)],
      ['setMulticastInterface NUL first', () => socket.setMulticastInterface('\u0000127.0.0.1')],
    ];
    for (const [label, call] of calls) run.call(label, call);
  });
});

describe('TTLs before bind', () => {
  same("out of range is libuv's EINVAL before the missing descriptor's EBADF", (run) => {
    const socket = run.socket('udp4');
    for (const ttl of [-1, 0, 1, 64, 255, 256, 1000, NaN, Infinity, 2 ** 32 + 1, 1.5]) {
      run.call(`setTTL(${ttl})`, () => socket.setTTL(ttl));
      run.call(`setMulticastTTL(${ttl})`, () => socket.setMulticastTTL(ttl));
    }
  });
});

describe('a lookup that calls back twice', () => {
  const twice = (run: Run, later: boolean) => (hostname: string, family: number, callback: (...args: unknown[]) => void) => {
    run.record('lookup', hostname, family);
    const answer = () => {
      callback(null, LO4, 4);
      callback(null, LO4, 4);
    };
    if (later) setImmediate(answer);
    else answer();
  };

  for (const later of [false, true]) {
    const when = later ? 'later' : 'at once';
    same(`bind: the second bind fails with EINVAL (${when})`, async (run) => {
      const socket = run.socket({ type: 'udp4', lookup: twice(run, later) });
      const failed = run.next(socket, 'error');
      run.call('bind', () => socket.bind(0, 'localhost'));
      await failed;
    });

    same(`connect: the second connect fails with EISCONN (${when})`, async (run) => {
      const rx = await boundSocket(run);
      const socket = run.socket({ type: 'udp4', lookup: twice(run, later) });
      socket.on('error', () => {}); // the bind's second answer
      let calls = 0;
      const second = new Promise<void>((resolve) =>
        socket.connect(rx.address().port, 'localhost', (error?: Error) => {
          run.record('connect callback', error ?? null);
          if (++calls === 2) resolve();
        }),
      );
      await Promise.race([second, new Promise((resolve) => setTimeout(resolve, 500))]);
    });

    same(`connect without a callback: EISCONN as an 'error' (${when})`, async (run) => {
      const rx = await boundSocket(run);
      const socket = run.socket({ type: 'udp4', lookup: twice(run, later) });
      let errors = 0;
      const twoErrors = new Promise<void>((resolve) => socket.on('error', () => ++errors === 2 && resolve()));
      run.call('connect', () => socket.connect(rx.address().port, 'localhost'));
      await Promise.race([twoErrors, new Promise((resolve) => setTimeout(resolve, 500))]);
    });

    same(`send: sent twice, called back twice (${when})`, async (run) => {
      const rx = await boundSocket(run);
      const socket = run.socket({ type: 'udp4', lookup: twice(run, later) });
      socket.on('error', () => {});
      let calls = 0;
      const both = new Promise<void>((resolve) =>
        socket.send('x', rx.address().port, 'localhost', (error, bytes) => {
          run.record('send callback', error, bytes);
          if (++calls === 2) resolve();
        }),
      );
      // At once, the implicit bind's second answer fails it and the queued
      // send is dropped with the queue, in Node as here: nothing calls back.
      await Promise.race([both, new Promise((resolve) => setTimeout(resolve, 500))]);
    });
  }
});

describe('bind with a port that does not convert to a number (deliberate difference)', () => {
  // Node converts the port in its handle after the lookup, so a Symbol, a
  // BigInt or a throwing valueOf is an uncaught exception a tick later,
  // which no caller can catch. udpkit emits that error as 'error' instead.
  it("emits the conversion error as 'error', and nothing is thrown uncaught", async () => {
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    try {
      const throwingValueOf = {
        valueOf(): number {
          throw new Error('valueOf called');
        },
      };
      // (An object as the first argument is an options object, so it goes in `port` only there.)
      const cases: [string, (s: ReturnType<typeof createSocket>) => unknown, RegExp][] = [
        ['Symbol', (s) => s.bind(Symbol('port') as never, LO4), /Cannot convert a Symbol value to a number/],
        ['BigInt', (s) => s.bind(10n as never, LO4), /Cannot convert a BigInt value to a number/],
        ['options Symbol', (s) => s.bind({ port: Symbol('port') as never }), /Cannot convert a Symbol value to a number/],
        ['options BigInt', (s) => s.bind({ port: 10n as never }), /Cannot convert a BigInt value to a number/],
        ['options throwing valueOf', (s) => s.bind({ port: throwingValueOf as never }), /valueOf called/],
      ];
      for (const [label, bind, message] of cases) {
        const socket = createSocket('udp4');
        const failed = new Promise<Error>((resolve) => socket.once('error', resolve));
        expect(() => bind(socket), label).not.toThrow();
        expect((await failed).message, label).toMatch(message);
        // The bind failed: the socket can bind again.
        await new Promise<void>((resolve) => socket.bind(0, LO4, resolve));
        socket.close();
      }
    } finally {
      process.off('uncaughtException', onUncaught);
    }
    expect(uncaught).toEqual([]);
  });

  same('a lookup that answers at once: the conversion error thrown from bind(), as in Node', (run) => {
    const lookup = (_host: string, _family: number, callback: (error: null, ip: string, family: number) => void) =>
      callback(null, LO4, 4);
    const socket = run.socket({ type: 'udp4', lookup });
    run.call('bind(Symbol)', () => socket.bind(Symbol('port') as never));
    run.call('bind again', () => socket.bind(0, LO4));
  });

  same('a lookup that fails: its error, before the port is looked at, as in Node', async (run) => {
    const lookup = (host: string, _family: number, callback: (error: Error) => void) =>
      process.nextTick(callback, Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' }));
    const socket = run.socket({ type: 'udp4', lookup });
    const failed = run.next(socket, 'error');
    run.call('bind(Symbol)', () => socket.bind(Symbol('port') as never));
    await failed;
  });
});

// Found by the robustness suite (test/robustness.test.ts).
describe('states reached by re-entrant and repeated calls', () => {
  same('connect() on a closed socket leaves it connecting: a second connect() is ERR_SOCKET_DGRAM_IS_CONNECTED', (run) => {
    const socket = run.socket('udp4');
    socket.close();
    run.call('connect', () => socket.connect(9, LO4));
    run.call('connect again', () => socket.connect(9, LO4));
  });

  same("an addressed send while connecting to another family's address: EINVAL before EISCONN", async (run) => {
    const rx = run.socket('udp6');
    const listening = run.next(rx, 'listening');
    rx.bind(0, '::1');
    await listening;
    run.learn(rx);
    const socket = run.socket('udp6');
    const sent = run.callback('send callback');
    socket.connect(rx.address().port, '::1');
    socket.send('x', rx.address().port, LO4, sent.fn);
    await sent.called;
  });

  same("port errors show a string as Node does: unescaped, cut at 25 characters, quoted by its content", (run) => {
    const socket = run.socket('udp4');
    for (const port of ['a\u0000b', "it's", 'x'.repeat(40), "it's".repeat(10), 'new\nline', `both'"`, '"q"']) {
      run.call(JSON.stringify(port), () => socket.connect(port as never));
    }
  });

  it('a close() queued behind another close() does nothing (Node throws it uncaught from its queue)', async () => {
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    try {
      const socket = createSocket('udp4');
      let closes = 0;
      socket.on('close', () => closes++);
      socket.connect(9, LO4);
      socket.close();
      socket.close();
      await new Promise<void>((resolve) => socket.once('close', () => setTimeout(resolve, 20)));
      expect(closes).toBe(1);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
    expect(uncaught).toEqual([]);
  });

  it("a 'listening' listener that closes the socket during send()'s implicit bind: ERR_SOCKET_DGRAM_NOT_RUNNING (Node: a TypeError from its emptied handle)", () => {
    const lookup = (_host: string, _family: number, callback: (error: null, ip: string, family: number) => void) =>
      callback(null, LO4, 4);
    for (const call of [
      (s: Sock) => s.send('x', 9, LO4),
      (s: Sock) => s.connect(9, LO4),
    ]) {
      const outcomes = [];
      for (const dgram of [implementations.theirs, implementations.ours]) {
        const socket = dgram.createSocket({ type: 'udp4', lookup: lookup as never });
        socket.on('listening', () => socket.close());
        outcomes.push(describeError(captureThrow(() => call(socket))));
      }
      const [theirs, ours] = outcomes as Record<string, unknown>[];
      expect(theirs).toMatchObject({ kind: 'TypeError', message: expect.stringMatching(/of null/) });
      expect(ours).toMatchObject({ code: 'ERR_SOCKET_DGRAM_NOT_RUNNING', message: 'Not running' });
    }
  });
});

function captureThrow(call: () => unknown): unknown {
  try {
    call();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('found by the robustness suite, continued', () => {
  same('bind with a bad address and a bad port: the address error first, as in Node', (run) => {
    const socket = run.socket('udp4');
    run.call('bind(Symbol, number)', () => socket.bind(Symbol('port') as never, -5e-324 as never));
    const other = run.socket('udp4');
    run.call('bind({ port: Symbol, address: Symbol })', () =>
      other.bind({ port: Symbol('port') as never, address: Symbol('address') as never }),
    );
  });

  same('a membership call with a bad interface binds the socket first, as libuv does', async (run) => {
    for (const [label, call] of [
      ['dropMembership', (s: Sock) => s.dropMembership(LO4, '')],
      ['addMembership', (s: Sock) => s.addMembership('239.1.2.3', 'not an ip')],
      ['addSourceSpecificMembership', (s: Sock) => s.addSourceSpecificMembership(LO4, '232.1.2.3', 'nope')],
      ['bad group: no bind', (s: Sock) => s.addMembership('nope', 'nope')],
    ] as const) {
      const socket = run.socket('udp4');
      run.call(label, () => call(socket));
      run.call(`${label}: address()`, () => typeof socket.address().port);
      const settled = Promise.race([run.next(socket, 'listening'), run.next(socket, 'error')]);
      run.call(`${label}: bind`, () => socket.bind(0, LO4));
      await settled;
    }
  });
});

describe('an implicit bind that fails, with a listener that closes', () => {
  same('send() and connect() return as in Node when an error listener closed the socket', (run) => {
    const twice = (_host: string, _family: number, callback: (error: null, ip: string, family: number) => void) => {
      callback(null, LO4, 4);
      callback(null, LO4, 4);
    };
    for (const [label, call] of [
      ['send', (s: Sock) => s.send('x', 9, LO4)],
      ['connect', (s: Sock) => s.connect(9, LO4)],
    ] as const) {
      const socket = run.socket({ type: 'udp4', lookup: twice });
      socket.on('error', () => run.call(`${label}: close in the error listener`, () => socket.close()));
      run.call(label, () => call(socket));
    }
  });
});

describe('a buffer detached between send() and the system call', () => {
  // Node looks the address up first (a tick), then reads the buffer: one
  // detached in between goes as an empty datagram, with its callback.
  it('goes as an empty datagram and is called back, in a list too, as in Node', async () => {
    const rx = createSocket('udp4');
    await new Promise<void>((resolve) => rx.bind(0, LO4, resolve));
    const lengths: number[] = [];
    rx.on('message', (msg) => lengths.push(msg.length));
    const tx = createSocket('udp4');
    await new Promise<void>((resolve) => tx.bind(0, LO4, resolve));
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    try {
      const results = await Promise.all(
        [(view: Uint8Array) => view, (view: Uint8Array) => [view, Buffer.from('b')]].map((wrap) => {
          const view = new Uint8Array(8);
          return new Promise<unknown[]>((resolve) => {
            tx.send(wrap(view) as Uint8Array, rx.address().port, LO4, (error, bytes) => resolve([error, bytes]));
            structuredClone(view.buffer, { transfer: [view.buffer] });
          });
        }),
      );
      expect(results).toEqual([
        [null, 0],
        [null, 1],
      ]);
      await waitFor(() => lengths.length === 2, 5000, 'both datagrams');
      expect(lengths.sort()).toEqual([0, 1]);
    } finally {
      process.off('uncaughtException', onUncaught);
      tx.close();
      rx.close();
    }
    expect(uncaught).toEqual([]);
  });
});

describe('connect() with a callback that is not a function', () => {
  same("on a bound socket: once()'s ERR_INVALID_ARG_TYPE, and the socket stays connecting", async (run) => {
    const socket = await boundSocket(run);
    for (const callback of [1, 'x', {}, 0, null]) {
      run.call(`connect(9, '', ${String(callback)})`, () => socket.connect(9, '', callback as never));
    }
  });

  // Node queues the connect, and its once() throws from the queue when the
  // bind completes: connect() returns, the error is uncaught.
  it('on an unbound socket: connect() returns, the error comes uncaught from the queue, as in Node', async () => {
    const body = `
      const socket = dgram.createSocket('udp4');
      process.on('uncaughtException', (error) => {
        console.log('uncaught', error.code, error.message, socket.address().port > 0);
        socket.close();
      });
      try {
        socket.connect(9, '', 1);
        console.log('returned');
      } catch (error) {
        console.log('threw', error.code);
      }
      socket.on('listening', () => console.log('listening'));
    `;
    const [theirs, ours] = await Promise.all([runChild('theirs', body, 20_000), runChild('ours', body, 20_000)]);
    expect(theirs.output).toContain('uncaught ERR_INVALID_ARG_TYPE');
    expect(ours).toEqual(theirs);
  });
});

describe("a 'listening' listener that connects during send()'s implicit bind", () => {
  same('the send keeps its address: EISCONN, as in Node', async (run) => {
    const rx = await boundSocket(run);
    const port = rx.address().port;
    const lookup = (_host: string, _family: number, callback: (error: null, ip: string, family: number) => void) =>
      callback(null, LO4, 4);
    const socket = run.socket({ type: 'udp4', lookup });
    socket.once('listening', () => run.call('connect in listener', () => socket.connect(port, LO4)));
    const sent = run.callback('send callback');
    run.call('send', () => socket.send('abc', port, 'localhost', sent.fn));
    await sent.called;
  });
});
