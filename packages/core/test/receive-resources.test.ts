// What receiving costs in memory, and what it loses: many receiving sockets
// share one thread's receive buffers, each worker thread gets its own, and a
// paused socket's losses are all accounted for.
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { runChild } from './support/differential.js';
import { backend, bound, closeAll, sendManyAsync, waitFor } from './support/sockets.js';

const udpkitEntry = pathToFileURL(fileURLToPath(new URL('../dist/index.js', import.meta.url))).href;

describe('receive memory', () => {
  // The native helper once reserved a 4.2 MB receive slab per socket
  // (2.2 GB of address space for 500); one per thread is enough, since a
  // batch is copied out before JavaScript runs. The bounds leave room for
  // V8's own reservations, which move in steps of tens of MB.
  const SOCKETS = 500;
  const MAX_VMSIZE_GROWTH_KB = 1024 * SOCKETS; // 1 MB per socket
  const BURST_SOCKETS = 50;
  const BURST = 64;
  const MAX_BURST_RSS_GROWTH_KB = 128 * 1024;

  it(`${SOCKETS} receiving sockets stay under ${MAX_VMSIZE_GROWTH_KB / SOCKETS} KB of address space each; a burst to ${BURST_SOCKETS} of them under ${MAX_BURST_RSS_GROWTH_KB / 1024} MB resident`, async () => {
    const program = `
      import { readFileSync } from 'node:fs';
      const status = () => {
        const text = readFileSync('/proc/self/status', 'utf8');
        const kb = (key) => Number(new RegExp('^' + key + ':\\\\s+(\\\\d+) kB', 'm').exec(text)[1]);
        return { size: kb('VmSize'), rss: kb('VmRSS') };
      };
      let received = 0;
      const receiver = () => dgram.createSocket('udp4').on('message', () => received++);
      const bindAll = (sockets) => Promise.all(sockets.map((s) => new Promise((resolve) => s.bind(0, '127.0.0.1', resolve))));
      // What a process pays once (the module, a thread's buffers) is paid before the measure.
      await bindAll([receiver()]);
      const before = status();
      const sockets = Array.from({ length: ${SOCKETS} }, receiver);
      await bindAll(sockets);
      const afterBind = status();
      const tx = dgram.createSocket('udp4');
      for (const socket of sockets.slice(0, ${BURST_SOCKETS})) {
        for (let i = 0; i < ${BURST}; i++) tx.send(Buffer.alloc(1400, i), socket.address().port, '127.0.0.1');
      }
      const deadline = Date.now() + 10000;
      while (received < ${BURST_SOCKETS * BURST} && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      const afterBurst = status();
      console.log(JSON.stringify({ received, vmSizeGrowthKB: afterBind.size - before.size, rssGrowthKB: afterBurst.rss - before.rss }));
      process.exit(0);`;
    const result = await runChild('ours', program, 30_000);
    expect(result.outcome).toBe('exited');
    const figures = JSON.parse(result.output) as { received: number; vmSizeGrowthKB: number; rssGrowthKB: number };
    expect(figures.received).toBe(BURST_SOCKETS * BURST);
    expect(figures.vmSizeGrowthKB).toBeLessThan(MAX_VMSIZE_GROWTH_KB);
    expect(figures.rssGrowthKB).toBeLessThan(MAX_BURST_RSS_GROWTH_KB);
  });

  it('each worker thread receives on its own sockets, and a worker that ends leaves the others working', async () => {
    const rx = await bound();
    const port = rx.address().port;
    const workers = Array.from(
      { length: 3 },
      (_, id) =>
        new Worker(
          `
          const { parentPort } = require('node:worker_threads');
          import(${JSON.stringify(udpkitEntry)}).then(({ createSocket }) => {
            const socket = createSocket('udp4');
            let got = 0;
            socket.on('message', (msg) => {
              if (++got === 100) {
                // Answer from the worker's own socket, then report.
                socket.send('worker ${id}', ${port}, '127.0.0.1', () => parentPort.postMessage({ got, backend: socket.backend }));
              }
            });
            socket.bind(0, '127.0.0.1', () => parentPort.postMessage({ port: socket.address().port }));
          });`,
          { eval: true },
        ),
    );
    try {
      const ports = await Promise.all(workers.map((w) => new Promise<number>((resolve) => w.once('message', (m: { port: number }) => resolve(m.port)))));
      // The first worker ends before anything is sent; the others must not notice.
      await workers[0]!.terminate();
      const answers: string[] = [];
      rx.on('message', (msg) => answers.push(msg.toString()));
      const reports = workers.slice(1).map((w) => new Promise<{ got: number; backend: string }>((resolve) => w.once('message', resolve)));
      for (const workerPort of ports.slice(1)) {
        const { sent } = await sendManyAsync(rx, Array.from({ length: 100 }, (_, i) => ({ data: `d${i}`, port: workerPort, address: '127.0.0.1' })));
        expect(sent).toBe(100);
      }
      const results = await Promise.all(reports);
      expect(results).toEqual([{ got: 100, backend }, { got: 100, backend }]);
      await waitFor(() => answers.length === 2, 5000, 'the workers to answer');
      expect(answers.sort()).toEqual(['worker 1', 'worker 2']);
    } finally {
      await Promise.all(workers.map((w) => w.terminate()));
      await closeAll(rx);
    }
  });
});

describe('close() mid-batch', () => {
  // The rest of a batch closed mid-delivery is never emitted: a closed socket
  // the program still holds must not keep its copies (up to 63 x 64 KiB).
  it("releases the batch's datagrams while the closed socket stays referenced", async () => {
    const program = `
      import v8 from 'node:v8';
      import vm from 'node:vm';
      v8.setFlagsFromString('--expose-gc');
      const gc = vm.runInNewContext('gc');
      const rx = dgram.createSocket('udp4');
      globalThis.kept = rx;
      const refs = [];
      rx.on('messages', (msgs) => { for (const msg of msgs) refs.push(new WeakRef(msg)); });
      rx.on('message', () => rx.close());
      rx.on('close', async () => {
        for (let i = 0; i < 5; i++) {
          await new Promise((resolve) => setTimeout(resolve, 10));
          gc();
        }
        console.log(JSON.stringify({ batch: refs.length, alive: refs.filter((ref) => ref.deref() !== undefined).length }));
      });
      rx.bind(0, '127.0.0.1', () => {
        // Held by the kernel while paused: one batch on resume (native).
        rx.pause();
        const tx = dgram.createSocket('udp4');
        let sent = 0;
        for (let i = 0; i < 32; i++) {
          tx.send(Buffer.alloc(1000, i), rx.address().port, '127.0.0.1', () => {
            if (++sent < 32) return;
            tx.close();
            rx.resume();
          });
        }
      });`;
    const result = await runChild('ours', program, 15_000);
    expect(result.outcome).toBe('exited');
    const { batch, alive } = JSON.parse(result.output) as { batch: number; alive: number };
    expect(batch).toBe(backend === 'native' ? 32 : 1);
    expect(alive).toBe(0);
  });
});

describe('loss accounting', () => {
  // A paused socket leaves datagrams in a small kernel buffer, which drops
  // the rest. The native backend reads the kernel's drop counter
  // (SO_RXQ_OVFL), so every datagram sent is either received or counted as
  // dropped. node:dgram offers no drop counter: the portable backend reports
  // 0 drops and can only say how many arrived.
  it('sent = received + kernelDrops, exactly, after a paused flood', async () => {
    const rx = await bound('udp4', { recvBufferSize: 4096 });
    const tx = await bound();
    try {
      rx.pause();
      const arrived = new Set<string>();
      let received = 0;
      rx.on('message', (msg) => {
        received++;
        arrived.add(msg.toString());
      });
      const port = rx.address().port;
      const FLOOD = 2000;
      const { sent } = await sendManyAsync(tx, Array.from({ length: FLOOD }, (_, i) => ({ data: `flood ${i}`, port, address: '127.0.0.1' })));
      expect(sent).toBe(FLOOD);
      rx.resume();
      // Drops after the last queued datagram show with the next one. Markers
      // go until one arrives: it carries the final count, and, queued last,
      // it comes after everything else that was kept.
      let markers = 0;
      for (;;) {
        expect(markers).toBeLessThan(50);
        const marker = `marker ${markers++}`;
        tx.send(marker, port, '127.0.0.1');
        const came = await waitFor(() => arrived.has(marker), 500, marker).then(
          () => true,
          () => false,
        );
        if (came) break;
      }
      const { kernelDrops, datagramsReceived } = rx.stats();
      expect(datagramsReceived).toBe(received);
      if (backend === 'native') {
        expect(kernelDrops).toBeGreaterThan(0);
        expect(received + kernelDrops).toBe(FLOOD + markers);
      } else {
        expect(kernelDrops).toBe(0);
        expect(received).toBeLessThanOrEqual(FLOOD + markers);
      }
    } finally {
      await closeAll(rx, tx);
    }
  });
});
