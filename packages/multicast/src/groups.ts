// Memberships of one core Socket: joins on one, several or all interfaces,
// counted so a repeated join is not an error, left together on close, and
// (optionally) following interfaces as they come and go.
import { EventEmitter } from 'node:events';
import type { Socket } from '@udpkit/core';
import type { Family } from './address.js';
import { errors, explainSystemError } from './errors.js';
import { InterfaceWatcher } from './interface-watcher.js';
import { ipv6Index, multicastInterfaces, resolveInterface, servesFamily, type NetworkInterface } from './interfaces.js';
import { MembershipTable, type MembershipEntry, type MembershipKey } from './membership-table.js';
import { validateJoin, validateSource, validateTrackInterval, type JoinOptions, type JoinRequest } from './validate.js';

export interface GroupsOptions {
  /** Join `'all'` memberships on interfaces that appear, drop those that go. Default false. */
  track?: boolean | undefined;
  /** How often tracking looks at the interfaces, in milliseconds. Default 2000. */
  trackInterval?: number | undefined;
}

export interface GroupsEvents {
  interfaceAdded: [iface: NetworkInterface];
  interfaceRemoved: [iface: NetworkInterface];
  /** Tracking only: a join on an interface that appeared failed, or a look at the interfaces did. */
  error: [error: Error];
}

/** One kernel membership, as `memberships()` lists it. */
export interface MembershipInfo {
  group: string;
  source: string | undefined;
  interface: string;
  index: number;
  /** Joins not yet left. */
  count: number;
  /** Sources blocked (exclude mode). */
  blocked: string[];
}

/** What a Membership asks of the MulticastGroups that made it. */
interface MembershipControls {
  interfaces(): string[];
  active(): boolean;
  leave(): void;
  setBlocked(source: string, block: boolean): void;
}

/** What `join()` returns: leaves what it joined, blocks and unblocks sources. */
export class Membership {
  readonly group: string;
  readonly source: string | undefined;
  /** Joined on `'all'` interfaces with tracking on: follows interfaces as they come and go. */
  readonly tracking: boolean;
  readonly #controls: MembershipControls;

  /** @internal made by `MulticastGroups.join()` */
  constructor(group: string, source: string | undefined, tracking: boolean, controls: MembershipControls) {
    this.group = group;
    this.source = source;
    this.tracking = tracking;
    this.#controls = controls;
  }

  /** The names of the interfaces this membership holds now. */
  get interfaces(): string[] {
    return this.#controls.interfaces();
  }

  /** False once left (or once the socket closed). */
  get active(): boolean {
    return this.#controls.active();
  }

  /** Leaves every interface this join holds (the kernel leaves where no other join holds it). Idempotent. */
  leave(): void {
    this.#controls.leave();
  }

  /** Exclude mode: stop receiving `source`'s datagrams to this any-source group, on its interfaces (native backend). */
  block(source: string): void {
    this.#controls.setBlocked(source, true);
  }

  /** Undoes `block(source)`. */
  unblock(source: string): void {
    this.#controls.setBlocked(source, false);
  }
}

/** What MulticastGroups knows of one join. */
interface JoinState {
  request: JoinRequest;
  tracking: boolean;
  /** Interface name → the entry this join counts in. */
  joined: Map<string, MembershipEntry>;
  /** Sources this join blocks (canonical). */
  blocked: Set<string>;
  left: boolean;
}

export class MulticastGroups extends EventEmitter<GroupsEvents> {
  readonly socket: Socket;
  readonly #family: Family;
  readonly #table = new MembershipTable();
  readonly #joins = new Set<JoinState>();
  readonly #watcher: InterfaceWatcher | undefined;
  #closed = false;

  constructor(socket: Socket, options: GroupsOptions = {}) {
    super();
    this.socket = socket;
    this.#family = socket.type === 'udp4' ? 4 : 6;
    const interval = options.track ? validateTrackInterval(options.trackInterval) : undefined;
    socket.once('close', () => this.#forgetAll());
    if (interval !== undefined) {
      this.#watcher = new InterfaceWatcher(this.#family);
      this.#watcher.on('added', (iface) => this.#onAdded(iface));
      this.#watcher.on('removed', (iface) => this.#onRemoved(iface));
      this.#watcher.on('error', (error) => this.emit('error', error));
      this.#watcher.start(interval);
    }
  }

  /**
   * Joins `group` (`'239.1.2.3'`, `'ff12::1%eth0'`, `'ff12::1%2'`) on the
   * interfaces asked for (default all multicast-capable ones), any-source
   * or from `options.source`. Validates everything before any system call.
   * A membership the kernel holds already is counted, not joined again.
   */
  join(group: string, options: JoinOptions = {}): Membership {
    if (this.#closed) throw errors.invalid('these groups are closed (or their socket is): open a new MulticastGroups');
    const request = validateJoin(group, options, this.#family);
    const tracking = request.interfaces === 'all' && this.#watcher !== undefined;
    const targets = this.#targets(request);
    if (targets.length === 0 && !tracking) throw errors.noInterfaces(this.#family, multicastInterfaces().map((i) => i.name));
    const state: JoinState = { request, tracking, joined: new Map(), blocked: new Set(), left: false };
    try {
      for (const iface of targets) this.#attach(state, iface);
    } catch (error) {
      try {
        this.#leave(state);
      } catch {
        // The first error says what went wrong.
      }
      throw error;
    }
    this.#joins.add(state);
    return new Membership(request.group, request.source, tracking, {
      interfaces: () => [...state.joined.keys()],
      active: () => !state.left,
      leave: () => this.#leave(state),
      setBlocked: (source, block) => this.#setBlocked(state, source, block),
    });
  }

  /** Every kernel membership of the socket made here, with its count. */
  memberships(): MembershipInfo[] {
    return this.#table.entries().map((e) => ({
      group: e.group,
      source: e.source,
      interface: e.interface,
      index: e.index,
      count: e.count,
      blocked: [...e.blocked.keys()],
    }));
  }

  /** Leaves everything and stops tracking; later joins throw. The socket stays open. */
  close(): void {
    this.#closed = true;
    this.#watcher?.stop();
    let firstError: unknown;
    for (const state of this.#joins) {
      try {
        this.#leave(state);
      } catch (error) {
        firstError ??= error;
      }
    }
    if (firstError !== undefined) throw firstError;
  }

  /** Leaves the interfaces `state` holds. Idempotent. */
  #leave(state: JoinState): void {
    if (state.left) return;
    state.left = true;
    this.#joins.delete(state);
    let firstError: unknown;
    for (const name of [...state.joined.keys()]) {
      try {
        this.#detach(state, name);
      } catch (error) {
        firstError ??= error;
      }
    }
    if (firstError !== undefined) throw firstError;
  }

  #setBlocked(state: JoinState, sourceText: string, block: boolean): void {
    const { group } = state.request;
    if (state.left) throw errors.invalid(`the membership of ${group} was left`);
    if (state.request.source !== undefined) throw errors.notAnySource(group);
    const source = validateSource(sourceText, this.#family).address;
    if (state.blocked.has(source) === block) return;
    const done: MembershipEntry[] = [];
    try {
      for (const entry of state.joined.values()) {
        this.#applyBlock(entry, source, block);
        done.push(entry);
      }
    } catch (error) {
      // All or nothing, as for joins.
      for (const entry of done) {
        try {
          this.#applyBlock(entry, source, !block);
        } catch {
          // The first error says what went wrong.
        }
      }
      throw error;
    }
    if (block) state.blocked.add(source);
    else state.blocked.delete(source);
  }

  #targets(request: JoinRequest): NetworkInterface[] {
    // Looked at now, not at the last poll: tracking catches up by itself
    // (an interface joined already is not joined twice).
    const list =
      request.interfaces === 'all'
        ? multicastInterfaces().filter((i) => servesFamily(i, this.#family))
        : request.interfaces.map((spec) => resolveInterface(spec, this.#family));
    const byName = new Map(list.map((iface) => [iface.name, iface]));
    return [...byName.values()];
  }

  #key(state: JoinState, iface: NetworkInterface): MembershipKey {
    return { group: state.request.group, source: state.request.source, interface: iface.name, index: iface.index };
  }

  /** Counts `state` on `iface`, joining in the kernel first if no one holds it there. */
  #attach(state: JoinState, iface: NetworkInterface): void {
    if (state.joined.has(iface.name)) return;
    const key = this.#key(state, iface);
    let entry = this.#table.get(key);
    if (entry === undefined) {
      const via = this.#interfaceArgument(iface);
      this.#kernelMembership(state.request, via, true);
      entry = this.#table.add(key, { via });
    } else {
      this.#table.add(key, entry);
    }
    state.joined.set(iface.name, entry);
    for (const source of state.blocked) this.#applyBlock(entry, source, true);
  }

  /**
   * Uncounts `state` on `name`: leaves in the kernel when it was the last
   * join there, else takes back the blocks it added.
   */
  #detach(state: JoinState, name: string): void {
    const entry = state.joined.get(name);
    if (entry === undefined) return;
    state.joined.delete(name);
    const last = this.#table.remove(entry);
    if (last === undefined) {
      for (const source of state.blocked) this.#applyBlock(entry, source, false);
    } else if (this.#leavable(last)) {
      this.#kernelMembership(state.request, last.via, false);
    }
  }

  /**
   * The kernel keeps a socket's membership of an interface that went until
   * it is left. An IPv4 address or an IPv6 index still names that interface;
   * an IPv6 name (portable backend) names whatever has the name now: the
   * interface may be gone (the name means "any") or recreated (another
   * index). Then the membership can't be left, only forgotten.
   */
  #leavable(entry: MembershipEntry): boolean {
    if (entry.via !== `::%${entry.interface}` || entry.index === 0) return true;
    return ipv6Index(entry.interface) === entry.index;
  }

  /**
   * Counts one join more (or less) blocking `source` on `entry`. The kernel
   * holds one filter per membership: it blocks with the first join that
   * asks and unblocks when the last one takes it back.
   */
  #applyBlock(entry: MembershipEntry, source: string, block: boolean): void {
    const holders = entry.blocked.get(source) ?? 0;
    if (block ? holders === 0 : holders === 1) {
      const call = block ? this.socket.blockSource : this.socket.unblockSource;
      try {
        call.call(this.socket, source, entry.group, entry.via);
      } catch (error) {
        throw explainSystemError(error, this.#family, true);
      }
    }
    const next = holders + (block ? 1 : -1);
    if (next > 0) entry.blocked.set(source, next);
    else entry.blocked.delete(source);
  }

  /**
   * The interface argument for core's membership calls, kept with the entry
   * so the leave names the same interface: an IPv4 address; for IPv6
   * `::%index` on the native backend (still right after the interface is
   * gone), `::%name` on the portable one (node:dgram reads no numeric zone).
   */
  #interfaceArgument(iface: NetworkInterface): string {
    if (this.#family === 4) return iface.ipv4[0]!;
    return this.socket.backend === 'native' && iface.index ? `::%${iface.index}` : `::%${iface.name}`;
  }

  #kernelMembership(request: JoinRequest, via: string, join: boolean): void {
    const socket = this.socket;
    try {
      if (request.sourceArgument === undefined) {
        if (join) socket.addMembership(request.group, via);
        else socket.dropMembership(request.group, via);
      } else if (join) {
        socket.addSourceSpecificMembership(request.sourceArgument, request.group, via);
      } else {
        socket.dropSourceSpecificMembership(request.sourceArgument, request.group, via);
      }
    } catch (error) {
      throw explainSystemError(error, request.family, request.source !== undefined);
    }
  }

  #onAdded(iface: NetworkInterface): void {
    if (this.#closed) return;
    for (const state of this.#joins) {
      if (!state.tracking) continue;
      try {
        this.#attach(state, iface);
      } catch (error) {
        // Closed (say, by a listener of this poll's previous event): its
        // 'close' event comes later, the memberships are gone now.
        if ((error as { code?: string }).code === 'ERR_SOCKET_DGRAM_NOT_RUNNING') return this.#forgetAll();
        this.emit('error', error as Error);
      }
    }
    this.emit('interfaceAdded', iface);
  }

  #onRemoved(iface: NetworkInterface): void {
    if (this.#closed) return;
    for (const state of this.#joins) {
      if (!state.tracking) continue;
      try {
        this.#detach(state, iface.name);
      } catch (error) {
        if ((error as { code?: string }).code === 'ERR_SOCKET_DGRAM_NOT_RUNNING') return this.#forgetAll();
        // Otherwise gone with its interface already.
      }
    }
    this.emit('interfaceRemoved', iface);
  }

  #forgetAll(): void {
    this.#closed = true;
    this.#watcher?.stop();
    for (const state of this.#joins) {
      state.left = true;
      state.joined.clear();
    }
    this.#joins.clear();
    this.#table.clear();
  }
}
