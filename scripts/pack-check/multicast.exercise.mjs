// @udpkit/multicast as installed: the address rules, and a join that
// validation refuses before any system call (nothing is joined: no IGMP
// report leaves the machine).
import { createSocket } from '@udpkit/core';

export default async function exercise({ isSourceSpecificGroup, isMulticastAddress, MulticastGroups }) {
  if (!isSourceSpecificGroup('232.1.2.3') || isSourceSpecificGroup('239.1.2.3') || !isMulticastAddress('ff3e::8000:1')) {
    throw new Error('the address rules are wrong');
  }
  const socket = createSocket('udp4');
  await new Promise((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const groups = new MulticastGroups(socket);
  try {
    groups.join('127.0.0.1');
    throw new Error('joining 127.0.0.1 was not refused');
  } catch (error) {
    if (error.code !== 'ERR_INVALID_ARG_VALUE') throw error;
    return { refused: error.message };
  } finally {
    groups.close();
    socket.close();
  }
}
