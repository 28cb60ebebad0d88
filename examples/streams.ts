// Datagrams through WHATWG streams: decode in a TransformStream, collect in a WritableStream.
import { createSocket } from '@udpkit/core';
import { readableFrom, type UDPMessage } from '@udpkit/streams';

const socket = createSocket('udp4');
await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));

const decode = new TransformStream<UDPMessage, string>({
  transform(message, controller) {
    controller.enqueue(`${message.remoteAddress}:${message.remotePort} says ${new TextDecoder().decode(message.data)}`);
  },
});

const lines: string[] = [];
const done = readableFrom(socket)
  .pipeThrough(decode)
  .pipeTo(
    new WritableStream({
      write(line) {
        lines.push(line);
        // Closing the socket ends the stream.
        if (lines.length === 3) socket.close();
      },
    }),
  );

const sender = createSocket('udp4');
sender.sendMany(['hello', 'from', 'streams'].map((data) => ({ data, port: socket.address().port })), () => sender.close());
await done;
console.log(lines.join('\n'));
