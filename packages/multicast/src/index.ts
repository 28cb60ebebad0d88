// @udpkit/multicast: group, source-specific and interface management for
// @udpkit/core sockets.
import { isMulticastAddress, isSourceSpecificGroup } from './address.js';
import { errors } from './errors.js';

export {
  isMulticastAddress,
  isSourceSpecificGroup,
  isUnicastAddress,
  multicastScope,
  needsInterface,
  parseAddress,
  type Family,
  type ParsedAddress,
} from './address.js';
export type { MulticastError } from './errors.js';
export { InterfaceWatcher, type InterfaceWatcherEvents } from './interface-watcher.js';
export {
  interfaceAddress,
  multicastInterfaces,
  resolveInterface,
  type InterfaceSpec,
  type NetworkInterface,
} from './interfaces.js';
export { Membership, MulticastGroups, type GroupsEvents, type GroupsOptions, type MembershipInfo } from './groups.js';
export { openReceiver, Receiver, type Isolation, type MulticastRemoteInfo, type ReceiverEvents, type ReceiverOptions } from './receiver.js';
export { openSender, Sender, type SenderOptions } from './sender.js';
export type { Interfaces, JoinOptions } from './validate.js';

/** Throws a TypeError that says what is wrong when `group` can't be joined source-specifically. */
export function assertSourceSpecificGroup(group: string): void {
  if (!isMulticastAddress(group)) throw errors.notMulticast('group', group);
  if (!isSourceSpecificGroup(group)) throw errors.notSourceSpecific(group);
}
