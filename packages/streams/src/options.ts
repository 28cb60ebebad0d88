// UDPSocketOptions, read and checked the way Chromium's UDPSocket does at
// construction (InferUDPSocketMode, CreateConnected/BoundUDPSocketOptions):
// every TypeError is thrown before any system call.
import { isIP } from 'node:net';
import { toMeasure, type HighWaterMark, type Measure } from './high-water-mark.js';
import {
  enforceRange,
  isPresent,
  MAX_OCTET,
  MAX_UNSIGNED_LONG,
  MAX_UNSIGNED_SHORT,
  toDictionary,
  toDnsQueryType,
  toDOMString,
  type SocketDnsQueryType,
} from './webidl.js';

export interface UDPSocketOptions {
  /** Connected mode: the peer, an IP address or a host name. Requires `remotePort`. */
  remoteAddress?: string;
  remotePort?: number;
  /** Bound mode: the local IP address to bind. */
  localAddress?: string;
  /** Bound mode: the local port; omitted, the system picks one. */
  localPort?: number;
  /** `SO_SNDBUF`, in bytes. */
  sendBufferSize?: number;
  /** `SO_RCVBUF`, in bytes. */
  receiveBufferSize?: number;
  /** Connected mode: the address family a host name resolves to. */
  dnsQueryType?: SocketDnsQueryType;
  /** Bound mode on `::`: refuse IPv4-mapped traffic (`IPV6_V6ONLY`). */
  ipv6Only?: boolean;
  /** `IP_MULTICAST_TTL` / `IPV6_MULTICAST_HOPS`, 0..255. */
  multicastTimeToLive?: number;
  /** `IP_MULTICAST_LOOP` / `IPV6_MULTICAST_LOOP`. */
  multicastLoopback?: boolean;
  /** Bound mode: let other sockets bind the same address and port (`SO_REUSEADDR`). */
  multicastAllowAddressSharing?: boolean;
  /** udpkit: datagrams (a number) or `{ bytes }` the readable queues before the socket is paused. Default 128. */
  readableHighWaterMark?: HighWaterMark;
  /** udpkit: datagrams (a number) or `{ bytes }` the writable holds in flight before `ready` waits. Default 128. */
  writableHighWaterMark?: HighWaterMark;
  /** udpkit: per-datagram metadata on received messages (native backend). */
  receiveMetadata?: { destination?: boolean; timestamp?: boolean };
}

export type Mode = 'connected' | 'bound';

/** What the options ask for, checked and converted. */
export interface SocketPlan {
  mode: Mode;
  /** Bound mode: the family of `localAddress`. Connected mode: the family of an IP literal, else decided by lookup. */
  family: 4 | 6 | undefined;
  remoteAddress: string | undefined;
  remotePort: number | undefined;
  localAddress: string | undefined;
  localPort: number;
  dnsQueryType: SocketDnsQueryType | undefined;
  sendBufferSize: number | undefined;
  receiveBufferSize: number | undefined;
  ipv6Only: boolean;
  multicastTimeToLive: number | undefined;
  multicastLoopback: boolean | undefined;
  multicastAllowAddressSharing: boolean;
  readable: Measure;
  writable: Measure;
  receiveMetadata: { destination?: boolean; timestamp?: boolean } | undefined;
}

export const DEFAULT_HIGH_WATER_MARK = 128;

export function planSocket(input: unknown): SocketPlan {
  const options = toDictionary(input, 'options');
  const has = (name: keyof UDPSocketOptions) => isPresent(options[name]);

  const mode = inferMode(has);
  const plan: SocketPlan = {
    mode,
    family: undefined,
    remoteAddress: undefined,
    remotePort: undefined,
    localAddress: undefined,
    localPort: 0,
    dnsQueryType: undefined,
    sendBufferSize: undefined,
    receiveBufferSize: undefined,
    ipv6Only: false,
    multicastTimeToLive: undefined,
    multicastLoopback: undefined,
    multicastAllowAddressSharing: false,
    readable: toMeasure(options.readableHighWaterMark as HighWaterMark | undefined, DEFAULT_HIGH_WATER_MARK, 'readableHighWaterMark'),
    writable: toMeasure(options.writableHighWaterMark as HighWaterMark | undefined, DEFAULT_HIGH_WATER_MARK, 'writableHighWaterMark'),
    receiveMetadata: undefined,
  };

  if (mode === 'connected') {
    plan.remoteAddress = toDOMString(options.remoteAddress, 'remoteAddress');
    if (plan.remoteAddress === '') throw new TypeError('remoteAddress must not be empty.');
    plan.remotePort = enforceRange(options.remotePort, 'remotePort', MAX_UNSIGNED_SHORT);
    if (plan.remotePort === 0) throw new TypeError('remotePort must be greater than zero.');
    if (has('ipv6Only')) throw new TypeError('ipv6Only can only be specified with localAddress.');
    if (has('dnsQueryType')) plan.dnsQueryType = toDnsQueryType(options.dnsQueryType, 'dnsQueryType');
    const family = isIP(plan.remoteAddress);
    plan.family = family === 4 || family === 6 ? family : undefined;
  } else {
    plan.localAddress = toDOMString(options.localAddress, 'localAddress');
    const family = isIP(plan.localAddress);
    if (family !== 4 && family !== 6) throw new TypeError('localAddress must be a valid IP address.');
    plan.family = family;
    if (has('localPort')) {
      plan.localPort = enforceRange(options.localPort, 'localPort', MAX_UNSIGNED_SHORT);
      if (plan.localPort === 0) {
        throw new TypeError(
          'localPort must be greater than zero. Leave this field unassigned to allow the OS to pick a port on its own.',
        );
      }
    }
    if (has('dnsQueryType')) throw new TypeError('dnsQueryType is only relevant when remoteAddress is specified.');
  }

  if (has('sendBufferSize')) {
    plan.sendBufferSize = enforceRange(options.sendBufferSize, 'sendBufferSize', MAX_UNSIGNED_LONG);
    if (plan.sendBufferSize === 0) throw new TypeError('sendBufferSize must be greater than zero.');
  }
  if (has('receiveBufferSize')) {
    plan.receiveBufferSize = enforceRange(options.receiveBufferSize, 'receiveBufferSize', MAX_UNSIGNED_LONG);
    if (plan.receiveBufferSize === 0) throw new TypeError('receiveBufferSize must be greater than zero.');
  }

  if (mode === 'bound' && has('ipv6Only')) {
    if (!isAnyIPv6(plan.localAddress!)) {
      throw new TypeError('ipv6Only can only be specified when localAddress is [::] or equivalent.');
    }
    plan.ipv6Only = !!options.ipv6Only;
  }

  if (has('multicastTimeToLive')) plan.multicastTimeToLive = enforceRange(options.multicastTimeToLive, 'multicastTimeToLive', MAX_OCTET);
  if (has('multicastLoopback')) plan.multicastLoopback = !!options.multicastLoopback;
  // As in Chromium, address sharing only applies to a bound socket; a connected one ignores it.
  if (mode === 'bound' && has('multicastAllowAddressSharing')) plan.multicastAllowAddressSharing = !!options.multicastAllowAddressSharing;

  if (has('receiveMetadata')) {
    const metadata = toDictionary(options.receiveMetadata, 'receiveMetadata');
    plan.receiveMetadata = { destination: !!metadata.destination, timestamp: !!metadata.timestamp };
  }
  return plan;
}

function inferMode(has: (name: keyof UDPSocketOptions) => boolean): Mode {
  let mode: Mode | undefined;
  if (has('remoteAddress') && has('remotePort')) {
    mode = 'connected';
  } else if (has('remoteAddress') || has('remotePort')) {
    throw new TypeError('remoteAddress and remotePort should either be specified together or not specified at all.');
  }
  if (has('localAddress')) {
    if (mode) throw new TypeError('remoteAddress and localAddress cannot be specified at the same time.');
    mode = 'bound';
  } else if (has('localPort')) {
    throw new TypeError('localPort cannot be specified without localAddress.');
  }
  if (!mode) throw new TypeError('neither remoteAddress nor localAddress specified.');
  return mode;
}

/** `::`, `0::0`, `0:0:0:0:0:0:0:0` and the like. */
function isAnyIPv6(address: string): boolean {
  return isIP(address) === 6 && /^[0:]+$/.test(address);
}
