// Every refusal happens before any system call. These tests run on the
// host, outside a network namespace, so a refusal that came too late must
// not reach the kernel either: the sockets here refuse every call that
// would, and openReceiver/openSender may not create a socket at all.
import { createSocket, type Socket } from '@udpkit/core';
import { MulticastGroups, openReceiver, openSender } from '@udpkit/multicast';
import { afterEach, describe, expect, it, onTestFinished, vi } from 'vitest';

const guard = vi.hoisted(() => ({ socketsAllowed: true }));
vi.mock('@udpkit/core', async (importOriginal) => {
  const core = await importOriginal<typeof import('@udpkit/core')>();
  return {
    ...core,
    createSocket: (...args: Parameters<typeof core.createSocket>) => {
      if (!guard.socketsAllowed) throw new Error('a socket was created before validation finished');
      return core.createSocket(...args);
    },
  };
});

const kernelCalls = [
  'bind',
  'addMembership',
  'dropMembership',
  'addSourceSpecificMembership',
  'dropSourceSpecificMembership',
  'blockSource',
  'unblockSource',
  'setMulticastAll',
  'setMulticastInterface',
  'send',
] as const;

let socket: Socket;
const sockets: Socket[] = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.close();
});

function groups(type: 'udp4' | 'udp6' = 'udp4'): MulticastGroups {
  socket = createSocket(type);
  for (const name of kernelCalls) {
    Object.defineProperty(socket, name, {
      value: () => {
        throw new Error(`${name} was called before validation finished`);
      },
    });
  }
  sockets.push(socket);
  return new MulticastGroups(socket);
}

/** Runs `call`, expects it to throw `message` with `code`, and checks the socket is still unbound. */
function refuses(call: () => unknown, message: string | RegExp, code = 'ERR_INVALID_ARG_VALUE'): void {
  let thrown: unknown;
  try {
    call();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(Error);
  if (typeof message === 'string') expect((thrown as Error).message).toBe(message);
  else expect((thrown as Error).message).toMatch(message);
  expect((thrown as { code: string }).code).toBe(code);
  expect(() => socket.address()).toThrow(); // never bound
}

describe('validation before any system call', () => {
  it('not a multicast address', () => {
    const g = groups();
    refuses(() => g.join('10.0.0.1'), 'group "10.0.0.1" is not a multicast address: groups are in 224.0.0.0/4 (IPv4) or ff00::/8 (IPv6)');
    refuses(() => g.join('eth0'), 'group "eth0" is not a multicast address: groups are in 224.0.0.0/4 (IPv4) or ff00::/8 (IPv6)');
    refuses(() => g.join(42 as unknown as string), 'group 42 is not a multicast address: groups are in 224.0.0.0/4 (IPv4) or ff00::/8 (IPv6)');
  });

  it('SSM group outside 232/8 or ff3x::/32', () => {
    refuses(
      () => groups().join('239.1.1.1', { source: '192.0.2.1' }),
      'group 239.1.1.1 is outside the source-specific (SSM) ranges 232.0.0.0/8 and ff3x::/32 (RFC 4607): join it without a source, or pick a group in those ranges',
    );
    refuses(
      () => groups('udp6').join('ff3e:1::1', { source: 'fd00::1' }),
      'group ff3e:1::1 is outside the source-specific (SSM) ranges 232.0.0.0/8 and ff3x::/32 (RFC 4607): join it without a source, or pick a group in those ranges',
    );
  });

  it('an SSM group without a source', () => {
    refuses(
      () => groups().join('232.1.1.1'),
      "group 232.1.1.1 is in the source-specific (SSM) ranges 232.0.0.0/8 and ff3x::/32: join it with a source, as { source: '192.0.2.10' } (an any-source join of it is refused, RFC 4604 2.2.1)",
    );
    refuses(
      () => groups('udp6').join('ff3e::8000:1', { interfaces: 'lo' }),
      "group ff3e::8000:1 is in the source-specific (SSM) ranges 232.0.0.0/8 and ff3x::/32: join it with a source, as { source: '192.0.2.10' } (an any-source join of it is refused, RFC 4604 2.2.1)",
    );
  });

  it('a link-local or interface-local group without an interface', () => {
    const g = groups('udp6');
    refuses(
      () => g.join('ff02::1:3'),
      "group ff02::1:3 is link-local: name its interface, as ff02::1:3%eth0 or ff02::1:3%2 or with the interfaces option, or pass interfaces: 'all'",
    );
    refuses(
      () => g.join('ff01::1234'),
      "group ff01::1234 is interface-local: name its interface, as ff01::1234%eth0 or ff01::1234%2 or with the interfaces option, or pass interfaces: 'all'",
    );
    refuses(
      () => g.join('ff32::8000:1', { source: 'fd00::1' }),
      "group ff32::8000:1 is link-local: name its interface, as ff32::8000:1%eth0 or ff32::8000:1%2 or with the interfaces option, or pass interfaces: 'all'",
    );
  });

  it('an interface named twice, or none', () => {
    const g = groups('udp6');
    refuses(() => g.join('ff12::1%lo', { interfaces: 'lo' }), 'group ff12::1%lo names its interface already: leave out the interfaces option');
    refuses(() => g.join('ff1e::1', { interfaces: [] }), "interfaces is empty: name at least one interface, or pass 'all'");
  });

  it('an unknown interface', () => {
    const g = groups();
    refuses(
      () => g.join('239.1.1.1', { interfaces: 'no-such-if0' }),
      /^no network interface "no-such-if0" is up with multicast: the interfaces are \S/,
      'ERR_UDPKIT_UNKNOWN_INTERFACE',
    );
  });

  it('an IPv4 group with a zone', () => {
    refuses(
      () => groups().join('239.1.1.1%lo'),
      'group 239.1.1.1%lo: an IPv4 group takes no %zone (zones are for IPv6); name the interface with the interfaces option',
    );
  });

  it('a source that is not unicast', () => {
    const g = groups();
    const message = (s: string) => `source ${s} is not a unicast address: a source is the IP address of the host that sends`;
    refuses(() => g.join('232.1.1.1', { source: '239.1.1.1' }), message('"239.1.1.1"'));
    refuses(() => g.join('232.1.1.1', { source: '0.0.0.0' }), message('"0.0.0.0"'));
    refuses(() => g.join('232.1.1.1', { source: '255.255.255.255' }), message('"255.255.255.255"'));
    refuses(() => g.join('232.1.1.1', { source: 'host.example' }), message('"host.example"'));
  });

  it('mixed families', () => {
    let g = groups();
    refuses(() => g.join('ff3e::1'), 'group ff3e::1 is not an IPv4 address, as the udp4 group and socket are');
    refuses(() => g.join('232.1.1.1', { source: 'fd00::1' }), 'source fd00::1 is not an IPv4 address, as the udp4 group and socket are');
    refuses(() => g.join('239.1.1.1', { interfaces: '::1' }), 'interface address ::1 is not an IPv4 address, as the udp4 group and socket are');
    g = groups('udp6');
    refuses(() => g.join('239.1.1.1'), 'group 239.1.1.1 is not an IPv6 address, as the udp6 group and socket are');
    refuses(() => g.join('ff1e::1', { interfaces: '127.0.0.1' }), 'interface address 127.0.0.1 is not an IPv6 address, as the udp6 group and socket are');
  });

  it('bad option values', () => {
    const g = groups();
    refuses(() => g.join('239.1.1.1', null as unknown as object), 'join options must be an object');
    refuses(() => g.join('239.1.1.1', { interfaces: 0 }), 'interface index 0 is not a positive integer');
    expect(() => new MulticastGroups(socket, { track: true, trackInterval: 0 })).toThrow(
      'trackInterval 0 is not a positive number of milliseconds',
    );
    // A refused MulticastGroups leaves nothing on the socket.
    expect(socket.listenerCount('close')).toBe(1);
  });
});

describe('receiver and sender validate before they open a socket', () => {
  it('refuses what join refuses, and bad ports and TTLs', async () => {
    guard.socketsAllowed = false;
    onTestFinished(() => {
      guard.socketsAllowed = true;
    });
    await expect(openReceiver({ group: '10.1.1.1', port: 5000 })).rejects.toThrow('group "10.1.1.1" is not a multicast address');
    await expect(openReceiver({ group: '239.1.1.1', port: 70000 })).rejects.toThrow('port 70000 is not an integer from 0 to 65535');
    await expect(openReceiver({ group: '239.1.1.1', port: 5000, track: true, trackInterval: -1 })).rejects.toThrow(
      'trackInterval -1 is not a positive number of milliseconds',
    );
    await expect(openReceiver({ group: 'ff12::1', port: 5000 })).rejects.toThrow('group ff12::1 is link-local: name its interface');
    // Tracking follows joins on all interfaces: with named ones it would report interfaces it never joins.
    await expect(openReceiver({ group: '239.1.1.1', port: 5000, interfaces: 'no-such-if0', track: true })).rejects.toThrow(
      "track: true follows a join on all interfaces: leave out interfaces (or pass 'all'), or leave out track",
    );
    await expect(openReceiver({ group: 'ff12::1%no-such-if0', port: 5000, track: true })).rejects.toThrow(
      "track: true follows a join on all interfaces: leave out interfaces (or pass 'all'), or leave out track",
    );
    await expect(openReceiver({ group: '239.1.1.1', port: 5000, interfaces: 'no-such-if0' })).rejects.toMatchObject({
      code: 'ERR_UDPKIT_UNKNOWN_INTERFACE',
    });
    await expect(openReceiver({ group: 'ff12::1', port: 5000, interfaces: 'all', backend: 'portable' })).rejects.toThrow(
      'the portable backend receives ff12::1 by binding to it, which a link-local group allows on one interface only: name exactly one',
    );
    await expect(openSender({ group: 'ff02::1', port: 5000 })).rejects.toThrow('group ff02::1 is link-local: name its interface');
    await expect(openSender({ group: '239.1.1.1', port: 0 })).rejects.toThrow('port 0 is not an integer from 1 to 65535');
    await expect(openSender({ group: '239.1.1.1', port: 5000, ttl: 256 })).rejects.toThrow('ttl 256 is not an integer from 0 to 255');
    await expect(openReceiver({ group: '239.1.1.1', port: '5000' as unknown as number })).rejects.toThrow(
      'port "5000" is not an integer from 0 to 65535',
    );
    await expect(openSender({ group: '239.1.1.1', port: 5000, ttl: '1' as unknown as number })).rejects.toThrow(
      'ttl "1" is not an integer from 0 to 255',
    );
    await expect(openSender({ group: '239.1.1.1', port: 5000, loopback: 'no' as unknown as boolean })).rejects.toThrow(
      'loopback "no" is not a boolean',
    );
    await expect(openSender({ group: '239.1.1.1', port: 5000, source: '239.1.1.2' })).rejects.toThrow(
      'source "239.1.1.2" is not a unicast address',
    );
    await expect(openSender({ group: '239.1.1.1', port: 5000, source: '::1' })).rejects.toThrow(
      'source ::1 is not an IPv4 address, as the udp4 group and socket are',
    );
    await expect(openSender({ group: 'ff12::1%lo', port: 5000, interface: 'lo' })).rejects.toThrow(
      'group ff12::1%lo names its interface already: leave out the interface option',
    );
  });
});
