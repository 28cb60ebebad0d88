// `pnpm bench`: @udpkit/streams against the layers under it, side by side in
// one run. See bench/README.md.
//
//   tsx bench/run.ts [--rounds 3] [--quick] [--only send|receive]
//
// Everything runs inside a network namespace made here and deleted at the
// end (also on error or Ctrl-C), so no datagram can leave the machine:
//
// - SEND: a veth pair v0/v1, 192.0.2.1/24 on v0 and a permanent neighbour
//   entry for 192.0.2.2: datagrams to 192.0.2.2 go through the whole stack,
//   out of v0, and are discarded by v1 (which has no address).
// - RECEIVE: the namespace's loopback; the C flood (packages/bench-kit/reference)
//   feeds one receiver at a time, paced so that node:dgram keeps up (CPU
//   per datagram), and unpaced (SATURATE: what the receiver takes per second
//   when it can't keep up: its throughput).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { BenchNamespace, machine, median, nodeChild, perRoundRatios, preflight, reference, rotate, runBench, table, writeResults } from '@udpkit/bench-kit';

const benchDir = dirname(fileURLToPath(import.meta.url));
const packageDir = dirname(benchDir);

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    quick: { type: 'boolean', default: false },
    only: { type: 'string' }, // send | receive
  },
});
const ROUNDS = Math.max(1, Number(args.rounds));
const SCALE = args.quick ? 0.25 : 1;
const SEND_DEST = '192.0.2.2'; // exists only inside the namespace
const SIZES = [64, 1200];
const SEND_COUNT = Math.round(200_000 * SCALE);
/** Receive path: datagrams per run and the pace (node:dgram keeps up with it here). */
const RECEIVE = { count: Math.round(200_000 * SCALE), rate: { 64: 100_000, 1200: 50_000 } as Record<number, number> };
const SATURATE = { count: Math.round(400_000 * SCALE) };

const SEND = [
  { id: 'dgram', label: 'node:dgram send()' },
  { id: 'writable', label: 'streams writable' },
  { id: 'batches', label: 'streams writable, arrays' },
  { id: 'sendMany', label: 'core sendMany(64) GSO' },
  { id: 'sendManyPlain', label: 'core sendMany(64) no GSO' },
  { id: 'noop', label: 'WritableStream, no-op sink' },
];
const RECV = [
  { id: 'message', label: "core 'message'" },
  { id: 'readable', label: 'streams readable.pipeTo()' },
  { id: 'batches', label: 'streams readableBatches' },
  { id: 'dgram', label: "node:dgram 'message'" },
];

interface Measurement {
  path: 'send' | 'receive' | 'saturate';
  size: number;
  contender: string;
  round: number;
  pps: number;
  cpuPerDatagram: number;
  /** CPU time over wall time: near 1, the contender was the limit. */
  busy: number;
  drops?: number;
  /** Send path, @udpkit/core sockets: the share of the datagrams sent in UDP_SEGMENT sends. */
  gsoShare?: number;
}

// Every sender of the bench starts in it: nothing it sends can leave the namespace.
const ns = new BenchNamespace('udpkit-streams-bench', { cwd: packageDir, sendDest: SEND_DEST });

/** The argv that runs a script of this folder with options. */
const node = (script: string, options: Record<string, string | number>) => nodeChild(join(benchDir, script), options);

async function measureSend(id: string, size: number, round: number): Promise<Measurement> {
  const raw = await ns.spawn<Record<string, number>>(undefined, node('sender.ts', { impl: id, address: SEND_DEST, size, count: SEND_COUNT, warmup: SEND_COUNT / 10 }), `${id} (${size} B)`).result;
  if (raw.errors) throw new Error(`${id}: ${raw.errors} send errors`);
  return {
    path: 'send', size, contender: id, round,
    pps: raw.measured! / (raw.wallUs! / 1e6),
    cpuPerDatagram: raw.cpuUs! / raw.measured!,
    busy: raw.cpuUs! / raw.wallUs!,
    gsoShare: raw.gsoShare,
  };
}

async function measureReceive(id: string, size: number, round: number, paced: boolean): Promise<Measurement> {
  const count = paced ? RECEIVE.count : SATURATE.count;
  const receiver = { cpu: '1', argv: node('receiver.ts', { impl: id, expected: count, warmup: count / 10 }), what: `${id} (${size} B)` };
  const { received: raw, sent } = await ns.pair<Record<string, number>, Record<string, number>>(receiver, (port) => ({
    cpu: '0',
    argv: [reference('flood'), '127.0.0.1', port, String(size), String(count), '64', String(paced ? RECEIVE.rate[size] : 0), '0'],
    what: 'flood',
  }));
  if (!raw.measured) throw new Error(`${id} received nothing after the warm-up`);
  return {
    path: paced ? 'receive' : 'saturate', size, contender: id, round,
    pps: raw.measured / (raw.wallUs! / 1e6),
    cpuPerDatagram: raw.cpuUs! / raw.measured,
    busy: raw.cpuUs! / raw.wallUs!,
    drops: (sent.sent! - raw.received!) / sent.sent!,
  };
}

async function main(): Promise<void> {
  preflight(['ip', 'gcc', 'taskset']);
  const { defaultBackend } = await import('@udpkit/core');
  console.log(`@udpkit/core backend: ${defaultBackend()}`);

  const measurements: Measurement[] = [];
  ns.open();
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      for (const size of SIZES) {
        if (args.only !== 'receive') {
          for (const { id, label } of rotate(SEND, round)) {
            const m = await measureSend(id, size, round);
            measurements.push(m);
            const gso = m.gsoShare === undefined ? '' : `  GSO ${(m.gsoShare * 100).toFixed(0)} %`;
            console.log(`round ${round}  send ${String(size).padStart(4)} B  ${label.padEnd(26)} ${(m.pps / 1e3).toFixed(0).padStart(5)} k/s  ${m.cpuPerDatagram.toFixed(3)} µs/datagram${gso}`);
          }
        }
        if (args.only !== 'send') {
          for (const { id, label } of rotate(RECV, round)) {
            const m = await measureReceive(id, size, round, true);
            measurements.push(m);
            console.log(`round ${round}  recv ${String(size).padStart(4)} B  ${label.padEnd(26)} ${m.cpuPerDatagram.toFixed(3)} µs/datagram  drops ${(m.drops! * 100).toFixed(1)} %`);
          }
          for (const { id, label } of rotate(RECV, round)) {
            const m = await measureReceive(id, size, round, false);
            measurements.push(m);
            console.log(`round ${round}  sat. ${String(size).padStart(4)} B  ${label.padEnd(26)} ${(m.pps / 1e3).toFixed(0).padStart(5)} k/s  drops ${(m.drops! * 100).toFixed(1)} %`);
          }
        }
      }
    }
  } finally {
    ns.close();
  }

  const pick = (path: string, size: number, contender: string) =>
    measurements.filter((m) => m.path === path && m.size === size && m.contender === contender);
  const rows = [['', 'datagrams/s', 'CPU/datagram', 'datagrams per CPU-second', 'busy', 'drops', 'in GSO sends']];
  for (const [path, contenders] of [['send', SEND], ['receive', RECV], ['saturate', RECV]] as const) {
    for (const size of SIZES) {
      for (const { id, label } of contenders) {
        const ms = pick(path, size, id);
        if (!ms.length) continue;
        const cpu = median(ms.map((m) => m.cpuPerDatagram));
        rows.push([
          `${path.padEnd(7)} ${String(size).padStart(4)} B  ${label}`,
          path === 'receive' ? '(paced)' : `${(median(ms.map((m) => m.pps)) / 1e3).toFixed(0)} k/s`,
          `${cpu.toFixed(3)} µs`,
          `${(1 / cpu).toFixed(2)} M`,
          `${(median(ms.map((m) => m.busy)) * 100).toFixed(0)} %`,
          path === 'send' ? '' : `${(median(ms.map((m) => m.drops!)) * 100).toFixed(1)} %`,
          ms[0]!.gsoShare === undefined ? '' : `${(median(ms.map((m) => m.gsoShare!)) * 100).toFixed(0)} %`,
        ]);
      }
    }
  }

  // Ratios are medians of per-round ratios. Receive throughput is what an
  // unpaced flood gets through (saturate); the paced runs give CPU per datagram.
  const ratio = (path: Measurement['path'], size: number, over: string, under: string, of: (m: Measurement) => number) =>
    median(perRoundRatios(pick(path, size, over), pick(path, size, under), of));
  const perCpuSecond = (m: Measurement) => 1 / m.cpuPerDatagram;
  const pps = (m: Measurement) => m.pps;
  const targets: { path: Measurement['path']; over: string; under: string; label: string; of: (m: Measurement) => number; goal?: number }[] = [
    { path: 'saturate', over: 'readable', under: 'message', label: "readable.pipeTo / core 'message' (throughput)", of: pps, goal: 0.8 },
    { path: 'saturate', over: 'batches', under: 'message', label: "readableBatches.pipeTo / core 'message' (throughput)", of: pps, goal: 0.8 },
    { path: 'receive', over: 'readable', under: 'message', label: "readable.pipeTo / core 'message' (datagrams per CPU-second)", of: perCpuSecond },
    { path: 'receive', over: 'batches', under: 'message', label: "readableBatches.pipeTo / core 'message' (datagrams per CPU-second)", of: perCpuSecond },
    { path: 'saturate', over: 'readable', under: 'dgram', label: "readable.pipeTo / node:dgram 'message' (throughput)", of: pps },
    { path: 'send', over: 'writable', under: 'dgram', label: 'writable / node:dgram send() (datagrams/s)', of: pps, goal: 1.3 },
    { path: 'send', over: 'batches', under: 'dgram', label: 'writable arrays / node:dgram send() (datagrams/s)', of: pps, goal: 1.3 },
    { path: 'send', over: 'writable', under: 'sendMany', label: 'writable / core sendMany(64) GSO (datagrams/s)', of: pps },
    { path: 'send', over: 'writable', under: 'sendManyPlain', label: 'writable / core sendMany(64) no GSO (datagrams/s)', of: pps },
    { path: 'send', over: 'batches', under: 'sendMany', label: 'writable arrays / core sendMany(64) GSO (datagrams/s)', of: pps },
    { path: 'send', over: 'sendMany', under: 'sendManyPlain', label: 'core sendMany(64) GSO / no GSO (datagrams/s)', of: pps },
    // Node's WritableStream alone, per chunk: the most the writable can reach.
    { path: 'send', over: 'writable', under: 'noop', label: 'writable / no-op WritableStream (datagrams/s)', of: pps },
    { path: 'send', over: 'noop', under: 'sendMany', label: 'no-op WritableStream / core sendMany(64) GSO (datagrams/s)', of: pps },
  ];
  const ratioRows = [['ratio', 'median', 'target (64 B)', '']];
  const ratios = [];
  for (const t of targets) {
    for (const size of SIZES) {
      const skipped = (args.only === 'send' && t.path !== 'send') || (args.only === 'receive' && t.path === 'send');
      if (skipped) continue;
      const value = ratio(t.path, size, t.over, t.under, t.of);
      // Throughput is measured only if the baseline receiver was the limit: busy
      // nearly all the time. Otherwise the flood (or other load) set the rate.
      const floodLimited = t.path === 'saturate' && median(pick('saturate', size, t.under).map((m) => m.busy)) < 0.9;
      const goal = size === 64 ? t.goal : undefined;
      const verdict = floodLimited ? 'flood-limited' : goal === undefined ? '' : value >= goal ? 'PASS' : 'MISS';
      ratios.push({ path: t.path, label: t.label, size, value, goal, verdict });
      ratioRows.push([`${t.path.padEnd(7)} ${String(size).padStart(4)} B  ${t.label}`, `${value.toFixed(2)}x`, goal ? `>= ${goal}x` : '', verdict]);
    }
  }
  console.log(`\n${ROUNDS} round(s), medians; CPU = user + system time of the contender process per datagram\n`);
  console.log(table(rows));
  console.log();
  console.log(table(ratioRows));
  if (ratioRows.some((row) => row[3] === 'flood-limited')) {
    console.log('\nNOTE: flood-limited: the baseline receiver of the unpaced run was busy less than 90 % of the time, so the flood (or other load), not the receivers, set the rate; use the CPU-per-datagram ratios.');
  }
  writeResults(benchDir, { ...machine(), measurements, ratios });
}

runBench(ns, main);
