// Differential testing against node:dgram: a scenario runs once with Node's
// module and once with udpkit's, each run records what it saw (events, return
// values, thrown errors, received bytes) in an Observation, and the two
// Observations must be equal. Random things (ports, socket identities) become
// stable tokens so that equal behaviour compares equal.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import nodeDgram from 'node:dgram';
import { fileURLToPath, pathToFileURL } from 'node:url';
import udpkit from '@udpkit/core';
import { expect, it } from 'vitest';

/** What both modules offer: `createSocket` and `Socket`. */
export type Dgram = typeof nodeDgram;
export type Sock = ReturnType<Dgram['createSocket']>;

export const implementations = {
  theirs: nodeDgram,
  ours: udpkit as unknown as Dgram,
};

/** The events a recorded socket reports, in order. */
const EVENTS = ['listening', 'connect', 'close', 'error', 'message'] as const;
const TIMEOUT_MS = 3_000;

export type Observation = unknown[];

/** How an error looks from the outside: every property code matches on. */
export function describeError(error: unknown): unknown {
  if (!(error instanceof Error)) return { thrownNonError: String(error) };
  const e = error as Error & Record<string, unknown>;
  const out: Record<string, unknown> = {
    name: e.name,
    message: e.message,
    string: String(e),
    kind: e instanceof RangeError ? 'RangeError' : e instanceof TypeError ? 'TypeError' : 'Error',
    keys: Object.keys(e).sort(),
  };
  for (const key of ['code', 'errno', 'syscall', 'address', 'port', 'info'] as const) {
    if (key in e) out[key] = e[key];
  }
  return out;
}

/** One run of a scenario: a log plus the tools to fill it. */
export class Run {
  readonly log: Observation = [];
  readonly dgram: Dgram;
  readonly #sockets: Sock[] = [];
  readonly #ports = new Map<number, string>();
  readonly #cleanup: (() => void)[] = [];

  constructor(dgram: Dgram) {
    this.dgram = dgram;
  }

  /** Creates a socket whose events are recorded as `[name, event, ...args]`. */
  socket(typeOrOptions: 'udp4' | 'udp6' | { type: string; [option: string]: unknown }, listener?: (...args: never[]) => void): Sock {
    // Scenarios pass options Node's types do not allow (bad lookups, udpkit's own).
    const socket = this.dgram.createSocket(typeOrOptions as 'udp4', listener as never);
    return this.watch(socket);
  }

  /** Records a socket's events (and closes it at the end if still open). */
  watch(socket: Sock): Sock {
    const name = `s${this.#sockets.length}`;
    this.#sockets.push(socket);
    for (const event of EVENTS) {
      socket.on(event, (...args: unknown[]) => {
        if (event === 'listening') this.learn(socket);
        this.record(name, event, ...args);
      });
    }
    this.#cleanup.push(() => {
      try {
        socket.close();
      } catch {
        // already closed
      }
    });
    return socket;
  }

  /** Gives a bound socket's port a stable name, e.g. `<port s0>`. */
  learn(socket: Sock): number {
    const port = socket.address().port;
    const index = this.#sockets.indexOf(socket);
    this.namePort(port, `<port s${index}>`);
    return port;
  }

  namePort(port: number, token: string): void {
    if (!this.#ports.has(port)) this.#ports.set(port, token);
  }

  /** A UDP port on 127.0.0.1 that nothing listens on now. */
  async freePort(token = '<free port>'): Promise<number> {
    const probe = nodeDgram.createSocket('udp4');
    await new Promise<void>((resolve) => probe.bind(0, '127.0.0.1', resolve));
    const { port } = probe.address();
    await new Promise<void>((resolve) => probe.close(resolve));
    this.namePort(port, token);
    return port;
  }

  record(...entry: unknown[]): void {
    this.log.push(entry.map((value) => this.#plain(value)));
  }

  /** Calls `fn` and records what it returned or threw. */
  call(label: string, fn: () => unknown): unknown {
    try {
      const value = fn();
      this.record(label, 'returned', value);
      return value;
    } catch (error) {
      this.record(label, 'threw', describeError(error));
      return undefined;
    }
  }

  /** A callback that records its arguments under `label`, and a promise of its first call. */
  callback(label: string): { fn: (...args: unknown[]) => void; called: Promise<unknown[]> } {
    let resolve!: (args: unknown[]) => void;
    const called = new Promise<unknown[]>((r) => (resolve = r));
    const fn = (...args: unknown[]) => {
      this.record(label, ...args);
      resolve(args);
    };
    // The timeout starts only when someone waits, so an unawaited callback never rejects.
    let waited: Promise<unknown[]> | undefined;
    const run = this;
    return {
      fn,
      get called() {
        return (waited ??= withTimeout(called, label, run));
      },
    };
  }

  /** The next `event` of `socket` (its recording listener runs first). */
  next(socket: Sock, event: string): Promise<unknown[]> {
    const waited = new Promise<unknown[]>((resolve) => socket.once(event, (...args: unknown[]) => resolve(args)));
    return withTimeout(waited, `${event} of s${this.#sockets.indexOf(socket)}`, this);
  }

  /** Closes a socket and waits for its 'close'. */
  async close(socket: Sock): Promise<void> {
    const closed = this.next(socket, 'close');
    this.call(`close s${this.#sockets.indexOf(socket)}`, () => socket.close());
    await closed;
  }

  dispose(): void {
    for (const cleanup of this.#cleanup) cleanup();
  }

  /** Turns a value into plain, comparable data with random parts replaced by tokens. */
  #plain(value: unknown, depth = 0): unknown {
    if (depth > 6) return '<deep>';
    if (value instanceof Error) return this.#plain(describeError(value), depth + 1);
    if (Buffer.isBuffer(value)) {
      // Big datagrams: their length and a digest, not a wall of hex.
      if (value.length <= 64) return { bytes: value.toString('hex') };
      return { length: value.length, sha1: createHash('sha1').update(value).digest('hex') };
    }
    if (typeof value === 'function') return '<function>';
    if (typeof value === 'symbol') return value.toString();
    if (typeof value === 'number') return this.#ports.get(value) ?? value;
    if (typeof value === 'string') {
      return value.replace(/\d{4,5}/g, (digits) => this.#ports.get(Number(digits)) ?? digits);
    }
    if (value === null || typeof value !== 'object') return value;
    const index = this.#sockets.indexOf(value as Sock);
    if (index >= 0) return `<socket s${index}>`;
    if (Array.isArray(value)) return value.map((v) => this.#plain(v, depth + 1));
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      out[key] = this.#plain((value as Record<string, unknown>)[key], depth + 1);
    }
    return out;
  }
}

function withTimeout<T>(promise: Promise<T>, what: string, run: Run): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      run.record('timeout', what);
      reject(new Error(`timed out waiting for ${what}`));
    }, TIMEOUT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export type Scenario = (run: Run) => Promise<void> | void;

/**
 * Runs a scenario with one implementation. A scenario that throws (say, a
 * wait that timed out) ends its Observation with what it threw, so the two
 * sides still compare.
 */
export async function observe(dgram: Dgram, scenario: Scenario): Promise<Observation> {
  const run = new Run(dgram);
  try {
    await scenario(run);
  } catch (error) {
    run.record('scenario threw', describeError(error));
  } finally {
    run.dispose();
  }
  // Let closes started by dispose() finish before the other side runs.
  await new Promise((resolve) => setImmediate(resolve));
  return run.log;
}

/** One differential test: node:dgram's Observation and ours must be equal (and not empty). */
export function same(name: string, scenario: Scenario): void {
  it(name, async () => {
    const { theirs, ours } = await observeBoth(scenario);
    expect(theirs.length).toBeGreaterThan(0);
    expect(ours).toEqual(theirs);
  });
}

/** A socket of the run bound to port 0 on loopback (or `address`), once it is listening. */
export async function boundSocket(
  run: Run,
  { type = 'udp4', address, ...options }: { type?: 'udp4' | 'udp6'; address?: string; [option: string]: unknown } = {},
): Promise<Sock> {
  const socket = run.socket({ type, ...options });
  const listening = run.next(socket, 'listening');
  socket.bind(0, address ?? (type === 'udp4' ? '127.0.0.1' : '::1'));
  await listening;
  return socket;
}

/** Node's Observation, then ours. */
export async function observeBoth(scenario: Scenario): Promise<{ theirs: Observation; ours: Observation }> {
  const theirs = await observe(implementations.theirs, scenario);
  const ours = await observe(implementations.ours, scenario);
  if (process.env.DIFF_DEBUG) console.log(JSON.stringify(theirs));
  return { theirs, ours };
}

const udpkitEntry = pathToFileURL(fileURLToPath(new URL('../../dist/index.js', import.meta.url))).href;

/**
 * Runs a small ES module in a child `node` with `dgram` bound to either
 * implementation. With `afterReadyMs`, the clock starts when the child
 * prints "ready": 'exited' if it ends by itself within that time, else it is
 * killed and the outcome is 'still running'. `maxMs` bounds the whole run.
 */
export function runChild(
  which: 'theirs' | 'ours',
  body: string,
  maxMs: number,
  afterReadyMs?: number,
): Promise<{ outcome: string; code?: number | null; output: string }> {
  const source =
    which === 'theirs'
      ? `import dgram from 'node:dgram';\n${body}`
      : `import dgram from ${JSON.stringify(udpkitEntry)};\n${body}`;
  // A file, not `-e`: cluster.fork() re-runs the main module.
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'udpkit-diff-')), 'child.mjs');
  writeFileSync(file, source);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [file], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: process.env,
    });
    let output = '';
    let settled = false;
    const stillRunning = () => {
      if (settled) return;
      settled = true;
      child.kill('SIGKILL');
      resolve({ outcome: 'still running', output });
    };
    const timers = [setTimeout(stillRunning, maxMs)];
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (afterReadyMs !== undefined && output.includes('ready') && timers.length === 1) {
        timers.push(setTimeout(stillRunning, afterReadyMs));
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', (code) => {
      for (const timer of timers) clearTimeout(timer);
      rmSync(path.dirname(file), { recursive: true, force: true });
      if (settled) return;
      settled = true;
      resolve({ outcome: 'exited', code, output });
    });
  });
}
