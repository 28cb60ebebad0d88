// @udpkit/core as installed: a socket sends a datagram to itself on
// 127.0.0.1 and receives it. Reports the backend, why native is unavailable
// if it is, and which native helper the process loaded.
import { within } from './within.mjs';

export default async function exercise(core) {
  const socket = core.createSocket('udp4');
  try {
    const received = new Promise((resolve, reject) => {
      socket.once('message', (data, rinfo) => resolve({ data, rinfo }));
      socket.once('error', reject);
    });
    await new Promise((resolve) => socket.bind(0, '127.0.0.1', resolve));
    const { port } = socket.address();
    socket.send('pack-check', port, '127.0.0.1');
    const { data, rinfo } = await within(10_000, 'datagram to self', received);
    if (data.toString() !== 'pack-check' || rinfo.port !== port) {
      throw new Error(`received ${JSON.stringify(data.toString())} from ${rinfo.port}, sent 'pack-check' from ${port}`);
    }
    return {
      backend: socket.backend,
      reason: core.nativeLoadError?.message,
      helpers: process.report.getReport().sharedObjects.filter((path) => path.endsWith('.node')),
    };
  } finally {
    socket.close();
  }
}
