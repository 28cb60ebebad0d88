// Where Node's lines (22, 24, 26) differ in what node:dgram does, udpkit
// does what the running Node's does. Each difference is one fact here:
// asked of node:dgram itself where it can say, else the release that
// changed it, per line (from each line's changelog).
import dgram from 'node:dgram';

const running = process.versions.node.split('.').map(Number) as [number, number, number];

/**
 * True when the running Node has a change that landed in `releases`, one per
 * line it reached (e.g. '24.19.0', '26.4.0'): at or past that release of its
 * own line, or on a later line than all of them.
 */
export function nodeHas(...releases: string[]): boolean {
  const [major] = running;
  const first = releases.map((release) => release.split('.').map(Number) as [number, number, number]);
  const own = first.find(([line]) => line === major);
  if (own) return compare(running, own) >= 0;
  return first.every(([line]) => line < major);
}

function compare(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

export const nodeLine = {
  /** `createSocket({ reusePort })` (22.12, 23.1). */
  reusePort: nodeHas('22.12.0', '23.1.0'),
  /** The default lookup skips IP literals and reads `dns.lookup` at each call (24.19, 26.5); before, it was read once per socket and called for every address. */
  lookupAtCallTime: nodeHas('24.19.0', '26.5.0'),
  /** `bind(cb)` watches `errorMonitor` instead of listening to `'error'`, so a bind error is no longer swallowed (24.21, 26.8). */
  bindErrorsReachErrorMonitor: nodeHas('24.21.0', '26.8.0'),
  /** The DEP0112 members (`_handle`, `_bindState`, …) and `dgram._createSocketHandle`: gone in Node 25. */
  legacyMembers: Object.getOwnPropertyDescriptor(dgram.Socket.prototype, '_bindState') !== undefined,
  createSocketHandle: typeof (dgram as { _createSocketHandle?: unknown })._createSocketHandle === 'function',
  /**
   * `addMembership`/`dropMembership` with a group whose conversion to a
   * string throws (a Symbol, a throwing toString) and an interface that is
   * not a string: Node 20's C++ throws the conversion's error, later lines
   * read the group as empty (EINVAL). Asked of node:dgram on first use.
   */
  get membershipIgnoresGroupConversionError(): boolean {
    return (membershipAnswer ??= askMembership());
  },
};

let membershipAnswer: boolean | undefined;

/** An unbound socket's addMembership(Symbol): EINVAL without binding, or the conversion's TypeError. */
function askMembership(): boolean {
  const socket = dgram.createSocket('udp4');
  try {
    socket.addMembership(Symbol('group') as never);
    return true;
  } catch (error) {
    return !(error instanceof TypeError);
  } finally {
    socket.close();
  }
}
