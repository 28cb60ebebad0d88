// Run by feed-lifetime.test.ts as a child process: a feed that owns its
// socket, with stats$ and a consume() whose handlers never settle, is
// unsubscribed in the way argv[2] says. The process must then exit by
// itself: no listener, socket or timer of @udpkit/rx may keep it alive.
import { createSocket } from '@udpkit/core';
import { udpFeed } from '@udpkit/rx';
import { map, take } from 'rxjs';

const how = process.argv[2];
const feed = udpFeed({ address: '127.0.0.1', onListening: (socket) => send(socket.address().port) });
const stats = feed.stats$(5).subscribe();
const sender = createSocket('udp4');

function send(port: number): void {
  sender.sendMany(Array.from({ length: 200 }, (_, i) => ({ data: `datagram ${i}`, port, address: '127.0.0.1' })));
}

function finish(): void {
  stats.unsubscribe();
  sender.close();
  const { received, delivered, libraryDrops, queueLength } = feed.counters();
  console.log(JSON.stringify({ how, received, delivered, libraryDrops, queueLength, socket: feed.socket === undefined }));
}

const never = () => new Promise<never>(() => {});
if (how === 'take-after-consume') {
  // The consumer settles 3 handlers, then take() unsubscribes everything.
  let settled = 0;
  feed.datagrams$
    .pipe(
      feed.consume(async () => settled++, { concurrency: 4 }),
      take(3),
    )
    .subscribe({ complete: () => queueMicrotask(finish) }); // after take() unsubscribed upstream
} else if (how === 'while-paused') {
  // Handlers never settle: the socket pauses with datagrams queued, then the subscriber leaves.
  const subscription = feed.datagrams$.pipe(map((d) => d.data.length), feed.consume(never, { concurrency: 2 })).subscribe();
  const check = setInterval(() => {
    if (feed.counters().pauses > 0) {
      clearInterval(check);
      subscription.unsubscribe();
      finish();
    }
  }, 5);
} else {
  throw new Error(`unknown mode ${how}`);
}
