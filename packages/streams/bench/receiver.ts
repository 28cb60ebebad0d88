// One receive-path contender, run as a child process by bench/run.ts:
//
//   node --import tsx bench/receiver.ts --impl message|readable|dgram --expected 200000 --warmup 20000
//
// Binds 127.0.0.1, asks for an 8 MB receive buffer, prints "READY <port>",
// counts datagrams (and bytes) with as little work as it can, and stops when
// `expected` came or none came for `idle` ms. Prints one JSON line: received,
// measured (after `warmup`), CPU and wall microseconds of the measured part.
//
// - message:  @udpkit/core, a raw 'message' listener;
// - readable: @udpkit/streams, UDPSocket's readable piped into a counting WritableStream;
// - batches:  @udpkit/streams, fromSocket({ readableBatches: true }) piped into a counting WritableStream;
// - dgram:    node:dgram, a 'message' listener (for reference).
import nodeDgram from 'node:dgram';
import { parseArgs } from 'node:util';
import { createSocket } from '@udpkit/core';
import { fromSocket, UDPSocket, type UDPMessage } from '@udpkit/streams';

const { values } = parseArgs({
  options: {
    impl: { type: 'string' },
    expected: { type: 'string' },
    warmup: { type: 'string', default: '0' },
    idle: { type: 'string', default: '300' },
  },
});
const expected = Number(values.expected);
const warmup = Number(values.warmup);
const idleMs = Number(values.idle);
const RCVBUF = 8 * 1024 * 1024;

let received = 0;
let bytes = 0;
let measuredFrom = warmup === 0 ? 0 : -1;
let cpu = process.cpuUsage();
let start = process.hrtime.bigint();
let last = start;
let threshold = warmup === 0 ? expected : warmup;
let stop: () => void = () => {};

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

let finished = false;
function finish(): void {
  if (finished) return;
  finished = true;
  const used = process.cpuUsage(cpu);
  clearInterval(idleCheck);
  process.stdout.write(
    `${JSON.stringify({
      impl: values.impl,
      received,
      measured: measuredFrom < 0 ? 0 : received - measuredFrom,
      cpuUs: used.user + used.system,
      userUs: used.user,
      wallUs: Math.round(Number(last - start) / 1000),
      bytes,
    })}\n`,
  );
  stop();
}

switch (values.impl) {
  case 'message': {
    const socket = createSocket('udp4');
    socket.on('message', (msg) => {
      bytes += msg.length;
      if (++received >= threshold) counted();
    });
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    socket.setRecvBufferSize(RCVBUF);
    stop = () => socket.close();
    process.stdout.write(`READY ${socket.address().port}\n`);
    break;
  }
  case 'dgram': {
    const socket = nodeDgram.createSocket('udp4');
    socket.on('message', (msg) => {
      bytes += msg.length;
      if (++received >= threshold) counted();
    });
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    socket.setRecvBufferSize(RCVBUF);
    stop = () => socket.close();
    process.stdout.write(`READY ${socket.address().port}\n`);
    break;
  }
  case 'readable': {
    const socket = new UDPSocket({ localAddress: '127.0.0.1', receiveBufferSize: RCVBUF });
    const { readable, localPort } = await socket.opened;
    const counter = new WritableStream<UDPMessage>({
      write(message) {
        bytes += message.data.byteLength;
        if (++received >= threshold) counted();
      },
    });
    const done = new AbortController();
    void readable.pipeTo(counter, { signal: done.signal }).catch(() => {});
    stop = () => done.abort();
    process.stdout.write(`READY ${localPort}\n`);
    break;
  }
  case 'batches': {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    socket.setRecvBufferSize(RCVBUF);
    const { readable } = fromSocket(socket, { readableBatches: true });
    const counter = new WritableStream<UDPMessage[]>({
      write(batch) {
        for (const message of batch) bytes += message.data.byteLength;
        received += batch.length;
        if (received >= threshold) counted();
      },
    });
    const done = new AbortController();
    void readable.pipeTo(counter, { signal: done.signal }).catch(() => {});
    stop = () => done.abort();
    process.stdout.write(`READY ${socket.address().port}\n`);
    break;
  }
  default:
    throw new Error(`unknown --impl ${values.impl}`);
}

// Stop when nothing came for `idleMs` after the first datagram.
let seen = 0;
let quietSince = Date.now();
const idleCheck = setInterval(
  () => {
    if (received !== seen || received === 0) {
      seen = received;
      quietSince = Date.now();
      last = process.hrtime.bigint();
    } else if (Date.now() - quietSince >= idleMs) {
      finish();
    }
  },
  Math.max(10, idleMs / 4),
);
