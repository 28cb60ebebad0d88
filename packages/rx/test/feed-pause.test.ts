// The 'pause' strategy: a consumer slower than the feed pushes back to the
// kernel, and nothing is lost while the kernel buffer has room.
import { udpFeed, type Datagram } from '@udpkit/rx';
import { lastValueFrom, take, toArray, map, filter } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { bound, closeAll, delay, sendMany, sendWindowed, seqOf, until } from './support/sockets.js';
import type { Socket } from '@udpkit/core';

const open: Socket[] = [];
afterEach(async () => {
  await closeAll(...open.splice(0));
});

async function pair(): Promise<{ receiver: Socket; sender: Socket; port: number }> {
  const receiver = await bound();
  const sender = await bound();
  open.push(receiver, sender);
  receiver.setRecvBufferSize(4 * 1024 * 1024);
  return { receiver, sender, port: receiver.address().port };
}

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
});
