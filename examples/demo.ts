// The main demo: a receiver consumed as an RxJS pipeline, a sender that
// batches with sendMany, and the socket counters. Loopback only.
import { createSocket, nativeLoadError } from '@udpkit/core';
import { fromSocket } from '@udpkit/rx';
import { bufferCount, firstValueFrom, map, take, toArray } from 'rxjs';

const COUNT = 10_000;

const receiver = createSocket('udp4');
const sender = createSocket('udp4');
console.log(`backend: ${receiver.backend}${nativeLoadError ? ` (native unavailable: ${nativeLoadError.message})` : ''}`);

await new Promise<void>((resolve) => receiver.bind(0, '127.0.0.1', resolve));
receiver.setRecvBufferSize(8 * 1024 * 1024);
const { port } = receiver.address();

// Sum the readings of each 1000 datagrams as they arrive.
const sums = firstValueFrom(
  fromSocket(receiver).pipe(
    map(({ data }) => data.readUInt32BE(0)),
    take(COUNT),
    bufferCount(1000),
    map((readings) => readings.reduce((a, b) => a + b, 0)),
    toArray(),
  ),
);

const messages = Array.from({ length: COUNT }, (_, i) => {
  const data = Buffer.alloc(64);
  data.writeUInt32BE(i, 0);
  return { data, port, address: '127.0.0.1' };
});
const started = process.hrtime.bigint();
const sent = await new Promise<number>((resolve, reject) =>
  sender.sendMany(messages, (error, count) => (error ? reject(error) : resolve(count))),
);
const received = await sums;
const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;

console.log(`sent ${sent} datagrams with sendMany, received them through an RxJS pipeline in ${elapsedMs.toFixed(1)} ms`);
console.log('sum per 1000:', received.join(' '));
console.log('sender stats:', sender.stats());
console.log('receiver stats:', receiver.stats());
sender.close();
receiver.close();
