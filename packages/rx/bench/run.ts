// `pnpm bench` for @udpkit/rx: the cost of an RxJS pipeline (map, filter,
// a running count) over udpkit, against the same work in a plain 'message'
// listener and against the same pipeline over node:dgram with fromEvent.
// See bench/README.md.
//
//   tsx bench/run.ts [--rounds 3] [--quick] [--backend native|portable]
//
// Everything runs in a network namespace made here and deleted at the end
// (also on error or Ctrl-C): core's C flood (packages/core/bench/reference)
// sends 64-byte datagrams on the namespace's loopback, paced so that every
// contender keeps up, and each contender reports the CPU time it spent per
// datagram. Rounds interleave the contenders; ratios are medians of
// per-round ratios.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const benchDir = dirname(fileURLToPath(import.meta.url));
const rxDir = dirname(benchDir);
const floodSource = join(rxDir, '..', 'core', 'bench', 'reference', 'flood.c');
const binDir = join(benchDir, '.bin');
const flood = join(binDir, 'flood');

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
const CHILD_TIMEOUT_MS = 60_000;

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

const ns = `udpkit-rx-bench-${process.pid}`;
let nsCreated = false;
const children = new Set<ReturnType<typeof spawn>>();

function sh(cmd: string, argv: string[]): string {
  const r = spawnSync(cmd, argv, { encoding: 'utf8' });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')}: exit ${r.status}: ${r.stderr.trim()}`);
  return r.stdout;
}

function setUpNamespace(): void {
  sh('ip', ['netns', 'add', ns]);
  nsCreated = true;
  sh('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up']);
  // Only loopback inside: nothing sent here can leave the machine.
  const links = sh('ip', ['netns', 'exec', ns, 'ip', '-o', 'link', 'show']).split('\n').filter(Boolean);
  if (links.length !== 1 || !/\blo\b/.test(links[0]!)) throw new Error(`unexpected links in ${ns}: ${links.join('; ')}`);
}

function tearDownNamespace(): void {
  if (!nsCreated) return;
  nsCreated = false;
  spawnSync('ip', ['netns', 'del', ns]);
}

/** Runs `argv` in the namespace, pinned to `cpu`; resolves READY's line and the last JSON line. */
function inNamespace(cpu: string, argv: string[], what: string) {
  const child = spawn('ip', ['netns', 'exec', ns, 'taskset', '-c', cpu, ...argv], { cwd: rxDir, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let stdout = '';
  let stderr = '';
  let onReady: (line: string) => void = () => {};
  const ready = new Promise<string>((resolve) => (onReady = resolve));
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    const line = stdout.split('\n').find((l) => l.startsWith('READY'));
    if (line) onReady(line);
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
  const result = new Promise<Record<string, unknown>>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      const last = stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop();
      if (code !== 0 || !last) reject(new Error(`${what} failed (${signal ?? `exit ${code}`}):\n${stderr.trim() || stdout.trim()}`));
      else resolve(JSON.parse(last) as Record<string, unknown>);
    });
  });
  result.catch(() => onReady(''));
  return { ready, result };
}

/** One run; undefined when the receiver got too little to measure (other load on the machine starved it). */
async function measure(contender: string, round: number, backend: string): Promise<Measurement | undefined> {
  const warmup = Math.round(COUNT / 10);
  const receiverArgv = [process.execPath, '--import', 'tsx', join(benchDir, 'receiver.ts'),
    '--impl', contender, '--backend', backend, '--expected', String(COUNT), '--warmup', String(warmup), '--rcvbuf', String(RCVBUF), '--idle', '300'];
  const receiver = inNamespace(CPU_RECEIVER, receiverArgv, contender);
  const ready = await receiver.ready;
  if (!ready) return receiver.result.then(() => { throw new Error(`${contender} never got ready`); });
  const port = ready.split(' ')[1]!;
  const sent = await inNamespace(CPU_FLOOD, [flood, '127.0.0.1', port, String(SIZE), String(COUNT), String(BATCH), String(RATE), '0'], 'flood').result;
  const raw = await receiver.result;
  const measured = Number(raw.measured);
  if (measured < COUNT / 10) {
    console.log(`round ${round}  ${contender}: received ${raw.received} of ${sent.sent}, too few to measure (the machine is busy); skipped`);
    return undefined;
  }
  return { contender, round, sent: Number(sent.sent), received: Number(raw.received), measured, cpuPerDatagram: Number(raw.cpuUs) / measured };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function main(): Promise<void> {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) throw new Error('the bench needs Linux and root (it makes a network namespace)');
  for (const tool of ['ip', 'gcc', 'taskset']) if (spawnSync('which', [tool]).status !== 0) throw new Error(`the bench needs \`${tool}\``);
  mkdirSync(binDir, { recursive: true });
  if (!existsSync(flood) || statSync(flood).mtimeMs < statSync(floodSource).mtimeMs) sh('gcc', ['-O2', '-Wall', '-o', flood, floodSource]);
  const { nativeLoadError } = await import('@udpkit/core');
  const backend = args.backend ?? (nativeLoadError ? 'portable' : 'native');
  if (backend === 'portable') console.log('NOTE: udpkit runs on the PORTABLE backend; the targets are meant for the native backend.');

  const measurements: Measurement[] = [];
  setUpNamespace();
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      for (let i = 0; i < CONTENDERS.length; i++) {
        const { id, label } = CONTENDERS[(i + round - 1) % CONTENDERS.length]!;
        const m = await measure(id, round, backend);
        if (!m) continue;
        measurements.push(m);
        console.log(`round ${round}  ${label.padEnd(40)} ${(m.cpuPerDatagram).toFixed(3)} µs/datagram  drops ${(((m.sent - m.received) / m.sent) * 100).toFixed(1)} %`);
      }
    }
  } finally {
    tearDownNamespace();
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
    const perRound: number[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const a = measurements.find((m) => m.contender === over && m.round === round);
      const b = measurements.find((m) => m.contender === under && m.round === round);
      if (a && b) perRound.push(b.cpuPerDatagram / a.cpuPerDatagram);
    }
    const value = median(perRound);
    const verdict = goal === undefined ? '' : value >= goal ? `>= ${goal}x  PASS` : `>= ${goal}x  MISS`;
    console.log(`${label.padEnd(58)} ${value.toFixed(2)}x  ${verdict}`);
    return { label, value, perRound, goal };
  });
  writeFileSync(join(benchDir, 'results.json'), `${JSON.stringify({ date: new Date().toISOString(), node: process.version, kernel: os.release(), cpus: os.cpus().map((c) => c.model), loadavg: os.loadavg(), backend, rounds: ROUNDS, count: COUNT, rate: RATE, ratios, measurements }, null, 2)}\n`);
  console.log('\nwrote bench/results.json');
}

function abort(): void {
  for (const child of children) child.kill('SIGKILL');
  tearDownNamespace();
  process.exit(130);
}
process.once('SIGINT', abort);
process.once('SIGTERM', abort);
process.once('exit', tearDownNamespace);

main().then(
  () => process.exit(0),
  (error: unknown) => {
    for (const child of children) child.kill('SIGKILL');
    tearDownNamespace();
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
