// The native receive path's own behaviour: the batch hook's shared memory,
// and ancillary data on a descriptor that carries more than udpkit asked for.
import { createHook } from 'node:async_hooks';
import { spawn } from 'node:child_process';
import nodeDgram from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Buffer } from 'node:buffer';
import { bound, closeAll, sendManyAsync, waitFor } from './support/sockets.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const b: any = createRequire(import.meta.url)('../native/build/Release/udpkit.node');

/** A raw handle with an onmessage; `onBatch` and `onEach` get the status array. */
function rawReader(onBatch: (n: number, status: Int32Array) => void, onEach: (status: Int32Array) => void) {
  const status = new Int32Array(4);
  const h = b.create(4, (n: number) => onBatch(n, status), () => {}, new Int32Array(640), status, () => onEach(status));
  expect(b.bind(h, '127.0.0.1', 0, 0)).toBe(0);
  const out: { port?: number } = {};
  b.getsockname(h, out);
  expect(b.recvStart(h)).toBe(0);
  return { h, port: out.port! };
}

/** Sends `count` datagrams in one tick: they wait in the receiver's queue for one recvmmsg. */
async function burst(port: number, count: number): Promise<void> {
  const tx = nodeDgram.createSocket('udp4');
  await Promise.all(Array.from({ length: count }, (_, i) => new Promise((resolve) => tx.send(`d${i}`, port, '127.0.0.1', resolve))));
  tx.close();
}

describe('the helper hands datagrams one by one on request (BINDING.md)', () => {
  it('rejects an onmessage that is neither a function nor undefined', () => {
    const noop = () => {};
    for (const bad of [null, 1, 'f', {}]) {
      expect(() => b.create(4, noop, noop, new Int32Array(640), new Int32Array(4), bad)).toThrow(TypeError);
    }
    b.close(b.create(4, noop, noop, new Int32Array(640), new Int32Array(4), undefined));
  });

  it('calls onmessage while status[2] is positive, never more than the batch holds, with ticks drained in between', async () => {
    const calls: string[] = [];
    let tick = 'none';
    const reader = rawReader(
      (n, status) => {
        calls.push(`batch ${n}`);
        status[2] = 1000; // more than the batch: the helper stops at its size
      },
      () => {
        calls.push(`each after tick ${tick}`);
        const call = calls.length;
        process.nextTick(() => (tick = String(call)));
      },
    );
    try {
      await burst(reader.port, 3);
      await waitFor(() => calls.length >= 4, 5000, 'four calls');
      await sleep(50);
      expect(calls).toEqual(['batch 3', 'each after tick none', 'each after tick 2', 'each after tick 3']);
    } finally {
      b.close(reader.h);
    }
  });

  it('stops when JavaScript counts status[2] down to 0, and at close()', async () => {
    let counted = 0;
    const counting = rawReader(
      (_n, status) => (status[2] = 2),
      (status) => {
        counted++;
        status[2]!--;
      },
    );
    let closing = 0;
    const closed = rawReader(
      (n, status) => (status[2] = n),
      () => {
        if (++closing === 2) b.close(closed.h);
      },
    );
    try {
      await burst(counting.port, 5);
      await burst(closed.port, 5);
      await waitFor(() => counted >= 2 && closing >= 2, 5000, 'two calls each');
      await sleep(50);
      expect([counted, closing]).toEqual([2, 2]);
    } finally {
      b.close(counting.h);
    }
  });

  // Whether close() destroys the context at once or defers it (as the helper
  // does) is not observable on Node 20-24: the running callback already holds
  // its ids, and destroy hooks run from an immediate. What is observable: no
  // call after close(), and one destroy, after the last callback.
  it("close() from inside onmessage: no further call, and the context's destroy hook fires once, after the last 'after'", async () => {
    const log: string[] = [];
    const ids = new Set<number>();
    const hook = createHook({
      init: (id, type) => void (type === 'UDPKIT' && ids.add(id)),
      after: (id) => void (ids.has(id) && log.push('after')),
      destroy: (id) => void (ids.has(id) && log.push('destroy')),
    }).enable();
    try {
      const reader = rawReader(
        (n, status) => (status[2] = n),
        () => {
          log.push('close');
          b.close(reader.h);
        },
      );
      await burst(reader.port, 3);
      await waitFor(() => log.includes('destroy'), 5000, 'destroy');
      expect(log).toEqual(['after', 'close', 'after', 'destroy']);
    } finally {
      hook.disable();
    }
  });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("'messages' memory", () => {
  it("a 'messages'-only consumer gets views of one copy per batch; with a 'message' listener each Buffer owns its memory", async () => {
    const rx = await bound();
    const tx = await bound();
    try {
      const port = rx.address().port;
      const batches: Buffer[][] = [];
      const onBatch = (msgs: Buffer[]) => batches.push(msgs);
      rx.on('messages', onBatch);
      const burst = () => sendManyAsync(tx, ['a', 'bb', 'ccc'].map((data) => ({ data, port, address: '127.0.0.1' })));
      await burst();
      await waitFor(() => batches.flat().length === 3, 5000, 'three datagrams');
      // One sendmmsg, queued before the receiver wakes: one batch, copied
      // back to back into one ArrayBuffer (the receive pool: receive-pool.test.ts).
      expect(batches).toHaveLength(1);
      const shared = batches[0]!;
      expect(shared.every((msg) => msg.buffer === shared[0]!.buffer)).toBe(true);
      expect(shared.map((msg) => msg.byteOffset - shared[0]!.byteOffset)).toEqual([0, 1, 3]);
      batches.length = 0;
      rx.on('message', () => {});
      await burst();
      await waitFor(() => batches.flat().length === 3, 5000, 'three more');
      for (const msg of batches.flat()) expect([msg.byteOffset, msg.buffer.byteLength]).toEqual([0, msg.length]);
    } finally {
      await closeAll(rx, tx);
    }
  });
});

// An adopted descriptor may carry receive options udpkit did not set
// (SO_TIMESTAMPING, IP_RECVTTL, ...): their ancillary data comes before or
// after udpkit's own, and must neither push it out nor be misread. node has
// no setsockopt, so a python3 parent makes the descriptor and execs node.
const python = await new Promise<boolean>((resolve) => {
  const probe = spawn('python3', ['-c', 'import socket'], { stdio: 'ignore' });
  probe.on('error', () => resolve(false));
  probe.on('exit', (code) => resolve(code === 0));
});

const udpkitEntry = pathToFileURL(fileURLToPath(new URL('../dist/index.js', import.meta.url))).href;

const parent = `
import os, socket, sys
v6 = sys.argv[1] == '6'
s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_DGRAM)
SO_TIMESTAMPING, RX_SOFTWARE, SOFTWARE = 37, 1 << 3, 1 << 4
s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPING, RX_SOFTWARE | SOFTWARE)
if v6:
    # IPV6_RECVHOPLIMIT, IPV6_RECVTCLASS, IPV6_FLOWINFO, IPV6_2292PKTINFO,
    # IPV6_RECVORIGDSTADDR: more than the control space, so the kernel cuts
    # the last (MSG_CTRUNC) after udpkit's own
    for opt in (51, 66, 11, 2, 74):
        s.setsockopt(socket.IPPROTO_IPV6, opt, 1)
    s.bind(('::1', 0))
else:
    # IP_RECVTTL, IP_RECVTOS, IP_RECVORIGDSTADDR
    for opt in (12, 13, 20):
        s.setsockopt(socket.IPPROTO_IP, opt, 1)
    s.bind(('127.0.0.1', 0))
os.set_inheritable(s.fileno(), True)
os.execv(sys.argv[2], [sys.argv[2], sys.argv[3], str(s.fileno())])
`;

const child = (type: 'udp4' | 'udp6') => `
import { createSocket } from ${JSON.stringify(udpkitEntry)};
const host = ${JSON.stringify(type === 'udp4' ? '127.0.0.1' : '::1')};
const rx = createSocket({ type: ${JSON.stringify(type)}, receiveMetadata: { destination: true, timestamp: true } });
const got = [];
rx.on('message', (msg, rinfo) => {
  got.push({ data: msg.toString(), destination: rinfo.destination, interfaceIndex: rinfo.interfaceIndex, timestamped: rinfo.timestamp > 0n });
  if (got.length === 3) {
    console.log(JSON.stringify({ got, kernelDrops: rx.stats().kernelDrops }));
    rx.close();
    tx.close();
  }
});
const tx = createSocket(${JSON.stringify(type)});
rx.bind({ fd: Number(process.argv[2]) }, () => {
  for (const data of ['one', 'two', 'three']) tx.send(data, rx.address().port, host);
});
setTimeout(() => { console.log(JSON.stringify({ got })); process.exit(1); }, 10000).unref();
`;

function runAdopted(type: 'udp4' | 'udp6'): Promise<{ code: number | null; output: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'udpkit-cmsg-'));
  writeFileSync(path.join(dir, 'parent.py'), parent);
  writeFileSync(path.join(dir, 'child.mjs'), child(type));
  return new Promise((resolve) => {
    const run = spawn('python3', [path.join(dir, 'parent.py'), type === 'udp4' ? '4' : '6', process.execPath, path.join(dir, 'child.mjs')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    run.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    run.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    run.on('exit', (code) => {
      rmSync(dir, { recursive: true, force: true });
      resolve({ code, output });
    });
  });
}

describe.skipIf(!python)('ancillary data on an adopted descriptor with extra receive options (needs python3)', () => {
  it.each(['udp4', 'udp6'] as const)('%s: destination, interface and timestamp still arrive, and nothing else is misread', async (type) => {
    const { code, output } = await runAdopted(type);
    expect(output).not.toMatch(/Error/);
    expect(code).toBe(0);
    const { got, kernelDrops } = JSON.parse(output) as { got: unknown[]; kernelDrops: number };
    const destination = type === 'udp4' ? '127.0.0.1' : '::1';
    expect(got).toEqual(['one', 'two', 'three'].map((data) => ({ data, destination, interfaceIndex: 1, timestamped: true })));
    expect(kernelDrops).toBe(0);
  });
});

describe('sender addresses', () => {
  it("every octet width formats as node:dgram's rinfo does (the helper formats IPv4 itself)", async () => {
    const senders = ['127.0.0.1', '127.100.200.255', '127.9.99.199', '127.255.10.0', '127.1.109.209'];
    const rx = await bound();
    const reference = nodeDgram.createSocket('udp4');
    await new Promise<void>((resolve) => reference.bind(0, '127.0.0.1', resolve));
    const seen: string[] = [];
    const seenByNode: string[] = [];
    rx.on('message', (_msg, rinfo) => seen.push(rinfo.address));
    reference.on('message', (_msg, rinfo) => seenByNode.push(rinfo.address));
    const sockets = await Promise.all(
      senders.map(async (address) => {
        const tx = nodeDgram.createSocket('udp4');
        await new Promise<void>((resolve) => tx.bind(0, address, resolve));
        return tx;
      }),
    );
    try {
      for (const tx of sockets) {
        await new Promise((resolve) => tx.send('x', rx.address().port, '127.0.0.1', resolve));
        await new Promise((resolve) => tx.send('x', reference.address().port, '127.0.0.1', resolve));
      }
      await waitFor(() => seen.length === senders.length && seenByNode.length === senders.length, 5000, 'a datagram from each sender');
      expect(seen).toEqual(seenByNode);
      expect(seen).toEqual(senders);
    } finally {
      for (const tx of sockets) tx.close();
      reference.close();
      await closeAll(rx);
    }
  });
});
