// @udpkit/streams as installed: a connected UDPSocket writes a chunk to a
// bound one, whose readable yields it with the sender's port.
import { within } from './within.mjs';

export default async function exercise({ UDPSocket }) {
  const server = new UDPSocket({ localAddress: '127.0.0.1' });
  const client = new UDPSocket({ remoteAddress: '127.0.0.1', remotePort: (await server.opened).localPort });
  try {
    const [bound, connected] = await Promise.all([server.opened, client.opened]);
    const writer = connected.writable.getWriter();
    await writer.write({ data: new TextEncoder().encode('pack-check') });
    const reader = bound.readable.getReader();
    const { value } = await within(10_000, 'UDPSocket chunk', reader.read());
    const text = new TextDecoder().decode(value.data);
    if (text !== 'pack-check' || value.remotePort !== connected.localPort) {
      throw new Error(`read ${JSON.stringify(text)} from ${value.remotePort}, wrote 'pack-check' from ${connected.localPort}`);
    }
    reader.releaseLock();
    writer.releaseLock();
    return { remotePort: value.remotePort };
  } finally {
    await Promise.all([client.close(), server.close()]);
  }
}
