// Type-checks against @udpkit/streams' published types.
import { UDPSocket, type UDPMessage, type UDPSocketOpenInfo } from '@udpkit/streams';

const socket = new UDPSocket({ localAddress: '127.0.0.1', readableHighWaterMark: { bytes: 1 << 20 } });
const opened: Promise<UDPSocketOpenInfo> = socket.opened;
void opened.then(async ({ readable, writable }) => {
  const reader = readable.getReader();
  const { value } = await reader.read();
  const message: UDPMessage | undefined = value;
  const bytes: Uint8Array | undefined = message?.data;
  await writable.getWriter().write({ data: bytes ?? new Uint8Array(1), remoteAddress: '127.0.0.1', remotePort: 9 });
});
const closed: Promise<void> = socket.closed;
void closed;

// @ts-expect-error: remotePort is a number
new UDPSocket({ remoteAddress: '127.0.0.1', remotePort: '9' });
