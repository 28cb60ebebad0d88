// How 'message' delivers a burst, compared with node:dgram: each datagram in
// a callback of its own (ticks and microtasks drain in between, a throwing
// listener costs the others nothing), each Buffer with an ArrayBuffer of its
// own, and nothing after close(). A burst is sent in one tick, so on the
// native backend it arrives in one recvmmsg batch.
import { describe, expect, it } from 'vitest';
import { boundSocket, type Run, runChild, same, type Sock } from './support/differential.js';
import { backend } from './support/sockets.js';

const LO4 = '127.0.0.1';

/** Resolves once `socket` got `count` datagrams (its listeners added before this one run first). */
function arrivals(socket: Sock, count: number): Promise<void> {
  let seen = 0;
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${seen} of ${count} datagrams arrived`)), 5000);
    socket.on('message', () => {
      if (++seen === count) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}

/** Sends each payload to `port` in one tick, from a socket of the same implementation. */
async function burst(run: Run, port: number, payloads: (string | Buffer)[]): Promise<void> {
  const tx = run.socket('udp4');
  const sent = payloads.map((payload) => new Promise((resolve) => tx.send(payload, port, LO4, resolve)));
  await Promise.all(sent);
}

describe("'message' delivery, as node:dgram", () => {
  same('nextTick and promise work queued by one listener call runs before the next datagram', async (run) => {
    const rx = await boundSocket(run);
    let tick = 'none';
    let microtask = 'none';
    let promise = 'none';
    rx.on('message', (msg) => {
      const name = msg.toString();
      run.record('seen by', name, { tick, microtask, promise });
      process.nextTick(() => (tick = name));
      queueMicrotask(() => (microtask = name));
      void Promise.resolve().then(() => (promise = name));
    });
    const done = arrivals(rx, 6);
    await burst(run, rx.address().port, ['a', 'b', 'c', 'd', 'e', 'f']);
    await done;
  });

  same('setImmediate callbacks run between datagrams as often as in Node (every 32 of a burst)', async (run) => {
    const rx = await boundSocket(run);
    let seen = 0;
    let immediatePending = false;
    rx.on('message', () => {
      seen++;
      if (immediatePending) return;
      immediatePending = true;
      setImmediate(() => {
        immediatePending = false;
        run.record('immediate after', seen);
      });
    });
    const done = arrivals(rx, 100);
    await burst(run, rx.address().port, Array.from({ length: 100 }, (_, i) => `d${i}`));
    await done;
    await new Promise((resolve) => setImmediate(resolve));
  });

  same('each Buffer has an ArrayBuffer of its own, around every internal size', async (run) => {
    const rx = await boundSocket(run);
    const sizes = [1, 7, 64, 65, 1023, 1024, 1025, 2048, 4096, 4097, 65507];
    const received: Buffer[] = [];
    rx.on('message', (msg) => {
      received.push(msg);
      run.record('own', msg.length, msg.byteOffset, msg.buffer.byteLength, new Uint8Array(msg.buffer).every((b) => b === msg[0]));
    });
    const done = arrivals(rx, sizes.length);
    await burst(run, rx.address().port, sizes.map((size, i) => Buffer.alloc(size, i + 1)));
    await done;
    // Moving one message's memory to another owner leaves its siblings whole.
    const first = received[0]!;
    structuredClone(first.buffer, { transfer: [first.buffer as ArrayBuffer] });
    run.record('after transfer', received.map((msg) => [msg.length, msg.length > 0 && msg.every((b) => b === msg[0])]));
  });

  same('an empty datagram among others', async (run) => {
    const rx = await boundSocket(run);
    rx.on('message', (msg) => run.record('own', msg.length, msg.buffer.byteLength));
    const done = arrivals(rx, 3);
    await burst(run, rx.address().port, ['x', Buffer.alloc(0), 'y']);
    await done;
  });

  same('close() from a listener: no more datagrams of the burst, then close', async (run) => {
    const rx = await boundSocket(run);
    let seen = 0;
    const closed = run.next(rx, 'close');
    rx.on('message', () => {
      if (++seen === 3) rx.close();
    });
    await burst(run, rx.address().port, ['1', '2', '3', '4', '5', '6']);
    await closed;
    await new Promise((resolve) => setTimeout(resolve, 50));
    run.record('seen', seen);
  });
});

describe("a throwing 'message' listener (uncaughtException handled), as node:dgram", () => {
  const program = `
    const errors = [];
    process.on('uncaughtException', (error) => errors.push(error.message));
    const rx = dgram.createSocket('udp4');
    const got = [];
    rx.on('message', (msg) => {
      got.push(msg.toString());
      if (msg.toString().startsWith('throw')) throw new Error('listener threw at ' + msg);
    });
    rx.bind(0, '127.0.0.1', () => {
      const tx = dgram.createSocket('udp4');
      const names = ['a', 'throw-b', 'c', 'throw-d', 'e', 'f', 'g', 'h'];
      for (const name of names) tx.send(name, rx.address().port, '127.0.0.1');
      const deadline = Date.now() + 5000;
      const check = setInterval(() => {
        if (got.length < names.length && Date.now() < deadline) return;
        clearInterval(check);
        const stats = typeof rx.stats === 'function' ? rx.stats().datagramsReceived : got.length;
        console.log(JSON.stringify({ got, errors, countedMatches: stats === got.length }));
        tx.close();
        rx.close();
      }, 10);
    });`;

  it('the rest of the burst still arrives, and stats() counts what arrived', async () => {
    const theirs = await runChild('theirs', program, 15_000);
    const ours = await runChild('ours', program, 15_000);
    expect(theirs.outcome).toBe('exited');
    const expected = JSON.parse(theirs.output) as { got: string[]; errors: string[] };
    expect(expected.got).toHaveLength(8);
    expect(expected.errors).toHaveLength(2);
    expect(ours.outcome).toBe('exited');
    expect(JSON.parse(ours.output)).toEqual(expected);
  });
});

describe("a 'messages' listener alone (udpkit's batch event)", () => {
  // The helper reads each batch for what the last one was: the first for
  // 'message' (32, libuv's width), then 64 once a batch went whole.
  it('takes a burst in batches of 64 on native after the first (32), one by one on portable', async () => {
    const { createSocket } = await import('@udpkit/core');
    const rx = createSocket('udp4');
    await new Promise<void>((resolve) => rx.bind(0, LO4, () => resolve()));
    const tx = createSocket('udp4');
    try {
      const batches: number[] = [];
      let seen = 0;
      const all = new Promise<void>((resolve) =>
        rx.on('messages', (buffers) => {
          batches.push(buffers.length);
          if ((seen += buffers.length) === 100) resolve();
        }),
      );
      tx.sendMany(Array.from({ length: 100 }, (_, i) => ({ data: `d${i}`, port: rx.address().port, address: LO4 })));
      await all;
      expect(batches).toEqual(backend === 'native' ? [32, 64, 4] : Array(100).fill(1));
    } finally {
      tx.close();
      rx.close();
    }
  });
});

describe("close() from a 'messages' listener (udpkit's batch event)", () => {
  it("ends the batch: no 'message' for it, then 'close'", async () => {
    const program = `
      const rx = dgram.createSocket('udp4');
      const events = [];
      rx.on('messages', (msgs) => { events.push('messages ' + msgs.length); rx.close(); });
      rx.on('message', (msg) => events.push('message ' + msg));
      const tx = dgram.createSocket('udp4');
      rx.on('close', () => setTimeout(() => { console.log(JSON.stringify(events)); tx.close(); }, 50));
      rx.bind(0, '127.0.0.1', () => {
        for (const name of ['a', 'b', 'c']) tx.send(name, rx.address().port, '127.0.0.1');
      });`;
    const ours = await runChild('ours', program, 15_000);
    expect(ours.outcome).toBe('exited');
    const events = JSON.parse(ours.output) as string[];
    expect(events).toHaveLength(1);
    expect(events[0]).toMatch(/^messages [1-3]$/);
  });
});

describe("a throwing 'messages' listener (udpkit's batch event)", () => {
  it("costs 'message' nothing: every datagram still arrives, each batch's exception is uncaught once", async () => {
    const program = `
      const errors = [];
      process.on('uncaughtException', (error) => errors.push(error.message));
      const rx = dgram.createSocket('udp4');
      const got = [];
      rx.on('messages', () => { throw new Error('batch listener threw'); });
      rx.on('message', (msg) => got.push(msg.toString()));
      rx.bind(0, '127.0.0.1', () => {
        const tx = dgram.createSocket('udp4');
        for (const name of ['a', 'b', 'c', 'd']) tx.send(name, rx.address().port, '127.0.0.1');
        const deadline = Date.now() + 5000;
        const check = setInterval(() => {
          if ((got.length < 4 || errors.length < rx.stats().receiveBatches) && Date.now() < deadline) return;
          clearInterval(check);
          console.log(JSON.stringify({ got, errorsPerBatch: errors.length === rx.stats().receiveBatches, errors: [...new Set(errors)] }));
          tx.close();
          rx.close();
        }, 10);
      });`;
    const ours = await runChild('ours', program, 15_000);
    expect(ours.outcome).toBe('exited');
    expect(JSON.parse(ours.output)).toEqual({ got: ['a', 'b', 'c', 'd'], errorsPerBatch: true, errors: ['batch listener threw'] });
  });
});

describe("a 'messages' listener that rearranges its arrays (udpkit's batch event)", () => {
  it("leaves 'message' every datagram, in order, with its own rinfo", async () => {
    const program = `
      const rx = dgram.createSocket('udp4');
      const got = [];
      rx.on('messages', (msgs, rinfos) => {
        // A consumer that takes the batch as a queue, or sorts it.
        while (msgs.length > 0) msgs.shift();
        rinfos.reverse();
      });
      rx.on('message', (msg, rinfo) => got.push(String(msg) + ' ' + rinfo.size));
      rx.bind(0, '127.0.0.1', () => {
        // Held by the kernel while paused: one batch on resume.
        rx.pause();
        const tx = dgram.createSocket('udp4');
        const names = ['a', 'bb', 'ccc', 'dddd'];
        let sent = 0;
        for (const name of names) {
          tx.send(name, rx.address().port, '127.0.0.1', () => {
            if (++sent < names.length) return;
            rx.resume();
            const deadline = Date.now() + 5000;
            const check = setInterval(() => {
              if (got.length < names.length && Date.now() < deadline) return;
              clearInterval(check);
              console.log(JSON.stringify({ got, batches: rx.stats().receiveBatches }));
              tx.close();
              rx.close();
            }, 10);
          });
        }
      });`;
    const ours = await runChild('ours', program, 15_000);
    expect(ours.outcome).toBe('exited');
    const { got, batches } = JSON.parse(ours.output) as { got: string[]; batches: number };
    expect(got).toEqual(['a 1', 'bb 2', 'ccc 3', 'dddd 4']);
    // The native backend takes the four in one batch; portable's batches hold one.
    expect(batches).toBe(backend === 'native' ? 1 : 4);
  });
});
