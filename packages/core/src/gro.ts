// Receive offload (GRO, `UDP_GRO`): what a socket reports about it. The
// native helper asks for UDP_GRO when the descriptor is made (BINDING.md);
// this file turns that into what `socket.features.gro` shows, reason included.
import { errnoException } from './errors.js';

/**
 * - `'on'`: the kernel may hand over coalesced reads.
 * - `'pending'`: asked for; applied once the socket has a descriptor (bind, first send).
 * - `'off'`: not asked for (`createSocket({ gro: true })` asks), or the socket is closed.
 * - `'unsupported'`: the backend or the kernel can't (see `reason`).
 */
export type GroState = 'on' | 'pending' | 'off' | 'unsupported';

export interface GroStatus {
  /** Whether reads may be coalesced now (`state === 'on'`). */
  readonly active: boolean;
  readonly state: GroState;
  /** Why GRO is not on; undefined when it is. */
  readonly reason: string | undefined;
}

/**
 * The datagrams a read of `length` bytes holds: one, or with GRO the
 * segments of `segmentSize` bytes it coalesced, the last one shorter if it
 * is (as the helper's datagrams_in counts them).
 */
export function datagramsInRead(length: number, segmentSize: number): number {
  return segmentSize > 0 && length > segmentSize ? Math.ceil(length / segmentSize) : 1;
}

/**
 * `kernelState` is the helper's groState(): 1 on, 0 not yet, a negative
 * errno when the kernel refused it.
 */
export function groStatus(requested: boolean, open: boolean, backendHasGro: boolean, kernelState: () => number): GroStatus {
  const status = (state: GroState, reason?: string): GroStatus => ({ active: state === 'on', state, reason });
  if (!backendHasGro) return status('unsupported', 'the portable backend reads through node:dgram, which cannot set UDP_GRO');
  if (!requested) return status('off', 'not requested (createSocket option gro)');
  if (!open) return status('off', 'closed');
  const state = kernelState();
  if (state === 1) return status('on');
  if (state < 0) return status('unsupported', `the kernel refused UDP_GRO: ${errnoException(state, 'setsockopt').message}`);
  return status('pending', 'not bound yet');
}
