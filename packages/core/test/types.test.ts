// Type-level checks: a udpkit Socket fits where node:dgram's is expected.
import type * as dgram from 'node:dgram';
import udpkit, { createSocket, type GsoStatus, type RemoteInfo, type Socket } from '@udpkit/core';
import { describe, expect, expectTypeOf, it } from 'vitest';

describe('types', () => {
  it("a udpkit Socket is assignable to node:dgram's Socket", () => {
    const socket = createSocket('udp4');
    const asNode: dgram.Socket = socket;
    expectTypeOf(socket).toMatchTypeOf<dgram.Socket>();
    expectTypeOf(udpkit.createSocket).toBeCallableWith({ type: 'udp6', reuseAddr: true, signal: AbortSignal.abort() });
    expectTypeOf<RemoteInfo>().toMatchTypeOf<dgram.RemoteInfo>();
    expectTypeOf<Socket['stats']>().returns.toHaveProperty('kernelDrops');
    expectTypeOf<Socket['stats']>().returns.toHaveProperty('gsoSegments');
    expectTypeOf<Socket['features']['gso']>().toEqualTypeOf<GsoStatus>();
    expectTypeOf(udpkit.createSocket).toBeCallableWith({ type: 'udp4', gso: false });
    expectTypeOf(socket.sendSegments).toBeCallableWith(Buffer.alloc(8), 4, 9, '127.0.0.1', (error: Error | null, sent: number) => {});
    expectTypeOf(socket.sendSegments).toBeCallableWith('abcd', 2, (error: Error | null, sent: number) => {});
    expect(asNode).toBe(socket);
    socket.close();
  });
});
