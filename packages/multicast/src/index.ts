// @udpkit/multicast: multicast address rules, checked before any system call.
import { isIPv4, isIPv6 } from 'node:net';

/** True for 224.0.0.0/4 and ff00::/8. */
export function isMulticastAddress(address: string): boolean {
  if (isIPv4(address)) return (Number(address.split('.')[0]) & 0xf0) === 224;
  if (isIPv6(address)) return /^ff[0-9a-f]{2}:/i.test(address);
  return false;
}

/** True for the source-specific ranges: 232.0.0.0/8 and ff3x::/32. */
export function isSourceSpecificGroup(address: string): boolean {
  if (isIPv4(address)) return address.split('.')[0] === '232';
  if (isIPv6(address)) return /^ff3[0-9a-f]:/i.test(address);
  return false;
}

/** Throws a TypeError that says what is wrong when `group` can't be joined source-specifically. */
export function assertSourceSpecificGroup(group: string): void {
  if (!isMulticastAddress(group)) throw new TypeError(`${JSON.stringify(group)} is not a multicast address`);
  if (!isSourceSpecificGroup(group)) {
    throw new TypeError(`${group} is outside the source-specific ranges 232.0.0.0/8 and ff3x::/32`);
  }
}
