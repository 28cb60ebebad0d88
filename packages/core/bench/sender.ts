// One send-path contender, run as a child process by bench/run.ts (inside
// the bench's network namespace):
//
//   node --import tsx bench/sender.ts --impl dgram|send|sendMany|sendGso|sendManyGso|sendSegments --backend native|portable
//        --address 192.0.2.2 --port 9 --size 64 --count 200000 --warmup 20000 --window 64
//
// Sends `count` datagrams of `size` bytes as fast as the loop below allows and
// prints one JSON line: datagrams sent, measured datagrams, CPU microseconds
// (process.cpuUsage(), user + system, all threads) and wall microseconds of
// the measured part (everything after the first `warmup` datagrams, so the
// JIT has warmed up).
//
// The loop is the same for every contender: issue a window of `window`
// datagrams in one tick (`window` send() calls, or one sendMany() of
// `window` messages), wait until every callback of the window ran, repeat.
// The window keeps memory flat and, for udpkit's send(), is the batch the
// native backend coalesces into one sendmmsg. `send` and `sendMany` run
// with `gso: false` (one datagram per sendmmsg entry, as the C sendmmsg
// reference); `sendGso` and `sendManyGso` with GSO on (a window to one
// destination leaves as one UDP_SEGMENT send); `sendSegments` sends each
// window as one buffer of `window` datagrams.
import { Buffer } from 'node:buffer';
import nodeDgram from 'node:dgram';
import { parseArgs } from 'node:util';
import { createSocket, type OutgoingMessage } from '@udpkit/core';

const { values } = parseArgs({
  options: {
    impl: { type: 'string' },
    backend: { type: 'string', default: 'native' },
    address: { type: 'string' },
    port: { type: 'string', default: '9' },
    size: { type: 'string', default: '64' },
    count: { type: 'string', default: '200000' },
    warmup: { type: 'string', default: '20000' },
    window: { type: 'string', default: '64' },
  },
});

const impl = values.impl;
const address = values.address;
if (!address) throw new Error('--address is required');
const port = Number(values.port);
const size = Number(values.size);
const count = Number(values.count);
const warmup = Number(values.warmup);
const window = Number(values.window);
const backend = values.backend === 'portable' ? 'portable' : 'native';

interface Sender {
  /** Sends `n` datagrams in this tick; calls `done(errors)` once all their callbacks ran. */
  sendWindow(n: number, done: (errors: number) => void): void;
  close(): void;
}

const payload = Buffer.alloc(size, 'x');

/** node:dgram and udpkit share this one: the drop-in API. */
function perDatagram(socket: Pick<nodeDgram.Socket, 'send' | 'close'>): Sender {
  let pending = 0;
  let errors = 0;
  let done: (errors: number) => void = () => {};
  const onSent = (error: Error | null) => {
    if (error) errors++;
    if (--pending === 0) done(errors);
  };
  return {
    sendWindow(n, callback) {
      pending = n;
      errors = 0;
      done = callback;
      for (let i = 0; i < n; i++) socket.send(payload, port, address, onSent);
    },
    close: () => socket.close(),
  };
}

function batched(socket: ReturnType<typeof createSocket>): Sender {
  const messages: OutgoingMessage[] = Array.from({ length: window }, () => ({ data: payload, port, address }));
  return {
    sendWindow(n, callback) {
      const batch = n === messages.length ? messages : messages.slice(0, n);
      socket.sendMany(batch, (error, sent) => callback(error ? n - sent : 0));
    },
    close: () => socket.close(),
  };
}

function segmented(socket: ReturnType<typeof createSocket>): Sender {
  const buffer = Buffer.alloc(size * window, 'x');
  return {
    sendWindow(n, callback) {
      const data = n === window ? buffer : buffer.subarray(0, n * size);
      socket.sendSegments(data, size, port, address!, (error, sent) => callback(error ? n - sent : 0));
    },
    close: () => socket.close(),
  };
}

async function bound<S extends { bind(port: number, cb: () => void): unknown; once(e: 'error', l: (e: Error) => void): unknown }>(
  socket: S,
): Promise<S> {
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, resolve);
  });
  return socket;
}

/** The udpkit socket, for its GSO counters in the result. */
let udpkitSocket: ReturnType<typeof createSocket> | undefined;

/** A GSO contender whose socket can't do GSO would measure something else: fail loudly. */
function checkGso(socket: ReturnType<typeof createSocket>, gso: boolean): ReturnType<typeof createSocket> {
  const { state, reason } = socket.features.gso;
  if (gso && state !== 'on') throw new Error(`GSO is ${state}: ${reason}`);
  udpkitSocket = socket;
  return socket;
}

async function makeSender(): Promise<{ sender: Sender; label: string }> {
  switch (impl) {
    case 'dgram':
      return { sender: perDatagram(await bound(nodeDgram.createSocket('udp4'))), label: 'node:dgram' };
    case 'send':
    case 'sendGso': {
      const gso = impl === 'sendGso';
      const socket = await bound(createSocket({ type: 'udp4', backend, gso }));
      return { sender: perDatagram(checkGso(socket, gso)), label: `udpkit ${socket.backend} send()${gso ? ' GSO' : ''}` };
    }
    case 'sendMany':
    case 'sendManyGso': {
      const gso = impl === 'sendManyGso';
      const socket = await bound(createSocket({ type: 'udp4', backend, gso }));
      return { sender: batched(checkGso(socket, gso)), label: `udpkit ${socket.backend} sendMany()${gso ? ' GSO' : ''}` };
    }
    case 'sendSegments': {
      const socket = await bound(createSocket({ type: 'udp4', backend, gso: true }));
      return { sender: segmented(checkGso(socket, true)), label: `udpkit ${socket.backend} sendSegments()` };
    }
    default:
      throw new Error(`unknown --impl ${impl}`);
  }
}

const { sender, label } = await makeSender();

const result = await new Promise<Record<string, unknown>>((resolve) => {
  let issued = 0;
  let errors = 0;
  let measuredFrom = warmup === 0 ? 0 : -1;
  let cpu = process.cpuUsage();
  let start = process.hrtime.bigint();
  const next = (windowErrors: number) => {
    errors += windowErrors;
    if (measuredFrom < 0 && issued >= warmup) {
      measuredFrom = issued;
      cpu = process.cpuUsage();
      start = process.hrtime.bigint();
    }
    if (issued >= count) {
      const used = process.cpuUsage(cpu);
      const wallUs = Number(process.hrtime.bigint() - start) / 1000;
      resolve({
        impl: label,
        sent: issued - errors,
        measured: issued - measuredFrom,
        cpuUs: used.user + used.system,
        userUs: used.user,
        wallUs: Math.round(wallUs),
        errors,
        gsoSegments: udpkitSocket?.stats().gsoSegments,
        gsoState: udpkitSocket?.features.gso.state,
      });
      return;
    }
    const n = Math.min(window, count - issued);
    issued += n;
    sender.sendWindow(n, next);
  };
  next(0);
});

sender.close();
process.stdout.write(`${JSON.stringify(result)}\n`);
