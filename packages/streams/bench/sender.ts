// One send-path contender, run as a child process by bench/run.ts (inside the
// bench's network namespace):
//
//   node --import tsx bench/sender.ts --impl dgram|writable|batches|sendMany|sendManyPlain|noop --address 192.0.2.2 --size 64 --count 200000 --warmup 20000
//
// Sends `count` datagrams of `size` bytes as fast as its loop allows and
// prints one JSON line: measured datagrams, CPU and wall microseconds of the
// measured part (after the first `warmup`), errors, and for @udpkit/core
// sockets the share of the datagrams that left in UDP_SEGMENT (GSO) sends.
//
// - dgram:         node:dgram, 64 send() calls per tick, then wait for their callbacks;
// - writable:      @udpkit/streams, a writer that writes while desiredSize > 0 and awaits ready;
// - batches:       @udpkit/streams, the same writer writing arrays of 64 messages;
// - sendMany:      @udpkit/core, one sendMany() of 64 per round, GSO on (the default);
// - sendManyPlain: the same with `gso: false`: one sendmmsg entry per datagram;
// - noop:          the writer of `writable` on a WritableStream whose sink does
//                  nothing: what Node's streams cost per chunk, no socket at all.
import { Buffer } from 'node:buffer';
import nodeDgram from 'node:dgram';
import { parseArgs } from 'node:util';
import { createSocket, type Socket } from '@udpkit/core';
import { fromSocket } from '@udpkit/streams';

const { values } = parseArgs({
  options: {
    impl: { type: 'string' },
    address: { type: 'string' },
    port: { type: 'string', default: '9' },
    size: { type: 'string', default: '64' },
    count: { type: 'string', default: '200000' },
    warmup: { type: 'string', default: '20000' },
  },
});
const address = values.address!;
const port = Number(values.port);
const count = Number(values.count);
const warmup = Number(values.warmup);
const WINDOW = 64;
const payload = Buffer.alloc(Number(values.size), 'x');

let cpu = process.cpuUsage();
let start = process.hrtime.bigint();
let errors = 0;
let result: Record<string, unknown> | undefined;
/** The measurement ends once every datagram was handed to the kernel (before closing). */
const measured = () => {
  const used = process.cpuUsage(cpu);
  const wallUs = Number(process.hrtime.bigint() - start) / 1000;
  result = { impl: values.impl, measured: count - warmup, cpuUs: used.user + used.system, userUs: used.user, wallUs: Math.round(wallUs), errors };
};
/** The share of the datagrams `socket` sent in UDP_SEGMENT sends (read after measured()). */
const gsoShare = (socket: Socket) => {
  const { gsoSegments, datagramsSent } = socket.stats();
  result!.gsoShare = datagramsSent ? gsoSegments / datagramsSent : 0;
};
/** A core socket bound to the wildcard address, GSO as `gso` says. */
async function coreSocket(gso: boolean): Promise<Socket> {
  const socket = createSocket({ type: 'udp4', gso });
  await new Promise<void>((resolve) => socket.bind(0, resolve));
  return socket;
}
const mark = () => {
  cpu = process.cpuUsage();
  start = process.hrtime.bigint();
};

/** Runs `round(n)` (which sends n datagrams and resolves once they are handed over) until `count` went. */
async function loop(round: (n: number) => Promise<void>): Promise<void> {
  let issued = 0;
  let measuring = warmup === 0;
  while (issued < count) {
    if (!measuring && issued >= warmup) {
      measuring = true;
      mark();
    }
    const n = Math.min(WINDOW, count - issued);
    issued += n;
    await round(n);
  }
}

switch (values.impl) {
  case 'dgram': {
    const socket = nodeDgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, resolve));
    await loop(
      (n) =>
        new Promise((resolve) => {
          let pending = n;
          const onSent = (error: Error | null) => {
            if (error) errors++;
            if (--pending === 0) resolve();
          };
          for (let i = 0; i < n; i++) socket.send(payload, port, address, onSent);
        }),
    );
    measured();
    socket.close();
    break;
  }
  case 'sendMany':
  case 'sendManyPlain': {
    const socket = await coreSocket(values.impl === 'sendMany');
    const messages = Array.from({ length: WINDOW }, () => ({ data: payload, port, address }));
    await loop(
      (n) =>
        new Promise((resolve) =>
          socket.sendMany(n === WINDOW ? messages : messages.slice(0, n), (error, sent) => {
            if (error) errors += n - sent;
            resolve();
          }),
        ),
    );
    measured();
    gsoShare(socket);
    socket.close();
    break;
  }
  case 'writable':
  case 'noop': {
    // fromSocket over a core socket: the UDPSocket's streams, with the socket's stats at hand.
    const socket = values.impl === 'writable' ? await coreSocket(true) : undefined;
    const pair = socket && fromSocket(socket, { writableHighWaterMark: WINDOW });
    const writable = pair?.writable ?? new WritableStream({ write() {} }, { highWaterMark: WINDOW });
    const writer = writable.getWriter();
    const chunk = { data: payload, remoteAddress: address, remotePort: port };
    // The writer's own pace: write while the stream wants more, else wait for ready.
    await loop(async (n) => {
      for (let i = 0; i < n; i++) {
        if (writer.desiredSize! <= 0) await writer.ready;
        // A failed write errors the stream: writer.close() below rejects with it.
        void writer.write(chunk);
      }
    });
    await writer.close();
    measured();
    writer.releaseLock();
    if (socket) gsoShare(socket);
    await pair?.close();
    break;
  }
  case 'batches': {
    const socket = await coreSocket(true);
    const pair = fromSocket(socket, { writableHighWaterMark: WINDOW });
    const writer = pair.writable.getWriter();
    const batch = Array.from({ length: WINDOW }, () => ({ data: payload, remoteAddress: address, remotePort: port }));
    await loop(async (n) => {
      if (writer.desiredSize! <= 0) await writer.ready;
      void writer.write(n === WINDOW ? batch : batch.slice(0, n));
    });
    await writer.close();
    measured();
    writer.releaseLock();
    gsoShare(socket);
    await pair.close();
    break;
  }
  default:
    throw new Error(`unknown --impl ${values.impl}`);
}

process.stdout.write(`${JSON.stringify(result)}\n`);
