// Every example runs to completion and prints what it promises.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { defaultBackend } from '@udpkit/core';
import { describe, expect, it } from 'vitest';

const here = fileURLToPath(new URL('..', import.meta.url));

function run(example: string, ...args: string[]): string {
  return execFileSync(process.execPath, ['--import', 'tsx', example, ...args], { cwd: here, encoding: 'utf8', timeout: 20_000 });
}

/** The beginning of demo.ts's status line; a narrow terminal may cut the rest. */
const STATUS = /^ *\d+\.\d s {2}backend (native|portable) {2}[ \d,]+\/s {2}delivered [\d,]+ {2}drops: library \d+, kernel \d+/;

const hasScript = spawnSync('script', ['--version']).status === 0;

/** The numbers of the summary line of demo.ts and rx-feed.ts. */
function summary(output: string) {
  const line = output.split(/\r?\n/).find((l) => l.startsWith('summary:')) ?? '';
  const number = (key: string) => Number(new RegExp(`${key} (\\d+)`).exec(line)?.[1] ?? Number.NaN);
  return {
    sent: number('sent'),
    delivered: number('delivered'),
    libraryDrops: number('library drops'),
    kernelDrops: number('kernel drops'),
    unaccounted: number('unaccounted'),
  };
}

describe('examples', () => {
  it('demo.ts, output not a terminal: a plain status line about once a second, a summary, exit 0', () => {
    const output = run('demo.ts', '--seconds', '3');
    expect(output).not.toContain('\r');
    const lines = output.split('\n');
    expect(lines[0]).toMatch(/^udpkit demo: 3 s of 64-byte ticks at 30,000\/s, sendMany to 127\.0\.0\.1:\d+, consumed by udpFeed \+ consume \(strategy pause\); backend (native|portable)/);
    const status = lines.filter((l) => STATUS.test(l));
    // One a second for 3 s, and the last one: at least 2 even on a loaded machine, not ten a second.
    expect(status.length).toBeGreaterThanOrEqual(2);
    expect(status.length).toBeLessThanOrEqual(10);
    const numbers = summary(output);
    expect(numbers.sent).toBeGreaterThan(0);
    expect(numbers.delivered).toBeGreaterThan(0);
    expect(numbers.libraryDrops).toBe(0); // 'pause' never drops in the library
  });

  it.runIf(hasScript)('demo.ts on a terminal (a pseudo-terminal from script(1)): the status line is redrawn in place', () => {
    // script(1) runs the demo on a pseudo-terminal and exits with its status (-e).
    const command = `${process.execPath} --import tsx demo.ts --seconds 2`;
    const output = execFileSync('script', ['-qec', command, '/dev/null'], { cwd: here, encoding: 'utf8', timeout: 20_000 });
    const redraws = output.split('\r\x1b[2K').slice(1);
    // About ten a second for 2 s; at least 5 even on a loaded machine.
    expect(redraws.length).toBeGreaterThanOrEqual(5);
    for (const redraw of redraws.slice(0, -1)) expect(redraw).toMatch(STATUS);
    expect(summary(output).delivered).toBeGreaterThan(0);
  });

  it('demo.ts: Ctrl-C (SIGINT) stops it early, with the summary and exit 0', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'demo.ts', '--seconds', '60'], { cwd: here, stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    let interrupted = false;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      // The first status line: the feed runs; interrupt it, once (a second Ctrl-C ends it at once).
      if (!interrupted && output.split('\n').some((l) => STATUS.test(l))) interrupted = child.kill('SIGINT');
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(0);
    const numbers = summary(output);
    expect(numbers.delivered).toBeGreaterThan(0);
    // Stopped long before 60 s: the summary's duration is a few seconds at most.
    const seconds = Number(/^summary: (\d+\.\d) s/m.exec(output)?.[1]);
    expect(seconds).toBeLessThan(30);
  });

  it('demo.ts: nothing delivered is a failure (exit 1), after the summary', () => {
    // At 0.1 ticks/s nothing is due within the second: nothing is sent, nothing arrives.
    const child = spawnSync(process.execPath, ['--import', 'tsx', 'demo.ts', '--seconds', '1', '--rate', '0.1'], { cwd: here, encoding: 'utf8', timeout: 20_000 });
    expect(child.status).toBe(1);
    expect(summary(child.stdout)).toMatchObject({ sent: 0, delivered: 0 });
    expect(child.stderr).toContain('failed: nothing was delivered');
  });

  it('demo.ts: a bad option is an error and a non-zero exit', () => {
    expect(() => run('demo.ts', '--seconds', '0')).toThrow(/--seconds must be in \(0, 600\]/);
  });

  it('batch-send.ts: the rates of send(), sendMany() and node:dgram send() for the same datagrams, and the ratios', () => {
    const output = run('batch-send.ts', '--count', '3000', '--rounds', '1');
    const lines = output.split('\n');
    expect(lines[0]).toMatch(/^3000 datagrams of 64 bytes to 127\.0\.0\.1:\d+, 1 round\(s\), backend (native|portable)$/);
    const rate = (label: string) => Number(new RegExp(`^${label}: +([\\d,]+) datagrams/s$`, 'm').exec(output)?.[1]?.replaceAll(',', ''));
    const send = rate('send\\(\\)');
    const sendMany = rate('sendMany\\(\\)');
    const dgramSend = rate('node:dgram send\\(\\)');
    for (const value of [send, sendMany, dgramSend]) expect(value).toBeGreaterThan(0);
    // The printed ratios are those of the printed rates (to the rounding of the rates).
    const ratio = (label: string) => Number(new RegExp(`^ratio ${label}: (\\d+\\.\\d\\d)x$`, 'm').exec(output)?.[1]);
    expect(ratio('sendMany\\(\\) / send\\(\\)')).toBeCloseTo(sendMany / send, 1);
    expect(ratio('sendMany\\(\\) / node:dgram send\\(\\)')).toBeCloseTo(sendMany / dgramSend, 1);
    // Warm-up 3000 and one round of 3000, three ways.
    expect(output).toMatch(/^the receiver read \d+ of the 18000 datagrams sent/m);
  });

  it('drop-in.ts: node:dgram code on @udpkit/core', () => {
    expect(run('drop-in.ts')).toBe('echo: one\necho: two\necho: three\n');
  });

  it('streams.ts: datagrams through a TransformStream', () => {
    expect(run('streams.ts')).toMatch(/^127\.0\.0\.1:\d+ says hello\n127\.0\.0\.1:\d+ says from\n127\.0\.0\.1:\d+ says streams\n$/);
  });

  it('multicast-ssm.ts: only the chosen source gets through (in a namespace as root, else says why)', () => {
    const output = run('multicast-ssm.ts');
    if (process.getuid?.() !== 0) {
      expect(output).toBe('multicast-ssm.ts makes a network namespace so no traffic leaves this machine: that needs root. Run it as root.\n');
      return;
    }
    expect(output).toBe(
      [
        'joined (127.0.0.1, 232.1.2.3) on lo',
        '127.0.0.1 -> 232.1.2.3: tick 1',
        '127.0.0.1 -> 232.1.2.3: tick 2',
        '127.0.0.1 -> 232.1.2.3: tick 3',
        'nothing from 127.0.0.2: the kernel filtered it',
        '',
      ].join('\n'),
    );
  });

  it('streams-pipe.ts: a relay between two sockets as one stream pipeline', () => {
    expect(run('streams-pipe.ts')).toBe('kitchen 69.8°F\ncellar 54.5°F\nattic 86.0°F\ngarden 24.8°F\n');
  });

  it('rx-pipeline.ts: totals per metric', () => {
    expect(run('rx-pipeline.ts')).toBe("{ hits: 3, bytes: 704 }\n");
  });

  it("rx-feed.ts: a consumer's pace reaches the socket ('pause': nothing lost)", () => {
    const output = run('rx-feed.ts');
    expect(output).toMatch(/\/s {2}delivered \d+ {2}drops: library \d+, kernel \d+ {2}queue \d+ {2}paused \d+x {2}backend (native|portable)/);
    const numbers = summary(output);
    expect(numbers.sent).toBe(10_000);
    expect(numbers.libraryDrops).toBe(0);
    expect(numbers.unaccounted).toBe(0);
    expect(numbers.delivered + numbers.kernelDrops).toBe(10_000);
  });

  it("rx-feed.ts latest: what the strategy drops is counted", () => {
    const numbers = summary(run('rx-feed.ts', 'latest'));
    expect(numbers.sent).toBe(10_000);
    expect(numbers.libraryDrops).toBeGreaterThan(0);
    expect(numbers.delivered + numbers.libraryDrops + numbers.kernelDrops).toBe(10_000);
  });

  it('reuseport-workers.ts: the kernel spreads the flows over the workers, every datagram accounted for', () => {
    const output = run('reuseport-workers.ts', '3', '20000');
    if (defaultBackend() === 'portable' && output.startsWith('reusePort is not available here')) {
      // Node before 22.12 without the native helper: node:dgram has no reusePort.
      expect(output).toBe('reusePort is not available here: reusePort is not supported by the portable backend\n');
      return;
    }
    expect(output).toMatch(/^3 workers share 127\.0\.0\.1:\d+ with reusePort \((native|portable) backend\)\n/);
    const perWorker = [...output.matchAll(/^worker (\d): (\d+) datagrams \((\d) of 8 flows\)$/gm)].map((m) => ({ datagrams: Number(m[2]), flows: Number(m[3]) }));
    expect(perWorker).toHaveLength(3);
    // Each flow goes to one worker, and more than one worker gets some.
    expect(perWorker.reduce((sum, w) => sum + w.flows, 0)).toBe(8);
    expect(perWorker.filter((w) => w.datagrams > 0).length).toBeGreaterThan(1);
    const total = /^total: (\d+) received \+ (\d+) kernel drops = (\d+) of (\d+) sent \((\d+) unaccounted\)/m.exec(output);
    expect(total).not.toBeNull();
    const [received, drops, accounted, sent, unaccounted] = total!.slice(1).map(Number);
    expect(sent).toBe(20_000);
    expect(received).toBe(perWorker.reduce((sum, w) => sum + w.datagrams, 0));
    expect(received! + drops!).toBe(accounted);
    expect(accounted).toBe(sent);
    expect(unaccounted).toBe(0);
  });
});
