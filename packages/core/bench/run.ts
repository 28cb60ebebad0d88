// `pnpm bench`: udpkit against node:dgram and a C sendmmsg/recvmmsg
// reference, side by side in one run. See bench/README.md.
//
//   tsx bench/run.ts [--rounds 3] [--quick] [--backend native|portable] [--only send|receive|gro|fanout]
//
// Everything runs inside a network namespace made here and deleted at the
// end (also on error or Ctrl-C), so no datagram can leave the machine:
//
// - SEND: a veth pair v0/v1, 192.0.2.1/24 on v0 and a permanent neighbour
//   entry for 192.0.2.2, so datagrams to 192.0.2.2 go through the whole
//   stack, out of v0, and are discarded by v1 (which has no address).
// - RECEIVE: the namespace's loopback; the C flood feeds one receiver at a
//   time on 127.0.0.1, paced so that node:dgram keeps up.
// - FAN-OUT (bench/fanout.ts): the namespace's loopback; floods from several
//   source ports into 1 or 2 worker threads sharing a port with reusePort.
// - GRO: loopback too, unpaced: a C GSO sender (64 segments of 64 B per
//   sendmsg) into UDP_GRO receivers (C, udpkit 'messages', udpkit
//   'segments'), against node:dgram send() into node:dgram 'message'.
//
// Each contender is a child process; each reports its own CPU time for the
// measured part (after a warm-up). Rounds interleave the contenders, the
// table shows medians, and ratios are medians of per-round ratios.
// The process fails only on an error, never because a target is missed.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  BenchNamespace, fmt, machine, median, nodeChild, perRoundRatios, preflight, reference, rotate, runBench, table, writeResults,
} from '@udpkit/bench-kit';
import { runFanout, summarizeFanout, type FanoutMeasurement } from './fanout.js';

const benchDir = dirname(fileURLToPath(import.meta.url));
const coreDir = dirname(benchDir);

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    quick: { type: 'boolean', default: false },
    backend: { type: 'string' },
    only: { type: 'string' },
  },
});

// ---- configuration ----------------------------------------------------------

const ROUNDS = Math.max(1, Number(args.rounds));
const SCALE = args.quick ? 0.25 : 1;
const BATCH = 64; // sendMany batch, C sendmmsg/recvmmsg batch, send() window
const RCVBUF = 8 * 1024 * 1024;
const SEND_DEST = '192.0.2.2'; // exists only inside the namespace, see BenchNamespace
const SEND_PORT = 9;

/** Send path: datagrams per run (the first tenth is warm-up). */
const SEND_SIZES = [
  { size: 64, count: Math.round(200_000 * SCALE) },
  { size: 1200, count: Math.round(100_000 * SCALE) },
];
/** Receive path: datagrams per run, paced at `rate` per second (node:dgram manages ~180k/s here at 64 B, ~80k/s at 1200 B). */
const RECEIVE_SIZES = [
  { size: 64, count: Math.round(200_000 * SCALE), rate: 100_000 },
  { size: 1200, count: Math.round(100_000 * SCALE), rate: 50_000 },
];
/**
 * CPUs: on the receive path the receiver on one, the flood (which also runs
 * the loopback delivery) on the other. Senders are not pinned: the scheduler
 * puts them where there is room.
 */
const CPU_SENDER = undefined;
const CPU_RECEIVER = '1';
const CPU_FLOOD = '0';
/** GRO path: datagrams per run, 64 B, sent as fast as the sender can (64 segments per GSO sendmsg). */
const GRO_SIZE = 64;
const GRO_SEGMENTS = 64;
/** The GSO sender's send buffer: loopback charges a datagram to its sender until the receiver reads it. */
const GRO_SNDBUF = 8 * 1024 * 1024;
const GRO_COUNT = Math.round(4_000_000 * SCALE);
/** The node:dgram pair moves ~0.2-0.4 M/s: fewer datagrams for the same time. */
const GRO_DGRAM_COUNT = Math.round(400_000 * SCALE);

type Contender = { id: string; label: string; kind: 'c' | 'node' };
type Path = 'send' | 'receive' | 'gro';

// udpkit's send() and sendMany() without GSO, as the C sendmmsg reference;
// the GSO contenders send the same windows of 64 to one destination.
const SEND_CONTENDERS: Contender[] = [
  { id: 'dgram', label: 'node:dgram send()', kind: 'node' },
  { id: 'send', label: 'udpkit send()', kind: 'node' },
  { id: 'sendMany', label: 'udpkit sendMany(64)', kind: 'node' },
  { id: 'c', label: 'C sendmmsg(64)', kind: 'c' },
  { id: 'sendGso', label: 'udpkit send() GSO', kind: 'node' },
  { id: 'sendManyGso', label: 'udpkit sendMany(64) GSO', kind: 'node' },
  { id: 'sendSegments', label: 'udpkit sendSegments(64)', kind: 'node' },
  { id: 'cGso', label: 'C UDP_SEGMENT(64)', kind: 'c' },
];
/** Datagrams per UDP_SEGMENT send of the C GSO reference. */
const GSO_SEGMENTS = 64;
const RECEIVE_CONTENDERS: Contender[] = [
  { id: 'dgram', label: "node:dgram 'message'", kind: 'node' },
  { id: 'message', label: "udpkit 'message'", kind: 'node' },
  { id: 'messages', label: "udpkit 'messages'", kind: 'node' },
  { id: 'c', label: 'C recvmmsg(64)', kind: 'c' },
];
const GRO_CONTENDERS: Contender[] = [
  { id: 'dgram', label: "node:dgram send→'message'", kind: 'node' },
  { id: 'messages', label: "GSO→udpkit GRO 'messages'", kind: 'node' },
  { id: 'segments', label: "GSO→udpkit GRO 'segments'", kind: 'node' },
  { id: 'c', label: 'C GSO→GRO', kind: 'c' },
];

interface Target {
  path: Path;
  size: number;
  /** What the ratio divides: contender ids, `metric` of each. */
  over: string;
  under: string;
  metric: 'pps' | 'cpuPerDatagram';
  label: string;
  /** `>=` for throughput ratios, `<=` for CPU ratios; undefined: informational. */
  goal?: { op: '>=' | '<='; value: number };
}

const RATIOS: Target[] = [];
for (const { size } of SEND_SIZES) {
  const goal = <T>(v: T) => (size === 64 ? v : undefined);
  RATIOS.push(
    { path: 'send', size, over: 'sendMany', under: 'c', metric: 'pps', label: 'sendMany / C sendmmsg (datagrams/s)', goal: goal({ op: '>=', value: 0.95 }) },
    { path: 'send', size, over: 'sendMany', under: 'dgram', metric: 'pps', label: 'sendMany / node:dgram (datagrams/s)', goal: goal({ op: '>=', value: 1.6 }) },
    { path: 'send', size, over: 'send', under: 'dgram', metric: 'pps', label: 'send() / node:dgram (datagrams/s)', goal: goal({ op: '>=', value: 1.3 }) },
    { path: 'send', size, over: 'sendMany', under: 'c', metric: 'cpuPerDatagram', label: 'sendMany / C sendmmsg (CPU per datagram)' },
    { path: 'send', size, over: 'send', under: 'dgram', metric: 'cpuPerDatagram', label: 'send() / node:dgram (CPU per datagram)' },
    { path: 'send', size, over: 'sendManyGso', under: 'sendMany', metric: 'pps', label: 'sendMany GSO / sendMany (datagrams/s)', goal: goal({ op: '>=', value: 5 }) },
    { path: 'send', size, over: 'sendManyGso', under: 'cGso', metric: 'pps', label: 'sendMany GSO / C UDP_SEGMENT (datagrams/s)' },
    { path: 'send', size, over: 'sendSegments', under: 'cGso', metric: 'pps', label: 'sendSegments / C UDP_SEGMENT (datagrams/s)' },
    { path: 'send', size, over: 'sendSegments', under: 'sendMany', metric: 'pps', label: 'sendSegments / sendMany (datagrams/s)' },
    { path: 'send', size, over: 'sendGso', under: 'send', metric: 'pps', label: 'send() GSO / send() (datagrams/s)' },
    { path: 'send', size, over: 'sendManyGso', under: 'sendMany', metric: 'cpuPerDatagram', label: 'sendMany GSO / sendMany (CPU per datagram)' },
    { path: 'send', size, over: 'sendManyGso', under: 'cGso', metric: 'cpuPerDatagram', label: 'sendMany GSO / C UDP_SEGMENT (CPU per datagram)' },
    { path: 'send', size, over: 'sendSegments', under: 'cGso', metric: 'cpuPerDatagram', label: 'sendSegments / C UDP_SEGMENT (CPU per datagram)' },
  );
}
for (const { size } of RECEIVE_SIZES) {
  const goal = <T>(v: T) => (size === 64 ? v : undefined);
  RATIOS.push(
    { path: 'receive', size, over: 'message', under: 'dgram', metric: 'cpuPerDatagram', label: "'message' / node:dgram (CPU per datagram)", goal: goal({ op: '<=', value: 0.7 }) },
    { path: 'receive', size, over: 'messages', under: 'c', metric: 'cpuPerDatagram', label: "'messages' / C recvmmsg (CPU per datagram)", goal: goal({ op: '<=', value: 1.2 }) },
    { path: 'receive', size, over: 'messages', under: 'dgram', metric: 'cpuPerDatagram', label: "'messages' / node:dgram (CPU per datagram)" },
  );
}

for (const over of ['messages', 'segments']) {
  const form = over === 'messages' ? "'messages'" : "'segments'";
  RATIOS.push(
    { path: 'gro', size: GRO_SIZE, over, under: 'dgram', metric: 'pps', label: `GRO ${form} / node:dgram (datagrams/s)`, goal: { op: '>=', value: 20 } },
    { path: 'gro', size: GRO_SIZE, over, under: 'c', metric: 'pps', label: `GRO ${form} / C GSO→GRO (datagrams/s)`, goal: { op: '>=', value: 0.5 } },
    { path: 'gro', size: GRO_SIZE, over, under: 'c', metric: 'cpuPerDatagram', label: `GRO ${form} / C GSO→GRO (CPU per datagram)` },
  );
}

// ---- one measurement ----------------------------------------------------------

interface Measurement {
  path: Path;
  size: number;
  contender: string;
  round: number;
  /** Datagrams in the measured part (after the warm-up). */
  measured: number;
  cpuUs: number;
  wallUs: number;
  pps: number;
  cpuPerDatagram: number;
  /** The user-space part of cpuPerDatagram (the rest is the kernel's). */
  userPerDatagram: number;
  /** Receive path: datagrams the flood sent and the receiver never saw. */
  sent?: number;
  received?: number;
  drops?: number;
  wakeups?: number;
  raw: Record<string, unknown>;
}

// Every sender of the bench starts in it: nothing the bench sends can leave the namespace.
const ns = new BenchNamespace('udpkit-bench', { cwd: coreDir, sendDest: SEND_DEST });

/** The argv that runs a script of this folder with options. */
const benchChild = (script: string, options: Record<string, string | number>) => nodeChild(join(benchDir, script), options);

async function measureSend(contender: Contender, size: number, count: number, round: number, backend: string): Promise<Measurement> {
  const warmup = Math.round(count / 10);
  const argv =
    contender.id === 'cGso'
      ? [reference('flood'), SEND_DEST, String(SEND_PORT), String(size), String(count), '1', '0', String(warmup), String(GSO_SEGMENTS)]
      : contender.kind === 'c'
      ? [reference('flood'), SEND_DEST, String(SEND_PORT), String(size), String(count), String(BATCH), '0', String(warmup)]
      : benchChild('sender.ts', { impl: contender.id, backend, address: SEND_DEST, port: SEND_PORT, size, count, warmup, window: BATCH });
  const raw = await ns.spawn(CPU_SENDER, argv, `${contender.label} (${size} B)`).result;
  const measured = Number(raw.measured);
  const cpuUs = Number(raw.cpuUs);
  const wallUs = Number(raw.wallUs);
  if (Number(raw.errors)) throw new Error(`${contender.label}: ${raw.errors} send errors`);
  if ((contender.id.endsWith('Gso') || contender.id === 'sendSegments') && contender.kind === 'node' && (raw.gsoState !== 'on' || !Number(raw.gsoSegments))) {
    throw new Error(`${contender.label}: GSO did not run (${raw.gsoState}, ${raw.gsoSegments} segments)`);
  }
  return {
    path: 'send', size, contender: contender.id, round, measured, cpuUs, wallUs,
    pps: measured / (wallUs / 1e6),
    cpuPerDatagram: cpuUs / measured,
    userPerDatagram: Number(raw.userUs) / measured,
    raw,
  };
}

async function measureReceive(contender: Contender, size: number, count: number, rate: number, round: number, backend: string): Promise<Measurement> {
  const warmup = Math.round(count / 10);
  const idleMs = 300;
  const argv =
    contender.kind === 'c'
      ? [reference('sink'), String(count), String(warmup), String(RCVBUF), String(idleMs)]
      : benchChild('receiver.ts', { impl: contender.id, backend, expected: count, warmup, rcvbuf: RCVBUF, idle: idleMs });
  const { received, sent } = await ns.pair({ cpu: CPU_RECEIVER, argv, what: `${contender.label} (${size} B)` }, (port) => ({
    cpu: CPU_FLOOD,
    argv: [reference('flood'), '127.0.0.1', port, String(size), String(count), String(BATCH), String(rate), '0'],
    what: 'flood',
  }));
  return receiveMeasurement('receive', size, contender, round, received, 'flood', sent);
}

/**
 * One GRO-path pair: the receiver (pinned like the receive path's) takes what
 * the sender sends as fast as it can; datagrams/s is what the receiver got
 * per second of its measured wall time, drops are the rest.
 */
async function measureGro(contender: Contender, round: number, backend: string): Promise<Measurement> {
  const count = contender.id === 'dgram' ? GRO_DGRAM_COUNT : GRO_COUNT;
  const warmup = Math.round(count / 10);
  const idleMs = 300;
  const argv =
    contender.kind === 'c'
      ? [reference('sink'), String(count), String(warmup), String(RCVBUF), String(idleMs), String(BATCH), '1']
      : contender.id === 'dgram'
        ? benchChild('receiver.ts', { impl: 'dgram', expected: count, warmup, rcvbuf: RCVBUF, idle: idleMs })
        : [...benchChild('receiver.ts', { impl: contender.id, backend, expected: count, warmup, rcvbuf: RCVBUF, idle: idleMs }), '--gro'];
  const { received, sent } = await ns.pair({ cpu: CPU_RECEIVER, argv, what: contender.label }, (port) => ({
    cpu: CPU_FLOOD,
    argv:
      contender.id === 'dgram'
        ? benchChild('sender.ts', { impl: 'dgram', backend, address: '127.0.0.1', port, size: GRO_SIZE, count, warmup: 0, window: BATCH })
        : [reference('flood'), '127.0.0.1', port, String(GRO_SIZE), String(count), '1', '0', '0', String(GRO_SEGMENTS), String(GRO_SNDBUF)],
    what: `${contender.label} sender`,
  }));
  return receiveMeasurement('gro', GRO_SIZE, contender, round, received, 'sender', sent);
}

/** A receive or GRO measurement from the receiver's report `raw` and its sender's, kept in `raw` under `senderKey`. */
function receiveMeasurement(
  path: Path, size: number, contender: Contender, round: number,
  raw: Record<string, unknown>, senderKey: 'flood' | 'sender', sender: Record<string, unknown>,
): Measurement {
  const measured = Number(raw.measured);
  const cpuUs = Number(raw.cpuUs);
  const wallUs = Number(raw.wallUs);
  const sent = Number(sender.sent);
  const received = Number(raw.received);
  if (measured <= 0) throw new Error(`${contender.label} received nothing after the warm-up (${received} of ${sent})`);
  return {
    path, size, contender: contender.id, round, measured, cpuUs, wallUs,
    pps: measured / (wallUs / 1e6),
    cpuPerDatagram: cpuUs / measured,
    userPerDatagram: Number(raw.userUs) / measured,
    sent, received, drops: sent - received,
    wakeups: raw.wakeups === undefined ? undefined : Number(raw.wakeups),
    raw: { ...raw, [senderKey]: sender },
  };
}

// ---- preparation ----------------------------------------------------------------

/** The bench measures `dist/` (what `@udpkit/core` exports); say so when `src/` is newer. */
function staleDist(): string[] {
  const stale: string[] = [];
  for (const file of readdirSync(join(coreDir, 'src'))) {
    if (!file.endsWith('.ts')) continue;
    const built = join(coreDir, 'dist', file.replace(/\.ts$/, '.js'));
    if (!existsSync(built) || statSync(built).mtimeMs < statSync(join(coreDir, 'src', file)).mtimeMs) stale.push(file);
  }
  return stale;
}

// ---- main ------------------------------------------------------------------------

async function main(): Promise<void> {
  preflight(['ip', 'gcc', 'taskset', 'setsid']);
  const core = (await import('@udpkit/core')) as typeof import('@udpkit/core');
  const nativeError = core.nativeLoadError;
  const backend = args.backend ?? (nativeError ? 'portable' : 'native');
  if (backend === 'native' && nativeError) throw new Error(`--backend native: ${nativeError.message}`);
  const notes: string[] = [];
  if (backend === 'portable') {
    notes.push(
      `udpkit runs on the PORTABLE backend${nativeError ? ` (native helper: ${nativeError.message})` : ''}; the targets are meant for the native backend.`,
    );
  }
  const stale = staleDist();
  if (stale.length) notes.push(`dist/ is older than src/ (${stale.join(', ')}): run \`npx tsc -p tsconfig.build.json\` first.`);
  for (const note of notes) console.log(`NOTE: ${note}`);

  // GSO contenders need the native backend (the portable one refuses gso: true).
  const sendContenders = SEND_CONTENDERS.filter((c) => backend === 'native' || !(c.id.endsWith('Gso') || c.id === 'sendSegments'));
  const doSend = !args.only || args.only === 'send';
  const doReceive = !args.only || args.only === 'receive';
  const doFanout = !args.only || args.only === 'fanout';
  const doGro = !args.only || args.only === 'gro';
  const measurements: Measurement[] = [];
  let fanout: FanoutMeasurement[] = [];
  const started = Date.now();
  ns.open();
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      // Interleave, and rotate the order so no contender always goes first.
      if (doSend) {
        for (const { size, count } of SEND_SIZES) {
          for (const contender of rotate(sendContenders, round)) {
            const m = await measureSend(contender, size, count, round, backend);
            measurements.push(m);
            console.log(`round ${round}  send ${String(size).padStart(4)} B  ${contender.label.padEnd(22)} ${fmt.pps(m.pps).padStart(9)}  ${fmt.us(m.cpuPerDatagram)}/datagram`);
          }
        }
      }
      if (doReceive) {
        for (const { size, count, rate } of RECEIVE_SIZES) {
          for (const contender of rotate(RECEIVE_CONTENDERS, round)) {
            const m = await measureReceive(contender, size, count, rate, round, backend);
            measurements.push(m);
            console.log(`round ${round}  recv ${String(size).padStart(4)} B  ${contender.label.padEnd(22)} ${fmt.us(m.cpuPerDatagram)}/datagram  drops ${fmt.pct(m.drops! / m.sent!)}`);
          }
        }
      }
      if (doGro) {
        for (const contender of rotate(GRO_CONTENDERS, round)) {
          const m = await measureGro(contender, round, backend);
          measurements.push(m);
          console.log(`round ${round}  gro  ${String(GRO_SIZE).padStart(4)} B  ${contender.label.padEnd(26)} ${fmt.pps(m.pps).padStart(9)}  ${fmt.us(m.cpuPerDatagram)}/datagram  drops ${fmt.pct(m.drops! / m.sent!)}`);
        }
      }
    }
    if (doFanout) {
      fanout = await runFanout({
        rounds: ROUNDS,
        scale: SCALE,
        backend,
        ns,
        benchChild,
        log: (line) => console.log(line),
      });
    }
  } finally {
    ns.close();
  }

  // Medians per contender.
  const pick = (path: string, size: number, contender: string) =>
    measurements.filter((m) => m.path === path && m.size === size && m.contender === contender);
  const summary: Record<string, unknown>[] = [];
  const rows: string[][] = [['', 'datagrams/s', 'CPU/datagram', 'of it user', 'spread (CPU)', 'busy', 'drops', 'per wake-up']];
  let disturbed = 0;
  for (const [path, sizes, contenders] of [
    ['send', doSend ? SEND_SIZES : [], sendContenders],
    ['receive', doReceive ? RECEIVE_SIZES : [], RECEIVE_CONTENDERS],
    ['gro', doGro ? [{ size: GRO_SIZE }] : [], GRO_CONTENDERS],
  ] as const) {
    for (const { size } of sizes) {
      for (const c of contenders) {
        const ms = pick(path, size, c.id);
        const cpu = ms.map((m) => m.cpuPerDatagram);
        const pps = median(ms.map((m) => m.pps));
        const drops = path !== 'send' ? median(ms.map((m) => m.drops! / m.sent!)) : undefined;
        const perWake = ms.every((m) => m.wakeups) ? median(ms.map((m) => m.received! / m.wakeups!)) : undefined;
        const spread = (Math.max(...cpu) - Math.min(...cpu)) / median(cpu);
        const user = median(ms.map((m) => m.userPerDatagram));
        // CPU time over wall time: a sender that can't keep its CPU busy was
        // preempted by other load (or waited), and its datagrams/s suffer.
        const busy = median(ms.map((m) => m.cpuUs / m.wallUs));
        if (path === 'send') disturbed += ms.filter((m) => m.cpuUs / m.wallUs < 0.85).length;
        summary.push({ path, size, contender: c.id, label: c.label, pps, cpuPerDatagramUs: median(cpu), userPerDatagramUs: user, busy, spread, drops, perWakeup: perWake });
        rows.push([
          `${path.padEnd(7)} ${String(size).padStart(4)} B  ${c.label}`,
          path === 'receive' ? `(paced) ${fmt.pps(pps)}` : fmt.pps(pps),
          fmt.us(median(cpu)),
          fmt.us(user),
          `±${fmt.pct(spread / 2)}`,
          path === 'send' ? fmt.pct(busy) : '',
          drops === undefined ? '' : fmt.pct(drops),
          perWake === undefined ? '' : perWake.toFixed(1),
        ]);
      }
    }
  }

  // Ratios: medians of per-round ratios (each round's contenders ran minutes apart at most).
  const ratios: Record<string, unknown>[] = [];
  const ratioRows: string[][] = [['ratio', 'median', 'target (64 B)', '']];
  let misses = 0;
  for (const t of RATIOS) {
    if ((t.path === 'send' && !doSend) || (t.path === 'receive' && !doReceive) || (t.path === 'gro' && !doGro)) continue;
    const perRound = perRoundRatios(pick(t.path, t.size, t.over), pick(t.path, t.size, t.under), (m) => m[t.metric]);
    if (perRound.length === 0) continue; // a contender this backend doesn't run
    const value = median(perRound);
    const pass = t.goal ? (t.goal.op === '>=' ? value >= t.goal.value : value <= t.goal.value) : undefined;
    if (pass === false) misses++;
    ratios.push({ path: t.path, size: t.size, label: t.label, metric: t.metric, value, perRound, target: t.goal, pass });
    ratioRows.push([
      `${t.path.padEnd(7)} ${String(t.size).padStart(4)} B  ${t.label}`,
      fmt.x(value),
      t.goal ? `${t.goal.op} ${t.goal.value}x` : '',
      pass === undefined ? '' : pass ? 'PASS' : 'MISS',
    ]);
  }

  console.log(`\nudpkit backend: ${backend}; ${ROUNDS} round(s), medians; ${((Date.now() - started) / 1000).toFixed(0)} s`);
  console.log('CPU = user + system time of the contender process per datagram (sent, or received and handed to JS)\n');
  console.log(table(rows));
  console.log();
  console.log(table(ratioRows));
  const fanoutSummary = doFanout ? summarizeFanout(fanout) : undefined;
  if (fanoutSummary) {
    console.log();
    console.log(table(fanoutSummary.rows));
    console.log();
    console.log(table(fanoutSummary.ratioRows));
    notes.push(...fanoutSummary.notes);
  }
  if (disturbed) {
    notes.push(
      `${disturbed} send run(s) kept their CPU less than 85 % busy: other load on the machine; datagrams/s ratios are less reliable than CPU/datagram ones.`,
    );
  }
  for (const note of notes) console.log(`\nNOTE: ${note}`);
  if (misses) console.log(`\n${misses} target(s) missed (reported, not an error).`);

  const results = {
    ...machine(),
    backend,
    notes,
    config: {
      rounds: ROUNDS, batch: BATCH, rcvbuf: RCVBUF, send: SEND_SIZES, receive: RECEIVE_SIZES,
      gro: { size: GRO_SIZE, segments: GRO_SEGMENTS, count: GRO_COUNT, dgramCount: GRO_DGRAM_COUNT },
    },
    summary,
    ratios,
    measurements,
    fanout: fanoutSummary && { summary: fanoutSummary.summary, ratios: fanoutSummary.ratios, measurements: fanout },
  };
  writeResults(benchDir, results);
}

runBench(ns, main);
