// The failure path: 65,536 datagrams the kernel refuses, issued in one tick,
// until every callback ran. An IPv6-only socket sending to an IPv4-mapped
// address gets ENETUNREACH from the kernel for each datagram, so nothing
// leaves the machine and no namespace is needed.
//
//   tsx bench/refused.ts [--rounds 3] [--count 65536] [--backend native|portable]
//
// Each contender runs in its own child process (this file with --child);
// the table gives medians over the rounds of wall and CPU time per refused
// datagram, and the ratios to node:dgram's send() measured in the same run.
import { spawnSync } from 'node:child_process';
import nodeDgram from 'node:dgram';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    child: { type: 'string' },
    rounds: { type: 'string', default: '3' },
    count: { type: 'string', default: '65536' },
    backend: { type: 'string', default: 'native' },
  },
});
const count = Number(values.count);
const REFUSED = '::ffff:127.0.0.1';

const CONTENDERS = [
  { id: 'dgram', label: 'node:dgram send()' },
  { id: 'send', label: 'udpkit send()' },
  { id: 'sendMany', label: 'udpkit sendMany()' },
] as const;

interface Result {
  wallUs: number;
  cpuUs: number;
  errors: number;
}

async function child(impl: string): Promise<Result> {
  const { createSocket } = await import('@udpkit/core');
  const options = { type: 'udp6', ipv6Only: true } as const;
  const socket = impl === 'dgram' ? nodeDgram.createSocket(options) : createSocket({ ...options, backend: values.backend as 'native' | 'portable' });
  await new Promise<void>((resolve) => socket.bind(0, '::1', () => resolve()));
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  const errors = await new Promise<number>((resolve) => {
    if (impl === 'sendMany') {
      const messages = Array.from({ length: count }, () => ({ data: 'x', port: 9, address: REFUSED }));
      (socket as ReturnType<typeof createSocket>).sendMany(messages, (_error, sent) => resolve(count - sent));
      return;
    }
    let calls = 0;
    let failed = 0;
    const onSent = (error: Error | null) => {
      if (error) failed++;
      if (++calls === count) resolve(failed);
    };
    for (let i = 0; i < count; i++) socket.send('x', 9, REFUSED, onSent);
  });
  const wallUs = Number(process.hrtime.bigint() - start) / 1000;
  const used = process.cpuUsage(cpu);
  socket.close();
  return { wallUs, cpuUs: used.user + used.system, errors };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function main(): void {
  const rounds = Number(values.rounds);
  const results = new Map<string, Result[]>(CONTENDERS.map((c) => [c.id, []]));
  const self = fileURLToPath(import.meta.url);
  for (let round = 0; round < rounds; round++) {
    for (const { id } of CONTENDERS) {
      const r = spawnSync(process.execPath, ['--import', 'tsx', self, '--child', id, '--count', String(count), '--backend', values.backend!], {
        encoding: 'utf8',
        timeout: 120_000,
      });
      if (r.status !== 0) throw new Error(`${id}: ${r.stderr || r.signal}`);
      const result = JSON.parse(r.stdout) as Result;
      if (result.errors !== count) throw new Error(`${id}: ${result.errors} of ${count} refused`);
      results.get(id)!.push(result);
    }
  }
  const per = (id: string, key: 'wallUs' | 'cpuUs') => median(results.get(id)!.map((r) => r[key])) / count;
  console.log(`\nrefused datagrams: ${count} in one tick, ENETUNREACH each; udpkit backend: ${values.backend}; ${rounds} round(s), medians\n`);
  console.log('                      wall/datagram  CPU/datagram  wall vs node:dgram');
  for (const { id, label } of CONTENDERS) {
    const ratio = per(id, 'wallUs') / per('dgram', 'wallUs');
    console.log(`${label.padEnd(20)}  ${per(id, 'wallUs').toFixed(3).padStart(10)} µs  ${per(id, 'cpuUs').toFixed(3).padStart(9)} µs  ${ratio.toFixed(2).padStart(8)}x`);
  }
}

if (values.child) console.log(JSON.stringify(await child(values.child)));
else main();
