// The kernel's view of multicast memberships in the current network
// namespace: /proc/net/igmp, /proc/net/igmp6 and /proc/net/mcfilter{,6}.
import { readFileSync } from 'node:fs';
import { SocketAddress } from 'node:net';

/** IPv4 memberships: [{ device, group, users }]. Groups are printed in host (little-endian) order. */
export function igmp() {
  const found = [];
  let device;
  for (const line of readFileSync('/proc/net/igmp', 'utf8').split('\n').slice(1)) {
    const head = /^\d+\s+(\S+)\s*:/.exec(line);
    if (head) {
      device = head[1];
      continue;
    }
    const entry = /^\s+([0-9A-F]{8})\s+(\d+)/.exec(line);
    if (!entry) continue;
    const n = parseInt(entry[1], 16);
    const group = [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, n >>> 24].join('.');
    found.push({ device, group, users: Number(entry[2]) });
  }
  return found;
}

function ipv6FromHex(hex) {
  return new SocketAddress({ address: hex.match(/.{4}/g).join(':'), family: 'ipv6' }).address;
}

/** IPv6 memberships: [{ device, index, group, users }]. */
export function igmp6() {
  return readFileSync('/proc/net/igmp6', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [index, device, hex, users] = line.trim().split(/\s+/);
      return { index: Number(index), device, group: ipv6FromHex(hex), users: Number(users) };
    });
}

/** IPv4 source filters: [{ device, group, source, include, exclude }] (addresses printed big-endian). */
export function mcfilter() {
  return readFileSync('/proc/net/mcfilter', 'utf8')
    .split('\n')
    .slice(1)
    .filter(Boolean)
    .map((line) => {
      const [, device, group, source, include, exclude] = line.trim().split(/\s+/);
      const ip = (hex) => {
        const n = parseInt(hex, 16);
        return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
      };
      return { device, group: ip(group), source: ip(source), include: Number(include), exclude: Number(exclude) };
    });
}

/** IPv6 source filters: [{ device, group, source, include, exclude }]. */
export function mcfilter6() {
  return readFileSync('/proc/net/mcfilter6', 'utf8')
    .split('\n')
    .slice(1)
    .filter(Boolean)
    .map((line) => {
      const [, device, group, source, include, exclude] = line.trim().split(/\s+/);
      return { device, group: ipv6FromHex(group), source: ipv6FromHex(source), include: Number(include), exclude: Number(exclude) };
    });
}

/** Devices on which `group` is joined, sorted. */
export function devicesOf(group) {
  const list = group.includes(':') ? igmp6() : igmp();
  return list.filter((m) => m.group === group).map((m) => m.device).sort();
}
