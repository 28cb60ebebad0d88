// Runs inside a network namespace made by test/multicast.test.ts: loopback
// with a multicast route, and a veth pair v0/v1 for IPv6. Prints one JSON
// line: what node:dgram and @udpkit/core each observed for the scenario.
import nodeDgram from 'node:dgram';
import { networkInterfaces } from 'node:os';
import udpkit from '@udpkit/core';

const QUIET_MS = 150;

function bind(dgram, type, address, port = 0, options = {}) {
  const socket = dgram.createSocket({ type, ...options });
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, address, () => resolve(socket));
  });
}

/** A receiver on the any address, and senders from 127.0.0.1 (A) and 127.0.0.2 (B). */
async function twoSources(dgram) {
  const receiver = await bind(dgram, 'udp4', '0.0.0.0');
  const fromA = await bind(dgram, 'udp4', '127.0.0.1');
  const fromB = await bind(dgram, 'udp4', '127.0.0.2');
  for (const sender of [fromA, fromB]) sender.setMulticastInterface('127.0.0.1');
  return { receiver, fromA, fromB, port: receiver.address().port };
}

/** Sends `text` and resolves with what `receiver` got within a short window. */
function exchange(sender, receiver, text, port, group) {
  return new Promise((resolve) => {
    const got = [];
    const onMessage = (data) => got.push(data.toString());
    receiver.on('message', onMessage);
    sender.send(text, port, group, (error) => {
      if (error) got.push(`send error ${error.code}`);
    });
    setTimeout(() => {
      receiver.off('message', onMessage);
      resolve(got);
    }, QUIET_MS);
  });
}

function attempt(call) {
  try {
    call();
    return 'ok';
  } catch (error) {
    return `${error.code}: ${error.message}`;
  }
}

const scenarios = {
  async anySource(dgram) {
    const group = '239.1.2.3';
    const receiver = await bind(dgram, 'udp4', '0.0.0.0');
    const sender = await bind(dgram, 'udp4', '127.0.0.1');
    sender.setMulticastInterface('127.0.0.1');
    sender.setMulticastTTL(1);
    sender.setMulticastLoopback(true);
    const { port } = receiver.address();
    const steps = {};
    steps.join = attempt(() => receiver.addMembership(group, '127.0.0.1'));
    steps.joinedGot = await exchange(sender, receiver, 'while joined', port, group);
    steps.joinTwice = attempt(() => receiver.addMembership(group, '127.0.0.1'));
    steps.drop = attempt(() => receiver.dropMembership(group, '127.0.0.1'));
    steps.droppedGot = await exchange(sender, receiver, 'after drop', port, group);
    steps.dropAgain = attempt(() => receiver.dropMembership(group, '127.0.0.1'));
    steps.notMulticast = attempt(() => receiver.addMembership('127.0.0.9', '127.0.0.1'));
    steps.unknownInterface = attempt(() => receiver.addMembership(group, '192.0.2.99'));
    steps.badInterface = attempt(() => sender.setMulticastInterface('not an address'));
    steps.ttlRange = attempt(() => sender.setMulticastTTL(256));
    sender.close();
    receiver.close();
    return steps;
  },

  async sourceSpecific(dgram) {
    const group = '232.1.2.3';
    const { receiver, fromA, fromB, port } = await twoSources(dgram);
    const steps = {};
    steps.join = attempt(() => receiver.addSourceSpecificMembership('127.0.0.1', group, '127.0.0.1'));
    steps.fromSource = await exchange(fromA, receiver, 'from the source', port, group);
    steps.fromOther = await exchange(fromB, receiver, 'from another host', port, group);
    steps.drop = attempt(() => receiver.dropSourceSpecificMembership('127.0.0.1', group, '127.0.0.1'));
    steps.afterDrop = await exchange(fromA, receiver, 'after drop', port, group);
    steps.badSource = attempt(() => receiver.addSourceSpecificMembership('nope', group, '127.0.0.1'));
    steps.badGroup = attempt(() => receiver.addSourceSpecificMembership('127.0.0.1', '10.0.0.1', '127.0.0.1'));
    for (const socket of [receiver, fromA, fromB]) socket.close();
    return steps;
  },

  async ipv6(dgram) {
    const group = 'ff12::1234';
    const receiver = await bind(dgram, 'udp6', '::');
    const sender = await bind(dgram, 'udp6', '::');
    const { port } = receiver.address();
    const steps = {};
    steps.setInterface = attempt(() => sender.setMulticastInterface('::%v0'));
    steps.join = attempt(() => receiver.addMembership(group, '::%v0'));
    const got = [];
    receiver.on('message', (data, rinfo) => got.push(`${data} from ${rinfo.address.endsWith('%v0') ? 'v0 link-local' : rinfo.address}`));
    steps.joinedGot = await exchange(sender, receiver, 'v6', port, group);
    steps.rinfo = got;
    steps.drop = attempt(() => receiver.dropMembership(group, '::%v0'));
    steps.droppedGot = await exchange(sender, receiver, 'after drop', port, group);
    steps.badScope = attempt(() => sender.setMulticastInterface('::%nosuchif'));
    receiver.close();
    sender.close();
    return steps;
  },

  async ipv6SourceSpecific(dgram) {
    const group = 'ff32::8000:1';
    const source = networkInterfaces().v0.find((a) => a.family === 'IPv6').address;
    const receiver = await bind(dgram, 'udp6', '::');
    const sender = await bind(dgram, 'udp6', `${source}%v0`);
    sender.setMulticastInterface('::%v0');
    const { port } = receiver.address();
    const steps = {};
    steps.join = attempt(() => receiver.addSourceSpecificMembership(`${source}%v0`, group, '::%v0'));
    steps.fromSource = await exchange(sender, receiver, 'ssm v6', port, group);
    steps.drop = attempt(() => receiver.dropSourceSpecificMembership(`${source}%v0`, group, '::%v0'));
    steps.afterDrop = await exchange(sender, receiver, 'after drop', port, group);
    receiver.close();
    sender.close();
    return steps;
  },

  // udpkit only (native backend): MCAST_BLOCK_SOURCE and IP_MULTICAST_ALL.
  async blockSource(dgram) {
    const group = '239.1.2.4';
    const { receiver, fromA, fromB, port } = await twoSources(dgram);
    const steps = {};
    steps.join = attempt(() => receiver.addMembership(group, '127.0.0.1'));
    steps.block = attempt(() => receiver.blockSource('127.0.0.2', group, '127.0.0.1'));
    steps.fromBlocked = await exchange(fromB, receiver, 'blocked', port, group);
    steps.fromOther = await exchange(fromA, receiver, 'allowed', port, group);
    steps.unblock = attempt(() => receiver.unblockSource('127.0.0.2', group, '127.0.0.1'));
    steps.fromUnblocked = await exchange(fromB, receiver, 'unblocked', port, group);
    steps.blockNotJoined = attempt(() => receiver.blockSource('127.0.0.2', '239.9.9.9', '127.0.0.1'));
    for (const socket of [receiver, fromA, fromB]) socket.close();
    return steps;
  },

  async multicastAll(dgram) {
    const group = '239.1.2.5';
    const joined = await bind(dgram, 'udp4', '0.0.0.0', 0, { reuseAddr: true });
    const { port } = joined.address();
    const bystander = await bind(dgram, 'udp4', '0.0.0.0', port, { reuseAddr: true });
    const sender = await bind(dgram, 'udp4', '127.0.0.1');
    sender.setMulticastInterface('127.0.0.1');
    joined.addMembership(group, '127.0.0.1');
    const steps = {};
    steps.bystanderByDefault = await exchange(sender, bystander, 'default', port, group);
    steps.set = attempt(() => bystander.setMulticastAll(false));
    steps.bystanderIsolated = await exchange(sender, bystander, 'isolated', port, group);
    steps.joinedStillGets = await exchange(sender, joined, 'joined', port, group);
    for (const socket of [joined, bystander, sender]) socket.close();
    return steps;
  },
};

const [name, which] = process.argv.slice(2);
const result = { udpkit: await scenarios[name](udpkit) };
if (which === 'both') result.node = await scenarios[name](nodeDgram);
console.log(JSON.stringify(result));
