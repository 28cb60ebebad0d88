// BenchNamespace and runBench on real namespaces: they need root.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BenchNamespace } from '../src/namespace.js';
import { reference } from '../src/references.js';

const namespaces = () => spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
const opened: BenchNamespace[] = [];
const open = (sendDest?: string) => {
  const ns = new BenchNamespace('udpkit-bench-kit-test', { cwd: process.cwd(), sendDest });
  opened.push(ns);
  ns.open();
  return ns;
};
afterEach(() => opened.splice(0).forEach((ns) => ns.close()));

/** A child that reports its links and the CPUs it may run on. */
const reportLinksAndCpus = [
  process.execPath,
  '-e',
  `const { execSync } = require('node:child_process');
   const links = execSync('ip -o link show', { encoding: 'utf8' }).trim().split('\\n').map((l) => l.split(':')[1].trim().replace(/@.*/, ''));
   const cpus = require('node:fs').readFileSync('/proc/self/status', 'utf8').match(/Cpus_allowed_list:\\s*(\\S+)/)[1];
   console.log('READY');
   console.log(JSON.stringify({ links, cpus }));`,
];

describe.skipIf(process.getuid?.() !== 0)('BenchNamespace', () => {
  it('runs children inside a namespace of loopback and the veth pair, pinned when asked', async () => {
    const ns = open('192.0.2.2');
    expect(namespaces()).toContain(ns.name);
    const child = ns.spawn<{ links: string[]; cpus: string }>('0', reportLinksAndCpus, 'reporter');
    expect(await child.ready).toBe('READY');
    const { links, cpus } = await child.result;
    expect(links.sort()).toEqual(['lo', 'v0', 'v1']);
    expect(cpus).toBe('0');
    ns.close();
    expect(namespaces()).not.toContain(ns.name);
  });

  it('has only loopback without a send destination', async () => {
    const ns = open();
    const { links } = await ns.spawn<{ links: string[] }>(undefined, reportLinksAndCpus, 'reporter').result;
    expect(links).toEqual(['lo']);
  });

  it('rejects with the exit status and stderr of a failing child, which never gets ready', async () => {
    const ns = open();
    const child = ns.spawn(undefined, ['sh', '-c', 'echo oops >&2; exit 3'], 'failing child');
    await expect(child.result).rejects.toThrow(/failing child failed \(exit 3\):\noops/);
    expect(await child.ready).toBe('');
  });

  it('kills the children still running when it closes, and then starts none', async () => {
    const ns = open();
    const sleeper = ns.spawn(undefined, ['sleep', '60'], 'sleeper');
    ns.close();
    await expect(sleeper.result).rejects.toThrow(/sleeper failed \(SIGKILL\)/);
    expect(() => ns.spawn(undefined, ['true'], 'late')).toThrow(/gone/);
  });

  it('pairs the C sink with GRO and the C flood with GSO and a send buffer, sent to the port the sink got ready on', async () => {
    const ns = open();
    const { received, sent } = await ns.pair({ cpu: undefined, argv: [reference('sink'), '6400', '0', '4194304', '300', '64', '1'], what: 'sink' }, (port) => ({
      cpu: undefined,
      argv: [reference('flood'), '127.0.0.1', port, '64', '6400', '1', '0', '0', '64', '1048576'],
      what: 'flood',
    }));
    expect(sent).toMatchObject({ sent: 6400, measured: 6400, errors: 0 });
    expect(received).toMatchObject({ received: 6400 });
    // GRO: far fewer reads than datagrams.
    expect(Number(received.wakeups)).toBeLessThan(6400 / 8);
  });

  it('rejects a pair whose receiver ends before it is ready, and starts no sender', async () => {
    const ns = open();
    let senders = 0;
    const pair = ns.pair({ cpu: undefined, argv: ['sh', '-c', 'echo no port >&2; exit 1'], what: 'receiver' }, () => {
      senders++;
      return { cpu: undefined, argv: ['true'], what: 'sender' };
    });
    await expect(pair).rejects.toThrow(/receiver failed \(exit 1\):\nno port/);
    expect(senders).toBe(0);
  });

  it('refuses a negative send buffer', async () => {
    const ns = open();
    const flood = ns.spawn(undefined, [reference('flood'), '127.0.0.1', '9', '64', '64', '1', '0', '0', '64', '-1'], 'flood');
    await expect(flood.result).rejects.toThrow(/exit 2.*\n.*bad arguments/);
  });
});

describe.skipIf(process.getuid?.() !== 0)('runBench', () => {
  const start = (mode: 'hold' | 'fail') => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'fixtures', 'hold.ts'), mode], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const ready = new Promise<string>((resolve, reject) => {
      child.stdout.on('data', () => {
        const line = stdout.split('\n').find((l) => l.startsWith('READY '));
        if (line) resolve(line.split(' ')[1]!);
      });
      child.on('close', () => reject(new Error(`ended before READY: ${stderr}`)));
    });
    const exit = once(child, 'close').then(([code]) => code as number);
    return { child, ready, exit, stderr: () => stderr };
  };

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('deletes the namespace and exits on %s with %i', async (signal, code) => {
    const bench = start('hold');
    const name = await bench.ready;
    expect(namespaces()).toContain(name);
    bench.child.kill(signal);
    expect(await bench.exit).toBe(code);
    expect(namespaces()).not.toContain(name);
  });

  it('deletes the namespace, prints the error and exits 1 when the bench fails', async () => {
    const bench = start('fail');
    const name = await bench.ready;
    expect(await bench.exit).toBe(1);
    expect(bench.stderr()).toContain('failed on purpose');
    expect(namespaces()).not.toContain(name);
  });
});
