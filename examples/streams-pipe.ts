// A relay between two sockets as one stream pipeline: readings arrive at the
// relay as JSON, are converted in TransformStreams, and leave it for a
// collector. Backpressure runs end to end: a slow collector slows the
// relay's writes, which slows its reads, which leaves datagrams in the kernel.
import { UDPSocket, type UDPMessage, type UDPMessageInit } from '@udpkit/streams';

interface Reading {
  sensor: string;
  celsius: number;
}

const collector = new UDPSocket({ localAddress: '127.0.0.1' });
const relay = new UDPSocket({ localAddress: '127.0.0.1' });
const [toCollector, atRelay] = await Promise.all([collector.opened, relay.opened]);

const decode = new TransformStream<UDPMessage, Reading>({
  transform(message, controller) {
    controller.enqueue(JSON.parse(new TextDecoder().decode(message.data)) as Reading);
  },
});
const toFahrenheit = new TransformStream<Reading, string>({
  transform({ sensor, celsius }, controller) {
    controller.enqueue(`${sensor} ${((celsius * 9) / 5 + 32).toFixed(1)}°F`);
  },
});
const forward = new TransformStream<string, UDPMessageInit>({
  transform(line, controller) {
    controller.enqueue({ data: new TextEncoder().encode(line), remoteAddress: toCollector.localAddress, remotePort: toCollector.localPort });
  },
});

const stop = new AbortController();
const relayed = atRelay.readable
  .pipeThrough(decode)
  .pipeThrough(toFahrenheit)
  .pipeThrough(forward)
  .pipeTo(atRelay.writable, { signal: stop.signal });

// A sensor: a connected socket that writes its readings to the relay.
const sensor = new UDPSocket({ remoteAddress: atRelay.localAddress, remotePort: atRelay.localPort });
const writer = (await sensor.opened).writable.getWriter();
const readings: Reading[] = [
  { sensor: 'kitchen', celsius: 21 },
  { sensor: 'cellar', celsius: 12.5 },
  { sensor: 'attic', celsius: 30 },
  { sensor: 'garden', celsius: -4 },
];
for (const reading of readings) void writer.write({ data: new TextEncoder().encode(JSON.stringify(reading)) });
writer.releaseLock();

const lines: string[] = [];
for await (const message of toCollector.readable) {
  lines.push(new TextDecoder().decode(message.data));
  if (lines.length === readings.length) break; // leaving the loop closes the collector
}

stop.abort(); // closes the relay
await relayed.catch(() => {});
await sensor.close();
console.log(lines.join('\n'));
