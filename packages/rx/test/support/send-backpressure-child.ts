// Run by send.test.ts inside a private network namespace whose lo is rate
// limited (tc tbf), so the kernel's send buffer fills and sendMany has to
// wait for writability. Values come 200 per tick for 30 ticks; sendTo must
// deliver them all in order, hold them while a batch waits (fewer
// sendMany calls than ticks), and never let core's send queue grow past
// one batch.
import { createSocket } from '@udpkit/core';
import { sendTo } from '@udpkit/rx';
import { lastValueFrom, Subject, toArray } from 'rxjs';

const TICKS = 30;
const PER_TICK = 200;
const total = TICKS * PER_TICK;
const receiver = createSocket('udp4');
await new Promise<void>((resolve) => receiver.bind(0, '127.0.0.1', resolve));
receiver.setRecvBufferSize(4 << 20);
const got: number[] = [];
receiver.on('message', (data) => got.push(data.readUInt32BE(0)));
const sender = createSocket('udp4');
await new Promise<void>((resolve) => sender.bind(0, '127.0.0.1', resolve));
sender.setSendBufferSize(1); // the kernel's minimum: a few datagrams
const port = receiver.address().port;

let peakQueue = 0;
const sample = setInterval(() => (peakQueue = Math.max(peakQueue, sender.getSendQueueCount())), 1);
const values = new Subject<{ data: Buffer; port: number; address: string }>();
const batches = lastValueFrom(values.pipe(sendTo(sender), toArray()));
let seq = 0;
for (let tick = 0; tick < TICKS; tick++) {
  for (let i = 0; i < PER_TICK; i++) {
    const data = Buffer.alloc(64);
    data.writeUInt32BE(seq++);
    values.next({ data, port, address: '127.0.0.1' });
  }
  await new Promise((resolve) => setImmediate(resolve));
}
values.complete();
const sent = await batches;
const deadline = Date.now() + 10_000;
while (got.length < total && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
clearInterval(sample);
console.log(
  JSON.stringify({
    total,
    ticks: TICKS,
    received: got.length,
    inOrder: got.every((n, i) => n === i),
    sendManyCalls: sent.length,
    sentSum: sent.reduce((a, b) => a + b, 0),
    largestBatch: Math.max(...sent),
    peakQueue,
  }),
);
sender.close();
receiver.close();
