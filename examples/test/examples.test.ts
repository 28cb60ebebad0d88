// Every example runs to completion and prints what it promises.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = fileURLToPath(new URL('..', import.meta.url));

function run(example: string, ...args: string[]): string {
  return execFileSync(process.execPath, ['--import', 'tsx', example, ...args], { cwd: here, encoding: 'utf8', timeout: 20_000 });
}

/** The numbers of rx-feed.ts's summary line. */
function summary(output: string) {
  const line = output.split('\n').find((l) => l.startsWith('summary:')) ?? '';
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
  it('demo.ts: sendMany into an RxJS pipeline', () => {
    const output = run('demo.ts');
    expect(output).toMatch(/sent 10000 datagrams with sendMany, received them through an RxJS pipeline/);
    // Sums of 0..9999 per 1000: 499500, 1499500, ...
    expect(output).toContain('sum per 1000: 499500 1499500 2499500');
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
});
