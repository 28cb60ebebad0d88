// The 'pause' strategy: a consumer slower than the feed pushes back to the
// kernel, and nothing is lost while the kernel buffer has room.
import { udpFeed } from '@udpkit/rx';
import { filter, lastValueFrom, map, scan, take, tap, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { delay, sendMany, sendWindowed, seqOf, testSockets, until } from './support/sockets.js';

const sockets = testSockets();
const pair = sockets.pair;

describe("udpFeed, strategy 'pause'", () => {
  it('delivers 50,000 datagrams in order to a slow async consumer (1 ms each, 16 at once), losing none', async () => {
    const COUNT = 50_000;
    const { receiver, sender, port } = await pair();
    const feed = udpFeed(receiver, { strategy: 'pause' });
    const order: number[] = [];
    let handled = 0;
    const done = lastValueFrom(
      feed.datagrams$.pipe(
        map(seqOf),
        feed.consume(
          async (seq: number) => {
            order.push(seq);
            await delay(1);
            handled++;
          },
          { concurrency: 16 },
        ),
        take(COUNT),
        toArray(),
      ),
    );
    // At most 4000 datagrams ahead of the consumer: always behind, never past the kernel buffer.
    const sent = await sendWindowed(sender, port, COUNT, { window: 4000, burst: 500, consumed: () => handled });
    await done;
    expect(sent).toBe(COUNT);
    expect(order.length).toBe(COUNT);
    expect(order.every((seq, i) => seq === i)).toBe(true);
    const counters = feed.counters();
    expect(counters).toMatchObject({ received: COUNT, delivered: COUNT, libraryDrops: 0, kernelDrops: 0, queueLength: 0 });
    // The consumer was the slow side: the socket was paused, and the queue only ever
    // held the rest of the wake-up that found no demand (at most 64 datagrams, one recvmmsg).
    expect(counters.pauses).toBeGreaterThan(0);
    expect(counters.queuePeak).toBeGreaterThan(0);
    expect(counters.queuePeak).toBeLessThanOrEqual(receiver.backend === 'native' ? 64 : 1);
    expect(receiver.isPaused()).toBe(false);
    expect(receiver.listenerCount('messages')).toBe(0);
  }, 120_000);

  it('demand passes through map, filter, scan and tap: values filtered out take no slot', async () => {
    const COUNT = 2000;
    const { receiver, sender, port } = await pair();
    const feed = udpFeed(receiver, { strategy: 'pause' });
    const handled: number[] = [];
    let tapped = 0;
    const sums = lastValueFrom(
      feed.datagrams$.pipe(
        map(seqOf),
        tap(() => tapped++),
        filter((seq) => seq % 2 === 0),
        scan((sum, seq) => sum + seq, 0),
        map((sum) => ({ sum, seq: handled.length * 2 })),
        feed.consume(async ({ sum, seq }: { sum: number; seq: number }) => {
          handled.push(seq);
          await delay(1);
          return sum;
        }),
        take(COUNT / 2),
        toArray(),
      ),
    );
    await sendWindowed(sender, port, COUNT, { window: 1000, burst: 200, consumed: () => tapped });
    const results = await sums;
    // Every even datagram reached the handler, one at a time, in order; the odd ones
    // were dropped by filter() without holding the source back (no stall, no loss).
    expect(handled).toEqual(Array.from({ length: COUNT / 2 }, (_, i) => i * 2));
    expect(results.at(-1)).toBe((COUNT / 2 - 1) * (COUNT / 2));
    const counters = feed.counters();
    expect(counters.kernelDrops).toBe(0);
    // At most datagram 1999, queued behind the last handler when take() ended the stream.
    expect(counters.libraryDrops).toBeLessThanOrEqual(1);
    expect(counters.received).toBe(counters.delivered + counters.libraryDrops);
    expect(counters.pauses).toBeGreaterThan(0);
    expect(counters.queuePeak).toBeLessThanOrEqual(receiver.backend === 'native' ? 64 : 1);
  }, 60_000);

  it('a socket that other code resumes while the feed has it paused is paused again: the queue stays bounded', async () => {
    const { receiver, sender, port } = await pair();
    const feed = udpFeed(receiver, { strategy: 'pause' });
    const subscription = feed.datagrams$.pipe(feed.consume(() => new Promise<never>(() => {}))).subscribe();
    await sendMany(sender, port, 0, 10);
    await until(() => receiver.isPaused(), 10_000, 'the feed to pause');
    receiver.resume(); // say, another listener of the same socket
    await sendMany(sender, port, 10, 1000);
    await until(() => receiver.isPaused() || feed.counters().received === 1000, 10_000, 'the feed to pause again');
    // At most one more wake-up was read before the feed paused the socket again.
    const batch = receiver.backend === 'native' ? 64 : 1;
    expect(receiver.isPaused()).toBe(true);
    expect(feed.counters().queueLength).toBeLessThanOrEqual(2 * batch);
    subscription.unsubscribe();
    expect(receiver.isPaused()).toBe(false);
  });

  it('past the kernel buffer the kernel drops, and kernelDrops counts them where the backend can see them', async () => {
    const { receiver, sender, port } = await pair();
    receiver.setRecvBufferSize(16 * 1024); // room for a few dozen datagrams
    const feed = udpFeed(receiver, { strategy: 'pause' });
    const handled: number[] = [];
    const subscription = feed.datagrams$
      .pipe(
        map(seqOf),
        feed.consume(async (seq: number) => {
          handled.push(seq);
          await delay(1);
        }),
      )
      .subscribe();
    const FLOOD = 3000;
    let sent = await sendMany(sender, port, 0, FLOOD);
    // Then markers, one at a time, until one gets through (while the kernel still
    // holds backlog, the buffer may be full and drop a marker too). The last one
    // delivered carries the kernel's drop count for everything sent before it.
    for (;;) {
      sent += await sendMany(sender, port, sent, sent + 1);
      const marker = sent - 1;
      const through = await until(() => handled.at(-1) === marker, 2000, 'a marker').then(() => true, () => false);
      if (through) break;
      expect(sent).toBeLessThan(FLOOD + 100); // the backlog drains: a marker gets through soon
    }
    subscription.unsubscribe();
    const counters = feed.counters();
    expect(handled.every((seq, i) => i === 0 || seq > handled[i - 1]!)).toBe(true);
    expect(counters.libraryDrops).toBe(0);
    expect(handled.length).toBeLessThan(FLOOD); // the kernel buffer could not hold the flood
    if (receiver.backend === 'native') {
      // SO_RXQ_OVFL: every datagram is accounted for.
      expect(counters.delivered + counters.libraryDrops + counters.kernelDrops).toBe(sent);
    } else {
      // node:dgram can't read SO_RXQ_OVFL: the loss is real but not counted.
      expect(counters.kernelDrops).toBe(0);
    }
  }, 60_000);
});
