import { resolveInterface, type NetworkInterface } from '@udpkit/multicast';
import { describe, expect, it } from 'vitest';

const lo: NetworkInterface = { name: 'lo', index: 1, ipv4: ['127.0.0.1'], ipv6: ['::1'] };
const eth0: NetworkInterface = { name: 'eth0', index: 2, ipv4: ['192.0.2.1', '192.0.2.7'], ipv6: ['fe80::1', 'fd00::1'] };
const v6only: NetworkInterface = { name: 'v6only', index: 3, ipv4: [], ipv6: ['fe80::3'] };
const named7: NetworkInterface = { name: '7', index: 4, ipv4: ['198.51.100.1'], ipv6: [] };
const all = [lo, eth0, v6only, named7];

describe('resolveInterface', () => {
  it('finds an interface by name, index, address and zone', () => {
    expect(resolveInterface('eth0', 4, all).name).toBe('eth0');
    expect(resolveInterface(2, 6, all).name).toBe('eth0');
    expect(resolveInterface('2', 6, all).name).toBe('eth0');
    expect(resolveInterface('fd00::1', 6, all).name).toBe('eth0');
    expect(resolveInterface('FE80:0::1', 6, all).name).toBe('eth0');
    expect(resolveInterface('::%eth0', 6, all).name).toBe('eth0');
    expect(resolveInterface('::%2', 6, all).name).toBe('eth0');
    expect(resolveInterface('fe80::3%v6only', 6, all).name).toBe('v6only');
  });

  it('prefers a name to an index written the same way', () => {
    expect(resolveInterface('7', 4, all).name).toBe('7');
    expect(resolveInterface(4, 4, all).name).toBe('7');
  });

  it('joins IPv4 by the address given, else the first', () => {
    expect(resolveInterface('192.0.2.7', 4, all).ipv4[0]).toBe('192.0.2.7');
    expect(resolveInterface('eth0', 4, all).ipv4[0]).toBe('192.0.2.1');
  });

  it('says what is wrong', () => {
    const known = 'the interfaces are lo (1), eth0 (2), v6only (3), 7 (4)';
    expect(() => resolveInterface('eth9', 4, all)).toThrow(`no network interface "eth9" is up with multicast: ${known}`);
    expect(() => resolveInterface(9, 4, all)).toThrow(`no network interface with index 9 is up with multicast: ${known}`);
    expect(() => resolveInterface('::%9', 6, all)).toThrow(`no network interface "::%9" is up with multicast: ${known}`);
    expect(() => resolveInterface('192.0.2.99', 4, all)).toThrow('no network interface "192.0.2.99"');
    expect(() => resolveInterface('v6only', 4, all)).toThrow(
      'interface v6only has no IPv4 address: IPv4 joins name an interface by one of its addresses; add one',
    );
    expect(() => resolveInterface('fd00::1', 4, all)).toThrow('interface address fd00::1 is not an IPv4 address, as the udp4 group and socket are');
    expect(() => resolveInterface(0, 4, all)).toThrow('interface index 0 is not a positive integer');
    expect(() => resolveInterface(1.5, 4, all)).toThrow('interface index 1.5 is not a positive integer');
    expect(() => resolveInterface('', 4, all)).toThrow('interface "" is neither a name, an index nor an address');
    expect(() => resolveInterface(null as unknown as string, 4, all)).toThrow('interface null is neither a name, an index nor an address');
    try {
      resolveInterface('eth9', 4, all);
    } catch (error) {
      expect((error as { code: string }).code).toBe('ERR_UDPKIT_UNKNOWN_INTERFACE');
    }
  });
});
