// A socket that receives one multicast group: address reuse, group
// isolation, and the destination group and arrival interface on each
// datagram.
//
// Isolation: Linux hands a group's datagrams to every socket bound to the
// port once any socket on the host joined it (IP_MULTICAST_ALL). On the
// native backend the receiver turns that off and also drops any datagram
// whose destination (IP_PKTINFO) is not its group, such as unicast to the
// port. The portable backend has neither the option nor the destination:
// there the receiver binds to the group address itself, so the kernel
// delivers only that group's datagrams.
import { EventEmitter } from 'node:events';
import {
  createSocket,
  defaultBackend,
  type AddressInfo,
  type BackendName,
  type RemoteInfo,
  type Socket,
} from '@udpkit/core';
import { needsInterface } from './address.js';
import { closer } from './closer.js';
import { errors } from './errors.js';
import { MulticastGroups, type Membership, type MembershipInfo } from './groups.js';
import { resolveInterface, type NetworkInterface } from './interfaces.js';
import { validateGroup, validateJoin, validateTrackInterval, type JoinOptions } from './validate.js';

export interface ReceiverOptions extends JoinOptions {
  /** The group, `'239.1.2.3'` or `'ff12::1%eth0'`; the socket's family follows it. */
  group: string;
  port: number;
  /** Join on interfaces that appear and drop those that go (with `interfaces: 'all'`). Default false. */
  track?: boolean | undefined;
  /** Milliseconds between looks at the interfaces when tracking. Default 2000. */
  trackInterval?: number | undefined;
  backend?: BackendName | undefined;
  recvBufferSize?: number | undefined;
}

/** `rinfo` of a received datagram: the sender, and where it was going. */
export interface MulticastRemoteInfo extends RemoteInfo {
  /** The group the datagram was sent to. */
  destination: string;
  /** The interface it arrived on (native backend; undefined on the portable one). */
  interfaceIndex?: number;
}

/** How the receiver keeps other groups' datagrams out. */
export type Isolation = 'multicast-all-off' | 'destination-filter' | 'bound-to-group';

export interface ReceiverEvents {
  message: [msg: Buffer, rinfo: MulticastRemoteInfo];
  error: [error: Error];
  interfaceAdded: [iface: NetworkInterface];
  interfaceRemoved: [iface: NetworkInterface];
  close: [];
}

export class Receiver extends EventEmitter<ReceiverEvents> {
  readonly socket: Socket;
  /** The group, canonical (`'ff3e::1'`). */
  readonly group: string;
  /** The join made by `openReceiver()`. */
  readonly membership: Membership;
  readonly isolation: Isolation;
  /** Datagrams dropped because their destination was not the group (unicast to the port, say). */
  filtered = 0;
  readonly #groups: MulticastGroups;
  readonly #close: () => Promise<void>;

  /** @internal use `openReceiver()` */
  constructor(socket: Socket, groups: MulticastGroups, membership: Membership, isolation: Isolation) {
    super();
    this.socket = socket;
    this.#groups = groups;
    this.membership = membership;
    this.isolation = isolation;
    this.#close = closer(socket);
    const group = (this.group = membership.group);
    const boundToGroup = isolation === 'bound-to-group';
    socket.on('message', (msg, rinfo) => {
      if (boundToGroup) {
        rinfo.destination = group;
      } else if (rinfo.destination !== group) {
        this.filtered++;
        return;
      }
      this.emit('message', msg, rinfo as MulticastRemoteInfo);
    });
    socket.on('error', (error) => this.emit('error', error));
    groups.on('error', (error) => this.emit('error', error));
    groups.on('interfaceAdded', (iface) => this.emit('interfaceAdded', iface));
    groups.on('interfaceRemoved', (iface) => this.emit('interfaceRemoved', iface));
    socket.once('close', () => this.emit('close'));
  }

  /**
   * Joins the group again: on more interfaces, or from another source
   * (SSM with several sources). Counted: a repeat is not an error.
   */
  join(options: JoinOptions = {}): Membership {
    return this.#groups.join(this.group, options);
  }

  /** Exclude mode on the first join: stop receiving `source` (native backend). */
  block(source: string): void {
    this.membership.block(source);
  }

  unblock(source: string): void {
    this.membership.unblock(source);
  }

  /** What the socket holds, per interface, with counts. */
  memberships(): MembershipInfo[] {
    return this.#groups.memberships();
  }

  address(): AddressInfo {
    return this.socket.address();
  }

  /** Closes the socket: the kernel leaves every membership. Resolves when closed, also when called again. */
  close(): Promise<void> {
    return this.#close();
  }
}

/** Opens a socket on `port`, joins `group` and resolves once it receives. Validates everything first. */
export async function openReceiver(options: ReceiverOptions): Promise<Receiver> {
  if (options === null || typeof options !== 'object') throw errors.invalid('openReceiver needs an options object');
  const { group, port, track, trackInterval, recvBufferSize } = options;
  if (!Number.isInteger(port) || port < 0 || port > 0xffff) throw errors.notInteger('port', port, 0, 0xffff);
  const { family } = validateGroup(group);
  const request = validateJoin(group, options, family);
  if (track) {
    validateTrackInterval(trackInterval);
    // Tracking follows joins on all interfaces; with named ones it would only report interfaces it never joins.
    if (request.interfaces !== 'all') {
      throw errors.invalid("track: true follows a join on all interfaces: leave out interfaces (or pass 'all'), or leave out track");
    }
  }
  // Unknown interfaces are refused here, before the socket exists.
  const named = request.interfaces === 'all' ? [] : request.interfaces.map((spec) => resolveInterface(spec, family));
  const backend = options.backend ?? defaultBackend();
  const native = backend === 'native';

  let bindAddress = family === 4 ? '0.0.0.0' : '::';
  if (!native) {
    bindAddress = request.group;
    if (needsInterface(request.group)) {
      if (named.length !== 1) {
        throw errors.invalid(
          `the portable backend receives ${request.group} by binding to it, which a link-local group allows on one interface only: name exactly one`,
        );
      }
      bindAddress += `%${named[0]!.name}`;
    }
  }

  const socket = createSocket({
    type: family === 4 ? 'udp4' : 'udp6',
    reuseAddr: true,
    backend,
    recvBufferSize,
    ...(native ? { receiveMetadata: { destination: true } } : {}),
  });
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, bindAddress, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    let isolation: Isolation = 'bound-to-group';
    if (native) {
      isolation = 'multicast-all-off';
      try {
        socket.setMulticastAll(false);
      } catch {
        isolation = 'destination-filter'; // a kernel without IPV6_MULTICAST_ALL (before 4.20)
      }
    }
    const groups = new MulticastGroups(socket, { track, trackInterval });
    const joinOptions: JoinOptions = { source: options.source, interfaces: options.interfaces };
    const membership = groups.join(group, joinOptions);
    return new Receiver(socket, groups, membership, isolation);
  } catch (error) {
    socket.close();
    throw error;
  }
}
