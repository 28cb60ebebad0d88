// Multicast on real interfaces, inside a network namespace made for each
// scenario (`unshare -n`): loopback with a 224.0.0.0/4 route and a veth
// pair v0/v1 for IPv6. Only groups in 239/8, 232/8, ff12:: and ff32:: are
// used, and nothing leaves the namespace. Needs root; skipped otherwise.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { backend } from './support/sockets.js';

const isRoot = process.getuid?.() === 0;
const scenario = fileURLToPath(new URL('./support/multicast-scenario.mjs', import.meta.url));
const setup = [
  'ip link set lo up',
  'ip link set lo multicast on',
  'ip route add 224.0.0.0/4 dev lo',
  'sysctl -qw net.ipv6.conf.default.accept_dad=0',
  'ip link add v0 type veth peer name v1',
  'ip link set v0 up',
  'ip link set v1 up',
].join(' && ');

type Steps = Record<string, unknown>;

function run(name: string, which: 'both' | 'udpkit'): { udpkit: Steps; node?: Steps } {
  const output = execFileSync('unshare', ['-n', 'sh', '-c', `${setup} && exec "$0" "$@"`, process.execPath, scenario, name, which], {
    encoding: 'utf8',
    env: { ...process.env, UDPKIT_BACKEND: backend },
    timeout: 15_000,
  });
  return JSON.parse(output.trim().split('\n').at(-1)!);
}

if (!isRoot) console.warn('multicast tests skipped: they need root to make a network namespace (CI runs as root)');

describe.runIf(isRoot)('multicast in a network namespace', () => {
  it('joins and leaves an any-source IPv4 group exactly as node:dgram does', () => {
    const { udpkit, node } = run('anySource', 'both');
    expect(udpkit).toEqual(node);
    expect(udpkit).toMatchObject({ join: 'ok', joinedGot: ['while joined'], drop: 'ok', droppedGot: [] });
    expect(udpkit.joinTwice).toMatch(/^EADDRINUSE: addMembership EADDRINUSE/);
    expect(udpkit.unknownInterface).toBe('ENODEV: addMembership ENODEV');
  });

  it('joins a source-specific IPv4 group: only the chosen source gets through', () => {
    const { udpkit, node } = run('sourceSpecific', 'both');
    expect(udpkit).toEqual(node);
    expect(udpkit).toMatchObject({ join: 'ok', fromSource: ['from the source'], fromOther: [], drop: 'ok', afterDrop: [] });
  });

  it('joins an IPv6 group on an interface given by scope (::%v0)', () => {
    const { udpkit, node } = run('ipv6', 'both');
    expect(udpkit).toEqual(node);
    expect(udpkit).toMatchObject({ setInterface: 'ok', join: 'ok', joinedGot: ['v6'], rinfo: ['v6 from v0 link-local'], droppedGot: [] });
  });

  it('joins a source-specific IPv6 group', () => {
    const { udpkit, node } = run('ipv6SourceSpecific', 'both');
    expect(udpkit).toEqual(node);
    expect(udpkit).toMatchObject({ join: 'ok', fromSource: ['ssm v6'], drop: 'ok', afterDrop: [] });
  });

  it.runIf(backend === 'native')('blocks and unblocks one source of an any-source group', () => {
    const { udpkit } = run('blockSource', 'udpkit');
    expect(udpkit).toMatchObject({
      join: 'ok',
      block: 'ok',
      fromBlocked: [],
      fromOther: ['allowed'],
      unblock: 'ok',
      fromUnblocked: ['unblocked'],
    });
    expect(udpkit.blockNotJoined).toMatch(/^EADDRNOTAVAIL: blockSource EADDRNOTAVAIL|^EINVAL: blockSource EINVAL/);
  });

  it.runIf(backend === 'native')('setMulticastAll(false) stops a socket receiving groups other sockets joined', () => {
    const { udpkit } = run('multicastAll', 'udpkit');
    expect(udpkit).toEqual({
      bystanderByDefault: ['default'],
      set: 'ok',
      bystanderIsolated: [],
      joinedStillGets: ['joined'],
    });
  });
});
