// `pnpm bench` for @udpkit/rx: the cost of an RxJS pipeline (map, filter,
// a running count) over udpkit, against the same work in a plain 'message'
// listener and against the same pipeline over node:dgram with fromEvent.
// See bench/README.md.
//
//   tsx bench/run.ts [--rounds 3] [--quick] [--backend native|portable]
//
// Everything runs in a network namespace made here and deleted at the end
// (also on error or Ctrl-C): the C flood (packages/bench-kit/reference)
// sends 64-byte datagrams on the namespace's loopback, paced so that every
// contender keeps up, and each contender reports the CPU time it spent per
// datagram. Rounds interleave the contenders; ratios are medians of
// per-round ratios.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { BenchNamespace, machine, median, nodeChild, perRoundRatios, preflight, reference, rotate, runBench, writeResults } from '@udpkit/bench-kit';

const benchDir = dirname(fileURLToPath(import.meta.url));
const rxDir = dirname(benchDir);

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    quick: { type: 'boolean', default: false },
    backend: { type: 'string' },
  },
});

const ROUNDS = Math.max(1, Number(args.rounds));
const SIZE = 64;
const COUNT = Math.round(200_000 * (args.quick ? 0.25 : 1));
/** Datagrams per second: slow enough for the fromEvent(node:dgram) pipeline to keep up on a busy machine. */
const RATE = 60_000;
const BATCH = 64;
const RCVBUF = 8 * 1024 * 1024;
const CPU_RECEIVER = '1';
const CPU_FLOOD = '0';

const CONTENDERS = [
  { id: 'message', label: "udpkit 'message' listener" },
  { id: 'rx', label: 'udpkit fromSocket pipeline' },
  { id: 'feed', label: 'udpkit udpFeed pipeline' },
  { id: 'batches', label: 'udpkit fromSocketBatches+mapBatch' },
  { id: 'consume', label: 'udpkit udpFeed + consume(async, 64)' },
  { id: 'mergeMap', label: 'udpkit fromSocket + mergeMap(async, 64)' },
  { id: 'fromEvent', label: 'node:dgram fromEvent pipeline' },
];

/** speed ratio = CPU per datagram of `under` ÷ that of `over`: how many times as many datagrams per CPU second. */
const RATIOS = [
  { over: 'rx', under: 'message', label: 'fromSocket pipeline vs plain listener', goal: 0.85 },
  { over: 'rx', under: 'fromEvent', label: 'fromSocket pipeline vs fromEvent(node:dgram) pipeline', goal: 1.3 },
  { over: 'feed', under: 'message', label: 'udpFeed pipeline vs plain listener', goal: 0.85 },
  { over: 'feed', under: 'fromEvent', label: 'udpFeed pipeline vs fromEvent(node:dgram) pipeline', goal: 1.3 },
  { over: 'batches', under: 'message', label: 'fromSocketBatches+mapBatch vs plain listener' },
  { over: 'consume', under: 'mergeMap', label: 'udpFeed consume() vs mergeMap, async handlers' },
];

interface Measurement {
  contender: string;
  round: number;
  sent: number;
  received: number;
  measured: number;
  cpuPerDatagram: number;
}

// Loopback only: nothing sent here can leave the machine.
const ns = new BenchNamespace('udpkit-rx-bench', { cwd: rxDir });

/** One run; undefined when the receiver got too little to measure (other load on the machine starved it). */
async function measure(contender: string, round: number, backend: string): Promise<Measurement | undefined> {
  const warmup = Math.round(COUNT / 10);
  const receiverArgv = nodeChild(join(benchDir, 'receiver.ts'), { impl: contender, backend, expected: COUNT, warmup, rcvbuf: RCVBUF, idle: 300 });
  const { received: raw, sent } = await ns.pair({ cpu: CPU_RECEIVER, argv: receiverArgv, what: contender }, (port) => ({
    cpu: CPU_FLOOD,
    argv: [reference('flood'), '127.0.0.1', port, String(SIZE), String(COUNT), String(BATCH), String(RATE), '0'],
    what: 'flood',
  }));
  const measured = Number(raw.measured);
  if (measured < COUNT / 10) {
    console.log(`round ${round}  ${contender}: received ${raw.received} of ${sent.sent}, too few to measure (the machine is busy); skipped`);
    return undefined;
  }
  return { contender, round, sent: Number(sent.sent), received: Number(raw.received), measured, cpuPerDatagram: Number(raw.cpuUs) / measured };
}

async function main(): Promise<void> {
  preflight(['ip', 'gcc', 'taskset']);
  const { nativeLoadError } = await import('@udpkit/core');
  const backend = args.backend ?? (nativeLoadError ? 'portable' : 'native');
  if (backend === 'portable') console.log('NOTE: udpkit runs on the PORTABLE backend; the targets are meant for the native backend.');

  const measurements: Measurement[] = [];
  ns.open();
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      for (const { id, label } of rotate(CONTENDERS, round)) {
        const m = await measure(id, round, backend);
        if (!m) continue;
        measurements.push(m);
        console.log(`round ${round}  ${label.padEnd(40)} ${(m.cpuPerDatagram).toFixed(3)} µs/datagram  drops ${(((m.sent - m.received) / m.sent) * 100).toFixed(1)} %`);
      }
    }
  } finally {
    ns.close();
  }

  console.log(`\n@udpkit/rx, backend ${backend}, ${SIZE} B datagrams paced at ${RATE / 1000}k/s, ${ROUNDS} round(s); CPU = user + system per datagram received\n`);
  for (const { id, label } of CONTENDERS) {
    const ms = measurements.filter((m) => m.contender === id);
    const cpu = ms.map((m) => m.cpuPerDatagram);
    const drops = median(ms.map((m) => (m.sent - m.received) / m.sent));
    console.log(`${label.padEnd(42)} ${median(cpu).toFixed(3)} µs/datagram  (±${(((Math.max(...cpu) - Math.min(...cpu)) / 2 / median(cpu)) * 100).toFixed(1)} %)  drops ${(drops * 100).toFixed(1)} %`);
  }
  console.log('\nspeed = datagrams per CPU second, as a ratio (higher is better)');
  const ratios = RATIOS.map(({ over, under, label, goal }) => {
    const runsOf = (contender: string) => measurements.filter((m) => m.contender === contender);
    const perRound = perRoundRatios(runsOf(under), runsOf(over), (m) => m.cpuPerDatagram);
    const value = median(perRound);
    const verdict = goal === undefined ? '' : value >= goal ? `>= ${goal}x  PASS` : `>= ${goal}x  MISS`;
    console.log(`${label.padEnd(58)} ${value.toFixed(2)}x  ${verdict}`);
    return { label, value, perRound, goal };
  });
  writeResults(benchDir, { ...machine(), backend, rounds: ROUNDS, count: COUNT, rate: RATE, ratios, measurements });
}

runBench(ns, main);
