// opened.multicastController of a bound UDPSocket: join and leave
// any-source and source-specific groups, with the TypeError and
// InvalidStateError cases of Chromium's MulticastController. The interface
// is the kernel's choice (INADDR_ANY / index 0), as in Chromium. Every
// failure is a rejected promise, as for any promise-returning Web IDL method.
import { SocketAddress, isIP } from 'node:net';
import type { Socket } from '@udpkit/core';
import { invalidState, networkError } from './errors.js';
import { Memberships, type MulticastMembership } from './memberships.js';
import { toDictionary, toDOMString } from './webidl.js';

export interface MulticastGroupOptions {
  /** Join only this source's datagrams to the group (SSM, `IP_ADD_SOURCE_MEMBERSHIP`). */
  sourceAddress?: string;
}

export type { MulticastMembership };

export class MulticastController {
  readonly #socket: Socket;
  readonly #memberships = new Memberships();
  #open = true;

  /** @internal Made by UDPSocket for a bound socket. */
  constructor(socket: Socket) {
    this.#socket = socket;
  }

  /** Joins `ipAddress` (any source), or `sourceAddress`'s datagrams to it. */
  joinGroup(ipAddress: string, options?: MulticastGroupOptions): Promise<void> {
    return this.#change(ipAddress, options, true);
  }

  /** Leaves what `joinGroup` with the same arguments joined. */
  leaveGroup(ipAddress: string, options?: MulticastGroupOptions): Promise<void> {
    return this.#change(ipAddress, options, false);
  }

  /** The groups joined: any-source ones as addresses, source-specific ones as `{ groupAddress, sourceAddress }`. */
  get joinedGroups(): readonly (string | MulticastMembership)[] {
    return Object.freeze(this.#memberships.list().map((entry) => (typeof entry === 'string' ? entry : Object.freeze(entry))));
  }

  /** @internal The socket closed: the kernel has left every group. */
  onClose(): void {
    this.#open = false;
    this.#memberships.clear();
  }

  async #change(ipAddress: unknown, options: MulticastGroupOptions | undefined, join: boolean): Promise<void> {
    if (!this.#open) throw invalidState(`Cannot ${join ? 'join' : 'leave'} group if the socket is not opened`);
    const group = parseGroup(ipAddress);
    const source = parseSource(options, group);

    if (join) {
      const conflict = this.#memberships.conflict(group.address, source?.address);
      if (conflict) throw invalidState(conflict);
    } else if (!this.#memberships.has(group.address, source?.address)) {
      throw invalidState('Cannot leave group which is not joined');
    }

    const socket = this.#socket;
    try {
      if (source === undefined) {
        if (join) socket.addMembership(group.address);
        else socket.dropMembership(group.address);
      } else if (join) {
        socket.addSourceSpecificMembership(source.address, group.address);
      } else {
        socket.dropSourceSpecificMembership(source.address, group.address);
      }
    } catch (error) {
      throw networkError(`${join ? 'joinGroup' : 'leaveGroup'} failed`, error);
    }
    if (join) this.#memberships.add(group.address, source?.address);
    else this.#memberships.delete(group.address, source?.address);
  }
}

interface Parsed {
  address: string;
  family: 4 | 6;
}

/** An IP literal (no host name, no `%scope`), in canonical form. */
function parseAddress(value: unknown, name: string): Parsed {
  const string = toDOMString(value, name);
  const family = isIP(string);
  if ((family !== 4 && family !== 6) || string.includes('%')) throw new TypeError(`${name} is not a valid IPv4 or IPv6 address`);
  const address = new SocketAddress({ address: string, family: family === 4 ? 'ipv4' : 'ipv6' }).address;
  return { address, family };
}

function parseGroup(value: unknown): Parsed {
  if (value === '' || value === undefined) throw new TypeError('ipAddress must not be empty');
  const group = parseAddress(value, 'ipAddress');
  if (!isMulticast(group)) throw new TypeError('ipAddress must be a valid multicast address');
  return group;
}

function parseSource(input: unknown, group: Parsed): Parsed | undefined {
  const options = toDictionary(input, 'options');
  if (options.sourceAddress === undefined) return undefined;
  if (options.sourceAddress === '') throw new TypeError('sourceAddress must not be empty');
  const source = parseAddress(options.sourceAddress, 'sourceAddress');
  if (isMulticast(source)) throw new TypeError('sourceAddress must be a unicast address, not a multicast address');
  if (source.address === '0.0.0.0' || source.address === '::') {
    throw new TypeError('sourceAddress must not be the zero address (0.0.0.0 or ::)');
  }
  if (source.family !== group.family) throw new TypeError('sourceAddress and ipAddress must be the same IP version');
  return source;
}

/** 224.0.0.0/4 or ff00::/8. */
function isMulticast({ address, family }: Parsed): boolean {
  if (family === 4) return Number(address.split('.', 1)[0]) >> 4 === 0xe;
  return address.toLowerCase().startsWith('ff');
}
