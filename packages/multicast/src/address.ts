// Multicast address rules (RFC 1112, RFC 4291, RFC 4607), on strings,
// before any system call. An IPv6 address may carry a `%scope` zone.
import { SocketAddress, isIPv4, isIPv6 } from 'node:net';

export type Family = 4 | 6;

/** An address split from its `%zone`, in canonical form. */
export interface ParsedAddress {
  family: Family;
  /** Canonical text: lower case, compressed (`FF3E:0::1` → `ff3e::1`). */
  address: string;
  /** The text after `%`, if any (an interface name or index). */
  zone: string | undefined;
}

/** Splits `address%zone` and checks the address; undefined when it is not an IP address. */
export function parseAddress(text: string): ParsedAddress | undefined {
  if (typeof text !== 'string') return undefined;
  const percent = text.indexOf('%');
  const bare = percent === -1 ? text : text.slice(0, percent);
  const zone = percent === -1 ? undefined : text.slice(percent + 1);
  if (isIPv4(bare) && zone === undefined) return { family: 4, address: bare, zone };
  if (!isIPv6(bare) || zone === '') return undefined;
  return { family: 6, address: new SocketAddress({ address: bare, family: 'ipv6' }).address, zone };
}

/** The eight 16-bit groups of an IPv6 address (without zone). */
function hextets(address: string): number[] {
  const [head = '', tail] = address.split('::');
  const parse = (part: string) => (part === '' ? [] : part.split(':').flatMap(hextet));
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
}

/** One group, or two for an embedded IPv4 tail (`::ffff:1.2.3.4`). */
function hextet(part: string): number[] {
  if (!part.includes('.')) return [parseInt(part, 16)];
  const [a = 0, b = 0, c = 0, d = 0] = part.split('.').map(Number);
  return [(a << 8) | b, (c << 8) | d];
}

function firstOctet(ipv4: string): number {
  return Number(ipv4.slice(0, ipv4.indexOf('.')));
}

/** True for 224.0.0.0/4 and ff00::/8 (an IPv6 `%zone` is allowed). */
export function isMulticastAddress(address: string): boolean {
  const parsed = parseAddress(address);
  if (parsed === undefined) return false;
  if (parsed.family === 4) return (firstOctet(parsed.address) & 0xf0) === 224;
  return hextets(parsed.address)[0]! >> 8 === 0xff;
}

/**
 * True for the source-specific ranges of RFC 4607: 232.0.0.0/8, and
 * ff3x::/32 — the first 32 bits are ff3x:0000, x a valid scope (1 to e;
 * 0 and f are reserved by RFC 4291).
 */
export function isSourceSpecificGroup(address: string): boolean {
  const parsed = parseAddress(address);
  if (parsed === undefined) return false;
  if (parsed.family === 4) return firstOctet(parsed.address) === 232;
  const [first = 0, second = 0] = hextets(parsed.address);
  const scope = first & 0xf;
  return first >> 4 === 0xff3 && second === 0 && scope !== 0 && scope !== 0xf;
}

/**
 * The scope of an IPv6 multicast group (RFC 4291 2.7): 1 interface-local,
 * 2 link-local, 5 site-local, 8 organization-local, 14 global. Undefined
 * for IPv4 and non-multicast addresses.
 */
export function multicastScope(address: string): number | undefined {
  const parsed = parseAddress(address);
  if (parsed === undefined || parsed.family === 4 || !isMulticastAddress(address)) return undefined;
  return hextets(parsed.address)[0]! & 0xf;
}

/** True for ff01::/16-style interface-local and ff02::/16-style link-local groups: they need an interface. */
export function needsInterface(group: string): boolean {
  const scope = multicastScope(group);
  return scope === 1 || scope === 2;
}

/** True for an address a datagram can come from: not multicast, unspecified or broadcast. */
export function isUnicastAddress(address: string): boolean {
  const parsed = parseAddress(address);
  if (parsed === undefined || isMulticastAddress(address)) return false;
  if (parsed.family === 4) return parsed.address !== '0.0.0.0' && parsed.address !== '255.255.255.255';
  return parsed.address !== '::';
}
