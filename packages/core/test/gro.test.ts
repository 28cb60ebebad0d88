// GRO receive (the `gro` option) and the 'segments' event, on real loopback
// sockets. The kernel coalesces only what a GSO sender sent as one
// (UDP_SEGMENT): test/support/gso-send.c, compiled here, is that sender.
// On the portable backend `gro` must refuse with a clear error, and
// 'segments' still works (one datagram per read).
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { createSocket, type RemoteInfo, type Socket } from '@udpkit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runChild } from './support/differential.js';
import { backend, socketsClosedAfterEach, waitFor } from './support/sockets.js';

const run = promisify(execFile);
const udpkitEntry = pathToFileURL(fileURLToPath(new URL('../dist/index.js', import.meta.url))).href;
const dir = mkdtempSync(path.join(tmpdir(), 'udpkit-gro-'));
const sender = path.join(dir, 'gso-send');
beforeAll(() => {
  execFileSync('gcc', ['-O2', '-Wall', '-Wextra', '-o', sender, fileURLToPath(new URL('./support/gso-send.c', import.meta.url))]);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const { socket: receiver, track } = socketsClosedAfterEach();

/**
 * One GSO send per spec `segment:total` from one socket (one source port):
 * the datagrams it makes, numbered over the whole call as gso-send numbers
 * them (a 32-bit big-endian number, then that number's low byte).
 */
function expected(specs: string[]): Buffer[] {
  const out: Buffer[] = [];
  for (const spec of specs) {
    const [segment, total] = spec.split(':').map(Number) as [number, number];
    for (let at = 0; at < total || (total === 0 && at === 0); at += segment) {
      const k = out.length;
      const data = Buffer.alloc(Math.min(segment, total - at), k & 0xff);
      const head = Buffer.alloc(4);
      head.writeUInt32BE(k);
      head.copy(data, 0, 0, Math.min(4, data.length));
      out.push(data);
      if (total === 0) break;
    }
  }
  return out;
}

function gsoSend(to: Socket, specs: string[]): Promise<unknown> {
  const { address, port } = to.address();
  return run(sender, [address, String(port), ...specs]);
}

interface Seen {
  message: { data: Buffer; rinfo: RemoteInfo }[];
  messages: { data: Buffer; rinfo: RemoteInfo }[];
  reads: { data: Buffer; segmentSize: number; rinfo: RemoteInfo }[];
}

function watch(s: Socket): Seen {
  const seen: Seen = { message: [], messages: [], reads: [] };
  s.on('message', (data, rinfo) => seen.message.push({ data, rinfo }));
  s.on('messages', (data, rinfos) => data.forEach((d, i) => seen.messages.push({ data: d, rinfo: rinfos[i]! })));
  s.on('segments', (data, sizes, rinfos) => data.forEach((d, i) => seen.reads.push({ data: d, segmentSize: sizes[i]!, rinfo: rinfos[i]! })));
  return seen;
}

/** The datagrams the reads of 'segments' hold, split by their segment size. */
function split(reads: Seen['reads']): Buffer[] {
  const out: Buffer[] = [];
  for (const { data, segmentSize } of reads) {
    if (data.length <= segmentSize) out.push(data);
    else for (let at = 0; at < data.length; at += segmentSize) out.push(data.subarray(at, at + segmentSize));
  }
  return out;
}

// Mixed sizes: a full 64 x 64 B read, a short last segment, a plain
// datagram, one-byte segments, 65 segments (more than one recvmmsg's 64
// slots), segments around 1024/2048/4096, an empty datagram.
const SPECS = ['64:4096', '100:250', '1200:1200', '1:64', '1000:65000', '1024:3000', '2048:8193', '4096:8192', '7:7', '1:0'];

describe.skipIf(backend !== 'native')('GRO on (native backend)', () => {
  describe.each(['udp4', 'udp6'] as const)('%s', (type) => {
    it("splits coalesced reads: 'message', 'messages' and 'segments' see every datagram, boundary and byte", async () => {
      const rx = await receiver(type, { gro: true });
      expect(rx.features.gro).toMatchObject({ active: true, state: 'on', reason: undefined });
      const seen = watch(rx);
      const want = expected(SPECS);
      await gsoSend(rx, SPECS);
      await waitFor(() => seen.message.length >= want.length, 10_000, 'every datagram');
      await new Promise((resolve) => setTimeout(resolve, 50));

      const senderPort = seen.message[0]!.rinfo.port;
      const address = type === 'udp4' ? '127.0.0.1' : '::1';
      const family = type === 'udp4' ? 'IPv4' : 'IPv6';
      expect(seen.message.map((m) => m.data)).toEqual(want);
      for (const { data, rinfo } of seen.message) {
        // Node's shape and ownership: each Buffer has its ArrayBuffer.
        expect(rinfo).toEqual({ address, family, port: senderPort, size: data.length });
        expect(data.buffer.byteLength).toBe(data.length);
      }
      expect(seen.messages.map((m) => m.data)).toEqual(want);
      expect(seen.messages.map((m) => m.rinfo)).toEqual(seen.message.map((m) => m.rinfo));
      // The kernel did coalesce (else this test proves nothing about GRO).
      expect(seen.reads.some((r) => r.data.length > r.segmentSize)).toBe(true);
      expect(seen.reads.length).toBeLessThan(want.length);
      expect(split(seen.reads)).toEqual(want);
      for (const { data, rinfo } of seen.reads) expect(rinfo).toEqual({ address, family, port: senderPort, size: data.length });
      expect(rx.stats()).toMatchObject({ datagramsReceived: want.length, bytesReceived: want.reduce((n, d) => n + d.length, 0) });
    });

    it('reads from several senders keep each its own address, port and order', async () => {
      const rx = await receiver(type, { gro: true });
      const seen = watch(rx);
      const specs = ['64:4096', '300:1000', '64:640', '1:33'];
      const want = expected(specs);
      await Promise.all([gsoSend(rx, specs), gsoSend(rx, specs), gsoSend(rx, specs)]);
      await waitFor(() => seen.message.length >= 3 * want.length, 10_000, 'every datagram');
      const byPort = new Map<number, Buffer[]>();
      for (const { data, rinfo } of seen.message) byPort.set(rinfo.port, [...(byPort.get(rinfo.port) ?? []), data]);
      expect(byPort.size).toBe(3);
      for (const got of byPort.values()) expect(got).toEqual(want);
      // A read never mixes senders: each sender's reads, split, are its datagrams.
      const readsByPort = new Map<number, Seen['reads']>();
      for (const read of seen.reads) readsByPort.set(read.rinfo.port, [...(readsByPort.get(read.rinfo.port) ?? []), read]);
      for (const reads of readsByPort.values()) expect(split(reads)).toEqual(want);
    });

    it('gives every datagram of a read the read’s metadata (destination, interface, timestamp)', async () => {
      const rx = await receiver(type, { gro: true, receiveMetadata: { destination: true, timestamp: true } });
      const seen = watch(rx);
      await gsoSend(rx, ['64:4096', '100:250']);
      await waitFor(() => seen.message.length >= 67, 10_000, 'every datagram');
      const address = type === 'udp4' ? '127.0.0.1' : '::1';
      for (const read of seen.reads) {
        expect(read.rinfo).toMatchObject({ destination: address, truncated: false });
        expect(read.rinfo.interfaceIndex).toBeGreaterThan(0);
        expect(typeof read.rinfo.timestamp).toBe('bigint');
      }
      let at = 0;
      for (const read of seen.reads) {
        const count = Math.ceil(read.data.length / read.segmentSize);
        for (const { rinfo } of seen.message.slice(at, at + count)) {
          expect(rinfo).toMatchObject({
            destination: read.rinfo.destination,
            interfaceIndex: read.rinfo.interfaceIndex,
            timestamp: read.rinfo.timestamp,
            truncated: false,
          });
        }
        at += count;
      }
      expect(at).toBe(67);
    });
  });

  it("'message' keeps Node's rhythm inside a coalesced read: ticks and microtasks run between its datagrams", async () => {
    const rx = await receiver('udp4', { gro: true });
    const order: string[] = [];
    rx.on('message', (data) => {
      const k = data.readUInt32BE(0);
      order.push(`m${k}`);
      process.nextTick(() => order.push(`t${k}`));
      void Promise.resolve().then(() => order.push(`p${k}`));
    });
    await gsoSend(rx, ['64:4096']);
    await waitFor(() => order.length >= 3 * 64, 10_000, 'every datagram');
    expect(order).toEqual(Array.from({ length: 64 }, (_, k) => [`m${k}`, `t${k}`, `p${k}`]).flat());
  });

  it("'message' with GRO: a wake-up still hands over about 32 datagrams, not 32 reads of up to 64 each (setImmediate runs between)", async () => {
    // 100 reads of 64 datagrams wait in the kernel; libuv's rule is 32
    // datagrams per wake-up. After the first wake-up (read as wide as the
    // batch before it) a wake-up reads no more reads than that rule allows:
    // here one read, 64 datagrams.
    const rx = await receiver('udp4', { gro: true, recvBufferSize: 8 * 1024 * 1024 });
    const bursts: number[] = [0];
    let got = 0;
    rx.on('message', () => {
      got++;
      bursts[bursts.length - 1]!++;
    });
    const total = 100 * 64;
    const spin = (): void => {
      if (bursts[bursts.length - 1]! > 0) bursts.push(0);
      if (got < total) setImmediate(spin);
    };
    rx.pause();
    await gsoSend(rx, Array.from({ length: 100 }, () => '64:4096'));
    rx.resume();
    setImmediate(spin);
    await waitFor(() => got >= total, 10_000, 'every datagram');
    expect(got).toBe(total);
    expect(Math.max(...bursts.slice(1))).toBeLessThanOrEqual(64);
  });

  it('marks the datagram where the kernel cut a coalesced read (MSG_TRUNC): truncated, and the rest of the read is lost', async () => {
    // The 64 KiB receive slot holds any coalesced read: the helper's
    // setRecvSlot makes the kernel cut one. The child reaches the Socket's
    // handle by wrapping the helper's exports before udpkit loads them.
    const child = path.join(dir, 'truncate.mjs');
    writeFileSync(
      child,
      `
      import Module from 'node:module';
      import { execFileSync } from 'node:child_process';
      const load = Module._extensions['.node'];
      let helper, handle;
      Module._extensions['.node'] = (module, filename) => {
        load(module, filename);
        helper = module.exports;
        module.exports = { ...helper, create: (...args) => (handle = helper.create(...args)) };
      };
      const { createSocket } = await import(${JSON.stringify(udpkitEntry)});
      const rx = createSocket({ type: 'udp4', gro: true });
      const seen = { slot: 0, message: [], reads: [] };
      rx.on('message', (data, rinfo) => seen.message.push({ data: data.toString('hex'), rinfo }));
      rx.on('segments', (data, sizes, rinfos) =>
        data.forEach((d, i) => seen.reads.push({ length: d.length, segmentSize: sizes[i], truncated: rinfos[i].truncated })));
      rx.bind(0, '127.0.0.1', () => {
        seen.slot = helper.setRecvSlot(handle, 1000);
        execFileSync(${JSON.stringify(sender)}, ['127.0.0.1', String(rx.address().port), '64:4096', '50:100']);
        const deadline = Date.now() + 5000;
        const check = setInterval(() => {
          if (seen.reads.length < 2 && Date.now() < deadline) return;
          clearInterval(check);
          console.log(JSON.stringify(seen));
          rx.close();
        }, 10);
      });
      `,
    );
    const { stdout } = await run(process.execPath, [child], { timeout: 15_000 });
    const seen = JSON.parse(stdout) as {
      slot: number;
      message: { data: string; rinfo: RemoteInfo }[];
      reads: { length: number; segmentSize: number; truncated?: boolean }[];
    };
    expect(seen.slot).toBe(0);
    const want = expected(['64:4096', '50:100']).map((d) => d.toString('hex'));
    // 1000 bytes of the first read: 15 whole datagrams and 40 bytes of the 16th.
    expect(seen.reads).toEqual([
      { length: 1000, segmentSize: 64, truncated: true },
      { length: 100, segmentSize: 50 },
    ]);
    const got = seen.message.map((m) => m.data);
    expect(got.slice(0, 15)).toEqual(want.slice(0, 15));
    expect(got[15]).toBe(want[15]!.slice(0, 80));
    expect(seen.message.slice(0, 15).every((m) => m.rinfo.truncated === undefined)).toBe(true);
    expect(seen.message[15]!.rinfo).toMatchObject({ size: 40, truncated: true });
    // The next read is whole: the sender's datagrams 64 and 65.
    expect(got.slice(16)).toEqual(want.slice(64));
    expect(seen.message.slice(16).every((m) => m.rinfo.truncated === undefined)).toBe(true);
  });

  it('reports GRO off, and why, when not asked for or not bound yet', async () => {
    const s = track(createSocket({ type: 'udp4', gro: true }));
    expect(s.features.gro).toEqual({ active: false, state: 'pending', reason: 'not bound yet' });
    const plain = await receiver('udp4');
    expect(plain.features.gro).toEqual({ active: false, state: 'off', reason: 'not requested (createSocket option gro)' });
  });

  it('is applied to a descriptor made by an implicit bind (connect), and reported off once closed', async () => {
    const rx = await receiver('udp4');
    const s = track(createSocket({ type: 'udp4', gro: true }));
    await new Promise<void>((resolve) => s.connect(rx.address().port, '127.0.0.1', resolve));
    expect(s.features.gro).toMatchObject({ active: true, state: 'on', reason: undefined });
    await new Promise<void>((resolve) => s.close(resolve));
    expect(s.features.gro).toEqual({ active: false, state: 'off', reason: 'closed' });
  });

  it("without gro, the kernel splits a GSO send: the same datagrams, one per read ('segments' sees segmentSize = length)", async () => {
    // Split, the datagrams take more of the receive buffer than the default.
    const rx = await receiver('udp4', { recvBufferSize: 4 * 1024 * 1024 });
    const seen = watch(rx);
    const want = expected(SPECS);
    await gsoSend(rx, SPECS);
    await waitFor(() => seen.message.length >= want.length, 10_000, 'every datagram');
    expect(seen.message.map((m) => m.data)).toEqual(want);
    expect(seen.messages.map((m) => m.data)).toEqual(want);
    expect(seen.reads.map((r) => r.data)).toEqual(want);
    expect(seen.reads.every((r) => r.segmentSize === r.data.length)).toBe(true);
  });

  it("'segments' alone: no split, counted in stats() all the same", async () => {
    const rx = await receiver('udp6', { gro: true });
    const reads: { data: Buffer; segmentSize: number }[] = [];
    rx.on('segments', (data, sizes) => data.forEach((d, i) => reads.push({ data: d, segmentSize: sizes[i]! })));
    const want = expected(SPECS);
    await gsoSend(rx, SPECS);
    await waitFor(() => rx.stats().datagramsReceived >= want.length, 10_000, 'every datagram');
    expect(split(reads.map((r) => ({ ...r, rinfo: undefined as never })))).toEqual(want);
    expect(rx.stats()).toMatchObject({ datagramsReceived: want.length, bytesReceived: want.reduce((n, d) => n + d.length, 0) });
  });

  describe('close() from inside a callback stops delivery of the rest of the read', () => {
    for (const event of ['message', 'messages', 'segments'] as const) {
      it(`from '${event}'`, async () => {
        const rx = await receiver('udp4', { gro: true });
        const seen = watch(rx);
        let closed = false;
        const after = { message: 0, messages: 0, segments: 0 };
        for (const name of ['message', 'messages', 'segments'] as const) rx.on(name, () => closed && after[name]++);
        rx.once(event, () => {
          closed = true;
          rx.close();
        });
        await gsoSend(rx, ['64:4096']);
        await waitFor(() => closed, 10_000, 'the first event');
        await new Promise((resolve) => setTimeout(resolve, 100));
        // The close()ing listener ran first; no 'message' comes after it.
        expect(after).toEqual({ message: 0, messages: 0, segments: 0 });
        if (event === 'message') expect(seen.message).toHaveLength(1);
      });
    }
  });

  it("a throwing listener of any receive event costs the others nothing (uncaught once per batch)", async () => {
    const program = `
      const { execFileSync } = await import('node:child_process');
      const errors = [];
      process.on('uncaughtException', (error) => errors.push(error.message));
      const rx = dgram.createSocket({ type: 'udp4', gro: true });
      const got = { message: 0, messages: 0, segments: 0 };
      rx.on('segments', (d) => { got.segments += d.length; throw new Error('segments threw'); });
      rx.on('messages', (d) => { got.messages += d.length; throw new Error('messages threw'); });
      rx.on('message', (msg) => { got.message++; if (msg.readUInt32BE(0) === 3) throw new Error('message threw'); });
      rx.bind(0, '127.0.0.1', () => {
        execFileSync(${JSON.stringify(sender)}, ['127.0.0.1', String(rx.address().port), '64:4096']);
        const deadline = Date.now() + 5000;
        const check = setInterval(() => {
          if (got.message < 64 && Date.now() < deadline) return;
          clearInterval(check);
          setTimeout(() => {
            console.log(JSON.stringify({ got, errors: [...new Set(errors)].sort(), batches: rx.stats().receiveBatches, count: errors.length }));
            rx.close();
          }, 50);
        }, 10);
      });`;
    const ours = await runChild('ours', program, 15_000);
    expect(ours.outcome).toBe('exited');
    const result = JSON.parse(ours.output) as { got: object; errors: string[]; batches: number; count: number };
    expect(result.got).toEqual({ message: 64, messages: 64, segments: 1 });
    expect(result.errors).toEqual(['message threw', 'messages threw', 'segments threw']);
    expect(result.count).toBe(2 * result.batches + 1);
  });
});

describe('the gro option', () => {
  it.each([1, 'yes', null])('refuses %j with ERR_INVALID_ARG_TYPE, as the gso option does', (value) => {
    const options = { type: 'udp4', gro: value } as unknown as Parameters<typeof createSocket>[0];
    expect(() => createSocket(options)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE', name: 'TypeError' }));
  });
});

describe.skipIf(backend !== 'portable')('GRO on the portable backend', () => {
  it('refuses gro with ERR_UDPKIT_UNSUPPORTED and reports it off', async () => {
    expect(() => createSocket({ type: 'udp4', gro: true })).toThrow(
      expect.objectContaining({ code: 'ERR_UDPKIT_UNSUPPORTED', message: 'gro is not supported by the portable backend' }),
    );
    const s = await receiver('udp4');
    expect(s.features.gro).toEqual({
      active: false,
      state: 'unsupported',
      reason: 'the portable backend reads through node:dgram, which cannot set UDP_GRO',
    });
  });

  it("'segments' gives each datagram as a read of one", async () => {
    const rx = await receiver('udp6');
    const seen = watch(rx);
    const want = expected(['64:640', '100:250']);
    await gsoSend(rx, ['64:640', '100:250']);
    await waitFor(() => seen.reads.length >= want.length, 10_000, 'every datagram');
    expect(seen.reads.map((r) => r.data)).toEqual(want);
    expect(seen.reads.every((r) => r.segmentSize === r.data.length)).toBe(true);
    expect(seen.message.map((m) => m.data)).toEqual(want);
  });
});
