// Runs inside a network namespace made by test/support/namespace.ts (see
// there for the interfaces and addresses). Prints one JSON line: what the
// scenario observed, datagrams and the kernel's membership tables.
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { networkInterfaces } from 'node:os';
import { createSocket } from '@udpkit/core';
import nodeDgram from 'node:dgram';
import { MulticastGroups, interfaceAddress, multicastInterfaces, openReceiver, openSender } from '@udpkit/multicast';
import { devicesOf, igmp, igmp6, mcfilter, mcfilter6 } from './kernel-state.mjs';

const TIMEOUT_MS = 5000;

/** Texts `receiver` gets until (and with) `marker`: anything that should not arrive, sent before the marker, shows up first. */
function until(receiver, marker) {
  return new Promise((resolve, reject) => {
    const texts = [];
    const rinfos = [];
    const timer = setTimeout(() => {
      receiver.off('message', onMessage);
      reject(new Error(`no ${marker} within ${TIMEOUT_MS} ms; got ${JSON.stringify(texts)}`));
    }, TIMEOUT_MS);
    const onMessage = (data, rinfo) => {
      texts.push(String(data));
      rinfos.push(rinfo);
      if (String(data) !== marker) return;
      clearTimeout(timer);
      receiver.off('message', onMessage);
      resolve({ texts, rinfos });
    };
    receiver.on('message', onMessage);
  });
}

async function sendAll(...steps) {
  for (const [sender, text] of steps) {
    await new Promise((resolve, reject) => sender.send(text, (error) => (error ? reject(error) : resolve())));
  }
}

function attempt(call) {
  try {
    call();
    return 'ok';
  } catch (error) {
    return `${error.code}: ${error.message}`;
  }
}

async function attemptAsync(call) {
  try {
    await call();
    return 'ok';
  } catch (error) {
    return `${error.code}: ${error.message}`;
  }
}

function index(name) {
  return networkInterfaces()[name].find((a) => a.family === 'IPv6' && a.scopeid).scopeid;
}

function ip(...args) {
  execFileSync('ip', args);
}

async function waitUntil(condition) {
  const deadline = Date.now() + TIMEOUT_MS;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not true within ${TIMEOUT_MS} ms: ${condition}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function waitForEvents(emitter, event, names) {
  const seen = new Set();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${event}: saw ${[...seen]} of ${names}`)), TIMEOUT_MS);
    const onEvent = (iface) => {
      seen.add(iface.name);
      if (names.every((n) => seen.has(n))) {
        clearTimeout(timer);
        emitter.off(event, onEvent);
        resolve([...seen].sort());
      }
    };
    emitter.on(event, onEvent);
  });
}

const scenarios = {
  /** What multicastInterfaces() sees, against the kernel's indexes in /proc/net/igmp6. */
  async interfaces() {
    const kernel = Object.fromEntries(igmp6().map((m) => [m.device, m.index]));
    return { seen: multicastInterfaces().map((i) => `${i.name}:${i.index === kernel[i.name]}:${i.ipv4.join()}`) };
  },

  /** Joins on every interface, counts repeated joins, leaves on close. */
  async allInterfaces() {
    const steps = {};
    const receiver = await openReceiver({ group: '239.1.2.3', port: 0 });
    const { port } = receiver.address();
    steps.kernelAfterJoin = devicesOf('239.1.2.3');
    steps.memberships = receiver.memberships().map((m) => `${m.interface}:${m.count}`).sort();
    const again = receiver.join();
    const onV0 = receiver.join({ interfaces: 'v0' });
    steps.countsAfterRepeats = receiver.memberships().map((m) => `${m.interface}:${m.count}`).sort();
    steps.kernelUsers = igmp().filter((m) => m.group === '239.1.2.3').map((m) => m.users);
    again.leave();
    again.leave();
    onV0.leave();
    steps.countsAfterLeaves = receiver.memberships().map((m) => `${m.interface}:${m.count}`).sort();
    steps.kernelAfterLeaves = devicesOf('239.1.2.3');

    // Out of v0 without loopback: arrives on v1 only, and says so.
    const sender = await openSender({ group: '239.1.2.3', port, interface: 'v0', loopback: false });
    const got = until(receiver, 'via v0');
    await sendAll([sender, 'via v0']);
    const { rinfos } = await got;
    steps.arrival = { destination: rinfos[0].destination, interfaceIndex: rinfos[0].interfaceIndex ?? 'none', v1: index('v1') };
    // TTL 0 keeps datagrams on the host: nothing reaches v1 (the default, 1, did).
    const ttl0 = await openSender({ group: '239.1.2.3', port, interface: 'v0', loopback: false, ttl: 0 });
    const afterTtl0 = until(receiver, 'ttl 1');
    await sendAll([ttl0, 'ttl 0'], [sender, 'ttl 1']);
    steps.ttl = (await afterTtl0).texts;
    await ttl0.close();

    const v6 = await openReceiver({ group: 'ff1e::1:2', port });
    steps.kernel6AfterJoin = devicesOf('ff1e::1:2');
    await Promise.all([receiver.close(), v6.close(), sender.close()]);
    steps.kernelAfterClose = devicesOf('239.1.2.3');
    steps.kernel6AfterClose = devicesOf('ff1e::1:2');
    steps.membershipsAfterClose = receiver.memberships();
    steps.joinAfterClose = attempt(() => receiver.join());
    return steps;
  },

  /** SSM: (S1, G) gets S1's datagrams and not S2's. */
  async sourceSpecific() {
    const steps = {};
    const group = '232.1.2.3';
    const receiver = await openReceiver({ group, port: 0, source: '127.0.0.1', interfaces: 'lo' });
    const { port } = receiver.address();
    const s1 = await openSender({ group, port, source: '127.0.0.1', interface: 'lo' });
    const s2 = await openSender({ group, port, source: '127.0.0.2', interface: 'lo' });
    steps.filter = mcfilter().filter((f) => f.group === group);
    let got = until(receiver, 'from s1');
    await sendAll([s2, 'from s2'], [s1, 'from s1']);
    steps.received = (await got).texts;
    steps.memberships = receiver.memberships();
    steps.blockOnSsm = attempt(() => receiver.block('127.0.0.2'));
    // A second source for the same group, on the same receiver.
    const second = receiver.join({ source: '127.0.0.2', interfaces: 'lo' });
    got = until(receiver, 'from s1');
    await sendAll([s2, 'from s2'], [s1, 'from s1']);
    steps.withBothSources = (await got).texts;
    second.leave();
    steps.filterAfterLeave = mcfilter().filter((f) => f.group === group).map((f) => f.source);
    await Promise.all([receiver.close(), s1.close(), s2.close()]);
    steps.filterAfterClose = mcfilter().filter((f) => f.group === group);
    return steps;
  },

  /** Exclude mode: a blocked source is not delivered; unblocked, it is. */
  async excludeMode() {
    const steps = {};
    const group = '239.1.2.4';
    const receiver = await openReceiver({ group, port: 0, interfaces: 'lo' });
    const { port } = receiver.address();
    const s1 = await openSender({ group, port, source: '127.0.0.1', interface: 'lo' });
    const s2 = await openSender({ group, port, source: '127.0.0.2', interface: 'lo' });
    steps.block = attempt(() => receiver.block('127.0.0.2'));
    steps.filter = mcfilter().filter((f) => f.group === group);
    steps.memberships = receiver.memberships().map((m) => m.blocked);
    let got = until(receiver, 'from s1');
    await sendAll([s2, 'blocked'], [s1, 'from s1']);
    steps.whileBlocked = (await got).texts;
    steps.unblock = attempt(() => receiver.unblock('127.0.0.2'));
    steps.filterAfterUnblock = mcfilter().filter((f) => f.group === group);
    got = until(receiver, 'from s1');
    await sendAll([s2, 'unblocked'], [s1, 'from s1']);
    steps.afterUnblock = (await got).texts;
    await Promise.all([receiver.close(), s1.close(), s2.close()]);
    return steps;
  },

  /** Two joins of one membership block sources: the kernel's one filter follows both, and ENOBUFS is explained. */
  async sharedBlocks() {
    const steps = {};
    const group = '239.1.2.5';
    const socket = createSocket('udp4');
    await new Promise((resolve) => socket.bind(0, resolve));
    const groups = new MulticastGroups(socket);
    const excluded = () => mcfilter().filter((f) => f.group === group && f.exclude).map((f) => f.source).sort();
    const a = groups.join(group, { interfaces: 'lo' });
    const b = groups.join(group, { interfaces: 'lo' });
    steps.block = attempt(() => a.block('127.0.0.2'));
    if (steps.block !== 'ok') {
      socket.close();
      return steps;
    }
    b.block('127.0.0.2');
    a.unblock('127.0.0.2');
    // b still blocks it.
    steps.afterOneUnblock = excluded();
    a.block('127.0.0.3');
    a.leave();
    // a's blocks went with it; b's stayed.
    steps.afterLeave = excluded();
    steps.memberships = groups.memberships().map((m) => m.blocked);
    // Past net.ipv4.igmp_max_msf sources: explained, and the membership is unchanged.
    execFileSync('sysctl', ['-qw', 'net.ipv4.igmp_max_msf=1']);
    steps.pastLimit = attempt(() => b.block('127.0.0.4'));
    steps.afterLimit = excluded();
    socket.close();
    return steps;
  },

  /** Two receivers on one port, different groups: each gets only its own (and unicast to the port is dropped). */
  async isolation() {
    const steps = {};
    const a = await openReceiver({ group: '239.2.0.1', port: 0, interfaces: 'lo' });
    const { port } = a.address();
    const b = await openReceiver({ group: '239.2.0.2', port, interfaces: 'lo' });
    steps.isolation = [a.isolation, b.isolation];
    const toA = await openSender({ group: '239.2.0.1', port, interface: 'lo' });
    const toB = await openSender({ group: '239.2.0.2', port, interface: 'lo' });
    const unicast = createSocket('udp4');
    const gotA = until(a, 'a2');
    const gotB = until(b, 'b2');
    await sendAll([toA, 'a1'], [toB, 'b1'], [toA, 'a2'], [toB, 'b2']);
    steps.a = (await gotA).texts;
    steps.b = (await gotB).texts;
    // Unicast to the port (one of the two sockets gets it), then a group datagram to each.
    if (a.isolation !== 'bound-to-group') {
      const got = Promise.all([until(a, 'a3'), until(b, 'b3')]);
      await new Promise((resolve) => unicast.send('unicast', port, '127.0.0.1', resolve));
      await sendAll([toA, 'a3'], [toB, 'b3']);
      steps.afterUnicast = (await got).map((r) => r.texts);
      steps.filtered = a.filtered + b.filtered;
    }
    unicast.close();
    await Promise.all([a.close(), b.close(), toA.close(), toB.close()]);
    return steps;
  },

  /** Closing the receiver from its 'message' listener stops delivery there, mid-batch. */
  async closeInside() {
    const receiver = await openReceiver({ group: '239.8.0.1', port: 0, interfaces: 'lo' });
    const sender = await openSender({ group: '239.8.0.1', port: receiver.address().port, interface: 'lo' });
    const got = [];
    const closed = new Promise((resolve) => receiver.once('close', resolve));
    receiver.on('message', (data) => {
      got.push(String(data));
      if (got.length === 1) receiver.close();
    });
    // One batch: the datagrams wait in the kernel while the receiver is paused.
    receiver.socket.pause();
    await sendAll(...Array.from({ length: 10 }, (_, i) => [sender, `d${i}`]));
    receiver.socket.resume();
    await closed;
    // close() again, or twice at once, resolves: cleanup code may call it whatever happened before.
    const again = await attemptAsync(() => Promise.all([receiver.close(), sender.close(), sender.close()]));
    return { got, again };
  },

  /** Closing the receiver from an interfaceAdded listener: no error, no more events. */
  async closeInTracking() {
    const receiver = await openReceiver({ group: '239.8.0.2', port: 0, track: true, trackInterval: 20 });
    const events = [];
    receiver.on('error', (error) => events.push(`error ${error.code}`));
    receiver.on('interfaceAdded', (iface) => {
      events.push(`added ${iface.name}`);
      receiver.close();
    });
    const closed = new Promise((resolve) => receiver.once('close', resolve));
    // Two interfaces, likely seen in the same poll.
    ip('link', 'add', 'v2', 'type', 'veth', 'peer', 'name', 'v3');
    ip('addr', 'add', '192.0.2.1/24', 'dev', 'v2');
    ip('addr', 'add', '192.0.2.2/24', 'dev', 'v3');
    ip('link', 'set', 'v2', 'up');
    ip('link', 'set', 'v3', 'up');
    await closed;
    // Polls that would have come: none may report anything.
    await new Promise((resolve) => setTimeout(resolve, 200));
    return { events, kernel: devicesOf('239.8.0.2') };
  },

  /** Interfaces that appear are joined, those that go are dropped; both events fire. */
  async tracking() {
    // Room for five memberships: a vanished interface's membership must be
    // left in the kernel too, or the join on the recreated v2 fails.
    execFileSync('sysctl', ['-qw', 'net.ipv4.igmp_max_memberships=5']);
    const steps = {};
    const group = '239.3.0.1';
    const receiver = await openReceiver({ group, port: 0, track: true, trackInterval: 50 });
    const errors = [];
    receiver.on('error', (error) => errors.push(error.message));
    steps.before = devicesOf(group);
    const added = waitForEvents(receiver, 'interfaceAdded', ['v2', 'v3']);
    ip('link', 'add', 'v2', 'type', 'veth', 'peer', 'name', 'v3');
    ip('addr', 'add', '192.0.2.1/24', 'dev', 'v2');
    ip('addr', 'add', '192.0.2.2/24', 'dev', 'v3');
    ip('link', 'set', 'v2', 'up');
    ip('link', 'set', 'v3', 'up');
    steps.added = await added;
    steps.afterAdd = devicesOf(group);
    steps.membershipsAfterAdd = receiver.memberships().map((m) => m.interface).sort();
    const removed = waitForEvents(receiver, 'interfaceRemoved', ['v2', 'v3']);
    ip('link', 'del', 'v2');
    steps.removed = await removed;
    steps.afterRemove = devicesOf(group);
    steps.membershipsAfterRemove = receiver.memberships().map((m) => m.interface).sort();
    // Down is gone too (v1 loses its carrier with v0), and up again is back.
    const down = waitForEvents(receiver, 'interfaceRemoved', ['v0', 'v1']);
    ip('link', 'set', 'v0', 'down');
    steps.down = await down;
    steps.membershipsWhileDown = receiver.memberships().map((m) => m.interface).sort();
    const up = waitForEvents(receiver, 'interfaceAdded', ['v0', 'v1']);
    ip('link', 'set', 'v0', 'up');
    steps.up = await up;
    steps.membershipsAfterUp = receiver.memberships().map((m) => m.interface).sort();
    // The socket's own list no longer holds the vanished interfaces: a
    // recreated v2 is joined again from scratch.
    const again = waitForEvents(receiver, 'interfaceAdded', ['v2']);
    ip('link', 'add', 'v2', 'type', 'veth', 'peer', 'name', 'v3');
    ip('addr', 'add', '192.0.2.1/24', 'dev', 'v2');
    ip('link', 'set', 'v2', 'up');
    ip('link', 'set', 'v3', 'up');
    await again;
    steps.afterRecreate = devicesOf(group);
    steps.errors = errors;
    await receiver.close();
    steps.afterClose = devicesOf(group);
    return steps;
  },

  /** A join held on an interface that is deleted and recreated under its name: a new join there joins the new one. */
  async recreated() {
    const steps = {};
    const group = 'ff1e::5:1';
    const socket = createSocket('udp6');
    await new Promise((resolve) => socket.bind(0, resolve));
    const groups = new MulticastGroups(socket);
    const up = async () => {
      ip('link', 'add', 'v2', 'type', 'veth', 'peer', 'name', 'v3');
      ip('link', 'set', 'v2', 'up');
      ip('link', 'set', 'v3', 'up');
      await waitUntil(() => multicastInterfaces().some((i) => i.name === 'v2' && i.ipv6.length > 0));
    };
    await up();
    const first = index('v2');
    const old = groups.join(group, { interfaces: 'v2' });
    ip('link', 'del', 'v2');
    await up();
    steps.newIndex = index('v2') !== first;
    const fresh = groups.join(group, { interfaces: 'v2' });
    steps.kernel = igmp6().filter((m) => m.group === group).map((m) => `${m.device}:${m.index === index('v2')}`);
    steps.memberships = groups.memberships().map((m) => `${m.interface}:${m.index === first ? 'old' : 'new'}:${m.count}`).sort();
    fresh.leave();
    old.leave();
    steps.afterLeave = igmp6().filter((m) => m.group === group).map((m) => m.device);
    socket.close();
    return steps;
  },

  /** The same for IPv6: tracking by interface index. */
  async tracking6() {
    const steps = {};
    const group = 'ff1e::3:1';
    const receiver = await openReceiver({ group, port: 0, track: true, trackInterval: 50 });
    const errors = [];
    receiver.on('error', (error) => errors.push(error.message));
    steps.before = devicesOf(group);
    // Down and up again: left, then joined again (not a second join of a membership still held).
    const down = waitForEvents(receiver, 'interfaceRemoved', ['v0', 'v1']);
    ip('link', 'set', 'v0', 'down');
    await down;
    steps.whileDown = devicesOf(group);
    const up = waitForEvents(receiver, 'interfaceAdded', ['v0', 'v1']);
    ip('link', 'set', 'v0', 'up');
    await up;
    steps.afterUp = devicesOf(group);
    const added = waitForEvents(receiver, 'interfaceAdded', ['v2', 'v3']);
    ip('link', 'add', 'v2', 'type', 'veth', 'peer', 'name', 'v3');
    ip('link', 'set', 'v2', 'up');
    ip('link', 'set', 'v3', 'up');
    steps.added = await added;
    steps.afterAdd = devicesOf(group);
    const removed = waitForEvents(receiver, 'interfaceRemoved', ['v2', 'v3']);
    ip('link', 'del', 'v2');
    steps.removed = await removed;
    steps.afterRemove = devicesOf(group);
    steps.membershipsAfterRemove = receiver.memberships().map((m) => m.interface).sort();
    steps.errors = errors;
    await receiver.close();
    steps.afterClose = devicesOf(group);
    return steps;
  },

  /** The tracking timer does not keep the process alive (the socket is unref'd). */
  async unrefTimer() {
    const socket = createSocket('udp4');
    await new Promise((resolve) => socket.bind(0, resolve));
    const groups = new MulticastGroups(socket, { track: true, trackInterval: 50 });
    groups.join('239.4.0.1');
    socket.unref();
    return { joined: devicesOf('239.4.0.1') };
  },

  /** IPv6: an ff3e:: SSM group, an ff12:: group on a named interface, and the %index form. */
  async ipv6() {
    const steps = {};
    const ssm = 'ff3e::8000:1';
    const receiver = await openReceiver({ group: ssm, port: 0, source: 'fd00::1', interfaces: 'v0' });
    const { port } = receiver.address();
    const s1 = await openSender({ group: ssm, port, source: 'fd00::1', interface: 'v0' });
    const s2 = await openSender({ group: ssm, port, source: 'fd00::2', interface: 'v0' });
    steps.ssmKernel = devicesOf(ssm);
    steps.ssmFilter = mcfilter6().filter((f) => f.group === ssm);
    let got = until(receiver, 'from s1');
    await sendAll([s2, 'from s2'], [s1, 'from s1']);
    steps.ssmReceived = (await got).texts;

    const linkLocal = await openReceiver({ group: 'ff12::1234', port, interfaces: 'v0' });
    steps.namedKernel = devicesOf('ff12::1234');
    const byZone = await openSender({ group: 'ff12::1234%v0', port });
    got = until(linkLocal, 'ff12 by name');
    await sendAll([byZone, 'ff12 by name']);
    const named = await got;
    steps.namedReceived = named.texts;
    steps.namedDestination = named.rinfos[0].destination;
    steps.namedArrival = { interfaceIndex: named.rinfos[0].interfaceIndex ?? 'none', v0: index('v0') };

    const v0 = index('v0');
    const byIndex = await openReceiver({ group: `ff12::1235%${v0}`, port });
    steps.indexKernel = devicesOf('ff12::1235');
    const sendByIndex = await openSender({ group: 'ff12::1235', port, interface: v0 });
    got = until(byIndex, 'ff12 by index');
    await sendAll([sendByIndex, 'ff12 by index']);
    steps.indexReceived = (await got).texts;
    steps.indexMemberships = byIndex.memberships().map((m) => `${m.interface}:${m.index === v0}`);
    const byZoneIndex = await openSender({ group: `ff12::1235%${v0}`, port });
    got = until(byIndex, 'zone index');
    await sendAll([byZoneIndex, 'zone index']);
    steps.zoneIndexReceived = (await got).texts;
    await byZoneIndex.close();

    // interfaceAddress() gives core's and node:dgram's setMulticastInterface what they read right.
    for (const [name, dgram] of [['core', createSocket], ['node', nodeDgram.createSocket]]) {
      const plain = dgram('udp6');
      await new Promise((resolve) => plain.bind(0, resolve));
      plain.setMulticastInterface(interfaceAddress(`::%${v0}`, 6));
      got = until(byIndex, name);
      plain.send(name, port, 'ff12::1235');
      steps[`${name}Received`] = (await got).texts;
      plain.close();
    }

    steps.noInterface = await attemptAsync(() => openReceiver({ group: 'ff12::1236', port }));
    for (const closable of [receiver, s1, s2, linkLocal, byZone, byIndex, sendByIndex]) await closable.close();
    steps.afterClose = [ssm, 'ff12::1234', 'ff12::1235'].flatMap(devicesOf);
    return steps;
  },

  /** ENOBUFS at the kernel's limit of memberships per socket, explained. */
  async membershipLimit() {
    execFileSync('sysctl', ['-qw', 'net.ipv4.igmp_max_memberships=2']);
    const socket = createSocket('udp4');
    await new Promise((resolve) => socket.bind(0, resolve));
    const groups = new MulticastGroups(socket);
    const steps = {};
    steps.first = attempt(() => groups.join('239.5.0.1', { interfaces: 'lo' }));
    steps.second = attempt(() => groups.join('239.5.0.2', { interfaces: 'lo' }));
    steps.third = attempt(() => groups.join('239.5.0.3', { interfaces: 'lo' }));
    steps.all = attempt(() => groups.join('239.5.0.4'));
    steps.memberships = groups.memberships().map((m) => `${m.group}@${m.interface}`);
    steps.kernel = igmp().filter((m) => m.group.startsWith('239.5.')).map((m) => m.group);
    socket.close();

    // One source per group: a second source of the same group is past net.ipv4.igmp_max_msf.
    execFileSync('sysctl', ['-qw', 'net.ipv4.igmp_max_msf=1']);
    const ssm = createSocket('udp4');
    await new Promise((resolve) => ssm.bind(0, resolve));
    const sources = new MulticastGroups(ssm);
    steps.firstSource = attempt(() => sources.join('232.5.0.1', { source: '127.0.0.1', interfaces: 'lo' }));
    steps.secondSource = attempt(() => sources.join('232.5.0.1', { source: '127.0.0.2', interfaces: 'lo' }));
    ssm.close();
    return steps;
  },

  /** No interface up at all: joins on 'all' say so, unless tracking waits for one. */
  async noInterfaces() {
    const socket = createSocket('udp4');
    const groups = new MulticastGroups(socket);
    const tracked = new MulticastGroups(socket, { track: true });
    const steps = {
      all: attempt(() => groups.join('239.7.0.1')),
      tracked: attempt(() => tracked.join('239.7.0.1')),
    };
    socket.close();
    return steps;
  },

  /** Errors that need the namespace's interfaces: unknown names and indexes, an interface without IPv4. */
  async interfaceErrors() {
    const socket = createSocket('udp4');
    await new Promise((resolve) => socket.bind(0, resolve));
    const groups = new MulticastGroups(socket);
    ip('link', 'add', 'v4less', 'type', 'veth', 'peer', 'name', 'v4less1');
    ip('link', 'set', 'v4less', 'up');
    ip('link', 'set', 'v4less1', 'up');
    // Carrier (and so "running") comes a moment after "up".
    await waitUntil(() => multicastInterfaces().filter((i) => i.name.startsWith('v4less')).length === 2);
    const steps = {
      unknownName: attempt(() => groups.join('239.6.0.1', { interfaces: 'eth9' })),
      unknownIndex: attempt(() => groups.join('239.6.0.1', { interfaces: 999 })),
      unknownAddress: attempt(() => groups.join('239.6.0.1', { interfaces: '10.9.9.9' })),
      noIPv4: attempt(() => groups.join('239.6.0.1', { interfaces: 'v4less' })),
      oneBadOfTwo: attempt(() => groups.join('239.6.0.1', { interfaces: ['lo', 'eth9'] })),
      senderUnknown: await attemptAsync(() => openSender({ group: 'ff12::1%eth9', port: 9 })),
      receiverUnknown: await attemptAsync(() => openReceiver({ group: '239.6.0.1', port: 0, interfaces: 'eth9' })),
      memberships: groups.memberships(),
      kernel: devicesOf('239.6.0.1'),
    };
    socket.close();
    return steps;
  },
};

const result = await scenarios[process.argv[2]]();
console.log(JSON.stringify(result));
