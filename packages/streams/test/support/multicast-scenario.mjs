// Runs inside a network namespace made by test/multicast.test.ts (loopback
// with a 224.0.0.0/4 route, and a veth pair v0/v1 for IPv6). Drives a
// MulticastController through join, receive, leave and the error cases, and
// prints one JSON line of what happened at each step.
import { UDPSocket } from '@udpkit/streams';

const QUIET_MS = 150;

/** Opens a bound socket and collects what its readable yields, as text. */
async function receiver(options) {
  const socket = new UDPSocket(options);
  const info = await socket.opened;
  const got = [];
  const reader = info.readable.getReader();
  void (async () => {
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ done: true }));
      if (done) return;
      got.push(new TextDecoder().decode(value.data));
    }
  })();
  return { socket, info, got, reader };
}

async function sender(options) {
  const socket = new UDPSocket(options);
  const info = await socket.opened;
  return { socket, info, writer: info.writable.getWriter() };
}

/** Sends `text` to group:port and resolves with what `to` received within a quiet window. */
async function exchange(from, to, text, group) {
  const before = to.got.length;
  await from.writer.write({ data: new TextEncoder().encode(text), remoteAddress: group, remotePort: to.info.localPort });
  await new Promise((resolve) => setTimeout(resolve, QUIET_MS));
  return to.got.slice(before);
}

async function attempt(promise) {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    return `${error.name}: ${error.message}`;
  }
}

async function closeAll(...ends) {
  for (const end of ends) {
    end.writer?.releaseLock();
    if (end.reader) await end.reader.cancel();
    await end.socket.close().catch(() => {});
  }
}

const scenarios = {
  async ipv4() {
    const steps = {};
    const to = await receiver({ localAddress: '0.0.0.0', multicastAllowAddressSharing: true });
    const fromA = await sender({ localAddress: '127.0.0.1', multicastTimeToLive: 1, multicastLoopback: true });
    const fromB = await sender({ localAddress: '127.0.0.2' });
    const mc = to.info.multicastController;
    const asm = '239.1.2.3';
    const ssm = '232.1.2.3';

    steps.notJoinedGot = await exchange(fromA, to, 'before join', asm);
    steps.join = await attempt(mc.joinGroup(asm));
    steps.joinedGroups = mc.joinedGroups;
    steps.joinedGot = await exchange(fromA, to, 'while joined', asm);
    steps.joinTwice = await attempt(mc.joinGroup(asm));
    steps.sourceOnAnySourceGroup = await attempt(mc.joinGroup(asm, { sourceAddress: '127.0.0.1' }));
    steps.leave = await attempt(mc.leaveGroup(asm));
    steps.leftGot = await exchange(fromA, to, 'after leave', asm);
    steps.leaveTwice = await attempt(mc.leaveGroup(asm));

    steps.joinSource = await attempt(mc.joinGroup(ssm, { sourceAddress: '127.0.0.1' }));
    steps.fromSourceGot = await exchange(fromA, to, 'from the source', ssm);
    steps.fromOtherGot = await exchange(fromB, to, 'from another host', ssm);
    steps.anySourceOnSourceGroup = await attempt(mc.joinGroup(ssm));
    steps.joinSecondSource = await attempt(mc.joinGroup(ssm, { sourceAddress: '127.0.0.2' }));
    steps.fromSecondSourceGot = await exchange(fromB, to, 'from the second source', ssm);
    steps.sourceGroups = mc.joinedGroups;
    steps.leaveAnySourceOnSourceGroup = await attempt(mc.leaveGroup(ssm));
    steps.leaveSource = await attempt(mc.leaveGroup(ssm, { sourceAddress: '127.0.0.1' }));
    steps.afterLeaveSourceGot = await exchange(fromA, to, 'after leaving the source', ssm);

    steps.rejoin = await attempt(mc.joinGroup(asm));
    await closeAll(to);
    steps.groupsAfterClose = mc.joinedGroups;
    steps.joinAfterClose = await attempt(mc.joinGroup(asm));
    await closeAll(fromA, fromB);
    return steps;
  },

  async ipv6() {
    const steps = {};
    const group = 'ff12::1234';
    const to = await receiver({ localAddress: '::' });
    const from = await sender({ localAddress: '::', multicastLoopback: true });
    const mc = to.info.multicastController;
    steps.join = await attempt(mc.joinGroup('FF12:0:0::1234'));
    steps.joinedGroups = mc.joinedGroups;
    steps.joinedGot = await exchange(from, to, 'v6', group);
    steps.leave = await attempt(mc.leaveGroup(group));
    steps.leftGot = await exchange(from, to, 'after leave', group);
    await closeAll(to, from);
    return steps;
  },
};

const [name] = process.argv.slice(2);
console.log(JSON.stringify(await scenarios[name]()));
