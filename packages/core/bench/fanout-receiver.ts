// The reusePort fan-out contender, run as a child process by bench/fanout.ts:
//
//   node --import tsx bench/fanout-receiver.ts --workers 2 --backend native|portable --rcvbuf 8388608
//
// Starts `workers` worker threads, each with its own udpkit socket bound with
// `reusePort` to one 127.0.0.1 port (the first binds a port the kernel
// chooses, the others join it), and prints "READY <port> <pid>". Each
// worker's 'messages' listener adds its batch's length to its counter in
// shared memory. The bench marks the measured part with signals: SIGUSR1 once
// every flood runs, SIGUSR2 when the first flood ends; this thread reads the
// counters, the clock and process.cpuUsage() (user + system of every thread)
// at each. Then prints one JSON line: datagrams received (all), measured
// (between the signals), CPU and wall microseconds between the signals,
// per-worker measured counts, kernel drops and receive batches (from each
// socket's stats()).
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';

const { values } = parseArgs({
  options: {
    workers: { type: 'string', default: '1' },
    backend: { type: 'string', default: 'native' },
    rcvbuf: { type: 'string', default: String(8 * 1024 * 1024) },
  },
});

const workerCount = Number(values.workers);
const counts = new SharedArrayBuffer(4 * workerCount);
const received = new Int32Array(counts);

const workerSource = `
const { parentPort, workerData } = require('node:worker_threads');
const { id, entry, backend, port, rcvbuf, counts } = workerData;
const received = new Int32Array(counts);
import(entry).then(({ createSocket }) => {
  const socket = createSocket({ type: 'udp4', reusePort: true, backend });
  socket.on('messages', (datagrams) => Atomics.add(received, id, datagrams.length));
  parentPort.once('message', () => {
    parentPort.postMessage(socket.stats());
    socket.close();
  });
  socket.bind(port, '127.0.0.1', () => {
    socket.setRecvBufferSize(rcvbuf);
    parentPort.postMessage({ port: socket.address().port });
  });
});`;

function reply<T>(worker: Worker): Promise<T> {
  return new Promise((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', resolve);
  });
}

const entry = import.meta.resolve('@udpkit/core');
const workers: Worker[] = [];
let port = 0;
for (let id = 0; id < workerCount; id++) {
  const workerData = { id, entry, backend: values.backend, port, rcvbuf: Number(values.rcvbuf), counts };
  const worker = new Worker(workerSource, { eval: true, workerData });
  workers.push(worker);
  ({ port } = await reply<{ port: number }>(worker));
}

const sample = () => ({ at: process.hrtime.bigint(), cpu: process.cpuUsage(), perWorker: [...received] });
const measuring = once(process, 'SIGUSR1').then(sample);
const measured = once(process, 'SIGUSR2').then(sample);
process.stdout.write(`READY ${port} ${process.pid}\n`);
const [from, to] = await Promise.all([measuring, measured]);

const stats = await Promise.all(
  workers.map((worker) => {
    const answer = reply<{ datagramsReceived: number; kernelDrops: number; receiveBatches: number }>(worker);
    worker.postMessage('stats');
    return answer;
  }),
);
await Promise.all(workers.map((worker) => worker.terminate()));
const perWorker = to.perWorker.map((n, id) => n - from.perWorker[id]!);
process.stdout.write(
  `${JSON.stringify({
    workers: workerCount,
    received: stats.reduce((sum, s) => sum + s.datagramsReceived, 0),
    measured: perWorker.reduce((sum, n) => sum + n, 0),
    cpuUs: to.cpu.user - from.cpu.user + to.cpu.system - from.cpu.system,
    userUs: to.cpu.user - from.cpu.user,
    wallUs: Math.round(Number(to.at - from.at) / 1000),
    perWorker,
    kernelDrops: stats.reduce((sum, s) => sum + s.kernelDrops, 0),
    wakeups: stats.reduce((sum, s) => sum + s.receiveBatches, 0),
  })}\n`,
);
