// Checks a join request before any system call and puts it in the form the
// kernel calls need. Every refusal says what is wrong and what to do.
import {
  isMulticastAddress,
  isSourceSpecificGroup,
  isUnicastAddress,
  multicastScope,
  needsInterface,
  parseAddress,
  type Family,
  type ParsedAddress,
} from './address.js';
import { errors } from './errors.js';
import type { InterfaceSpec } from './interfaces.js';

/** Where to join: `'all'` multicast-capable interfaces, or the ones named. */
export type Interfaces = 'all' | InterfaceSpec | readonly InterfaceSpec[];

export interface JoinOptions {
  /** Join source-specifically (SSM, RFC 4607): receive only what this host sends to the group. */
  source?: string | undefined;
  /** Interfaces by name, index or address, or `'all'` (the default, except for link- and interface-local groups). */
  interfaces?: Interfaces | undefined;
}

export interface JoinRequest {
  family: Family;
  /** Canonical group, without zone. */
  group: string;
  /** Canonical source, without zone. */
  source: string | undefined;
  /** The source as given (an IPv6 link-local source keeps its `%zone`). */
  sourceArgument: string | undefined;
  interfaces: 'all' | InterfaceSpec[];
}

/** The group's family and canonical form; throws unless it is a multicast address. */
export function validateGroup(group: unknown, family?: Family): { family: Family; group: string; zone: string | undefined } {
  if (typeof group !== 'string' || !isMulticastAddress(group)) {
    if (typeof group === 'string' && group.includes('%') && isMulticastAddress(group.slice(0, group.indexOf('%')))) {
      throw errors.ipv4Zone(group);
    }
    throw errors.notMulticast('group', group);
  }
  const parsed = parseAddress(group)!;
  if (family !== undefined && parsed.family !== family) throw errors.mixedFamilies('group', group, family);
  return { family: parsed.family, group: parsed.address, zone: parsed.zone };
}

/** A source (of an SSM join, a block, a sender): throws unless it is a unicast address of `family`. */
export function validateSource(source: unknown, family: Family): ParsedAddress {
  if (typeof source !== 'string' || !isUnicastAddress(source)) throw errors.notUnicastSource(source);
  const parsed = parseAddress(source)!;
  if (parsed.family !== family) throw errors.mixedFamilies('source', source, family);
  return parsed;
}

export function validateJoin(groupText: unknown, options: JoinOptions, socketFamily: Family): JoinRequest {
  if (options === null || typeof options !== 'object') throw errors.invalid('join options must be an object');
  const { family, group, zone } = validateGroup(groupText, socketFamily);

  let source: string | undefined;
  const sourceArgument = options.source;
  if (sourceArgument !== undefined) {
    source = validateSource(sourceArgument, family).address;
    if (!isSourceSpecificGroup(group)) throw errors.notSourceSpecific(group);
  } else if (isSourceSpecificGroup(group)) {
    throw errors.anySourceOfSourceSpecific(group);
  }

  let interfaces: 'all' | InterfaceSpec[];
  const given = options.interfaces;
  if (zone !== undefined) {
    if (given !== undefined) throw errors.invalid(`group ${groupText as string} names its interface already: leave out the interfaces option`);
    interfaces = [zone];
  } else if (given === undefined) {
    if (needsInterface(group)) throw errors.needsInterface(group, multicastScope(group)!);
    interfaces = 'all';
  } else if (given === 'all') {
    interfaces = 'all';
  } else {
    interfaces = Array.isArray(given) ? [...(given as InterfaceSpec[])] : [given as InterfaceSpec];
    if (interfaces.length === 0) throw errors.invalid("interfaces is empty: name at least one interface, or pass 'all'");
  }
  return { family, group, source, sourceArgument, interfaces };
}

/** Throws a TypeError that says what is wrong when `group` can't be joined source-specifically. */
export function assertSourceSpecificGroup(group: string): void {
  if (!isMulticastAddress(group)) throw errors.notMulticast('group', group);
  if (!isSourceSpecificGroup(group)) throw errors.notSourceSpecific(group);
}

/** How often tracking looks, in milliseconds: a positive integer; default 2000. */
export function validateTrackInterval(interval: unknown = 2000): number {
  if (!Number.isInteger(interval) || (interval as number) <= 0) {
    throw errors.invalid(`trackInterval ${String(interval)} is not a positive number of milliseconds`);
  }
  return interval as number;
}
