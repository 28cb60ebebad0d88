// The reusePort fan-out section of `pnpm bench` (`--only fanout`): receive
// throughput, in datagrams per second handed to JavaScript, of 1 and 2 worker
// threads that each own a udpkit socket bound with `reusePort` to one port.
// See bench/README.md.
//
// The C flood feeds them from SOURCES processes, so from SOURCES source
// ports: the kernel picks a socket of the group per flow (a hash of the
// 4-tuple), and one flow would always land on one worker. The floods send
// more than the receivers can take (the kernel drops the rest), so what the
// receivers deliver is their capacity. Two layouts:
//
// - `one CPU`: the receiver process on CPU 1 and the floods on CPU 0, so
//   both worker counts get the same single CPU: what fan-out costs.
// - `two CPUs`: the receiver process may run on both; a second worker then
//   competes with the floods for CPU 0. On a 2-CPU machine that is all the
//   room there is: the ratio shows the limit, not what more cores give.
import { setTimeout as sleep } from 'node:timers/promises';
import { fmt, median, perRoundRatios, reference, rotate, type BenchNamespace } from '@udpkit/bench-kit';

/** What bench/run.ts lends this section. */
export interface FanoutContext {
  rounds: number;
  scale: number;
  backend: string;
  /** The bench's namespace, open. */
  ns: BenchNamespace;
  /** The argv that runs a script of the bench folder with options. */
  benchChild(script: string, options: Record<string, string | number>): string[];
  log(line: string): void;
}

export interface FanoutMeasurement {
  layout: string;
  workers: number;
  round: number;
  sent: number;
  received: number;
  measured: number;
  pps: number;
  cpuPerDatagram: number;
  /** The receiver's CPU time over wall time: 1 per worker when the CPU is all theirs. */
  busy: number;
  perWorker: number[];
  wakeups: number;
  raw: Record<string, unknown>;
}

const SOURCES = 16; // flood processes, so flows: two workers both get some (all on one: 2 in 2^16)
const SIZE = 64;
const BATCH = 64;
/**
 * Each flood is paced at this rate (together far more than the receivers
 * take, or than one CPU can send: in practice they send as fast as they
 * can), and sends FLOOD_SECONDS' worth, so a flood lasts at least that long.
 */
const RATE_PER_SOURCE = 100_000;
const FLOOD_SECONDS = 1.5;
/** Time for every flood to start (`ip netns exec`, taskset, exec) before the measured part begins. */
const SETTLE_MS = 300;
const RCVBUF = 8 * 1024 * 1024;
const CPU_FLOOD = '0';
const FANOUT_LAYOUTS = [
  { id: 'one CPU', receiverCpus: '1', cpus: 1 },
  { id: 'two CPUs', receiverCpus: '0,1', cpus: 2 },
];
const layoutOf = (m: FanoutMeasurement) => FANOUT_LAYOUTS.find((l) => l.id === m.layout)!;
const FANOUT_WORKERS = [1, 2];

/**
 * One run: the receiver with `workers` workers, SOURCES floods at full
 * speed. The measured part runs from SETTLE_MS after the floods were
 * started to the end of the first one, so every flow is flowing throughout.
 */
async function measure(ctx: FanoutContext, layout: (typeof FANOUT_LAYOUTS)[number], workers: number, round: number): Promise<FanoutMeasurement> {
  const perSource = Math.round((RATE_PER_SOURCE * FLOOD_SECONDS * Math.max(ctx.scale, 0.5)) / BATCH) * BATCH;
  // In a session of its own: with autogroup scheduling (the default) the
  // receiver would otherwise share one group's CPU weight with 16 floods.
  const receiver = ctx.ns.spawn(
    layout.receiverCpus,
    ['setsid', ...ctx.benchChild('fanout-receiver.ts', { workers, backend: ctx.backend, rcvbuf: RCVBUF })],
    `fan-out receiver, ${workers} worker(s)`,
  );
  const ready = await receiver.ready;
  if (!ready) return receiver.result.then(() => { throw new Error('the fan-out receiver never got ready'); });
  const [, port, pid] = ready.split(' ');
  const floods = Array.from({ length: SOURCES }, () =>
    ctx.ns.spawn(CPU_FLOOD, [reference('flood'), '127.0.0.1', port!, String(SIZE), String(perSource), String(BATCH), String(RATE_PER_SOURCE), '0'], 'flood').result,
  );
  let floodEnded = false;
  const firstEnd = Promise.race(floods).then(() => (floodEnded = true));
  await sleep(SETTLE_MS);
  if (floodEnded) throw new Error(`a flood ended within ${SETTLE_MS} ms, before the measured part began`);
  process.kill(Number(pid), 'SIGUSR1');
  await firstEnd;
  process.kill(Number(pid), 'SIGUSR2');
  const sent = (await Promise.all(floods)).reduce((sum, f) => sum + Number(f.sent), 0);
  const raw = await receiver.result;
  const measured = Number(raw.measured);
  if (measured <= 0) throw new Error(`the fan-out receiver (${workers} worker(s)) received nothing in the measured part`);
  return {
    layout: layout.id,
    workers,
    round,
    sent,
    received: Number(raw.received),
    measured,
    pps: measured / (Number(raw.wallUs) / 1e6),
    cpuPerDatagram: Number(raw.cpuUs) / measured,
    busy: Number(raw.cpuUs) / Number(raw.wallUs),
    perWorker: raw.perWorker as number[],
    wakeups: Number(raw.wakeups),
    raw,
  };
}

/** Every layout and worker count, `rounds` times, interleaved with rotating order. */
export async function runFanout(ctx: FanoutContext): Promise<FanoutMeasurement[]> {
  const runs = FANOUT_LAYOUTS.flatMap((layout) => FANOUT_WORKERS.map((workers) => ({ layout, workers })));
  const measurements: FanoutMeasurement[] = [];
  for (let round = 1; round <= ctx.rounds; round++) {
    for (const { layout, workers } of rotate(runs, round)) {
      const m = await measure(ctx, layout, workers, round);
      measurements.push(m);
      ctx.log(
        `round ${round}  fan-out ${layout.id.padEnd(8)} ${workers} worker(s)  ${fmt.pps(m.pps).padStart(9)}  ${fmt.us(m.cpuPerDatagram)}/datagram  measured per worker ${m.perWorker.join('/')}  drops ${fmt.pct(1 - m.received / m.sent)}`,
      );
    }
  }
  return measurements;
}

/**
 * The medians per layout and worker count, and per layout the ratio of 2
 * workers' datagrams/s to 1 worker's (the median of per-round ratios), as
 * table rows and as data for results.json.
 */
export function summarizeFanout(measurements: FanoutMeasurement[]) {
  const rows: string[][] = [['reusePort fan-out, 64 B', 'datagrams/s', 'CPU/datagram', 'busy', 'drops', 'per wake-up', 'smallest worker share']];
  const ratioRows: string[][] = [['ratio', 'median', 'per round']];
  const summary: Record<string, unknown>[] = [];
  const ratios: Record<string, unknown>[] = [];
  for (const layout of FANOUT_LAYOUTS) {
    const byWorkers = (workers: number) => measurements.filter((m) => m.layout === layout.id && m.workers === workers);
    for (const workers of FANOUT_WORKERS) {
      const ms = byWorkers(workers);
      const pps = median(ms.map((m) => m.pps));
      const cpuPerDatagram = median(ms.map((m) => m.cpuPerDatagram));
      const busy = median(ms.map((m) => m.busy));
      const drops = median(ms.map((m) => 1 - m.received / m.sent));
      const perWakeup = median(ms.map((m) => m.received / m.wakeups));
      // How evenly the kernel spread the flows: the least loaded worker's part.
      const smallestShare = median(ms.map((m) => Math.min(...m.perWorker) / m.measured));
      summary.push({ layout: layout.id, workers, pps, cpuPerDatagramUs: cpuPerDatagram, busy, drops, perWakeup, smallestShare });
      rows.push([
        `${layout.id}, ${workers} worker${workers > 1 ? 's' : ''}`,
        fmt.pps(pps),
        fmt.us(cpuPerDatagram),
        fmt.pct(busy),
        fmt.pct(drops),
        perWakeup.toFixed(1),
        workers > 1 ? fmt.pct(smallestShare) : '',
      ]);
    }
    const perRound = perRoundRatios(byWorkers(2), byWorkers(1), (m) => m.pps);
    const value = median(perRound);
    ratios.push({ layout: layout.id, label: '2 workers / 1 worker (datagrams/s)', value, perRound });
    ratioRows.push([`${layout.id}: 2 workers / 1 worker (datagrams/s)`, fmt.x(value), perRound.map(fmt.x).join(' ')]);
  }
  // The figures are the receivers' capacity only if the floods outran them
  // (the kernel dropped datagrams) and the receivers had their CPUs.
  const notes: string[] = [];
  const floodLimited = measurements.filter((m) => m.received / m.sent > 0.95).length;
  if (floodLimited) {
    notes.push(
      `${floodLimited} fan-out run(s) received more than 95 % of what the floods sent: the floods were the limit there (other load on CPU 0?), and datagrams/s shows their pace, not the receivers' capacity.`,
    );
  }
  const starved = measurements.filter((m) => m.received / m.sent <= 0.95 && m.busy < 0.8 * Math.min(m.workers, layoutOf(m).cpus)).length;
  if (starved) {
    notes.push(
      `${starved} fan-out run(s) dropped datagrams while the receiver used less than 80 % of the CPU its workers could have: other load on the machine held them off the CPU, and the figures show the scheduler's share rather than udpkit's capacity.`,
    );
  }
  return { rows, ratioRows, summary, ratios, notes };
}
