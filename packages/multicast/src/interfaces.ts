// The machine's multicast-capable interfaces, and what a user's interface
// argument (name, index or address) points at. Addresses come from
// os.networkInterfaces() (interfaces that are up and running). On Linux the
// index comes from /proc/net, which belongs to the process's network
// namespace, and the IFF_MULTICAST flag from /sys/class/net when that sysfs
// is the namespace's own (a bare `unshare -n` keeps the host's).
import { readdirSync, readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { parseAddress, type Family } from './address.js';
import { errors } from './errors.js';

export interface NetworkInterface {
  name: string;
  /** The kernel's interface index; 0 where the system does not tell it. */
  index: number;
  /** Its IPv4 addresses; IPv4 joins name the interface by the first one. */
  ipv4: string[];
  /** Its IPv6 addresses (link-local ones without `%zone`). */
  ipv6: string[];
}

/** An interface as a user names it: `'eth0'`, `3`, `'192.0.2.1'`, `'fe80::1%eth0'`, `'::%3'`. */
export type InterfaceSpec = string | number;

const IFF_MULTICAST = 0x1000;

function read(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** Interface indexes of this network namespace: /proc/net/igmp (IPv4) and /proc/net/if_inet6 (IPv6). */
function procIndexes(): Map<string, number> {
  const indexes = new Map<string, number>();
  for (const line of read('/proc/net/igmp').split('\n')) {
    const match = /^(\d+)\s+(\S+)\s*:/.exec(line);
    if (match) indexes.set(match[2]!, Number(match[1]));
  }
  for (const line of read('/proc/net/if_inet6').split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields.length === 6) indexes.set(fields[5]!, parseInt(fields[1]!, 16));
  }
  return indexes;
}

/**
 * The index of the interface named `name` now, up or down, from
 * /proc/net/dev_snmp6 (this namespace's IPv6 interfaces); undefined when
 * it does not exist.
 */
export function ipv6Index(name: string): number | undefined {
  if (name.includes('/')) return undefined;
  const match = /^ifIndex\s+(\d+)/.exec(read(`/proc/net/dev_snmp6/${name}`));
  return match ? Number(match[1]) : undefined;
}

/** IFF_* flags by name, when /sys/class/net lists exactly this namespace's interfaces (/proc/net/dev). */
function sysfsFlags(): Map<string, number> {
  const flags = new Map<string, number>();
  const own = read('/proc/net/dev')
    .split('\n')
    .slice(2)
    .map((line) => line.slice(0, line.indexOf(':')).trim())
    .filter(Boolean)
    .sort();
  let listed: string[];
  try {
    listed = readdirSync('/sys/class/net').sort();
  } catch {
    return flags;
  }
  if (own.join() !== listed.join()) return flags;
  for (const name of listed) {
    const value = Number(read(`/sys/class/net/${name}/flags`).trim());
    if (value) flags.set(name, value);
  }
  return flags;
}

/**
 * The interfaces that are up, have an address and can do multicast, in the
 * system's order. Where the flag can't be read, every interface counts.
 */
export function multicastInterfaces(): NetworkInterface[] {
  const indexes = procIndexes();
  const flags = sysfsFlags();
  const found: NetworkInterface[] = [];
  for (const [name, addresses = []] of Object.entries(networkInterfaces())) {
    const flag = flags.get(name);
    if (flag !== undefined && (flag & IFF_MULTICAST) === 0) continue;
    const linkLocal = addresses.find((a) => a.family === 'IPv6' && a.scopeid);
    found.push({
      name,
      index: indexes.get(name) ?? (linkLocal?.family === 'IPv6' ? linkLocal.scopeid! : 0),
      ipv4: addresses.filter((a) => a.family === 'IPv4').map((a) => a.address),
      ipv6: addresses.filter((a) => a.family === 'IPv6').map((a) => a.address),
    });
  }
  return found;
}

/** True when `iface` can carry groups of `family`: it has an address of that family. */
export function servesFamily(iface: NetworkInterface, family: Family): boolean {
  return (family === 4 ? iface.ipv4 : iface.ipv6).length > 0;
}

/**
 * The interface `spec` names, among `available` (default: the machine's
 * multicast-capable interfaces now). For IPv4, the result's first `ipv4`
 * address is the one a join will use (the one given, when `spec` is one).
 */
export function resolveInterface(
  spec: InterfaceSpec,
  family: Family,
  available: readonly NetworkInterface[] = multicastInterfaces(),
): NetworkInterface {
  const unknown = () => errors.unknownInterface(spec, available.map((i) => (i.index ? `${i.name} (${i.index})` : i.name)));
  const byName = (name: string) =>
    available.find((i) => i.name === name) ?? (/^[1-9]\d*$/.test(name) ? available.find((i) => i.index === Number(name)) : undefined);

  let found: NetworkInterface | undefined;
  if (typeof spec === 'number') {
    if (!Number.isInteger(spec) || spec <= 0) throw errors.invalid(`interface index ${spec} is not a positive integer`);
    found = available.find((i) => i.index === spec);
  } else if (typeof spec !== 'string' || spec === '') {
    throw errors.invalid(`interface ${JSON.stringify(spec)} is neither a name, an index nor an address`);
  } else {
    const address = parseAddress(spec);
    if (address === undefined) {
      found = byName(spec);
    } else if (address.family !== family) {
      throw errors.mixedFamilies('interface address', spec, family);
    } else if (address.family === 4) {
      found = available.find((i) => i.ipv4.includes(address.address));
      if (found) found = { ...found, ipv4: [address.address, ...found.ipv4.filter((a) => a !== address.address)] };
    } else if (address.zone !== undefined) {
      found = byName(address.zone);
    } else {
      found = available.find((i) => i.ipv6.some((a) => parseAddress(a)?.address === address.address));
    }
  }
  if (found === undefined) throw unknown();
  if (family === 4 && found.ipv4.length === 0) throw errors.noAddressOnInterface(found.name);
  return found;
}

/**
 * What core's (and node:dgram's) `setMulticastInterface`, `addMembership`
 * and friends take for `spec`: the interface's IPv4 address, or `::%name`
 * for IPv6 (a numeric `%3` is turned into the name: node:dgram would read
 * it as interface 0, any interface).
 */
export function interfaceAddress(spec: InterfaceSpec, family: Family): string {
  const iface = resolveInterface(spec, family);
  return family === 4 ? iface.ipv4[0]! : `::%${iface.name}`;
}
