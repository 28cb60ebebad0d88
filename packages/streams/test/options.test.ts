// The constructor's mode rules and option checks: each a TypeError (or, for
// a high-water mark, the RangeError of the Streams standard) thrown before
// any socket exists, with Chromium's message where Chromium has one.
import { UDPSocket, type UDPSocketOptions } from '@udpkit/streams';
import { describe, expect, it } from 'vitest';

const construct = (options: unknown) => () => new UDPSocket(options as UDPSocketOptions);
const remote = { remoteAddress: '127.0.0.1', remotePort: 9 };
const local = { localAddress: '127.0.0.1' };

describe('UDPSocket options', () => {
  it.each([
    ['no address at all', {}, /neither remoteAddress nor localAddress specified/],
    ['undefined options', undefined, /neither remoteAddress nor localAddress specified/],
    ['remoteAddress without remotePort', { remoteAddress: '127.0.0.1' }, /either be specified together or not specified at all/],
    ['remotePort without remoteAddress', { remotePort: 9 }, /either be specified together or not specified at all/],
    ['remote and local address', { ...remote, localAddress: '127.0.0.1' }, /cannot be specified at the same time/],
    ['localPort without localAddress', { localPort: 5000 }, /localPort cannot be specified without localAddress/],
    ['localPort in connected mode', { ...remote, localPort: 5000 }, /localPort cannot be specified without localAddress/],
    ['ipv6Only in connected mode', { ...remote, ipv6Only: true }, /ipv6Only can only be specified with localAddress/],
    ['an empty remoteAddress', { remoteAddress: '', remotePort: 9 }, /remoteAddress must not be empty/],
    ['remotePort 0', { remoteAddress: '127.0.0.1', remotePort: 0 }, /remotePort must be greater than zero/],
    ['remotePort 65536', { remoteAddress: '127.0.0.1', remotePort: 65536 }, /remotePort must be between 0 and 65535/],
    ['remotePort -1', { remoteAddress: '127.0.0.1', remotePort: -1 }, /remotePort must be between 0 and 65535/],
    ['remotePort NaN', { remoteAddress: '127.0.0.1', remotePort: Number.NaN }, /remotePort must be a finite number/],
    ['remotePort Infinity', { remoteAddress: '127.0.0.1', remotePort: Infinity }, /remotePort must be a finite number/],
    ['an unknown dnsQueryType', { ...remote, dnsQueryType: 'ipv5' }, /dnsQueryType must be 'ipv4' or 'ipv6'/],
    ['a host name as localAddress', { localAddress: 'localhost' }, /localAddress must be a valid IP address/],
    ['garbage as localAddress', { localAddress: '1.2.3' }, /localAddress must be a valid IP address/],
    ['localPort 0', { ...local, localPort: 0 }, /localPort must be greater than zero/],
    ['localPort 65536', { ...local, localPort: 65536 }, /localPort must be between 0 and 65535/],
    ['dnsQueryType in bound mode', { ...local, dnsQueryType: 'ipv4' }, /dnsQueryType is only relevant when remoteAddress is specified/],
    ['sendBufferSize 0', { ...local, sendBufferSize: 0 }, /sendBufferSize must be greater than zero/],
    ['receiveBufferSize 0', { ...remote, receiveBufferSize: 0 }, /receiveBufferSize must be greater than zero/],
    ['receiveBufferSize 2^32', { ...local, receiveBufferSize: 2 ** 32 }, /receiveBufferSize must be between 0 and 4294967295/],
    ['ipv6Only on ::1', { localAddress: '::1', ipv6Only: true }, /ipv6Only can only be specified when localAddress is \[::\]/],
    ['ipv6Only on 0.0.0.0', { localAddress: '0.0.0.0', ipv6Only: false }, /ipv6Only can only be specified when localAddress is \[::\]/],
    ['multicastTimeToLive 256', { ...local, multicastTimeToLive: 256 }, /multicastTimeToLive must be between 0 and 255/],
    ['options that are not an object', 42, /options must be an object/],
    ['a high-water mark that is neither', { ...local, readableHighWaterMark: { messages: 3 } }, /readableHighWaterMark must be a number of datagrams or \{ bytes: number \}/],
  ])('throws a TypeError for %s', (_, options, message) => {
    expect(construct(options)).toThrow(TypeError);
    expect(construct(options)).toThrow(message);
  });

  it.each([
    ['readableHighWaterMark -1', { readableHighWaterMark: -1 }],
    ['readableHighWaterMark NaN', { readableHighWaterMark: Number.NaN }],
    ['writableHighWaterMark { bytes: -1 }', { writableHighWaterMark: { bytes: -1 } }],
  ])('throws a RangeError for %s', (_, options) => {
    expect(construct({ ...local, ...options })).toThrow(RangeError);
  });

  it('opens with ipv6Only on [::] in any spelling, and with fractional ports truncated', async () => {
    for (const localAddress of ['::', '0:0:0:0:0:0:0:0']) {
      const socket = new UDPSocket({ localAddress, ipv6Only: true });
      const info = await socket.opened;
      expect(info.localAddress).toBe('::');
      await socket.close();
    }
    const first = new UDPSocket({ localAddress: '127.0.0.1' });
    const { localPort } = await first.opened;
    const second = new UDPSocket({ remoteAddress: '127.0.0.1', remotePort: localPort + 0.7 });
    expect((await second.opened).remotePort).toBe(localPort);
    await Promise.all([first.close(), second.close()]);
  });
});
