// Multicast on real interfaces, each scenario in its own network namespace
// (test/support/namespace.ts). The kernel's own tables (/proc/net/igmp,
// igmp6, mcfilter, mcfilter6) are the witness of what was joined.
import { describe, expect, it } from 'vitest';
import { backend, isRoot, runScenario } from './support/namespace.js';

type Steps = Record<string, any>;
const native = backend === 'native';

describe.runIf(isRoot)(`multicast in a network namespace (${backend} backend)`, () => {
  it("lists the namespace's multicast interfaces with their kernel indexes, with its own sysfs or the host's", () => {
    const expected = ['lo:true:127.0.0.1', 'v1:true:203.0.113.1', 'v0:true:198.51.100.1'];
    expect(runScenario<Steps>('interfaces').seen).toEqual(expected);
    // The host's /sys/class/net lists other interfaces: flags unknown, every interface counts.
    expect(runScenario<Steps>('interfaces', { ownSysfs: false }).seen).toEqual(expected);
  });

  it('joins every multicast interface, counts repeated joins, leaves everything on close', () => {
    const steps = runScenario<Steps>('allInterfaces');
    expect(steps.kernelAfterJoin).toEqual(['lo', 'v0', 'v1']);
    expect(steps.memberships).toEqual(['lo:1', 'v0:1', 'v1:1']);
    // Three joins on v0, two elsewhere; the kernel holds each once.
    expect(steps.countsAfterRepeats).toEqual(['lo:2', 'v0:3', 'v1:2']);
    expect(steps.kernelUsers).toEqual([1, 1, 1]);
    // A handle left twice counts once.
    expect(steps.countsAfterLeaves).toEqual(['lo:1', 'v0:1', 'v1:1']);
    expect(steps.kernelAfterLeaves).toEqual(['lo', 'v0', 'v1']);
    // The arrival interface: v1, from the kernel (native); the portable backend can't tell.
    expect(steps.arrival).toEqual({ destination: '239.1.2.3', interfaceIndex: native ? steps.arrival.v1 : 'none', v1: expect.any(Number) });
    expect(steps.ttl).toEqual(['ttl 1']);
    expect(steps.kernel6AfterJoin).toEqual(['lo', 'v0', 'v1']);
    expect(steps.kernelAfterClose).toEqual([]);
    expect(steps.kernel6AfterClose).toEqual([]);
    expect(steps.membershipsAfterClose).toEqual([]);
    expect(steps.joinAfterClose).toMatch(/^ERR_INVALID_ARG_VALUE: these groups are closed/);
  });

  it('source-specific: (S1, G) gets S1 and not S2', () => {
    const steps = runScenario<Steps>('sourceSpecific');
    expect(steps.filter).toEqual([{ device: 'lo', group: '232.1.2.3', source: '127.0.0.1', include: 1, exclude: 0 }]);
    expect(steps.received).toEqual(['from s1']);
    expect(steps.memberships).toEqual([
      { group: '232.1.2.3', source: '127.0.0.1', interface: 'lo', index: 1, count: 1, blocked: [] },
    ]);
    expect(steps.withBothSources).toEqual(['from s2', 'from s1']);
    expect(steps.filterAfterLeave).toEqual(['127.0.0.1']);
    expect(steps.blockOnSsm).toBe(
      'ERR_INVALID_ARG_VALUE: group 232.1.2.3 was joined source-specifically: blocking a source applies to any-source joins',
    );
    expect(steps.filterAfterClose).toEqual([]);
  });

  it('exclude mode: a blocked source is not delivered; unblocked, it is', () => {
    const steps = runScenario<Steps>('excludeMode');
    if (native) {
      expect(steps.block).toBe('ok');
      expect(steps.filter).toEqual([{ device: 'lo', group: '239.1.2.4', source: '127.0.0.2', include: 0, exclude: 1 }]);
      expect(steps.memberships).toEqual([['127.0.0.2']]);
      expect(steps.whileBlocked).toEqual(['from s1']);
    } else {
      // node:dgram has no MCAST_BLOCK_SOURCE: said, not faked.
      expect(steps.block).toBe('ERR_UDPKIT_UNSUPPORTED: blockSource is not supported by the portable backend');
      expect(steps.whileBlocked).toEqual(['blocked', 'from s1']);
    }
    expect(steps.unblock).toBe('ok');
    expect(steps.filterAfterUnblock).toEqual([]);
    expect(steps.afterUnblock).toEqual(['unblocked', 'from s1']);
  });

  it('exclude mode: blocks of joins sharing a membership are counted and leave with their join', () => {
    const steps = runScenario<Steps>('sharedBlocks');
    if (!native) {
      expect(steps).toEqual({ block: 'ERR_UDPKIT_UNSUPPORTED: blockSource is not supported by the portable backend' });
      return;
    }
    expect(steps.afterOneUnblock).toEqual(['127.0.0.2']);
    expect(steps.afterLeave).toEqual(['127.0.0.2']);
    expect(steps.memberships).toEqual([['127.0.0.2']]);
    expect(steps.pastLimit).toBe(
      'ENOBUFS: blockSource ENOBUFS: the kernel limits an IPv4 socket to net.ipv4.igmp_max_memberships memberships ' +
        '(20 by default; each interface joined counts one) and the sources of a group to net.ipv4.igmp_max_msf (10 by default). ' +
        'Raise the limit with sysctl -w (per network namespace), or spread the groups over more sockets',
    );
    expect(steps.afterLimit).toEqual(['127.0.0.2']);
  });

  it('isolation: two receivers on one port, different groups, each gets only its own', () => {
    const steps = runScenario<Steps>('isolation');
    expect(steps.isolation).toEqual(native ? ['multicast-all-off', 'multicast-all-off'] : ['bound-to-group', 'bound-to-group']);
    expect(steps.a).toEqual(['a1', 'a2']);
    expect(steps.b).toEqual(['b1', 'b2']);
    if (native) {
      // Unicast to the port reached one of the two sockets and was dropped there.
      expect(steps.afterUnicast).toEqual([['a3'], ['b3']]);
      expect(steps.filtered).toBe(1);
    }
  });

  it('a receiver closed from its message listener gets nothing more, even mid-batch; close() again resolves', () => {
    expect(runScenario<Steps>('closeInside')).toEqual({ got: ['d0'], again: 'ok' });
  });

  it('a receiver closed from its interfaceAdded listener reports nothing more', () => {
    const { events, kernel } = runScenario<Steps>('closeInTracking');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatch(/^added v[23]$/);
    expect(kernel).toEqual([]);
  });

  it('tracking: a veth pair that appears is joined, deleted it is dropped, with events', () => {
    const steps = runScenario<Steps>('tracking');
    expect(steps.before).toEqual(['lo', 'v0', 'v1']);
    expect(steps.added).toEqual(['v2', 'v3']);
    expect(steps.afterAdd).toEqual(['lo', 'v0', 'v1', 'v2', 'v3']);
    expect(steps.membershipsAfterAdd).toEqual(['lo', 'v0', 'v1', 'v2', 'v3']);
    expect(steps.removed).toEqual(['v2', 'v3']);
    expect(steps.afterRemove).toEqual(['lo', 'v0', 'v1']);
    expect(steps.membershipsAfterRemove).toEqual(['lo', 'v0', 'v1']);
    expect(steps.down).toEqual(['v0', 'v1']);
    expect(steps.membershipsWhileDown).toEqual(['lo']);
    expect(steps.up).toEqual(['v0', 'v1']);
    expect(steps.membershipsAfterUp).toEqual(['lo', 'v0', 'v1']);
    // Recreated, v2 is joined again; v3 has no IPv4 address this time.
    expect(steps.afterRecreate).toEqual(['lo', 'v0', 'v1', 'v2']);
    expect(steps.errors).toEqual([]);
    expect(steps.afterClose).toEqual([]);
  });

  it('tracking IPv6: joined by interface index, dropped when the interface goes', () => {
    const steps = runScenario<Steps>('tracking6');
    expect(steps.before).toEqual(['lo', 'v0', 'v1']);
    expect(steps.whileDown).toEqual(['lo']);
    expect(steps.afterUp).toEqual(['lo', 'v0', 'v1']);
    expect(steps.added).toEqual(['v2', 'v3']);
    expect(steps.afterAdd).toEqual(['lo', 'v0', 'v1', 'v2', 'v3']);
    expect(steps.removed).toEqual(['v2', 'v3']);
    expect(steps.membershipsAfterRemove).toEqual(['lo', 'v0', 'v1']);
    expect(steps.errors).toEqual([]);
    expect(steps.afterClose).toEqual([]);
  });

  it('a membership of a vanished interface does not stand for the interface recreated under its name', () => {
    const steps = runScenario<Steps>('recreated');
    expect(steps.newIndex).toBe(true);
    expect(steps.kernel).toEqual(['v2:true']);
    expect(steps.memberships).toEqual(['v2:new:1', 'v2:old:1']);
    expect(steps.afterLeave).toEqual([]);
  });

  it('the tracking timer never keeps the process alive', () => {
    // The scenario leaves its unref'd socket open and tracking on: the
    // child exits by itself, or runScenario's timeout fails the test.
    expect(runScenario<Steps>('unrefTimer')).toEqual({ joined: ['lo', 'v0', 'v1'] });
  });

  it('IPv6: ff3e:: source-specific, ff12:: on a named interface, and the %index form', () => {
    const steps = runScenario<Steps>('ipv6');
    expect(steps.ssmKernel).toEqual(['v0']);
    expect(steps.ssmFilter).toEqual([{ device: 'v0', group: 'ff3e::8000:1', source: 'fd00::1', include: 1, exclude: 0 }]);
    expect(steps.ssmReceived).toEqual(['from s1']);
    expect(steps.namedKernel).toEqual(['v0']);
    expect(steps.namedReceived).toEqual(['ff12 by name']);
    expect(steps.namedDestination).toBe('ff12::1234');
    expect(steps.namedArrival).toEqual({ interfaceIndex: native ? steps.namedArrival.v0 : 'none', v0: expect.any(Number) });
    expect(steps.indexKernel).toEqual(['v0']);
    expect(steps.indexReceived).toEqual(['ff12 by index']);
    expect(steps.indexMemberships).toEqual(['v0:true']);
    expect(steps.zoneIndexReceived).toEqual(['zone index']);
    expect(steps.coreReceived).toEqual(['core']);
    expect(steps.nodeReceived).toEqual(['node']);
    expect(steps.noInterface).toBe(
      "ERR_INVALID_ARG_VALUE: group ff12::1236 is link-local: name its interface, as ff12::1236%eth0 or ff12::1236%2 or with the interfaces option, or pass interfaces: 'all'",
    );
    expect(steps.afterClose).toEqual([]);
  });

  it('ENOBUFS is explained as the kernel limit of memberships per socket', () => {
    const steps = runScenario<Steps>('membershipLimit');
    expect(steps.first).toBe('ok');
    expect(steps.second).toBe('ok');
    const explained =
      'ENOBUFS: addMembership ENOBUFS: the kernel limits an IPv4 socket to net.ipv4.igmp_max_memberships memberships ' +
      '(20 by default; each interface joined counts one). Raise the limit with sysctl -w (per network namespace), or spread the groups over more sockets';
    expect(steps.third).toBe(explained);
    // A join on all interfaces that fails part way leaves nothing behind.
    expect(steps.all).toBe(explained);
    expect(steps.memberships).toEqual(['239.5.0.1@lo', '239.5.0.2@lo']);
    expect(steps.kernel.sort()).toEqual(['239.5.0.1', '239.5.0.2']);
    expect(steps.firstSource).toBe('ok');
    expect(steps.secondSource).toBe(
      'ENOBUFS: addSourceSpecificMembership ENOBUFS: the kernel limits an IPv4 socket to net.ipv4.igmp_max_memberships memberships ' +
        '(20 by default; each interface joined counts one) and the sources of a group to net.ipv4.igmp_max_msf (10 by default). ' +
        'Raise the limit with sysctl -w (per network namespace), or spread the groups over more sockets',
    );
  });

  it('says when no interface is up to join on, unless tracking waits for one', () => {
    expect(runScenario<Steps>('noInterfaces', { empty: true })).toEqual({
      all:
        'ERR_UDPKIT_UNKNOWN_INTERFACE: no network interface is up with multicast and an IPv4 address (the interfaces are (none)): ' +
        'bring one up, or pass track: true to join when one appears',
      tracked: 'ok',
    });
  });

  it('refuses unknown interfaces by name, index and address, and an interface without IPv4', () => {
    const steps = runScenario<Steps>('interfaceErrors');
    const known = 'the interfaces are lo (1), v1 (2), v0 (3), v4less1 (4), v4less (5)';
    expect(steps.unknownName).toBe(`ERR_UDPKIT_UNKNOWN_INTERFACE: no network interface "eth9" is up with multicast: ${known}`);
    expect(steps.unknownIndex).toBe(`ERR_UDPKIT_UNKNOWN_INTERFACE: no network interface with index 999 is up with multicast: ${known}`);
    expect(steps.unknownAddress).toBe(`ERR_UDPKIT_UNKNOWN_INTERFACE: no network interface "10.9.9.9" is up with multicast: ${known}`);
    expect(steps.noIPv4).toBe(
      'ERR_INVALID_ARG_VALUE: interface v4less has no IPv4 address: IPv4 joins name an interface by one of its addresses; add one',
    );
    expect(steps.oneBadOfTwo).toBe(steps.unknownName);
    expect(steps.senderUnknown).toBe(steps.unknownName);
    expect(steps.receiverUnknown).toBe(steps.unknownName);
    expect(steps.memberships).toEqual([]);
    expect(steps.kernel).toEqual([]);
  });
});
