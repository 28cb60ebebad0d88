// What the Receiver costs per datagram, against a plain @udpkit/core socket
// and node:dgram joined to the same group: CPU microseconds per datagram
// received, at a paced rate (100k datagrams/s of 64 bytes) that each can
// keep up with. Needs root: it runs in a network namespace of its own, so
// nothing leaves the machine. `pnpm bench` (after `pnpm build`). Writes
// bench/results.json (not committed) for the report in the root README.
import { execFileSync, spawn } from 'node:child_process';
import nodeDgram from 'node:dgram';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { createSocket, defaultBackend } from '@udpkit/core';
import { openReceiver } from '@udpkit/multicast';

const GROUP = '239.9.0.1';
const COUNT = 200_000;
const RATE = 100_000;
const BURST = 64;
const ROUNDS = 3;
const KINDS = ['node:dgram', '@udpkit/core', 'Receiver'] as const;
type Kind = (typeof KINDS)[number];
const self = fileURLToPath(import.meta.url);
const [role, kind] = process.argv.slice(2);

/** A receiver process: joins, says "ready <port>", counts until "end", prints its counts. */
async function receive(kind: Kind): Promise<void> {
  let received = 0;
  let cpuStart: NodeJS.CpuUsage | undefined;
  const onData = (data: Buffer) => {
    if (data.length === 3 && data.toString() === 'end') {
      const cpu = process.cpuUsage(cpuStart);
      console.log(JSON.stringify({ received, cpuMicros: cpu.user + cpu.system }));
      process.exit(0);
    }
    cpuStart ??= process.cpuUsage();
    received++;
  };
  if (kind === 'Receiver') {
    const receiver = await openReceiver({ group: GROUP, port: 0, interfaces: 'lo' });
    receiver.socket.setRecvBufferSize(4 << 20);
    receiver.on('message', onData);
    console.log(`ready ${receiver.address().port}`);
    return;
  }
  const dgram = kind === 'node:dgram' ? nodeDgram : { createSocket };
  const socket = dgram.createSocket({ type: 'udp4', reuseAddr: true });
  socket.on('message', onData);
  socket.bind(0, () => {
    socket.addMembership(GROUP, '127.0.0.1');
    socket.setRecvBufferSize(4 << 20);
    console.log(`ready ${socket.address().port}`);
  });
}

/** Sends COUNT datagrams to the group in bursts, paced at RATE, then "end". */
async function flood(port: number): Promise<void> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  socket.setMulticastInterface('127.0.0.1');
  const payload = Buffer.alloc(64, 1);
  const burst = Array.from({ length: BURST }, () => ({ data: payload, port, address: GROUP }));
  const start = performance.now();
  for (let sent = 0; sent < COUNT; sent += BURST) {
    const due = start + (sent / RATE) * 1000;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    await new Promise((resolve) => socket.sendMany(burst, resolve));
  }
  for (let i = 0; i < 5; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    await new Promise((resolve) => socket.send('end', port, GROUP, resolve));
  }
  socket.close();
}

async function round(kind: Kind): Promise<{ received: number; cpuMicros: number }> {
  const child = spawn(process.execPath, [...process.execArgv, self, 'receiver', kind], { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  const ready = new Promise<number>((resolve) => {
    child.stdout.on('data', (chunk) => {
      output += chunk;
      const match = /ready (\d+)/.exec(output);
      if (match) resolve(Number(match[1]));
    });
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  await flood(await ready);
  await exited;
  return JSON.parse(output.trim().split('\n').at(-1)!);
}

if (role === 'receiver') {
  await receive(kind as Kind);
} else if (process.getuid?.() !== 0) {
  console.log('multicast bench skipped: it needs root to make a network namespace');
} else if (process.env.UDPKIT_BENCH_NETNS !== '1') {
  const setup = 'ip link set lo up && ip link set lo multicast on && ip route add 224.0.0.0/4 dev lo';
  execFileSync('unshare', ['-n', 'sh', '-c', `${setup} && exec "$0" "$@"`, process.execPath, ...process.execArgv, self], {
    stdio: 'inherit',
    env: { ...process.env, UDPKIT_BENCH_NETNS: '1' },
  });
} else {
  const results = new Map<Kind, { received: number; cpuMicros: number }[]>(KINDS.map((k) => [k, []]));
  for (let r = 0; r < ROUNDS; r++) for (const k of KINDS) results.get(k)!.push(await round(k));
  const perDatagram = (k: Kind) => {
    const runs = results.get(k)!.map((x) => x.cpuMicros / x.received).sort((a, b) => a - b);
    return runs[Math.floor(runs.length / 2)]!;
  };
  const base = perDatagram('node:dgram');
  console.log(`receive ${COUNT} x 64 B from ${GROUP} at ${RATE}/s, median of ${ROUNDS} rounds (backend ${process.env.UDPKIT_BACKEND ?? 'default'})`);
  console.log('| receiver | received | CPU µs/datagram | vs node:dgram |');
  console.log('| --- | --- | --- | --- |');
  for (const k of KINDS) {
    const received = Math.min(...results.get(k)!.map((x) => x.received));
    console.log(`| ${k} | ${received} (min) | ${perDatagram(k).toFixed(2)} | ${(perDatagram(k) / base).toFixed(2)}x |`);
  }
  // The ratios in the shape of @udpkit/core's bench results (CPU per datagram, lower is better).
  const ratios = (['Receiver', '@udpkit/core'] as const).map((k) => ({
    path: 'receive',
    size: 64,
    label: `${k === 'Receiver' ? 'Receiver' : 'core socket'} / node:dgram (CPU per datagram)`,
    metric: 'cpuPerDatagram',
    value: perDatagram(k) / base,
  }));
  const report = {
    date: new Date().toISOString(),
    node: process.version,
    kernel: os.release(),
    cpus: os.cpus().map((c) => c.model),
    loadavg: os.loadavg(),
    backend: defaultBackend(),
    config: { group: GROUP, count: COUNT, rate: RATE, burst: BURST, rounds: ROUNDS },
    ratios,
    cpuMicrosPerDatagram: Object.fromEntries(KINDS.map((k) => [k, perDatagram(k)])),
  };
  writeFileSync(fileURLToPath(new URL('results.json', import.meta.url)), `${JSON.stringify(report, null, 2)}\n`);
  console.log('wrote bench/results.json');
}
