// reusePort fan-out: N worker threads, each with its own socket bound with
// `reusePort` to one port. The kernel hands each datagram to one socket of
// the group, chosen by a hash of its source and destination addresses and
// ports, so one flow always lands on the same worker and the publisher sends
// from several sockets (several source ports) for the load to spread. Each
// worker counts what it gets; the main thread prints the counts and the
// total. Loopback only.
//
//   tsx reuseport-workers.ts [workers = 3] [datagrams = 30000]
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { createSocket, type Socket } from '@udpkit/core';

const PUBLISHER_SOCKETS = 8;
const BATCH = 16; // datagrams per sendMany, from each publisher socket
const WINDOW = 128; // datagrams in flight before the publisher waits: far less than a receive buffer holds

interface WorkerInput {
  id: number;
  /** 0 for the first worker (the kernel picks the port), then the group's port. */
  port: number;
  /** One datagram count per worker, shared with the main thread. */
  counts: SharedArrayBuffer;
}
type Ready = { port: number; backend: string } | { error: string };
interface Report {
  flows: number;
  kernelDrops: number;
}

if (isMainThread) await main();
else receive(workerData as WorkerInput);

/** A worker: its own socket in the group; counts in shared memory, a report when asked. */
function receive({ id, port, counts }: WorkerInput): void {
  const received = new Int32Array(counts);
  const flows = new Set<number>();
  let socket: Socket;
  try {
    socket = createSocket({ type: 'udp4', reusePort: true, recvBufferSize: 1024 * 1024 });
  } catch (error) {
    parentPort!.postMessage({ error: (error as Error).message } satisfies Ready);
    return;
  }
  // One call per kernel batch (recvmmsg on the native backend).
  socket.on('messages', (datagrams, rinfos) => {
    for (const rinfo of rinfos) flows.add(rinfo.port);
    Atomics.add(received, id, datagrams.length);
  });
  parentPort!.once('message', () => {
    parentPort!.postMessage({ flows: flows.size, kernelDrops: socket.stats().kernelDrops } satisfies Report);
    socket.close(); // nothing left to keep the worker alive: it exits
  });
  socket.bind(port, '127.0.0.1', () => parentPort!.postMessage({ port: socket.address().port, backend: socket.backend } satisfies Ready));
}

/**
 * A worker running this file. Run as TypeScript (tsx), the worker registers
 * tsx itself first: Node 20 does not pass `--import` loaders on to workers.
 */
function startThisFileAsWorker(input: WorkerInput): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL(import.meta.url), { workerData: input });
  const tsx = import.meta.resolve('tsx/esm/api');
  const source = `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(import.meta.url)}); })`;
  return new Worker(source, { eval: true, workerData: input });
}

async function main(): Promise<void> {
  const workerCount = Number(process.argv[2] ?? 3);
  const total = Number(process.argv[3] ?? 30_000);
  const counts = new SharedArrayBuffer(4 * workerCount);
  const received = new Int32Array(counts);
  const receivedByAll = () => received.reduce((sum, n) => sum + n, 0);

  // The first worker binds a port the kernel chooses; the others join it.
  const workers: Worker[] = [];
  // Listened for from the start: a worker exits as soon as it has reported,
  // possibly before the main thread gets to the next one.
  const exited: Promise<unknown>[] = [];
  let port = 0;
  let backend = '';
  for (let id = 0; id < workerCount; id++) {
    const worker = startThisFileAsWorker({ id, port, counts });
    workers.push(worker);
    exited.push(once(worker, 'exit'));
    const [ready] = (await once(worker, 'message')) as [Ready];
    if ('error' in ready) {
      console.log(`reusePort is not available here: ${ready.error}`);
      await Promise.all(workers.map((w) => w.terminate()));
      return;
    }
    ({ port, backend } = ready);
  }
  console.log(`${workerCount} workers share 127.0.0.1:${port} with reusePort (${backend} backend)`);

  // The publisher: one flow per socket. Datagram i carries its number.
  const publishers = await Promise.all(
    Array.from({ length: PUBLISHER_SOCKETS }, () => {
      const socket = createSocket('udp4');
      return new Promise<Socket>((resolve) => socket.bind(0, '127.0.0.1', () => resolve(socket)));
    }),
  );
  const started = performance.now();
  let sent = 0;
  while (sent < total) {
    await Promise.all(
      publishers.map((publisher) => {
        const messages: { data: Buffer; port: number; address: string }[] = [];
        for (let i = 0; i < BATCH && sent < total; i++) {
          const data = Buffer.alloc(64);
          data.writeUInt32BE(sent++, 0);
          messages.push({ data, port, address: '127.0.0.1' });
        }
        return new Promise((resolve, reject) => publisher.sendMany(messages, (error, count) => (error ? reject(error) : resolve(count))));
      }),
    );
    while (sent - receivedByAll() > WINDOW) await sleep(1);
  }
  // The last ones, for at most five seconds.
  for (const deadline = Date.now() + 5000; receivedByAll() < sent && Date.now() < deadline; ) await sleep(5);
  const elapsedMs = performance.now() - started;
  for (const publisher of publishers) publisher.close();

  let kernelDrops = 0;
  for (const [id, worker] of workers.entries()) {
    worker.postMessage('report');
    const [report] = (await once(worker, 'message')) as [Report];
    kernelDrops += report.kernelDrops;
    console.log(`worker ${id}: ${received[id]} datagrams (${report.flows} of ${PUBLISHER_SOCKETS} flows)`);
  }
  await Promise.all(exited);
  const got = receivedByAll();
  console.log(
    `total: ${got} received + ${kernelDrops} kernel drops = ${got + kernelDrops} of ${sent} sent (${sent - got - kernelDrops} unaccounted) in ${elapsedMs.toFixed(0)} ms`,
  );
}
