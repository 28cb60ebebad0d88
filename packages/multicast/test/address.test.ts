import {
  assertSourceSpecificGroup,
  isMulticastAddress,
  isSourceSpecificGroup,
  isUnicastAddress,
  multicastScope,
  needsInterface,
  parseAddress,
} from '@udpkit/multicast';
import { describe, expect, it } from 'vitest';

describe('multicast address rules', () => {
  it('recognises IPv4 and IPv6 multicast addresses', () => {
    expect(['224.0.0.1', '239.1.2.3', '232.0.0.9', 'ff02::1', 'FF3E::8000:1', 'ff12::1%eth0', '239.255.255.255'].map(isMulticastAddress)).toEqual([
      true, true, true, true, true, true, true,
    ]);
    expect(
      ['223.255.255.255', '240.0.0.1', '127.0.0.1', '::1', 'fe80::1', 'localhost', '', 'ff2::1', '::ffff:239.1.1.1', '239.1.1.1%eth0'].map(
        isMulticastAddress,
      ),
    ).toEqual([false, false, false, false, false, false, false, false, false, false]);
  });

  it('knows the source-specific ranges of RFC 4607: 232/8 and ff3x::/32', () => {
    expect(['232.0.0.0', '232.255.255.255', 'ff3e::1234', 'ff31::1', 'FF32:0000::8000:1', 'ff3e::ffff:ffff', 'ff35:0::1%eth0'].map(isSourceSpecificGroup)).toEqual([
      true, true, true, true, true, true, true,
    ]);
    // ff3e:1::1 is outside ff3e::/32 (the second 16 bits are not zero);
    // scopes 0 and f are reserved (RFC 4291); ff3x with a prefix is RFC 3306 ASM.
    expect(
      ['231.255.255.255', '233.0.0.0', '239.1.1.1', 'ff02::1', 'ff3e:1::1', 'ff30::1', 'ff3f::1', 'ff3e:30:2001:db8::1', 'ff1e::1', 'ff7e::1', '10.0.0.1', 'nope'].map(
        isSourceSpecificGroup,
      ),
    ).toEqual([false, false, false, false, false, false, false, false, false, false, false, false]);
  });

  it('reads the scope of an IPv6 group', () => {
    expect(['ff01::1', 'ff02::1', 'ff12::1', 'ff32::1', 'ff05::2', 'ff3e::1', '239.1.1.1', 'fe80::1'].map(multicastScope)).toEqual([
      1, 2, 2, 2, 5, 14, undefined, undefined,
    ]);
    expect(['ff01::1', 'ff12::1', 'ff32::8000:1', 'ff05::1', 'ff3e::1', '224.0.0.1'].map(needsInterface)).toEqual([
      true, true, true, false, false, false,
    ]);
  });

  it('tells unicast sources apart', () => {
    expect(['127.0.0.1', '192.0.2.1', 'fd00::1', 'fe80::1%eth0', '::1'].map(isUnicastAddress)).toEqual([true, true, true, true, true]);
    expect(['0.0.0.0', '255.255.255.255', '239.1.1.1', '::', 'ff02::1', 'host.example', ''].map(isUnicastAddress)).toEqual([
      false, false, false, false, false, false, false,
    ]);
  });

  it('parses an address with its zone into canonical form', () => {
    expect(parseAddress('FF12:0:0::1%eth0')).toEqual({ family: 6, address: 'ff12::1', zone: 'eth0' });
    expect(parseAddress('ff12::1%3')).toEqual({ family: 6, address: 'ff12::1', zone: '3' });
    expect(parseAddress('239.1.2.3')).toEqual({ family: 4, address: '239.1.2.3', zone: undefined });
    expect(parseAddress('ff12::1%')).toBeUndefined();
    expect(parseAddress('239.1.2.3%eth0')).toBeUndefined();
    expect(parseAddress('239.1.2')).toBeUndefined();
  });

  it('explains why a group is refused for SSM', () => {
    expect(() => assertSourceSpecificGroup('10.0.0.1')).toThrow(
      'group "10.0.0.1" is not a multicast address: groups are in 224.0.0.0/4 (IPv4) or ff00::/8 (IPv6)',
    );
    expect(() => assertSourceSpecificGroup('ff3e:1::1')).toThrow(
      'group ff3e:1::1 is outside the source-specific (SSM) ranges 232.0.0.0/8 and ff3x::/32 (RFC 4607): join it without a source, or pick a group in those ranges',
    );
    expect(() => assertSourceSpecificGroup('232.1.1.1')).not.toThrow();
  });
});
