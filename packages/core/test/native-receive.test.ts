// The native receive path's own behaviour: the batch hook's shared memory,
// and ancillary data on a descriptor that carries more than udpkit asked for.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Buffer } from 'node:buffer';
import { bound, closeAll, sendManyAsync, waitFor } from './support/sockets.js';

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
      // One sendmmsg, queued before the receiver wakes: one batch, one
      // ArrayBuffer holding the three back to back.
      expect(batches).toHaveLength(1);
      const shared = batches[0]!;
      expect(shared.every((msg) => msg.buffer === shared[0]!.buffer)).toBe(true);
      expect(shared[0]!.buffer.byteLength).toBe(6);
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
