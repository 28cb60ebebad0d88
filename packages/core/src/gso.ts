// Segmentation offload on send (GSO, `UDP_SEGMENT`): what a socket reports
// about it. The native helper groups runs of same-destination, same-size
// datagrams into one UDP_SEGMENT send (native/BINDING.md); this file turns
// its state into what `socket.features.gso` shows, reason included.
import { systemError } from './errors.js';

/**
 * - `'on'`: runs of datagrams go as UDP_SEGMENT sends.
 * - `'pending'`: not known yet; probed once the socket has a descriptor (bind, first send).
 * - `'off'`: turned off with `createSocket({ gso: false })`.
 * - `'unsupported'`: the backend or the kernel can't (see `reason`).
 * - `'fallback'`: a UDP_SEGMENT send failed with EIO or EINVAL; the socket sends one by one since.
 */
export type GsoState = 'on' | 'pending' | 'off' | 'unsupported' | 'fallback';

export interface GsoStatus {
  /** Whether sends are segmented by the kernel now (`state === 'on'`). */
  readonly active: boolean;
  readonly state: GsoState;
  /** Why GSO is not on, or why segments are limited (`maxSegmentSize`); undefined otherwise. */
  readonly reason: string | undefined;
  /** The errno behind `reason` (`'EIO'`, `'EINVAL'`, `'ENOPROTOOPT'`), if any. */
  readonly code: string | undefined;
  /** The largest datagram grouped; lowered when the kernel refused larger segments (EINVAL). */
  readonly maxSegmentSize: number;
}

/** The helper's gsoStatus() (GSO_* states of udpkit.c, in order). */
export interface NativeGsoStatus {
  state: number;
  errno: number;
  /** Which of IP_RECVERR (1) and IPV6_RECVERR (2) the probe found on. */
  recverr: number;
  maxSize: number;
  sends: number;
  segments: number;
}

const states: GsoState[] = ['pending', 'on', 'off', 'unsupported', 'fallback', 'unsupported'];
const GSO_RECVERR = 5;
const recverrNames = ['', 'IP_RECVERR', 'IPV6_RECVERR', 'IP_RECVERR and IPV6_RECVERR'];

export function nativeGsoStatus(native: NativeGsoStatus): GsoStatus {
  const state = states[native.state] ?? 'unsupported';
  const [code, message] = native.errno ? systemError(native.errno) : [undefined, undefined];
  let reason: string | undefined;
  if (state === 'off') reason = 'turned off by the gso: false option';
  else if (native.state === GSO_RECVERR) {
    reason = `the descriptor has ${recverrNames[native.recverr]} set, and the kernel reports no ENOBUFS per datagram for a UDP_SEGMENT send`;
  } else if (state === 'unsupported') reason = `the kernel refused UDP_SEGMENT (${code}: ${message})`;
  else if (state === 'fallback') reason = `a UDP_SEGMENT send failed with ${code} (${message}); datagrams are sent one by one`;
  else if (code) {
    reason =
      `a UDP_SEGMENT send of ${native.maxSize + 1}-byte segments failed with ${code} (${message}), ` +
      'likely over the route MTU; larger datagrams are sent one by one';
  }
  return { active: state === 'on', state, reason, code, maxSegmentSize: native.maxSize };
}

export const portableGsoStatus: GsoStatus = Object.freeze({
  active: false,
  state: 'unsupported',
  reason: 'the portable backend sends through node:dgram, which cannot set UDP_SEGMENT',
  code: undefined,
  maxSegmentSize: 0,
});
