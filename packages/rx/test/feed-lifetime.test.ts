// Subscribe and unsubscribe at any point: listeners, owned sockets, paused
// sockets and timers are all given back.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Socket } from '@udpkit/core';
import { FeedBusyError, udpFeed } from '@udpkit/rx';
import { firstValueFrom, lastValueFrom, map, repeat, take, timeout, toArray, type Subscription } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { closeAll, delay, sendMany, seqOf, testSockets, until } from './support/sockets.js';

const sockets = testSockets();
const pair = sockets.pair;

function listeners(socket: Socket): number[] {
  return (['messages', 'message', 'error', 'close', 'listening'] as const).map((event) => socket.listenerCount(event));
}

const never = () => new Promise<never>(() => {});

describe('udpFeed over an existing socket', () => {
  it('unsubscribing before any datagram leaves no listener and the socket open', async () => {
    const { receiver } = await pair();
    const before = listeners(receiver);
    const subscription = udpFeed(receiver).datagrams$.subscribe();
    expect(receiver.listenerCount('messages')).toBe(1);
    subscription.unsubscribe();
    expect(listeners(receiver)).toEqual(before);
    expect(() => receiver.address()).not.toThrow();
  });

  it('unsubscribing while paused resumes the socket and counts the queued datagrams as library drops', async () => {
    const { receiver, sender, port } = await pair();
    const before = listeners(receiver);
    const feed = udpFeed(receiver, { strategy: 'pause' });
    const subscription = feed.datagrams$.pipe(feed.consume(never)).subscribe();
    await sendMany(sender, port, 0, 20);
    await until(() => feed.counters().pauses > 0 && feed.counters().queueLength > 0, 10_000, 'the feed to pause');
    expect(receiver.isPaused()).toBe(true);
    subscription.unsubscribe();
    expect(receiver.isPaused()).toBe(false);
    expect(listeners(receiver)).toEqual(before);
    const counters = feed.counters();
    expect(counters.queueLength).toBe(0);
    expect(counters.received).toBe(counters.delivered + counters.libraryDrops);
    expect(counters.libraryDrops).toBeGreaterThan(0);
    // The socket reads again: a plain listener gets what the kernel held.
    const next = new Promise((resolve) => receiver.once('message', resolve));
    await sendMany(sender, port, 100, 101);
    await next;
  });

  it('take(n) after consume() completes with n results and removes the listeners', async () => {
    const { receiver, sender, port } = await pair();
    const before = listeners(receiver);
    const feed = udpFeed(receiver);
    const results = lastValueFrom(
      feed.datagrams$.pipe(
        map(seqOf),
        feed.consume(async (seq: number) => {
          await delay(seq % 3);
          return seq;
        }, { concurrency: 3 }),
        take(5),
        toArray(),
      ),
    );
    await sendMany(sender, port, 0, 50);
    expect((await results).length).toBe(5);
    expect(listeners(receiver)).toEqual(before);
    expect(receiver.isPaused()).toBe(false);
  });

  it('take(n) between the source and consume() lets the running handlers finish, then completes', async () => {
    const { receiver, sender, port } = await pair();
    const feed = udpFeed(receiver);
    const results = lastValueFrom(
      feed.datagrams$.pipe(
        map(seqOf),
        take(4),
        feed.consume(async (seq: number) => {
          await delay(5);
          return seq;
        }, { concurrency: 2 }),
        toArray(),
      ),
    );
    await sendMany(sender, port, 0, 50);
    expect((await results).sort((a, b) => a - b)).toEqual([0, 1, 2, 3]);
    expect(receiver.listenerCount('messages')).toBe(0);
    expect(receiver.isPaused()).toBe(false);
  });

  it("the socket's 'error' errors the stream", async () => {
    const { receiver } = await pair();
    const failed = firstValueFrom(udpFeed(receiver).datagrams$);
    receiver.emit('error', new Error('boom'));
    await expect(failed).rejects.toThrow('boom');
    expect(receiver.listenerCount('messages')).toBe(0);
  });

  it("'close' completes the stream after the queued datagrams were delivered", async () => {
    const { receiver, sender, port } = await pair();
    const feed = udpFeed(receiver, { strategy: 'pause' });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const handled: number[] = [];
    const all = lastValueFrom(
      feed.datagrams$.pipe(
        map(seqOf),
        feed.consume(async (seq: number) => {
          await gate;
          handled.push(seq);
        }),
        toArray(),
      ),
    );
    await sendMany(sender, port, 0, 10);
    // Paused with datagrams queued (how many depends on the backend's batch).
    await until(() => feed.counters().queueLength > 0, 10_000, 'the feed to queue');
    receiver.close();
    await delay(20);
    release();
    await all;
    const { received, delivered, libraryDrops } = feed.counters();
    expect(handled).toEqual(Array.from({ length: received }, (_, i) => i));
    expect(delivered).toBe(received);
    expect(libraryDrops).toBe(0);
  });

  it('a handler that throws errors the stream and removes the listeners', async () => {
    const { receiver, sender, port } = await pair();
    const feed = udpFeed(receiver);
    const failed = lastValueFrom(
      feed.datagrams$.pipe(
        feed.consume(() => {
          throw new Error('handler threw');
        }),
      ),
    );
    await sendMany(sender, port, 0, 5);
    await expect(failed).rejects.toThrow('handler threw');
    expect(receiver.listenerCount('messages')).toBe(0);
    expect(receiver.isPaused()).toBe(false);
  });

  it('stats$ emits the feed counters and the socket counters at an interval', async () => {
    const { receiver, sender, port } = await pair();
    const feed = udpFeed(receiver);
    const subscription = feed.datagrams$.subscribe();
    await sendMany(sender, port, 0, 10);
    await until(() => feed.counters().delivered === 10, 10_000, 'ten datagrams');
    const [stats] = await lastValueFrom(feed.stats$(5).pipe(take(1), toArray()));
    subscription.unsubscribe();
    expect(stats!.feed).toMatchObject({ received: 10, delivered: 10, libraryDrops: 0, kernelDrops: 0, queueLength: 0 });
    expect(stats!.socket).toMatchObject({ datagramsReceived: 10 });
  });

  it('closing the socket from inside a handler completes the stream once the running handlers finish', async () => {
    const { receiver, sender, port } = await pair();
    const before = listeners(receiver);
    const feed = udpFeed(receiver);
    const handled: number[] = [];
    const all = lastValueFrom(
      feed.datagrams$.pipe(
        map(seqOf),
        feed.consume(async (seq: number) => {
          handled.push(seq);
          if (seq === 3) receiver.close();
          await delay(1);
        }, { concurrency: 4 }),
        toArray(),
      ),
    );
    await sendMany(sender, port, 0, 20);
    await all;
    // What was taken from the kernel before the close is still delivered, in order.
    expect(handled).toEqual(Array.from({ length: handled.length }, (_, i) => i));
    expect(handled.length).toBeGreaterThanOrEqual(4);
    expect(feed.counters().received).toBe(feed.counters().delivered);
    expect(listeners(receiver)).toEqual(before);
  });

  it('unsubscribing from inside a handler or onDrop, mid-batch, stops at once and gives everything back', async () => {
    for (const where of ['handler', 'onDrop'] as const) {
      const { receiver, sender, port } = await pair();
      const before = listeners(receiver);
      const handled: number[] = [];
      let subscription: Subscription | undefined;
      const feed = udpFeed(receiver, {
        strategy: { buffer: 2, overflow: 'drop-newest' },
        onDrop: () => where === 'onDrop' && subscription?.unsubscribe(),
      });
      let resolveDone!: () => void;
      const done = new Promise<void>((resolve) => (resolveDone = resolve));
      subscription = feed.datagrams$
        .pipe(
          map(seqOf),
          feed.consume(async (seq: number) => {
            handled.push(seq);
            if (where === 'handler' && seq === 1) {
              subscription!.unsubscribe();
              resolveDone();
            }
            await delay(1);
          }, { concurrency: 2 }),
        )
        .subscribe();
      if (where === 'onDrop') subscription.add(resolveDone);
      await sendMany(sender, port, 0, 50);
      await done;
      expect(handled).toEqual([0, 1]);
      expect(listeners(receiver)).toEqual(before);
      expect(receiver.isPaused()).toBe(false);
      const counters = feed.counters();
      expect(counters.queueLength).toBe(0);
      await closeAll(receiver, sender);
    }
  });

  it('unsubscribing mid-batch counts the rest of the wake-up as library drops', async () => {
    const { receiver, sender, port } = await pair();
    const batches: number[] = [];
    receiver.on('messages', (buffers) => batches.push(buffers.length)); // before the feed's listener
    const feed = udpFeed(receiver);
    const first = firstValueFrom(feed.datagrams$);
    await sendMany(sender, port, 0, 10);
    await first;
    // Everything the feed took from the socket is delivered or counted.
    expect(feed.counters()).toMatchObject({ received: batches[0], delivered: 1, libraryDrops: batches[0]! - 1 });
  });

  it('resubscribing mid-batch (take(1) + repeat) loses nothing: the rest of the wake-up goes to the new subscription', async () => {
    const { receiver, sender, port } = await pair();
    const feed = udpFeed(receiver);
    const seqs = lastValueFrom(feed.datagrams$.pipe(take(1), map(seqOf), repeat(10), timeout(10_000), toArray()));
    await sendMany(sender, port, 0, 10);
    expect(await seqs).toEqual(Array.from({ length: 10 }, (_, i) => i));
    expect(receiver.listenerCount('messages')).toBe(0);
  });

  it('a feed has one subscriber and one consume() at a time', async () => {
    const { receiver } = await pair();
    const feed = udpFeed(receiver);
    const first = feed.datagrams$.pipe(feed.consume(never)).subscribe();
    await expect(firstValueFrom(feed.datagrams$)).rejects.toBeInstanceOf(FeedBusyError);
    await expect(firstValueFrom(feed.datagrams$.pipe(feed.consume(never)))).rejects.toBeInstanceOf(FeedBusyError);
    first.unsubscribe();
    // Free again once the first subscriber left.
    const again = feed.datagrams$.subscribe();
    expect(receiver.listenerCount('messages')).toBe(1);
    again.unsubscribe();
  });
});

describe('udpFeed that owns its socket', () => {
  it('creates and binds the socket on subscribe and closes it on unsubscribe', async () => {
    const feed = udpFeed({ address: '127.0.0.1' });
    expect(feed.socket).toBeUndefined();
    const sender = await sockets.bound();
    let socket!: Socket;
    const first = firstValueFrom(feed.datagrams$);
    socket = feed.socket!;
    await until(() => { try { return socket.address().port > 0; } catch { return false; } }, 10_000, 'the bind');
    await sendMany(sender, socket.address().port, 7, 8);
    expect(seqOf(await first)).toBe(7);
    expect(feed.socket).toBeUndefined();
    expect(() => socket.address()).toThrow(expect.objectContaining({ code: 'ERR_SOCKET_DGRAM_NOT_RUNNING' }));
  });

  it('a bind error arrives as the stream error', async () => {
    const taken = await sockets.bound();
    const feed = udpFeed({ address: '127.0.0.1', port: taken.address().port });
    await expect(firstValueFrom(feed.datagrams$)).rejects.toMatchObject({ code: 'EADDRINUSE', syscall: 'bind' });
  });

  it('options that do not validate error the stream (thrown by createSocket or bind)', async () => {
    await expect(firstValueFrom(udpFeed({ recvBufferSize: -1 }).datagrams$)).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    await expect(firstValueFrom(udpFeed({ address: 42 as unknown as string }).datagrams$)).rejects.toMatchObject({
      code: 'ERR_INVALID_ARG_TYPE',
    });
  });

  it('an onListening that throws errors the stream and closes the socket', async () => {
    let socket: Socket | undefined;
    const feed = udpFeed({
      address: '127.0.0.1',
      onListening: (listening) => {
        socket = listening;
        throw new Error('from onListening');
      },
    });
    await expect(firstValueFrom(feed.datagrams$.pipe(timeout(10_000)))).rejects.toThrow('from onListening');
    expect(() => socket!.address()).toThrow(expect.objectContaining({ code: 'ERR_SOCKET_DGRAM_NOT_RUNNING' }));
  });

  it("closing the socket completes the stream", async () => {
    const feed = udpFeed({ address: '127.0.0.1', onListening: (socket) => socket.close() });
    expect(await lastValueFrom(feed.datagrams$.pipe(toArray()))).toEqual([]);
  });

  for (const how of ['take-after-consume', 'while-paused']) {
    it(`no timer or socket keeps the process alive after unsubscribing (${how})`, async () => {
      const child = fileURLToPath(new URL('./support/lifetime-child.ts', import.meta.url));
      const output = await new Promise<string>((resolve, reject) =>
        execFile(process.execPath, ['--import', 'tsx', child, how], { timeout: 20_000, env: process.env }, (error, stdout, stderr) =>
          error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout),
        ),
      );
      const result = JSON.parse(output.trim().split('\n').at(-1)!);
      expect(result).toMatchObject({ how, queueLength: 0, socket: true });
      expect(result.received).toBe(result.delivered + result.libraryDrops);
      if (how === 'while-paused') expect(result.libraryDrops).toBeGreaterThan(0);
    });
  }
});
