// Datagrams through WHATWG streams: decode in a TransformStream, collect in a WritableStream.
import { UDPSocket, type UDPMessage } from '@udpkit/streams';

const socket = new UDPSocket({ localAddress: '127.0.0.1' });
const { readable, localPort } = await socket.opened;

const decode = new TransformStream<UDPMessage, string>({
  transform(message, controller) {
    controller.enqueue(`${message.remoteAddress}:${message.remotePort} says ${new TextDecoder().decode(message.data)}`);
  },
});

const lines: string[] = [];
const stop = new AbortController();
const done = readable
  .pipeThrough(decode)
  .pipeTo(
    new WritableStream({
      write(line) {
        lines.push(line);
        // Aborting the pipe cancels the readable, which closes the socket.
        if (lines.length === 3) stop.abort();
      },
    }),
    { signal: stop.signal },
  );

const sender = new UDPSocket({ remoteAddress: '127.0.0.1', remotePort: localPort });
const { writable } = await sender.opened;
const writer = writable.getWriter();
for (const word of ['hello', 'from', 'streams']) void writer.write({ data: new TextEncoder().encode(word) });
writer.releaseLock();

await done.catch(() => {}); // rejects with the abort reason
await sender.close();
console.log(lines.join('\n'));
