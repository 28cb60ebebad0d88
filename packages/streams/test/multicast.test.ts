// MulticastController: the argument checks (TypeError) and state checks
// (InvalidStateError) that need no membership run here; joining, receiving
// and leaving run inside a network namespace the test makes (`unshare -n`),
// with groups in 239/8, 232/8 and ff12::/16 only. Needs root; skipped otherwise.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { UDPSocket, type MulticastController } from '@udpkit/streams';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backend } from './support/helpers.js';

describe('MulticastController checks', () => {
  let socket: UDPSocket;
  let controller: MulticastController;
  beforeAll(async () => {
    socket = new UDPSocket({ localAddress: '127.0.0.1' });
    controller = (await socket.opened).multicastController!;
  });
  afterAll(() => socket.close());

  it.each([
    ['an empty group', '', undefined, 'ipAddress must not be empty'],
    ['a host name', 'localhost', undefined, 'ipAddress is not a valid IPv4 or IPv6 address'],
    ['a scoped IPv6 group', 'ff12::1%lo', undefined, 'ipAddress is not a valid IPv4 or IPv6 address'],
    ['a unicast group', '10.1.2.3', undefined, 'ipAddress must be a valid multicast address'],
    ['an IPv6 unicast group', 'fe80::1', undefined, 'ipAddress must be a valid multicast address'],
    ['an empty source', '232.1.1.1', '', 'sourceAddress must not be empty'],
    ['a source that is no address', '232.1.1.1', 'nope', 'sourceAddress is not a valid IPv4 or IPv6 address'],
    ['a multicast source', '232.1.1.1', '239.1.1.1', 'sourceAddress must be a unicast address, not a multicast address'],
    ['the zero source', '232.1.1.1', '0.0.0.0', 'sourceAddress must not be the zero address (0.0.0.0 or ::)'],
    ['the IPv6 zero source', 'ff32::1', '::', 'sourceAddress must not be the zero address (0.0.0.0 or ::)'],
    ['a source of the other family', '232.1.1.1', '::1', 'sourceAddress and ipAddress must be the same IP version'],
  ])('joinGroup and leaveGroup reject %s with a TypeError', async (_, group, sourceAddress, message) => {
    const options = sourceAddress === undefined ? undefined : { sourceAddress };
    for (const call of [controller.joinGroup(group, options), controller.leaveGroup(group, options)]) {
      await expect(call).rejects.toThrow(TypeError);
      await expect(call).rejects.toThrow(message);
    }
    expect(controller.joinedGroups).toEqual([]);
  });

  it('leaveGroup of a group not joined is an InvalidStateError', async () => {
    await expect(controller.leaveGroup('239.1.1.1')).rejects.toMatchObject({ name: 'InvalidStateError', message: 'Cannot leave group which is not joined' });
  });

  it('joinedGroups is a frozen copy', () => {
    const groups = controller.joinedGroups;
    expect(Object.isFrozen(groups)).toBe(true);
    expect(controller.joinedGroups).not.toBe(groups);
  });

  it('is there in bound mode only', async () => {
    const connected = new UDPSocket({ remoteAddress: '127.0.0.1', remotePort: 9 });
    expect((await connected.opened).multicastController).toBeUndefined();
    await connected.close();
  });
});

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

function run(name: string): Record<string, unknown> {
  const output = execFileSync('unshare', ['-n', 'sh', '-c', `${setup} && exec "$0" "$@"`, process.execPath, scenario, name], {
    encoding: 'utf8',
    env: { ...process.env, UDPKIT_BACKEND: backend },
    timeout: 15_000,
  });
  return JSON.parse(output.trim().split('\n').at(-1)!);
}

if (!isRoot) console.warn('multicast membership tests skipped: they need root to make a network namespace (CI runs as root)');

describe.runIf(isRoot)('MulticastController in a network namespace', () => {
  it('joins, receives, refuses a duplicate or mixed join, leaves; SSM lets only its sources through; close leaves all', () => {
    expect(run('ipv4')).toEqual({
      notJoinedGot: [],
      join: 'ok',
      joinedGroups: ['239.1.2.3'],
      joinedGot: ['while joined'],
      joinTwice: 'InvalidStateError: Cannot join the same group/source combination again',
      sourceOnAnySourceGroup: 'InvalidStateError: Cannot join SSM group for which ASM membership already exists',
      leave: 'ok',
      leftGot: [],
      leaveTwice: 'InvalidStateError: Cannot leave group which is not joined',
      joinSource: 'ok',
      fromSourceGot: ['from the source'],
      fromOtherGot: [],
      anySourceOnSourceGroup: 'InvalidStateError: Cannot join ASM group for which SSM membership already exists',
      joinSecondSource: 'ok',
      fromSecondSourceGot: ['from the second source'],
      sourceGroups: [
        { groupAddress: '232.1.2.3', sourceAddress: '127.0.0.1' },
        { groupAddress: '232.1.2.3', sourceAddress: '127.0.0.2' },
      ],
      leaveAnySourceOnSourceGroup: 'InvalidStateError: Cannot leave group which is not joined',
      leaveSource: 'ok',
      afterLeaveSourceGot: [],
      rejoin: 'ok',
      groupsAfterClose: [],
      joinAfterClose: 'InvalidStateError: Cannot join group if the socket is not opened',
    });
  });

  it('joins an IPv6 group given in any spelling, lists it canonically, receives, leaves', () => {
    expect(run('ipv6')).toEqual({ join: 'ok', joinedGroups: ['ff12::1234'], joinedGot: ['v6'], leave: 'ok', leftGot: [] });
  });
});
