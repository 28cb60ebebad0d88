// A socket that sends to one multicast group with safe defaults: TTL 1 (the
// datagrams stay on the link), loopback on (receivers on this host get
// them), and the outgoing interface by name, index or address.
import { createSocket, type BackendName, type SendCallback, type Socket } from '@udpkit/core';
import { multicastScope, needsInterface } from './address.js';
import { closer } from './closer.js';
import { errors } from './errors.js';
import { interfaceAddress, type InterfaceSpec } from './interfaces.js';
import { validateGroup, validateSource } from './validate.js';

export interface SenderOptions {
  /** `'239.1.2.3'`, `'ff3e::8000:1'`, or `'ff12::1%eth0'` (the zone names the interface). */
  group: string;
  port: number;
  /** The outgoing interface: name, index or address. Default: the kernel's route for the group. */
  interface?: InterfaceSpec | undefined;
  /** Hops the datagrams may travel; default 1 (this link only). */
  ttl?: number | undefined;
  /** The local address to send from (the source SSM receivers select); default: the kernel picks. */
  source?: string | undefined;
  /** Deliver to receivers on this host too; default true. */
  loopback?: boolean | undefined;
  backend?: BackendName | undefined;
}

export class Sender {
  readonly socket: Socket;
  readonly group: string;
  readonly port: number;
  readonly #close: () => Promise<void>;

  /** @internal use `openSender()` */
  constructor(socket: Socket, group: string, port: number) {
    this.socket = socket;
    this.group = group;
    this.port = port;
    this.#close = closer(socket);
  }

  /** Sends one datagram to the group; `callback(err, bytes)` as for `socket.send`. */
  send(data: string | NodeJS.ArrayBufferView | readonly (string | NodeJS.ArrayBufferView)[], callback?: SendCallback): void {
    this.socket.send(data, this.port, this.group, callback);
  }

  /** Resolves when the socket is closed, also when called again. */
  close(): Promise<void> {
    return this.#close();
  }
}

/** Opens a bound socket configured to send to `group`. Validates everything first. */
export async function openSender(options: SenderOptions): Promise<Sender> {
  if (options === null || typeof options !== 'object') throw errors.invalid('openSender needs an options object');
  const { port, ttl = 1, loopback = true } = options;
  const { family, group, zone } = validateGroup(options.group);
  if (!Number.isInteger(port) || port <= 0 || port > 0xffff) throw errors.notInteger('port', port, 1, 0xffff);
  if (!Number.isInteger(ttl) || ttl < 0 || ttl > 255) throw errors.notInteger('ttl', ttl, 0, 255);
  if (typeof loopback !== 'boolean') throw errors.notBoolean('loopback', loopback);
  if (zone !== undefined && options.interface !== undefined) {
    throw errors.invalid(`group ${options.group} names its interface already: leave out the interface option`);
  }
  const { source } = options;
  if (source !== undefined) validateSource(source, family);
  const spec = zone ?? options.interface;
  if (spec === undefined && needsInterface(group)) throw errors.needsInterface(group, multicastScope(group)!);
  const outgoing = spec === undefined ? undefined : interfaceAddress(spec, family);

  const socket = createSocket({ type: family === 4 ? 'udp4' : 'udp6', backend: options.backend });
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, source, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    socket.setMulticastTTL(ttl);
    socket.setMulticastLoopback(loopback);
    if (outgoing !== undefined) socket.setMulticastInterface(outgoing);
  } catch (error) {
    socket.close();
    throw error;
  }
  return new Sender(socket, group, port);
}
