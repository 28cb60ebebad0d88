// @udpkit/multicast as installed: the address rules, a join that validation
// refuses before any system call, and, inside a network namespace of its
// own (pack-check.mjs makes one when it runs as root), a receiver on
// 239.255.0.1 via loopback that gets a datagram from a sender. Outside one
// nothing is joined: no IGMP report leaves the machine.
import { readlinkSync } from 'node:fs';
import { createSocket } from '@udpkit/core';
import { within } from './within.mjs';

export default async function exercise({ isSourceSpecificGroup, isMulticastAddress, MulticastGroups, openReceiver, openSender }) {
  if (!isSourceSpecificGroup('232.1.2.3') || isSourceSpecificGroup('239.1.2.3') || !isMulticastAddress('ff3e::8000:1')) {
    throw new Error('the address rules are wrong');
  }
  const result = { refused: await refusedJoin(MulticastGroups) };
  if (!inOwnNetworkNamespace()) return { ...result, received: 'skipped: not in a network namespace of its own (needs root)' };

  const receiver = await openReceiver({ group: '239.255.0.1', port: 0, interfaces: 'lo' });
  const sender = await openSender({ group: '239.255.0.1', port: receiver.address().port, interface: 'lo' });
  try {
    const received = new Promise((resolve) => receiver.once('message', (data, rinfo) => resolve({ data, rinfo })));
    sender.send('pack-check');
    const { data, rinfo } = await within(10_000, 'multicast datagram', received);
    if (data.toString() !== 'pack-check' || rinfo.destination !== '239.255.0.1') {
      throw new Error(`received ${JSON.stringify(data.toString())} for ${rinfo.destination}`);
    }
    return { ...result, received: `on ${rinfo.destination} via lo (${receiver.isolation})` };
  } finally {
    await Promise.all([sender.close(), receiver.close()]);
  }
}

async function refusedJoin(MulticastGroups) {
  const socket = createSocket('udp4');
  await new Promise((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const groups = new MulticastGroups(socket);
  try {
    groups.join('127.0.0.1');
    throw new Error('joining 127.0.0.1 was not refused');
  } catch (error) {
    if (error.code !== 'ERR_INVALID_ARG_VALUE') throw error;
    return error.message;
  } finally {
    groups.close();
    socket.close();
  }
}

/** Whether this process has another network namespace than the one that started it (pack-check.mjs). */
function inOwnNetworkNamespace() {
  try {
    return readlinkSync('/proc/self/ns/net') !== readlinkSync(`/proc/${process.ppid}/ns/net`);
  } catch {
    return false;
  }
}
