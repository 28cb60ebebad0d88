// Follows the machine's multicast-capable interfaces by polling: an
// interface is present while it is up, multicast-capable and has an address
// of the family. Polling (not a netlink socket) because core has no
// AF_NETLINK socket and this package adds no native code: a poll costs one
// getifaddrs(3), three small /proc/net reads and one sysfs read per
// interface. The timer is unref'd: it never keeps the process alive.
import { EventEmitter } from 'node:events';
import type { Family } from './address.js';
import { multicastInterfaces, servesFamily, type NetworkInterface } from './interfaces.js';

export interface InterfaceWatcherEvents {
  added: [iface: NetworkInterface];
  removed: [iface: NetworkInterface];
  /** A look at the interfaces failed (say, EMFILE): the next poll tries again. */
  error: [error: Error];
}

/** The same interface while its name and index stay: one recreated under the same name is another. */
function identity(iface: NetworkInterface): string {
  return `${iface.name}#${iface.index}`;
}

export class InterfaceWatcher extends EventEmitter<InterfaceWatcherEvents> {
  readonly #family: Family;
  readonly #list: () => NetworkInterface[];
  #known = new Map<string, NetworkInterface>();
  #timer: NodeJS.Timeout | undefined;

  constructor(family: Family, list: () => NetworkInterface[] = multicastInterfaces) {
    super();
    this.#family = family;
    this.#list = list;
    this.#known = this.#snapshot();
  }

  /** The interfaces present at the last poll. */
  current(): NetworkInterface[] {
    return [...this.#known.values()];
  }

  /** Polls every `intervalMs` until `stop()`. */
  start(intervalMs: number): void {
    this.stop();
    this.#timer = setInterval(() => this.poll(), intervalMs).unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Compares with the last poll: `removed` for each interface gone, then `added` for each new one. */
  poll(): void {
    let now: Map<string, NetworkInterface>;
    try {
      now = this.#snapshot();
    } catch (error) {
      // From the timer, a throw would end the process.
      this.emit('error', error as Error);
      return;
    }
    const before = this.#known;
    this.#known = now;
    for (const [id, iface] of before) if (!now.has(id)) this.emit('removed', iface);
    for (const [id, iface] of now) if (!before.has(id)) this.emit('added', iface);
  }

  #snapshot(): Map<string, NetworkInterface> {
    const present = this.#list().filter((iface) => servesFamily(iface, this.#family));
    return new Map(present.map((iface) => [identity(iface), iface]));
  }
}
