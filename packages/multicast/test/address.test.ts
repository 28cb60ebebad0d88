import { assertSourceSpecificGroup, isMulticastAddress, isSourceSpecificGroup } from '@udpkit/multicast';
import { describe, expect, it } from 'vitest';

describe('multicast address rules', () => {
  it('recognises IPv4 and IPv6 multicast addresses', () => {
    expect(['224.0.0.1', '239.1.2.3', '232.0.0.9', 'ff02::1', 'FF3E::8000:1'].map(isMulticastAddress)).toEqual([
      true, true, true, true, true,
    ]);
    expect(['223.255.255.255', '240.0.0.1', '127.0.0.1', '::1', 'fe80::1', 'localhost', ''].map(isMulticastAddress)).toEqual([
      false, false, false, false, false, false, false,
    ]);
  });

  it('knows the source-specific ranges', () => {
    expect(isSourceSpecificGroup('232.1.1.1')).toBe(true);
    expect(isSourceSpecificGroup('ff3e::1234')).toBe(true);
    expect(isSourceSpecificGroup('239.1.1.1')).toBe(false);
    expect(isSourceSpecificGroup('ff02::1')).toBe(false);
  });

  it('explains why a group is refused', () => {
    expect(() => assertSourceSpecificGroup('10.0.0.1')).toThrow('"10.0.0.1" is not a multicast address');
    expect(() => assertSourceSpecificGroup('239.1.1.1')).toThrow('outside the source-specific ranges');
    expect(() => assertSourceSpecificGroup('232.1.1.1')).not.toThrow();
  });
});
