// One receive-path contender, run as a child process by bench/run.ts:
//
//   node --import tsx bench/receiver.ts --impl dgram|message|messages|segments --backend native|portable
//        --expected 300000 --warmup 30000 --rcvbuf 8388608 --idle 300 [--gro]
//
// Binds 127.0.0.1 (port chosen by the kernel), asks for a `rcvbuf`-byte
// receive buffer and prints "READY <port> <effective rcvbuf>"; bench/run.ts
// then points the C flood at that port. Counts datagrams (and their bytes)
// with a listener doing the least work possible, and stops when `expected`
// came or none came for `idle` ms. Prints one JSON line: datagrams received
// (all), measured (after the first `warmup`), CPU microseconds of this process
// (process.cpuUsage(), user + system, all threads) and wall microseconds of
// the measured part, up to the last datagram. With --gro, udpkit's socket
// asks for UDP_GRO (and exits with an error if the kernel refused it);
// 'segments' counts the datagrams of each read from its segment size.
import type { Buffer } from 'node:buffer';
import nodeDgram from 'node:dgram';
import { parseArgs } from 'node:util';
import { createSocket } from '@udpkit/core';

const { values } = parseArgs({
  options: {
    impl: { type: 'string' },
    backend: { type: 'string', default: 'native' },
    expected: { type: 'string' },
    warmup: { type: 'string', default: '0' },
    rcvbuf: { type: 'string', default: String(8 * 1024 * 1024) },
    idle: { type: 'string', default: '300' },
    gro: { type: 'boolean', default: false },
  },
});

const expected = Number(values.expected);
const warmup = Number(values.warmup);
const rcvbuf = Number(values.rcvbuf);
const idleMs = Number(values.idle);
const backend = values.backend === 'portable' ? 'portable' : 'native';
const gro = values.gro;

let received = 0;
let bytes = 0;
let measuredFrom = warmup === 0 ? 0 : -1;
let cpu = process.cpuUsage();
let start = process.hrtime.bigint();
let last = start;
/**
 * With --gro the flood outruns the receiver and the run ends by idleness:
 * the wall time then ends at the last batch, stamped by the listener
 * (one clock read per batch of up to 64 x 64 datagrams).
 */
let lastBatch = 0n;
/** The listeners call `counted()` only when `received` reaches this: the warm-up's end, then `expected`. */
let threshold = warmup === 0 ? expected : warmup;

function counted(): void {
  if (measuredFrom < 0) {
    measuredFrom = received;
    cpu = process.cpuUsage();
    start = process.hrtime.bigint();
    threshold = expected;
  }
  if (received >= expected) {
    last = process.hrtime.bigint();
    finish();
  }
}

type AnySocket = nodeDgram.Socket | ReturnType<typeof createSocket>;
let socket: AnySocket;
let label: string;
let kernelDrops = (): number | undefined => undefined;
let batches = (): number | undefined => undefined;

switch (values.impl) {
  case 'dgram': {
    const s = nodeDgram.createSocket('udp4');
    s.on('message', (msg: Buffer) => {
      bytes += msg.length;
      if (++received >= threshold) counted();
    });
    socket = s;
    label = 'node:dgram message';
    break;
  }
  case 'message': {
    const s = createSocket({ type: 'udp4', backend, gro });
    s.on('message', (msg: Buffer) => {
      bytes += msg.length;
      if (++received >= threshold) counted();
    });
    socket = s;
    label = `udpkit ${s.backend} message`;
    kernelDrops = () => s.stats().kernelDrops;
    batches = () => s.stats().receiveBatches;
    break;
  }
  case 'messages': {
    const s = createSocket({ type: 'udp4', backend, gro });
    s.on('messages', (msgs: Buffer[]) => {
      received += msgs.length;
      for (let i = 0; i < msgs.length; i++) bytes += msgs[i]!.length;
      if (gro) lastBatch = process.hrtime.bigint();
      if (received >= threshold) counted();
    });
    socket = s;
    label = `udpkit ${s.backend} messages`;
    kernelDrops = () => s.stats().kernelDrops;
    batches = () => s.stats().receiveBatches;
    break;
  }
  case 'segments': {
    const s = createSocket({ type: 'udp4', backend, gro });
    s.on('segments', (reads: Buffer[], segmentSizes: number[]) => {
      for (let i = 0; i < reads.length; i++) {
        const length = reads[i]!.length;
        received += length > segmentSizes[i]! ? Math.ceil(length / segmentSizes[i]!) : 1;
        bytes += length;
      }
      if (gro) lastBatch = process.hrtime.bigint();
      if (received >= threshold) counted();
    });
    socket = s;
    label = `udpkit ${s.backend} segments`;
    kernelDrops = () => s.stats().kernelDrops;
    batches = () => s.stats().receiveBatches;
    break;
  }
  default:
    throw new Error(`unknown --impl ${values.impl}`);
}

let finished = false;
function finish(): void {
  if (finished) return;
  finished = true;
  const used = process.cpuUsage(cpu);
  clearInterval(idleCheck);
  if (gro && lastBatch > start) last = lastBatch;
  const result = {
    impl: label,
    received,
    measured: measuredFrom < 0 ? 0 : received - measuredFrom,
    cpuUs: used.user + used.system,
        userUs: used.user,
    wallUs: Math.round(Number(last - start) / 1000),
    wakeups: batches(),
    kernelDrops: kernelDrops(),
    bytes,
  };
  socket.close();
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

// Stop when nothing came for `idleMs` after the first datagram (the rest was
// dropped). Checking a counter every idleMs / 4 costs next to nothing.
let seen = 0;
let quietSince = Date.now();
const idleCheck = setInterval(
  () => {
    if (received !== seen || received === 0) {
      seen = received;
      quietSince = Date.now();
      last = process.hrtime.bigint(); // the wall time's end, to idleMs / 4

    } else if (Date.now() - quietSince >= idleMs) {
      finish();
    }
  },
  Math.max(10, idleMs / 4),
);

socket.once('error', (error: Error) => {
  throw error;
});
socket.bind(0, '127.0.0.1', () => {
  socket.setRecvBufferSize(rcvbuf);
  if (gro && 'features' in socket && !socket.features.gro.active) throw new Error(`GRO is off: ${socket.features.gro.reason}`);
  const { port } = socket.address();
  process.stdout.write(`READY ${port} ${socket.getRecvBufferSize()}\n`);
});
