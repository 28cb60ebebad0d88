// UDPSocket in the shape of the WICG Direct Sockets API: the constructor
// checks the options (TypeError) and starts opening; `opened` resolves with
// the streams and addresses, or rejects with a NetworkError whose `cause` is
// the core error, as does `closed` then.
import dns from 'node:dns';
import { createSocket, type Socket } from '@udpkit/core';
import { invalidState, networkError, notSupported } from './errors.js';
import type { UDPMessage, WriteChunk } from './message.js';
import { MulticastController } from './multicast-controller.js';
import { planSocket, type SocketPlan, type UDPSocketOptions } from './options.js';
import { SocketStreams } from './socket-streams.js';

export interface UDPSocketOpenInfo {
  readable: ReadableStream<UDPMessage>;
  /** Takes a UDPMessageInit, or an array of them sent together. */
  writable: WritableStream<WriteChunk>;
  localAddress: string;
  localPort: number;
  /** Connected mode only. */
  remoteAddress?: string;
  /** Connected mode only. */
  remotePort?: number;
  /** Bound mode only. */
  multicastController?: MulticastController;
}

export class UDPSocket {
  readonly opened: Promise<UDPSocketOpenInfo>;
  readonly closed: Promise<void>;
  #streams: SocketStreams | undefined;
  #state: 'opening' | 'open' | 'failed' = 'opening';

  constructor(options: UDPSocketOptions) {
    const plan = planSocket(options);
    const socket = makeSocket(plan);
    let settleClosed!: { resolve: (value: Promise<void>) => void; reject: (reason: unknown) => void };
    this.closed = new Promise((resolve, reject) => (settleClosed = { resolve, reject }));
    this.opened = open(socket, plan).then(
      ({ info, streams }) => {
        this.#streams = streams;
        this.#state = 'open';
        settleClosed.resolve(streams.closed);
        return info;
      },
      (error: unknown) => {
        this.#state = 'failed';
        settleClosed.reject(error);
        throw error;
      },
    );
    // A failure is reported through these promises, not as an unhandled rejection.
    this.opened.catch(() => {});
    this.closed.catch(() => {});
  }

  /**
   * Closes the socket: cancels the readable and aborts the writable. Rejects
   * with InvalidStateError while opening or while a stream is locked.
   */
  close(): Promise<void> {
    if (this.#state === 'opening') return Promise.reject(invalidState('Socket is not properly initialized.'));
    if (this.#state === 'failed') return this.closed;
    return this.#streams!.close();
  }
}

function makeSocket(plan: SocketPlan): Socket | undefined {
  // Connected to a host name: the family is known after the lookup.
  if (plan.family === undefined) return undefined;
  return create(plan, plan.family);
}

function create(plan: SocketPlan, family: 4 | 6): Socket {
  try {
    return createSocket({
      type: family === 4 ? 'udp4' : 'udp6',
      reuseAddr: plan.multicastAllowAddressSharing,
      ipv6Only: plan.ipv6Only,
      receiveMetadata: plan.receiveMetadata,
    });
  } catch (error) {
    // receiveMetadata on a backend without it.
    throw notSupported('UDPSocket', error);
  }
}

async function open(prepared: Socket | undefined, plan: SocketPlan): Promise<{ info: UDPSocketOpenInfo; streams: SocketStreams }> {
  let socket = prepared;
  try {
    let remoteIp = plan.remoteAddress;
    if (socket === undefined) {
      const found = await lookup(plan.remoteAddress!, plan.dnsQueryType);
      remoteIp = found.address;
      socket = create(plan, found.family);
    }
    if (plan.mode === 'connected') await connect(socket, plan.remotePort!, remoteIp!);
    else await bind(socket, plan.localPort, plan.localAddress!);
    configure(socket, plan);
  } catch (error) {
    if (socket) closeQuietly(socket);
    throw error instanceof DOMException ? error : networkError('open failed', error);
  }

  const family = plan.family ?? (socket.type === 'udp4' ? 4 : 6);
  const bound = plan.mode === 'bound';
  const multicastController = bound ? new MulticastController(socket) : undefined;
  const streams = new SocketStreams(socket, {
    mode: plan.mode,
    family,
    readable: plan.readable,
    writable: plan.writable,
    receiveMetadata: plan.receiveMetadata !== undefined,
    readableBatches: false,
    onClose: () => multicastController?.onClose(),
  });
  const local = socket.address();
  const info: UDPSocketOpenInfo = {
    readable: streams.readable as ReadableStream<UDPMessage>,
    writable: streams.writable,
    localAddress: local.address,
    localPort: local.port,
  };
  if (bound) {
    info.multicastController = multicastController;
  } else {
    const remote = socket.remoteAddress();
    info.remoteAddress = remote.address;
    info.remotePort = remote.port;
  }
  return { info, streams };
}

function lookup(host: string, queryType: SocketPlan['dnsQueryType']): Promise<{ address: string; family: 4 | 6 }> {
  const family = queryType === 'ipv4' ? 4 : queryType === 'ipv6' ? 6 : 0;
  return new Promise((resolve, reject) => {
    dns.lookup(host, { family }, (error, address, found) => {
      if (error) reject(error);
      else resolve({ address, family: found === 6 ? 6 : 4 });
    });
  });
}

function bind(socket: Socket, port: number, address: string): Promise<void> {
  return untilSettled(socket, (done) => socket.bind(port, address, () => done()));
}

function connect(socket: Socket, port: number, address: string): Promise<void> {
  return untilSettled(socket, (done) => socket.connect(port, address, done));
}

/** Runs `start`; settles with what it reports, or with the socket's 'error' (an implicit bind's). */
function untilSettled(socket: Socket, start: (done: (error?: Error) => void) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (error?: Error) => {
      socket.off('error', done);
      if (error) reject(error);
      else resolve();
    };
    socket.once('error', done);
    start(done);
  });
}

/** The options that apply to an open socket. Their system errors are NetworkErrors. */
function configure(socket: Socket, plan: SocketPlan): void {
  if (plan.receiveBufferSize !== undefined) socket.setRecvBufferSize(plan.receiveBufferSize);
  if (plan.sendBufferSize !== undefined) socket.setSendBufferSize(plan.sendBufferSize);
  if (plan.multicastTimeToLive !== undefined) socket.setMulticastTTL(plan.multicastTimeToLive);
  if (plan.multicastLoopback !== undefined) socket.setMulticastLoopback(plan.multicastLoopback);
}

function closeQuietly(socket: Socket): void {
  try {
    socket.close();
  } catch {
    // not running any more
  }
}
