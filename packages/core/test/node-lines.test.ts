// What differs between Node's lines (22, 24, 26) and what each added or
// removed: every test asks the running Node's node:dgram what it does and
// expects udpkit to do the same. Where the running Node lacks a feature
// that a newer line added, udpkit still offers it: those tests then check
// udpkit's behaviour on its own, against the same expectations.
import dns from 'node:dns';
import nodeDgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import { fstatSync } from 'node:fs';
import { BlockList } from 'node:net';
import { describe, expect, it } from 'vitest';
import { boundSocket, type Dgram, implementations, observe, type Run, runChild, same, type Scenario, type Sock } from './support/differential.js';

const LO4 = '127.0.0.1';
/** A second loopback address (127.0.0.0/8), to block. */
const BLOCKED = '127.0.0.2';
const BACKEND = process.env.UDPKIT_BACKEND;

/** Does the running Node's node:dgram check `receiveBlockList` (22.13+)? It then refuses a non-BlockList. */
const nodeHasBlockLists = (() => {
  try {
    nodeDgram.createSocket({ type: 'udp4', receiveBlockList: {} } as never).close();
    return false;
  } catch {
    return true;
  }
})();
const nodeHasSyncBindConnect = typeof (nodeDgram.Socket.prototype as { bindSync?: unknown }).bindSync === 'function';
const nodeHasLegacyMembers = Object.getOwnPropertyDescriptor(nodeDgram.Socket.prototype, '_bindState') !== undefined;

/**
 * Runs `scenario` with both modules. Where node:dgram has the feature the
 * two Observations must be equal; either way udpkit's must satisfy `check`
 * (what the feature does, as the lines that have it define it).
 */
function sameWhereNodeHasIt(name: string, nodeHasIt: boolean, scenario: Scenario, check: (ours: unknown[]) => void): void {
  it(`${name}${nodeHasIt ? '' : ' (udpkit only: this Node lacks it)'}`, async () => {
    const ours = await observe(implementations.ours, scenario);
    if (nodeHasIt) {
      const theirs = await observe(implementations.theirs, scenario);
      expect(ours).toEqual(theirs);
    }
    check(ours);
  });
}

/** Records every datagram `socket` receives as ['got', text, sender address]; resolves when `text` arrives. */
function recordMessages(run: Run, socket: Sock): (text: string) => Promise<unknown[]> {
  socket.on('message', (msg, rinfo) => run.record('got', msg.toString(), rinfo.address));
  return (text) =>
    run.next(socket, 'message').then(function again(args): Promise<unknown[]> | unknown[] {
      return String(args[0]) === text ? args : run.next(socket, 'message').then(again);
    });
}

const entriesOf = (log: unknown[], label: string) => log.filter((entry) => (entry as unknown[])[0] === label);

describe('receiveBlockList and sendBlockList (Node 22.13)', () => {
  sameWhereNodeHasIt(
    'anything but a net.BlockList is refused with ERR_INVALID_ARG_TYPE, before the lookup and the type',
    nodeHasBlockLists,
    (run) => {
      for (const value of [{}, 'list', 42, [], new Map()]) {
        for (const option of ['receiveBlockList', 'sendBlockList']) {
          run.call(`${option} ${typeof value}`, () => run.dgram.createSocket({ type: 'udp5', lookup: 7, [option]: value } as never));
        }
      }
      for (const falsy of [undefined, null, 0, '']) {
        run.call(`receiveBlockList ${String(falsy)}`, () => run.dgram.createSocket({ type: 'udp4', receiveBlockList: falsy } as never).close());
      }
    },
    (ours) => {
      const refusals = ours.filter((entry) => JSON.stringify(entry).includes('must be an net.BlockList'));
      expect(refusals).toHaveLength(10);
      expect(refusals[0]).toMatchObject(['receiveBlockList object', 'threw', { code: 'ERR_INVALID_ARG_TYPE', name: 'TypeError' }]);
    },
  );

  sameWhereNodeHasIt(
    "a blocked sender's datagrams are dropped unseen, others arrive",
    nodeHasBlockLists,
    async (run) => {
      const list = new BlockList();
      list.addAddress(BLOCKED);
      const rx = await boundSocket(run, { receiveBlockList: list });
      const arrived = recordMessages(run, rx);
      const blocked = await boundSocket(run, { address: BLOCKED });
      const allowed = await boundSocket(run);
      for (let i = 0; i < 3; i++) blocked.send(`blocked ${i}`, rx.address().port, LO4);
      await new Promise((resolve) => blocked.send('last blocked', rx.address().port, LO4, resolve));
      // Sent after the blocked ones over the same loopback: once it is in, they would be too.
      allowed.send('allowed', rx.address().port, LO4);
      await arrived('allowed');
    },
    (ours) => {
      expect(entriesOf(ours, 'got')).toEqual([['got', 'allowed', LO4]]);
    },
  );

  sameWhereNodeHasIt(
    'a send to a blocked address fails with ERR_IP_BLOCKED (callback) or silently; connect fails too',
    nodeHasBlockLists,
    async (run) => {
      const list = new BlockList();
      list.addSubnet('127.0.0.0', 30); // 127.0.0.0 - 127.0.0.3
      const rx = await boundSocket(run, { address: '127.0.0.5' });
      const arrived = recordMessages(run, rx);
      const lookup = (host: string, family: number, cb: (e: null, a: string, f: number) => void) =>
        cb(null, host === 'blocked.test' ? BLOCKED : host, family);
      const tx = run.socket({ type: 'udp4', sendBlockList: list, lookup });
      tx.on('error', () => {}); // recorded already; a stray one must not throw
      const direct = run.callback('send to a blocked IP');
      tx.send('x', rx.address().port, BLOCKED, direct.fn);
      await direct.called;
      const named = run.callback('send to a name that resolves to a blocked IP');
      tx.send('x', rx.address().port, 'blocked.test', named.fn);
      await named.called;
      tx.send('no callback', rx.address().port, BLOCKED);
      const ok = run.callback('send to an allowed IP');
      tx.send('allowed', rx.address().port, '127.0.0.5', ok.fn);
      await ok.called;
      await arrived('allowed');
      const connectCb = run.callback('connect to a blocked IP');
      tx.connect(rx.address().port, BLOCKED, connectCb.fn);
      await connectCb.called;
      const error = run.next(tx, 'error');
      tx.connect(rx.address().port, LO4);
      await error;
    },
    (ours) => {
      const blockedError = { code: 'ERR_IP_BLOCKED', name: 'Error', message: `IP(${BLOCKED}) is blocked by net.BlockList` };
      expect(entriesOf(ours, 'send to a blocked IP')).toMatchObject([['send to a blocked IP', blockedError]]);
      expect(entriesOf(ours, 'send to a name that resolves to a blocked IP')).toMatchObject([[expect.any(String), blockedError]]);
      expect(entriesOf(ours, 'got')).toEqual([['got', 'allowed', LO4]]);
      expect(entriesOf(ours, 'connect to a blocked IP')).toMatchObject([['connect to a blocked IP', blockedError]]);
      const errorEvents = ours.filter((entry) => (entry as unknown[])[1] === 'error');
      expect(errorEvents).toMatchObject([['s1', 'error', { code: 'ERR_IP_BLOCKED', message: `IP(${LO4}) is blocked by net.BlockList` }]]);
    },
  );

  it('sendMany skips blocked destinations and reports ERR_IP_BLOCKED with the count that went', async () => {
    const list = new BlockList();
    list.addAddress(BLOCKED);
    const { createSocket } = await import('@udpkit/core');
    const rx = createSocket('udp4');
    await new Promise<void>((resolve) => rx.bind(0, '127.0.0.5', resolve));
    const got: string[] = [];
    const allArrived = new Promise<void>((resolve) => rx.on('message', (msg) => got.push(msg.toString()) === 2 && resolve()));
    const tx = createSocket({ type: 'udp4', sendBlockList: list });
    const port = rx.address().port;
    const result = await new Promise<[Error | null, number]>((resolve) =>
      tx.sendMany(
        [
          { data: 'a', port, address: '127.0.0.5' },
          { data: 'b', port, address: BLOCKED },
          { data: 'c', port, address: '127.0.0.5' },
        ],
        (error, sent) => resolve([error, sent]),
      ),
    );
    expect(result[0]).toMatchObject({ code: 'ERR_IP_BLOCKED' });
    expect(result[1]).toBe(2);
    await allArrived;
    expect(got).toEqual(['a', 'c']);
    tx.close();
    rx.close();
  });

  it("blocked datagrams are not in 'messages' batches or the counters either (udpkit's own)", async () => {
    const list = new BlockList();
    list.addAddress(BLOCKED);
    const { createSocket } = await import('@udpkit/core');
    const rx = createSocket({ type: 'udp4', receiveBlockList: list });
    await new Promise<void>((resolve) => rx.bind(0, LO4, resolve));
    const batches: string[][] = [];
    const done = new Promise<void>((resolve) =>
      rx.on('messages', (msgs, rinfos) => {
        batches.push(msgs.map((msg, i) => `${msg} from ${rinfos[i]!.address}`));
        if (msgs.some((msg) => String(msg) === 'end')) resolve();
      }),
    );
    const blocked = createSocket('udp4');
    await new Promise<void>((resolve) => blocked.bind(0, BLOCKED, resolve));
    const allowed = createSocket('udp4');
    const port = rx.address().port;
    await new Promise((resolve) => blocked.sendMany(Array.from({ length: 100 }, () => ({ data: 'no', port, address: LO4 })), resolve));
    await new Promise((resolve) => allowed.sendMany([{ data: 'yes', port, address: LO4 }, { data: 'end', port, address: LO4 }], resolve));
    await done;
    expect(batches.flat()).toEqual([`yes from ${LO4}`, `end from ${LO4}`]);
    expect(rx.stats()).toMatchObject({ datagramsReceived: 2, bytesReceived: 6 });
    for (const socket of [rx, blocked, allowed]) socket.close();
  });
});

describe('bindSync and connectSync (Node 24.19 / 26.4)', () => {
  sameWhereNodeHasIt(
    "bind and connect now: return values, thrown errors, 'listening' and 'connect' on the next tick",
    nodeHasSyncBindConnect,
    async (run) => {
      const rx = await boundSocket(run);
      const port = rx.address().port;
      const s = run.socket('udp4') as Sock & { bindSync(o?: object): unknown; connectSync(p: unknown, a?: unknown): void };
      for (const bad of [null, 'x', 5]) run.call(`bindSync(${String(bad)})`, () => s.bindSync(bad as never));
      run.call('bindSync to a host name', () => s.bindSync({ address: 'localhost' }));
      run.call('bindSync to a bad port', () => s.bindSync({ port: 65536 }));
      run.call('bindSync to a port in use', () => s.bindSync({ port, address: LO4 }));
      const listening = run.next(s, 'listening');
      const address = s.bindSync({ address: LO4 }) as { port: number; address: string };
      run.record('bindSync returned', address.address, address.port === s.address().port);
      run.record('before the next tick');
      await listening;
      run.call('bindSync again', () => s.bindSync());
      run.call('connectSync to a host name', () => s.connectSync(port, 'localhost'));
      run.call('connectSync to port 0', () => s.connectSync(0));
      const connected = run.next(s, 'connect');
      run.call('connectSync', () => s.connectSync(port));
      run.record('remote', s.remoteAddress());
      await connected;
      run.call('connectSync again', () => s.connectSync(port));
      const arrived = recordMessages(run, rx);
      s.send('over connectSync');
      await arrived('over connectSync');

      const unbound = run.socket('udp4') as typeof s;
      const connected2 = run.next(unbound, 'connect');
      run.call('connectSync binds first', () => unbound.connectSync(port, LO4));
      run.record('bound to', unbound.address().address);
      await connected2;
      await run.close(unbound);
      run.call('bindSync when closed', () => unbound.bindSync());
      run.call('connectSync when closed', () => unbound.connectSync(port));
    },
    (ours) => {
      expect(entriesOf(ours, 'bindSync to a host name')[0]).toMatchObject([expect.any(String), 'threw', { code: 'ERR_INVALID_ARG_VALUE' }]);
      expect(entriesOf(ours, 'bindSync to a port in use')[0]).toMatchObject([expect.any(String), 'threw', { code: 'EADDRINUSE', syscall: 'bind' }]);
      expect(entriesOf(ours, 'bindSync returned')).toEqual([['bindSync returned', LO4, true]]);
      const order = ours.map((entry) => (entry as unknown[]).slice(0, 2).join(' '));
      expect(order.indexOf('before the next tick')).toBeLessThan(order.indexOf('s1 listening'));
      expect(entriesOf(ours, 'connectSync again')[0]).toMatchObject([expect.any(String), 'threw', { code: 'ERR_SOCKET_DGRAM_IS_CONNECTED' }]);
      expect(entriesOf(ours, 'got')).toEqual([['got', 'over connectSync', LO4]]);
      expect(entriesOf(ours, 'connectSync when closed')[0]).toMatchObject([expect.any(String), 'threw', { code: 'ERR_SOCKET_DGRAM_NOT_RUNNING' }]);
    },
  );

  sameWhereNodeHasIt(
    "closed before the next tick: no 'listening', no 'connect'",
    nodeHasSyncBindConnect,
    async (run) => {
      const s = run.socket('udp4') as Sock & { bindSync(o?: object): unknown; connectSync(p: number, a?: string): void };
      s.bindSync({ address: LO4 });
      s.connectSync(9);
      await run.close(s);
      await new Promise((resolve) => setImmediate(resolve));
      const t = run.socket('udp4') as typeof s;
      t.connectSync(9, LO4);
      await run.close(t);
      await new Promise((resolve) => setImmediate(resolve));
    },
    (ours) => {
      expect(ours.map((entry) => (entry as unknown[]).slice(0, 2).join(' ')).filter((e) => /listening|connect$/.test(e))).toEqual([]);
    },
  );

  sameWhereNodeHasIt(
    'connectSync to a blocked address throws ERR_IP_BLOCKED and leaves the socket reusable',
    nodeHasSyncBindConnect && nodeHasBlockLists,
    async (run) => {
      const list = new BlockList();
      list.addAddress(BLOCKED);
      const s = run.socket({ type: 'udp4', sendBlockList: list }) as Sock & { connectSync(p: number, a?: string): void };
      run.call('connectSync blocked', () => s.connectSync(9, BLOCKED));
      const connected = run.next(s, 'connect');
      run.call('connectSync allowed', () => s.connectSync(9, LO4));
      await connected;
    },
    (ours) => {
      expect(entriesOf(ours, 'connectSync blocked')[0]).toMatchObject([expect.any(String), 'threw', { code: 'ERR_IP_BLOCKED' }]);
      expect(entriesOf(ours, 'connectSync allowed')).toEqual([['connectSync allowed', 'returned', undefined]]);
    },
  );
});

describe('what older code calls', () => {
  same('sendto(buffer, offset, length, port, address, callback), with its argument errors', async (run) => {
    const rx = await boundSocket(run);
    const arrived = recordMessages(run, rx);
    const tx = run.socket('udp4') as Sock & { sendto(...args: unknown[]): void };
    const port = rx.address().port;
    run.call('offset missing', () => tx.sendto(Buffer.from('x')));
    run.call('length a string', () => tx.sendto(Buffer.from('x'), 0, '1', port, LO4));
    run.call('port a string', () => tx.sendto(Buffer.from('x'), 0, 1, String(port), LO4));
    run.call('address missing', () => tx.sendto(Buffer.from('x'), 0, 1, port));
    run.call('offset out of bounds', () => tx.sendto(Buffer.from('x'), 5, 1, port, LO4));
    const cb = run.callback('sendto callback');
    tx.sendto(Buffer.from('__hello__'), 2, 5, port, LO4, cb.fn);
    await cb.called;
    await arrived('hello');
  });

  // '::1' on a udp4 socket: the newer lines skip the lookup only for the socket's own family.
  same('the default lookup: dns.lookup as the running line reads it, and for which addresses', async (run) => {
    const original = dns.lookup;
    const spy = ((host: string, family: number, callback: (...args: unknown[]) => void) => {
      run.record('dns.lookup', host, family);
      return (original as (...args: unknown[]) => unknown)(host, family, callback);
    }) as typeof dns.lookup;
    try {
      const port = await run.freePort(); // nothing listens: what arrives is not the point
      const early = run.socket('udp4');
      dns.lookup = spy; // after `early` was made, before `late`
      const late = run.socket('udp4');
      for (const [name, socket] of [['early', early], ['late', late]] as const) {
        const bind = run.next(socket, 'listening');
        socket.bind(0, LO4);
        await bind;
        for (const host of ['localhost', LO4, undefined, '::1']) {
          const cb = run.callback(`${name} send to ${String(host)}`);
          socket.send('x', port, host as string, cb.fn);
          await cb.called;
        }
      }
    } finally {
      dns.lookup = original;
    }
  });

  same("bind(cb) listens to 'error' or watches errorMonitor, as the running line does", async (run) => {
    const taken = await boundSocket(run);
    const s = run.socket('udp4');
    s.removeAllListeners('error');
    s.bind(taken.address().port, LO4, () => run.record('bound'));
    run.record('error listeners', s.listenerCount('error'), 'errorMonitor listeners', s.listenerCount(EventEmitter.errorMonitor));
    const error = new Promise((resolve) => s.once('error', resolve));
    run.record('bind error', await error);
    run.record('after', s.listenerCount('error'), s.listenerCount(EventEmitter.errorMonitor));
  });

  same('the DEP0112 members where the running line has them: values through bind, connect and close', async (run) => {
    const s = run.socket('udp4') as Sock & Record<string, unknown>;
    const members = ['_handle', '_receiving', '_bindState', '_queue', '_reuseAddr', '_healthCheck', '_stopReceiving'];
    run.record('present', members.map((name) => name in s));
    if (!('_bindState' in s)) return;
    const state = () => ({
      bindState: s._bindState,
      receiving: s._receiving,
      queued: (s._queue as unknown[] | undefined)?.length,
      reuseAddr: s._reuseAddr,
      fd: (s._handle as { fd: number } | null)?.fd,
    });
    run.record('new', state());
    const listening = run.next(s, 'listening');
    s.bind(0, LO4);
    s.send('x', 9, LO4);
    run.record('binding', state());
    await listening;
    const { fd, ...bound } = state();
    run.record('bound', bound, 'fd is a socket', fstatSync(fd!).isSocket());
    run.call('_healthCheck', () => (s._healthCheck as () => void)());
    run.call('_stopReceiving', () => (s._stopReceiving as () => void)());
    run.record('stopped', state().receiving);
    s._bindState = 1;
    run.record('_bindState written', s._bindState);
    s._bindState = 2;
    await run.close(s);
    run.record('closed', s._handle);
    run.call('_healthCheck when closed', () => (s._healthCheck as () => void)());
    run.record('reuseAddr option', (run.socket({ type: 'udp4', reuseAddr: true }) as unknown as Record<string, unknown>)._reuseAddr);
  });

  same('dgram._createSocketHandle where the running line has it', (run) => {
    const dgram = run.dgram as Dgram & { _createSocketHandle?: (...args: unknown[]) => { fd: number; close(): void } | number };
    run.record('has it', typeof dgram._createSocketHandle);
    if (!dgram._createSocketHandle) return;
    run.record('bad address', dgram._createSocketHandle('no address', 0, 'udp4', undefined, 0));
    const handle = dgram._createSocketHandle(LO4, 0, 'udp4', undefined, 0) as { fd: number; close(): void };
    run.record('a bound handle', typeof handle, fstatSync(handle.fd).isSocket());
    handle.close();
  });

  it('the DEP0112 warning: once, with the member it names, on the lines that still have them', async () => {
    const program = `
      const s = dgram.createSocket('udp4');
      s.bind(0, '127.0.0.1', () => { s._bindState; s._handle; s._healthCheck?.(); console.log('read', s._bindState, typeof s._healthCheck); s.close(); });`;
    const clean = (output: string) => output.replace(/\(node:\d+\)/g, '(node:PID)');
    const theirs = await runChild('theirs', program, 10_000);
    const ours = await runChild('ours', program, 10_000);
    expect(clean(ours.output)).toBe(clean(theirs.output));
    expect(ours.code).toBe(theirs.code);
    if (nodeHasLegacyMembers) expect(ours.output).toContain('[DEP0112] DeprecationWarning: Socket.prototype._bindState is deprecated');
    else expect(ours.output).toContain('read undefined');
  });
});

describe('what real code does with the module and the class', () => {
  /** The same CommonJS program against require('node:dgram') and require('@udpkit/core'). */
  async function requireBoth(body: string): Promise<{ theirs: string; ours: string }> {
    const run = (name: string) => {
      const source = `const dgram = require(${JSON.stringify(name)});\n${body}`;
      return new Promise<string>((resolve, reject) =>
        import('node:child_process').then(({ execFile }) =>
          execFile(process.execPath, ['-e', source], { cwd: new URL('..', import.meta.url).pathname, timeout: 10_000 }, (error, stdout, stderr) =>
            error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout),
          ),
        ),
      );
    };
    return { theirs: await run('node:dgram'), ours: await run('@udpkit/core') };
  }

  it("require() gives a plain, mutable exports object, like node:dgram's", async () => {
    const { theirs, ours } = await requireBoth(`
      const real = dgram.createSocket;
      dgram.createSocket = (...args) => { console.log('double called with', args[0]); return real(...args); };
      const s = dgram.createSocket('udp4');
      console.log(Object.isFrozen(dgram), Object.getOwnPropertyDescriptor(dgram, 'createSocket').writable, typeof dgram.Socket);
      s.close();`);
    expect(ours).toBe(theirs);
    expect(ours).toBe("double called with udp4\nfalse true function\n");
  });

  it('require() and import give the same module object', async () => {
    const { ours } = await requireBoth(`import('@udpkit/core').then((m) => console.log(m.default === dgram, m.createSocket === dgram.createSocket));`);
    expect(ours).toBe('true true\n');
  });

  it('Socket works as an ES5 base: Socket.call(this) + util.inherits, and as an ES class base', async () => {
    const { theirs, ours } = await requireBoth(`
      const util = require('node:util');
      function Server(port) { dgram.Socket.call(this, 'udp4'); this.port = port; }
      util.inherits(Server, dgram.Socket);
      Server.prototype.start = function (cb) { this.bind(0, '127.0.0.1', cb); };
      class Modern extends dgram.Socket { constructor() { super({ type: 'udp4' }); this.modern = true; } }
      const server = new Server(1);
      const modern = new Modern();
      server.on('message', (msg, rinfo) => {
        console.log('server got', String(msg), rinfo.family);
        server.close(); modern.close();
      });
      server.start(() => {
        console.log(server instanceof dgram.Socket, server instanceof Server, server.type, server.port, typeof server.address().port);
        console.log(modern instanceof dgram.Socket, modern.modern, new dgram.Socket('udp6').type, dgram.Socket.name);
        modern.send('hello', server.address().port, '127.0.0.1');
      });`);
    expect(ours).toBe(theirs);
    expect(ours).toContain('server got hello IPv4');
  });
});

describe('reusePort, as the running line defines it', () => {
  /** Whether a second reusePort socket can bind the first one's port, or the error it gets. */
  async function shares(dgram: Dgram): Promise<string> {
    const a = dgram.createSocket({ type: 'udp4', reusePort: true } as never);
    await new Promise<void>((resolve) => a.bind(0, LO4, resolve));
    const b = dgram.createSocket({ type: 'udp4', reusePort: true } as never);
    const outcome = await new Promise<string>((resolve) => {
      b.once('error', (error: NodeJS.ErrnoException) => resolve(error.code!));
      b.bind(a.address().port, LO4, () => resolve('shared'));
    });
    a.close();
    b.close();
    return outcome;
  }

  it("shares the port where node:dgram does; where Node ignores the option, the native backend shares and portable refuses it", async () => {
    const theirs = await shares(implementations.theirs);
    if (theirs === 'shared' || BACKEND !== 'portable') {
      expect(await shares(implementations.ours)).toBe('shared');
      if (theirs !== 'shared') expect(theirs).toBe('EADDRINUSE'); // the deliberate difference: native offers it anyway
      return;
    }
    expect(theirs).toBe('EADDRINUSE');
    expect(() => implementations.ours.createSocket({ type: 'udp4', reusePort: true } as never)).toThrow(
      expect.objectContaining({ code: 'ERR_UDPKIT_UNSUPPORTED', message: 'reusePort is not supported by the portable backend' }),
    );
  });
});
