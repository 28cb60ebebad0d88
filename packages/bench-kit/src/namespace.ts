// The network namespace a benchmark runs in, made for the run and deleted at
// its end, so that no datagram it sends can leave the machine:
//
// - always its loopback, up;
// - with `sendDest`, a veth pair v0/v1, 192.0.2.1/24 on v0 and a permanent
//   neighbour entry for `sendDest` (in 192.0.2.0/24), so datagrams to it go
//   through the whole stack, out of v0, and are discarded by v1 (which has
//   no address).
//
// Every child of the benchmark starts inside it (`spawn`).
import type { ChildProcess } from 'node:child_process';
import { spawnSync } from 'node:child_process';
import { startChild, type Child } from './child.js';
import { sh } from './shell.js';

export interface NamespaceOptions {
  /** The working directory of the children. */
  cwd: string;
  /** The send path's destination, behind the veth pair; none: loopback only. */
  sendDest?: string;
  /** A child still running after this long is killed. */
  childTimeoutMs?: number;
}

/** One child of a pair: where it runs and what it is. */
export interface ChildSpec {
  /** A taskset CPU list; undefined: not pinned. */
  cpu: string | undefined;
  argv: string[];
  what: string;
}

export class BenchNamespace {
  /** `<prefix>-<pid>`. */
  readonly name: string;
  readonly #options: NamespaceOptions;
  readonly #children = new Set<ChildProcess>();
  #open = false;

  constructor(prefix: string, options: NamespaceOptions) {
    this.name = `${prefix}-${process.pid}`;
    this.#options = options;
  }

  open(): void {
    const inNs = (argv: string[]) => sh('ip', ['netns', 'exec', this.name, ...argv]);
    sh('ip', ['netns', 'add', this.name]);
    this.#open = true;
    inNs(['ip', 'link', 'set', 'lo', 'up']);
    const dest = this.#options.sendDest;
    if (dest !== undefined) {
      inNs(['ip', 'link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1']);
      inNs(['ip', 'addr', 'add', '192.0.2.1/24', 'dev', 'v0']);
      inNs(['ip', 'link', 'set', 'v0', 'up']);
      inNs(['ip', 'link', 'set', 'v1', 'up']);
      inNs(['ip', 'neigh', 'add', dest, 'lladdr', '02:00:00:00:00:02', 'dev', 'v0', 'nud', 'permanent']);
      // Belt and braces: the destination must leave by v0.
      const route = inNs(['ip', '-4', 'route', 'get', dest]);
      if (!/\bdev v0\b/.test(route)) throw new Error(`unexpected route to ${dest} in ${this.name}: ${route}`);
    }
    // And the namespace must have no other way out.
    const allowed = dest === undefined ? ['lo'] : ['lo', 'v0', 'v1'];
    const links = inNs(['ip', '-o', 'link', 'show']);
    const names = links.split('\n').filter(Boolean).map((l) => l.split(':')[1]!.trim().replace(/@.*/, ''));
    if (names.some((n) => !allowed.includes(n))) throw new Error(`unexpected links in ${this.name}: ${names.join(', ')}`);
  }

  /** Kills the children still running and deletes the namespace; safe to call again, and from an 'exit' handler. */
  close(): void {
    for (const child of this.#children) child.kill('SIGKILL');
    if (!this.#open) return;
    this.#open = false;
    spawnSync('ip', ['netns', 'del', this.name]);
  }

  /**
   * A receiver and its sender: starts `receiver`, waits for its
   * `READY <port> …` line, then starts `sender(port)`; resolves with both
   * reports once both ended.
   */
  async pair<R = Record<string, unknown>, S = Record<string, unknown>>(receiver: ChildSpec, sender: (port: string) => ChildSpec): Promise<{ received: R; sent: S }> {
    const child = this.spawn<R>(receiver.cpu, receiver.argv, receiver.what);
    const ready = await child.ready;
    if (!ready) {
      await child.result; // rejects with what went wrong
      throw new Error(`${receiver.what} never got ready`);
    }
    const spec = sender(ready.split(' ')[1]!);
    const sent = await this.spawn<S>(spec.cpu, spec.argv, spec.what).result;
    return { received: await child.result, sent };
  }

  /** Starts `argv` inside the namespace, pinned to the CPUs `cpu` (a taskset list) if given. */
  spawn<R = Record<string, unknown>>(cpu: string | undefined, argv: string[], what: string): Child<R> {
    if (!this.#open) throw new Error('the bench namespace is gone');
    const pin = cpu === undefined ? [] : ['taskset', '-c', cpu];
    return startChild<R>(['ip', 'netns', 'exec', this.name, ...pin, ...argv], what, {
      cwd: this.#options.cwd,
      timeoutMs: this.#options.childTimeoutMs ?? 60_000,
      live: this.#children,
    });
  }
}
