// The lossy strategies with a slow consumer: what is dropped is exactly what
// the strategy says, checked by sequence number, and every datagram sent is
// accounted for: sent = delivered + libraryDrops + kernelDrops.
import { BufferOverflowError, udpFeed, type Datagram, type Strategy } from '@udpkit/rx';
import { firstValueFrom, lastValueFrom, map } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { delay, sendMany, seqOf, testSockets, until } from './support/sockets.js';

const sockets = testSockets();
const pair = sockets.pair;

interface Drop {
  seq: number;
  /** The feed's counters as the datagram was dropped. */
  received: number;
  queueLength: number;
}

/** Floods `count` datagrams at a 1 ms-per-datagram consumer; returns what was delivered and dropped. */
async function flood(strategy: Strategy, count: number) {
  const { receiver, sender, port } = await pair();
  const drops: Drop[] = [];
  const feed = udpFeed(receiver, {
    strategy,
    onDrop: (datagram: Datagram) => {
      const { received, queueLength } = feed.counters();
      drops.push({ seq: seqOf(datagram), received, queueLength });
    },
  });
  const delivered: number[] = [];
  let busy = 0;
  const subscription = feed.datagrams$
    .pipe(
      map(seqOf),
      feed.consume(async (seq: number) => {
        busy++;
        delivered.push(seq);
        await delay(1);
        busy--;
      }),
    )
    .subscribe();
  let sent = 0;
  for (let from = 0; from < count; from += 100) sent += await sendMany(sender, port, from, from + 100);
  await until(() => {
    const c = feed.counters();
    return c.delivered + c.libraryDrops + c.kernelDrops === sent && c.queueLength === 0 && busy === 0;
  }, 20_000, 'every datagram to be delivered or dropped');
  const counters = feed.counters();
  subscription.unsubscribe();
  return { sent, delivered, drops, counters };
}

function expectAccounted({ sent, delivered, drops, counters }: Awaited<ReturnType<typeof flood>>): void {
  expect(sent).toBeGreaterThan(0);
  expect(counters.delivered + counters.libraryDrops + counters.kernelDrops).toBe(sent);
  expect(counters.kernelDrops).toBe(0);
  expect(counters.delivered).toBe(delivered.length);
  expect(counters.libraryDrops).toBe(drops.length);
  // Delivered in order; delivered and dropped are disjoint and cover every sequence number.
  expect(delivered.every((seq, i) => i === 0 || seq > delivered[i - 1]!)).toBe(true);
  const all = [...delivered, ...drops.map((d) => d.seq)].sort((a, b) => a - b);
  expect(all).toEqual(Array.from({ length: sent }, (_, i) => i));
  // The consumer was much slower than the flood: the strategy had work to do.
  expect(drops.length).toBeGreaterThan(sent / 2);
}

describe('udpFeed, lossy strategies (slow consumer, 3000 datagrams)', () => {
  it("{ buffer: 50, overflow: 'drop-newest' } drops each newcomer that finds the queue full", async () => {
    const result = await flood({ buffer: 50, overflow: 'drop-newest' }, 3000);
    expectAccounted(result);
    for (const drop of result.drops) {
      expect(drop.queueLength).toBe(50);
      expect(drop.seq).toBe(drop.received - 1); // the one that just came
    }
    // The first datagram went to the consumer and the next 50 filled the queue: all delivered.
    expect(result.delivered.slice(0, 51)).toEqual(Array.from({ length: 51 }, (_, i) => i));
    expect(result.counters.queuePeak).toBe(50);
  });

  it("{ buffer: 50, overflow: 'drop-oldest' } drops the oldest queued datagram to make room", async () => {
    const result = await flood({ buffer: 50, overflow: 'drop-oldest' }, 3000);
    expectAccounted(result);
    for (const drop of result.drops) {
      expect(drop.queueLength).toBe(50);
      // The queue holds the 50 newest: the one that left is 50 older than the one that came.
      expect(drop.seq).toBe(drop.received - 1 - 50);
    }
    // The newest 50 were kept to the end and delivered.
    expect(result.delivered.slice(-50)).toEqual(Array.from({ length: 50 }, (_, i) => result.sent - 50 + i));
    expect(result.counters.queuePeak).toBe(50);
  });

  it("'latest' keeps only the newest datagram while the consumer is busy", async () => {
    const result = await flood('latest', 3000);
    expectAccounted(result);
    for (const drop of result.drops) {
      expect(drop.queueLength).toBe(1);
      expect(drop.seq).toBe(drop.received - 2); // replaced by the one that just came
    }
    expect(result.delivered.at(-1)).toBe(result.sent - 1);
    expect(result.counters.queuePeak).toBe(1);
  });

  it("{ buffer: 20, overflow: 'error' } errors with a BufferOverflowError that names the bound", async () => {
    const { receiver, sender, port } = await pair();
    const dropped: number[] = [];
    const feed = udpFeed(receiver, { strategy: { buffer: 20, overflow: 'error' }, onDrop: (d) => dropped.push(seqOf(d)) });
    const failed = lastValueFrom(feed.datagrams$.pipe(feed.consume(() => delay(1))));
    await sendMany(sender, port, 0, 500);
    const error = await failed.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BufferOverflowError);
    expect(error).toMatchObject({ name: 'BufferOverflowError', code: 'ERR_UDPKIT_BUFFER_OVERFLOW', bound: 20 });
    expect((error as Error).message).toContain('20 datagrams');
    const counters = feed.counters();
    // Datagram 0 went to the consumer, 1..20 filled the queue, 21 overflowed.
    expect(dropped).toEqual([21]);
    expect(counters.queuePeak).toBe(20);
    expect(counters.delivered).toBe(1);
    // The queue was cleared when the stream ended: counted, not lost silently.
    expect(counters.received).toBe(counters.delivered + counters.libraryDrops);
    expect(counters.queueLength).toBe(0);
    expect(receiver.listenerCount('messages')).toBe(0);
  });

  it('validates the strategy when the feed is made', async () => {
    const { receiver } = await pair();
    expect(() => udpFeed(receiver, { strategy: { buffer: 0, overflow: 'drop-oldest' } })).toThrow(RangeError);
    expect(() => udpFeed(receiver, { strategy: { buffer: 10, overflow: 'drop-all' as 'error' } })).toThrow(TypeError);
    expect(() => udpFeed(receiver, { strategy: 'block' as 'pause' })).toThrow(TypeError);
    expect(() => udpFeed(receiver).consume(() => delay(1), { concurrency: 0 })).toThrow(RangeError);
  });

  it('a throwing onDrop errors the stream', async () => {
    const { receiver, sender, port } = await pair();
    const feed = udpFeed(receiver, {
      strategy: 'latest',
      onDrop: () => {
        throw new Error('from onDrop');
      },
    });
    const failed = firstValueFrom(feed.datagrams$.pipe(feed.consume(() => delay(50))));
    await sendMany(sender, port, 0, 10);
    await expect(failed).rejects.toThrow('from onDrop');
    expect(receiver.listenerCount('messages')).toBe(0);
  });
});
