// A market-data-style feed: a publisher sends ticks with sendMany, an RxJS
// consumer handles each with async work, and its pace reaches the socket.
// Prints a live line four times a second and a summary at the end.
//
//   tsx rx-feed.ts [pause | latest | drop-oldest]     (default: pause)
//
// 'pause' loses nothing while the kernel buffer has room; the lossy
// strategies keep the consumer on fresh data and count what they drop.
import { createSocket, type Socket } from '@udpkit/core';
import { udpFeed, type Strategy } from '@udpkit/rx';
import { filter, map, Subject, takeUntil } from 'rxjs';

const TICKS = 10_000;
const BURST = 500; // ticks per sendMany
const BURST_EVERY_MS = 25; // 20k ticks/s: faster than the consumer below
const strategies: Record<string, Strategy> = { pause: 'pause', latest: 'latest', 'drop-oldest': { buffer: 1000, overflow: 'drop-oldest' } };
const name = process.argv[2] ?? 'pause';
const strategy = strategies[name];
if (!strategy) throw new Error(`unknown strategy ${name}: pause, latest or drop-oldest`);

// The consumer: parse, keep the instruments we follow, and "store" each
// tick (1 ms of async work, 16 at a time: about 12k ticks/s at best).
const feed = udpFeed({ address: '127.0.0.1', recvBufferSize: 8 * 1024 * 1024, onListening: publish }, { strategy });
const stop = new Subject<void>();
let stored = 0;
const done = new Promise<void>((resolve) =>
  feed.datagrams$
    .pipe(
      map(({ data }) => ({ seq: data.readUInt32BE(0), instrument: data.readUInt8(4), price: data.readDoubleBE(8) })),
      filter((tick) => tick.instrument < 200),
      feed.consume(async (tick) => {
        await new Promise((r) => setTimeout(r, 1));
        stored++;
        return tick.seq;
      }, { concurrency: 16 }),
      takeUntil(stop),
    )
    .subscribe({ complete: resolve, error: (error) => { console.error(error); process.exitCode = 1; resolve(); } }),
);

let started = Date.now();
let lastDelivered = 0;
const live = feed.stats$(250).subscribe(({ feed: c, socket }) => {
  const rate = ((c.delivered - lastDelivered) * 4).toLocaleString('en');
  lastDelivered = c.delivered;
  console.log(
    `${rate.padStart(7)}/s  delivered ${c.delivered}  drops: library ${c.libraryDrops}, kernel ${c.kernelDrops}  queue ${c.queueLength}  paused ${c.pauses}x  backend ${feed.socket?.backend ?? '-'}  received by socket ${socket?.datagramsReceived ?? 0}`,
  );
});

// The publisher: bursts of ticks in one sendMany each.
let sent = 0;
function publish(receiver: Socket): void {
  const publisher = createSocket('udp4');
  const port = receiver.address().port;
  started = Date.now();
  const timer = setInterval(() => {
    const messages = [];
    for (let i = 0; i < BURST && sent + i < TICKS; i++) {
      const data = Buffer.alloc(64);
      data.writeUInt32BE(sent + i, 0);
      data.writeUInt8((sent + i) % 256, 4);
      data.writeDoubleBE(100 + Math.sin(sent + i), 8);
      messages.push({ data, port, address: '127.0.0.1' });
    }
    publisher.sendMany(messages, (error, count) => {
      if (error) throw error;
      sent += count;
      if (sent < TICKS) return;
      clearInterval(timer);
      publisher.close();
      whenSettled();
    });
  }, BURST_EVERY_MS);
}

// Every tick is delivered or counted as dropped (or nothing moves for 500 ms: the
// rest was lost where nobody can count it), then the consumer stops.
function whenSettled(): void {
  let previous = -1;
  let quietSince = Date.now();
  const check = setInterval(() => {
    const c = feed.counters();
    const accounted = c.delivered + c.libraryDrops + c.kernelDrops;
    if (accounted !== previous) (previous = accounted), (quietSince = Date.now());
    if ((accounted >= TICKS && c.queueLength === 0) || Date.now() - quietSince > 500) {
      clearInterval(check);
      stop.next();
    }
  }, 20);
}

await done;
live.unsubscribe();
const c = feed.counters();
const seconds = (Date.now() - started) / 1000;
console.log(
  `summary: strategy ${name}, sent ${sent}, delivered ${c.delivered}, library drops ${c.libraryDrops}, kernel drops ${c.kernelDrops}, ` +
    `unaccounted ${sent - c.delivered - c.libraryDrops - c.kernelDrops}, stored ${stored}, paused ${c.pauses}x, queue peak ${c.queuePeak}, ` +
    `${Math.round(c.delivered / seconds)} delivered/s`,
);
