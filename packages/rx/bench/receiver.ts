// One contender of the rx benchmark, run as a child process by bench/run.ts:
//
//   node --import tsx bench/receiver.ts --impl message|rx|feed|batches|consume|mergeMap|fromEvent
//        --backend native|portable --expected 200000 --warmup 20000 --rcvbuf 8388608 --idle 300
//
// Every contender does the same work per datagram: take its length (map),
// keep it if non-zero (filter), and keep a running count (scan); the
// consume and mergeMap contenders count in an async handler instead. Binds
// 127.0.0.1, prints "READY <port>", counts until `expected` came or none
// came for `idle` ms, then prints one JSON line with the CPU time
// (process.cpuUsage(), user + system) of the measured part (after `warmup`).
import type { Buffer } from 'node:buffer';
import nodeDgram from 'node:dgram';
import { parseArgs } from 'node:util';
import { createSocket, type Socket } from '@udpkit/core';
import { fromSocket, fromSocketBatches, mapBatch, udpFeed } from '@udpkit/rx';
import { filter, fromEvent, map, mergeMap, scan, type Observable } from 'rxjs';

const { values } = parseArgs({
  options: {
    impl: { type: 'string' },
    backend: { type: 'string', default: 'native' },
    expected: { type: 'string' },
    warmup: { type: 'string', default: '0' },
    rcvbuf: { type: 'string', default: String(8 * 1024 * 1024) },
    idle: { type: 'string', default: '300' },
  },
});

const expected = Number(values.expected);
const warmup = Number(values.warmup);
const idleMs = Number(values.idle);
const backend = values.backend === 'portable' ? 'portable' : 'native';

let received = 0;
let measuredFrom = -1;
let cpu = process.cpuUsage();
let start = process.hrtime.bigint();
let last = start;

/** Called with the running count after each datagram (or batch). */
function counted(count: number): void {
  received = count;
  if (measuredFrom < 0 && received >= warmup) {
    measuredFrom = received;
    cpu = process.cpuUsage();
    start = process.hrtime.bigint();
  }
  if (received >= expected) {
    last = process.hrtime.bigint();
    finish();
  }
}

const pipeline = (lengths: Observable<number>) =>
  lengths.pipe(
    filter((length) => length > 0),
    scan((count) => count + 1, 0),
  );

let socket: Socket | nodeDgram.Socket;
switch (values.impl) {
  case 'message': {
    // The same work without RxJS: a plain 'message' listener.
    const s = createSocket({ type: 'udp4', backend });
    let count = 0;
    s.on('message', (msg: Buffer) => {
      const length = msg.length;
      if (length > 0) counted(++count);
    });
    socket = s;
    break;
  }
  case 'rx': {
    const s = createSocket({ type: 'udp4', backend });
    pipeline(fromSocket(s).pipe(map((d) => d.data.length))).subscribe(counted);
    socket = s;
    break;
  }
  case 'feed': {
    const s = createSocket({ type: 'udp4', backend });
    pipeline(udpFeed(s).datagrams$.pipe(map((d) => d.data.length))).subscribe(counted);
    socket = s;
    break;
  }
  case 'batches': {
    const s = createSocket({ type: 'udp4', backend });
    let count = 0;
    fromSocketBatches(s)
      .pipe(mapBatch((data) => data.length))
      .subscribe((lengths) => {
        for (let i = 0; i < lengths.length; i++) if (lengths[i]! > 0) count++;
        counted(count);
      });
    socket = s;
    break;
  }
  case 'consume': {
    // The demand path: an async handler per datagram, 64 at once, through udpFeed.
    const s = createSocket({ type: 'udp4', backend });
    const feed = udpFeed(s);
    let count = 0;
    feed.datagrams$
      .pipe(
        map((d) => d.data.length),
        filter((length) => length > 0),
        feed.consume(async () => counted(++count), { concurrency: 64 }),
      )
      .subscribe();
    socket = s;
    break;
  }
  case 'mergeMap': {
    // The same with plain RxJS: mergeMap queues without bound instead of pausing.
    const s = createSocket({ type: 'udp4', backend });
    let count = 0;
    fromSocket(s)
      .pipe(
        map((d) => d.data.length),
        filter((length) => length > 0),
        mergeMap(async () => counted(++count), 64),
      )
      .subscribe();
    socket = s;
    break;
  }
  case 'fromEvent': {
    const s = nodeDgram.createSocket('udp4');
    // fromEvent emits the listener's arguments as an array when there are several.
    pipeline(fromEvent<[Buffer, nodeDgram.RemoteInfo]>(s, 'message').pipe(map(([msg]) => msg.length))).subscribe(counted);
    socket = s;
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
  socket.close();
  const measured = measuredFrom < 0 ? 0 : received - measuredFrom;
  process.stdout.write(
    `${JSON.stringify({ impl: values.impl, received, measured, cpuUs: used.user + used.system, userUs: used.user, wallUs: Math.round(Number(last - start) / 1000) })}\n`,
  );
}

// Stop when nothing came for `idleMs` after the first datagram (the rest was dropped).
let seen = 0;
let quietSince = Date.now();
const idleCheck = setInterval(() => {
  if (received !== seen || received === 0) {
    seen = received;
    quietSince = Date.now();
    last = process.hrtime.bigint();
  } else if (Date.now() - quietSince >= idleMs) {
    finish();
  }
}, Math.max(10, idleMs / 4));

socket.once('error', (error: Error) => {
  throw error;
});
socket.bind(0, '127.0.0.1', () => {
  socket.setRecvBufferSize(Number(values.rcvbuf));
  process.stdout.write(`READY ${socket.address().port}\n`);
});
