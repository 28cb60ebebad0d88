// @udpkit/multicast: group, source-specific and interface management for
// @udpkit/core sockets.
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
export { assertSourceSpecificGroup, type Interfaces, type JoinOptions } from './validate.js';
