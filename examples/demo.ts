// `pnpm demo`: a UDP feed end to end, on loopback, for a few seconds.
//
// A publisher sends 64-byte ticks in bursts with sendMany; an RxJS consumer
// (udpFeed + consume from @udpkit/rx) handles each tick with async work, and
// its pace is the feed's demand: when the consumer falls behind, the feed
// pauses the socket and the kernel buffer holds the rest. A live line shows
// the rate, what was delivered, the drops by kind (by the library's strategy,
// by the kernel for lack of buffer) and the backend; a summary ends it.
//
//   tsx demo.ts [--seconds 5] [--rate 30000] [--strategy pause|latest|drop-oldest]
//
// Ctrl-C stops the publisher early; the summary still comes.
// Exits 0 when ticks were delivered and nothing failed, 1 otherwise.
import { parseArgs } from 'node:util';
import { createSocket, nativeLoadError, type Socket } from '@udpkit/core';
import { udpFeed, type FeedCounters, type Strategy } from '@udpkit/rx';
import { filter, map, Subject, takeUntil } from 'rxjs';
import { ProgressLine } from './progress-line.js';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    rate: { type: 'string', default: '30000' },
    strategy: { type: 'string', default: 'pause' },
  },
});
const SECONDS = Number(args.seconds);
const RATE = Number(args.rate); // ticks per second the publisher aims at
const strategies: Record<string, Strategy> = { pause: 'pause', latest: 'latest', 'drop-oldest': { buffer: 4096, overflow: 'drop-oldest' } };
const strategy = strategies[args.strategy];
if (!(SECONDS > 0 && SECONDS <= 600)) usage(`--seconds must be in (0, 600], got ${args.seconds}`);
if (!(RATE > 0 && RATE <= 10_000_000)) usage(`--rate must be in (0, 10000000], got ${args.rate}`);
if (!strategy) usage(`--strategy must be pause, latest or drop-oldest, got ${args.strategy}`);

function usage(problem: string): never {
  console.error(`${problem}\nusage: demo.ts [--seconds 5] [--rate 30000] [--strategy pause|latest|drop-oldest]`);
  process.exit(2);
}

const TICK_BYTES = 64;
const PUBLISH_EVERY_MS = 10;
const MAX_BURST = 1024; // one sendmmsg on the native backend
const SETTLE_QUIET_MS = 500; // the feed is settled once nothing moved for this long
const SETTLE_LIMIT_MS = 5000;

const progress = new ProgressLine(process.stdout);
const feed = udpFeed({ address: '127.0.0.1', recvBufferSize: 8 * 1024 * 1024, onListening: publish }, { strategy });
const stop = new Subject<void>();
let failure: unknown;

// The consumer: parse each tick, keep the instruments it follows, and
// update a running average price per instrument as if it were stored
// remotely: 1 ms of async work per tick, 64 at a time. That is about as fast
// as the publisher's default rate, and at times slower: the feed pauses the
// socket then (the "paused" count). Try --rate 60000 to see the kernel drop
// what its buffer can't hold, counted as kernel drops.
const averages = new Map<number, { count: number; mean: number }>();
const consumed = new Promise<void>((resolve) =>
  feed.datagrams$
    .pipe(
      map(({ data }) => ({ instrument: data.readUInt16BE(4), price: data.readDoubleBE(8) })),
      filter((tick) => tick.instrument < 1000),
      feed.consume(async (tick) => {
        await new Promise((done) => setTimeout(done, 1));
        const average = averages.get(tick.instrument) ?? { count: 0, mean: 0 };
        average.count++;
        average.mean += (tick.price - average.mean) / average.count;
        averages.set(tick.instrument, average);
      }, { concurrency: 64 }),
      takeUntil(stop),
    )
    .subscribe({ complete: resolve, error: (error) => ((failure = error), resolve()) }),
);

// The publisher: every 10 ms, the ticks due by now at RATE, in one sendMany.
let sent = 0;
let publishing = true;
let started = performance.now();
let backend = '-';
let live: NodeJS.Timeout | undefined;
let stopPublisher = () => {};
// Ctrl-C ends the run early, with its summary; another one a second later
// ends it at once. (Within that second it is the same Ctrl-C: a terminal
// signals every process of the command, and tsx passes its copy on too.)
let interrupted = 0;
process.on('SIGINT', () => {
  if (!interrupted) interrupted = performance.now();
  else if (performance.now() - interrupted > 1000) process.exit(130);
});
function publish(receiver: Socket): void {
  backend = receiver.backend;
  const publisher = createSocket('udp4');
  const port = receiver.address().port;
  progress.print(
    `udpkit demo: ${SECONDS} s of ${TICK_BYTES}-byte ticks at ${RATE.toLocaleString('en')}/s, sendMany to 127.0.0.1:${port}, ` +
      `consumed by udpFeed + consume (strategy ${args.strategy}); backend ${receiver.backend}` +
      (nativeLoadError ? ` (native helper unavailable: ${nativeLoadError.message})` : ''),
  );
  started = performance.now();
  live = setInterval(() => progress.show(status()), progress.intervalMs);
  let inFlight = false;
  const timer = setInterval(() => {
    // One sendMany at a time; the last one completes before the socket closes.
    if (inFlight) return;
    const elapsed = performance.now() - started;
    if (elapsed >= SECONDS * 1000 || interrupted) {
      stopPublisher();
      settle();
      return;
    }
    const due = Math.min(MAX_BURST, Math.floor((elapsed / 1000) * RATE) - sent);
    if (due <= 0) return;
    const messages = [];
    for (let i = 0; i < due; i++) messages.push({ data: tick(sent + i), port, address: '127.0.0.1' });
    inFlight = true;
    publisher.sendMany(messages, (error, count) => {
      inFlight = false;
      sent += count;
      if (error) failure ??= error;
    });
  }, PUBLISH_EVERY_MS);
  stopPublisher = () => {
    clearInterval(timer);
    if (!publishing) return;
    publishing = false;
    publisher.close();
  };
}

function tick(seq: number): Buffer {
  const data = Buffer.alloc(TICK_BYTES);
  data.writeUInt32BE(seq, 0);
  data.writeUInt16BE(seq % 1200, 4);
  data.writeDoubleBE(100 + Math.sin(seq / 100), 8);
  return data;
}

// Once the publisher stopped: wait until every tick is delivered or counted
// as dropped, or nothing moved for a while (the rest was lost where nobody
// can count it), then end the consumer.
function settle(): void {
  const since = performance.now();
  let quietSince = since;
  let previous = -1;
  const check = setInterval(() => {
    const c = feed.counters();
    const accounted = accountedFor(c);
    if (accounted !== previous) (previous = accounted), (quietSince = performance.now());
    const now = performance.now();
    if ((accounted >= sent && c.queueLength === 0) || now - quietSince > SETTLE_QUIET_MS || now - since > SETTLE_LIMIT_MS) {
      clearInterval(check);
      stop.next();
    }
  }, 20);
}

/** Ticks delivered to the pipeline or counted as dropped, by the strategy or by the kernel. */
function accountedFor(c: FeedCounters): number {
  return c.delivered + c.libraryDrops + c.kernelDrops;
}

// The live line.
let lastTime = performance.now();
let lastDelivered = 0;
function status(): string {
  const c = feed.counters();
  const now = performance.now();
  const rate = ((c.delivered - lastDelivered) * 1000) / Math.max(1, now - lastTime);
  lastTime = now;
  lastDelivered = c.delivered;
  const elapsed = Math.min(SECONDS, (now - started) / 1000);
  // What matters most comes first: a narrow terminal cuts the end of the line.
  return (
    `${elapsed.toFixed(1).padStart(5)} s  backend ${backend}  ${Math.round(rate).toLocaleString('en').padStart(7)}/s  ` +
    `delivered ${c.delivered.toLocaleString('en')}  drops: library ${c.libraryDrops}, kernel ${c.kernelDrops}  ` +
    `paused ${c.pauses}x  queue ${c.queueLength}${publishing ? '' : '  (draining)'}`
  );
}

await consumed;
stopPublisher(); // already stopped, unless the feed failed first
clearInterval(live);
progress.show(status());
progress.end();

const c = feed.counters();
const seconds = (performance.now() - started) / 1000;
const unaccounted = sent - accountedFor(c);
console.log(
  `summary: ${seconds.toFixed(1)} s, backend ${backend}, strategy ${args.strategy}, ` +
    `sent ${sent}, delivered ${c.delivered}, library drops ${c.libraryDrops}, kernel drops ${c.kernelDrops}, unaccounted ${unaccounted}, ` +
    `paused ${c.pauses}x, queue peak ${c.queuePeak}, ${Math.round(c.delivered / seconds).toLocaleString('en')} delivered/s, ` +
    `${averages.size} instruments averaged`,
);
if (unaccounted > 0) {
  console.log(
    backend === 'native'
      ? `unaccounted: dropped by the kernel while its buffer was full; it reports drops on the next datagram it queues, and none came after them`
      : `unaccounted: dropped by the kernel, whose counter the portable backend can't read`,
  );
}
if (failure !== undefined) {
  console.error('failed:', failure);
  process.exitCode = 1;
} else if (c.delivered === 0) {
  console.error('failed: nothing was delivered');
  process.exitCode = 1;
}
