// The errors this package throws: each says what is wrong and what to do.
// Bad arguments are TypeErrors with Node's ERR_INVALID_ARG_VALUE code; an
// interface that does not exist has its own code, since it may appear later.

export interface MulticastError extends Error {
  code: string;
}

function withCode<E extends Error>(error: E, code: string): E & MulticastError {
  return Object.assign(error, { code });
}

/** A value as an error message shows it: strings quoted, so `'5000'` is not mistaken for `5000`. */
function shown(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

export const errors = {
  invalid: (message: string) => withCode(new TypeError(message), 'ERR_INVALID_ARG_VALUE'),

  notInteger: (name: string, value: unknown, min: number, max: number) =>
    errors.invalid(`${name} ${shown(value)} is not an integer from ${min} to ${max}`),

  notBoolean: (name: string, value: unknown) => errors.invalid(`${name} ${shown(value)} is not a boolean`),

  ipv4Zone: (group: string) =>
    errors.invalid(`group ${group}: an IPv4 group takes no %zone (zones are for IPv6); name the interface with the interfaces option`),

  notMulticast: (name: string, value: unknown) =>
    errors.invalid(
      `${name} ${JSON.stringify(value)} is not a multicast address: groups are in 224.0.0.0/4 (IPv4) or ff00::/8 (IPv6)`,
    ),

  notSourceSpecific: (group: string) =>
    errors.invalid(
      `group ${group} is outside the source-specific (SSM) ranges 232.0.0.0/8 and ff3x::/32 (RFC 4607): ` +
        'join it without a source, or pick a group in those ranges',
    ),

  anySourceOfSourceSpecific: (group: string) =>
    errors.invalid(
      `group ${group} is in the source-specific (SSM) ranges 232.0.0.0/8 and ff3x::/32: join it with a source, ` +
        "as { source: '192.0.2.10' } (an any-source join of it is refused, RFC 4604 2.2.1)",
    ),

  needsInterface: (group: string, scope: number) =>
    errors.invalid(
      `group ${group} is ${scope === 1 ? 'interface-local' : 'link-local'}: ` +
        `name its interface, as ${group}%eth0 or ${group}%2 or with the interfaces option, or pass interfaces: 'all'`,
    ),

  notUnicastSource: (source: unknown) =>
    errors.invalid(
      `source ${JSON.stringify(source)} is not a unicast address: a source is the IP address of the host that sends`,
    ),

  mixedFamilies: (what: string, value: string, expected: 4 | 6) =>
    errors.invalid(`${what} ${value} is not an IPv${expected} address, as the ${expected === 4 ? 'udp4' : 'udp6'} group and socket are`),

  unknownInterface: (spec: string | number, known: readonly string[]) =>
    withCode(
      new Error(
        `no network interface ${typeof spec === 'number' ? `with index ${spec}` : JSON.stringify(spec)}` +
          ` is up with multicast: the interfaces are ${known.length ? known.join(', ') : '(none)'}`,
      ),
      'ERR_UDPKIT_UNKNOWN_INTERFACE',
    ),

  noInterfaces: (family: 4 | 6, known: readonly string[]) =>
    withCode(
      new Error(
        `no network interface is up with multicast and an IPv${family} address (the interfaces are ${known.length ? known.join(', ') : '(none)'}): ` +
          'bring one up, or pass track: true to join when one appears',
      ),
      'ERR_UDPKIT_UNKNOWN_INTERFACE',
    ),

  noAddressOnInterface: (name: string) =>
    errors.invalid(`interface ${name} has no IPv4 address: IPv4 joins name an interface by one of its addresses; add one`),

  notAnySource: (group: string) =>
    errors.invalid(`group ${group} was joined source-specifically: blocking a source applies to any-source joins`),
};

/**
 * An `ENOBUFS` from a join, explained: the kernel's limit of memberships
 * per socket (IPv4), or of sources per group. Other errors pass unchanged.
 */
export function explainSystemError(error: unknown, family: 4 | 6, withSource: boolean): unknown {
  if ((error as { code?: unknown } | null)?.code !== 'ENOBUFS') return error;
  const system = error as Error & { errno?: number; syscall?: string };
  let limit: string;
  if (family === 6) {
    limit = 'the kernel limits the sources of an IPv6 group per socket to net.ipv6.mld_max_msf (64 by default)';
  } else {
    limit =
      'the kernel limits an IPv4 socket to net.ipv4.igmp_max_memberships memberships (20 by default; each interface joined counts one)';
    if (withSource) limit += ' and the sources of a group to net.ipv4.igmp_max_msf (10 by default)';
  }
  const explained = new Error(
    `${system.message}: ${limit}. Raise the limit with sysctl -w (per network namespace), or spread the groups over more sockets`,
    { cause: error },
  );
  return Object.assign(explained, { code: 'ENOBUFS', errno: system.errno, syscall: system.syscall });
}
