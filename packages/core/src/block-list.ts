// `receiveBlockList` / `sendBlockList` (Node 22.13): a `net.BlockList` that
// drops datagrams from, and refuses sends and connects to, the addresses it
// holds. Offered on every Node line; checked as Node checks it.
import { BlockList } from 'node:net';
import { invalidArgType } from './errors.js';

// `BlockList.isBlockList` arrived with the option (22.13); before, the class is the test.
const isBlockList: (value: unknown) => boolean =
  (BlockList as { isBlockList?: (value: unknown) => boolean }).isBlockList ?? ((value) => value instanceof BlockList);

/** The option's value, or undefined when not given; throws Node's error for anything but a BlockList. */
export function blockListOption(value: unknown, name: string): BlockList | undefined {
  if (!value) return undefined;
  if (!isBlockList(value)) throw invalidArgType(name, 'net.BlockList', value);
  return value as BlockList;
}

/** Whether `list` blocks `ip` (an IP literal); `family` as in rinfo ('IPv4') or undefined to derive it. */
export function isBlocked(list: BlockList | undefined, ip: string, family?: string): boolean {
  if (list === undefined) return false;
  return list.check(ip, family ? (family.toLowerCase() as 'ipv4' | 'ipv6') : ip.includes(':') ? 'ipv6' : 'ipv4');
}
