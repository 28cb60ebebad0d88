// Sending from a pipeline: one sendMany per tick, errors as documented, and
// a sender whose promises pace a feed's consume().
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { OutgoingMessage, Socket } from '@udpkit/core';
import { createSender, fromSocket, sendTo, udpFeed } from '@udpkit/rx';
import { from, lastValueFrom, map, Subject, take, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { LOOPBACK, sendMany, seqOf, sequenced, testSockets } from './support/sockets.js';

const opened = testSockets();
const sockets = (count: number): Promise<Socket[]> => Promise.all(Array.from({ length: count }, () => opened.bound()));

describe('sendTo', () => {
  it('sends the values of one tick in one sendMany and completes once they went', async () => {
    const [receiver, sender] = await sockets(2);
    const port = receiver!.address().port;
    const received = lastValueFrom(fromSocket(receiver!).pipe(map(seqOf), take(200), toArray()));
    const batchesBefore = sender!.stats().sendBatches;
    const counts = await lastValueFrom(
      from(Array.from({ length: 200 }, (_, seq) => ({ data: sequenced(seq), port, address: LOOPBACK }))).pipe(sendTo(sender!), toArray()),
    );
    expect(counts).toEqual([200]); // one sendMany carried all 200
    if (sender!.backend === 'native') expect(sender!.stats().sendBatches - batchesBefore).toBe(1); // one sendmmsg
    expect(await received).toEqual(Array.from({ length: 200 }, (_, i) => i));
  });

  for (const count of [1023, 1024, 1025, 2048, 2049, 3000]) {
    it(`${count} values in one tick leave in sendMany calls of up to 1024 (sendmmsg's limit), in order`, async () => {
      const [receiver, sender] = await sockets(2);
      const port = receiver!.address().port;
      const received = lastValueFrom(fromSocket(receiver!).pipe(map(seqOf), take(count), toArray()));
      const messages = Array.from({ length: count }, (_, seq) => ({ data: sequenced(seq), port, address: LOOPBACK }));
      const batches = await lastValueFrom(from(messages).pipe(sendTo(sender!), toArray()));
      expect(batches).toEqual([...Array<number>(Math.floor(count / 1024)).fill(1024), ...(count % 1024 ? [count % 1024] : [])]);
      expect(await received).toEqual(Array.from({ length: count }, (_, i) => i));
    });
  }

  it('a datagram the kernel refuses errors the stream; the rest of its batch still goes', async () => {
    const [receiver, sender] = await sockets(2);
    const port = receiver!.address().port;
    const received = lastValueFrom(fromSocket(receiver!).pipe(map(seqOf), take(2), toArray()));
    const messages = [{ data: sequenced(0), port }, { data: Buffer.alloc(70_000), port }, { data: sequenced(2), port }];
    await expect(lastValueFrom(from(messages).pipe(sendTo(sender!)))).rejects.toMatchObject({ code: 'EMSGSIZE' });
    expect(await received).toEqual([0, 2]);
  });

  it('with onError, refused datagrams are reported and the stream goes on', async () => {
    const [receiver, sender] = await sockets(2);
    const port = receiver!.address().port;
    const errors: [string, number][] = [];
    const messages = [{ data: sequenced(0), port }, { data: Buffer.alloc(70_000), port }, { data: sequenced(2), port }];
    const counts = await lastValueFrom(
      from(messages).pipe(sendTo(sender!, { onError: (error, failed) => errors.push([(error as NodeJS.ErrnoException).code!, failed]) }), toArray()),
    );
    expect(counts).toEqual([2]);
    expect(errors).toEqual([['EMSGSIZE', 1]]);
  });

  it('a message that does not validate fails alone: the others of its tick still go', async () => {
    const [receiver, sender] = await sockets(2);
    const port = receiver!.address().port;
    const received = lastValueFrom(fromSocket(receiver!).pipe(map(seqOf), take(2), toArray()));
    const values = new Subject<OutgoingMessage>();
    const errors: [unknown, number][] = [];
    const counts = lastValueFrom(values.pipe(sendTo(sender!, { onError: (error, failed) => errors.push([error, failed]) }), toArray()));
    values.next({ data: sequenced(0), port });
    values.next({ data: 42 as never, port }); // not a buffer: core's ERR_INVALID_ARG_TYPE
    values.next({ data: sequenced(2), port });
    values.complete();
    expect(await counts).toEqual([2]);
    expect(errors).toHaveLength(1);
    expect(errors[0]![0]).toBeInstanceOf(TypeError);
    expect(errors[0]![1]).toBe(1);
    expect(await received).toEqual([0, 2]);
  });

  it("a message that does not validate errors the stream with Node's error", async () => {
    const [sender] = await sockets(1);
    await expect(lastValueFrom(from([{ data: 'x', port: 0 }]).pipe(sendTo(sender!)))).rejects.toMatchObject({ code: 'ERR_SOCKET_BAD_PORT' });
  });
});

// A full send buffer: a rate-limited lo in a private namespace (needs root, as core's EAGAIN test).
describe.runIf(process.getuid?.() === 0)('sendTo when the kernel send buffer is full', () => {
  it('holds values while a batch waits, sends them together, in order, and keeps core\'s queue to one batch', () => {
    const child = fileURLToPath(new URL('./support/send-backpressure-child.ts', import.meta.url));
    const output = execFileSync(
      'unshare',
      ['-n', 'sh', '-c', 'ip link set lo up && tc qdisc add dev lo root tbf rate 5mbit burst 16kb latency 400ms && exec "$@"', 'sh', process.execPath, '--import', 'tsx', child],
      { encoding: 'utf8', timeout: 30_000, env: process.env },
    );
    const result = JSON.parse(output.trim().split('\n').at(-1)!);
    expect(result).toMatchObject({ received: result.total, inOrder: true, sentSum: result.total });
    // The kernel pushed back: values of several ticks waited and left in one sendMany.
    expect(result.sendManyCalls).toBeLessThan(result.ticks);
    expect(result.largestBatch).toBeGreaterThan(200);
    // Core's send queue never held more than the one batch in flight.
    expect(result.peakQueue).toBeLessThanOrEqual(result.largestBatch);
  });
});

describe('createSender', () => {
  it('as a consume() handler relays a feed in order, paced by the send path', async () => {
    const [inbound, relay, outbound, source] = await sockets(4);
    const received = lastValueFrom(fromSocket(outbound!).pipe(map(seqOf), take(1000), toArray()));
    const feed = udpFeed(inbound!);
    const outPort = outbound!.address().port;
    const subscription = feed.datagrams$
      .pipe(
        map(({ data }) => ({ data, port: outPort, address: LOOPBACK })),
        feed.consume(createSender(relay!), { concurrency: 64 }),
      )
      .subscribe();
    for (let seq = 0; seq < 1000; seq += 100) await sendMany(source!, inbound!.address().port, seq, seq + 100);
    expect(await received).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    subscription.unsubscribe();
    expect(feed.counters()).toMatchObject({ libraryDrops: 0 });
  });

  it("rejects with the batch's error, unless onError takes it", async () => {
    const [sender] = await sockets(1);
    await expect(createSender(sender!)({ data: 'x', port: 0 })).rejects.toMatchObject({ code: 'ERR_SOCKET_BAD_PORT' });
    const seen: string[] = [];
    const send = createSender(sender!, { onError: (error) => seen.push((error as NodeJS.ErrnoException).code!) });
    await expect(send({ data: 'x', port: 0 })).resolves.toBeUndefined();
    expect(seen).toEqual(['ERR_SOCKET_BAD_PORT']);
  });
});
