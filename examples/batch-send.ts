// send() against sendMany(): the same datagrams to a receiver on loopback,
// sent both ways, with the rate of each and their ratio (and, for scale,
// node:dgram's send() doing the same).
//
//   tsx batch-send.ts [--count 50000] [--size 64] [--rounds 3]
//
// Both go in windows of 1024 datagrams: 1024 send() calls in one tick, or one
// sendMany() of 1024, then wait for the callbacks. On the native backend the
// 1024 send() calls of a tick already leave in one sendmmsg (transparent
// batching), so what sendMany() saves is the cost of 1024 calls, their
// argument checks and their callbacks; on the portable backend both make one
// system call per datagram. Rounds rotate the order; the medians are shown.
import nodeDgram from 'node:dgram';
import { parseArgs } from 'node:util';
import { createSocket, type Socket } from '@udpkit/core';

const { values: args } = parseArgs({
  options: {
    count: { type: 'string', default: '50000' },
    size: { type: 'string', default: '64' },
    rounds: { type: 'string', default: '3' },
  },
});
const COUNT = Number(args.count);
const SIZE = Number(args.size);
const ROUNDS = Number(args.rounds);
if (!(Number.isInteger(COUNT) && COUNT > 0 && COUNT <= 1_000_000)) usage(`--count must be an integer in [1, 1000000], got ${args.count}`);
if (!(Number.isInteger(SIZE) && SIZE > 0 && SIZE <= 1472)) usage(`--size must be an integer in [1, 1472], got ${args.size}`);
if (!(Number.isInteger(ROUNDS) && ROUNDS > 0 && ROUNDS <= 20)) usage(`--rounds must be an integer in [1, 20], got ${args.rounds}`);
const WINDOW = 1024;

function usage(problem: string): never {
  console.error(`${problem}\nusage: batch-send.ts [--count 50000] [--size 64] [--rounds 3]`);
  process.exit(2);
}

const receiver = createSocket({ type: 'udp4', recvBufferSize: 8 * 1024 * 1024 });
let received = 0;
receiver.on('messages', (buffers) => (received += buffers.length));
await new Promise<void>((resolve) => receiver.bind(0, '127.0.0.1', resolve));
const port = receiver.address().port;
const sender = createSocket('udp4');
const dgramSender = nodeDgram.createSocket('udp4');
const payload = Buffer.alloc(SIZE, 0x75);

/** WINDOW send() calls in one tick, then their callbacks; returns how many the kernel took. */
function sendWindow(socket: Socket | nodeDgram.Socket, count: number): Promise<number> {
  return new Promise((resolve) => {
    let pending = count;
    let sent = 0;
    for (let i = 0; i < count; i++) {
      socket.send(payload, port, '127.0.0.1', (error) => {
        if (!error) sent++;
        if (--pending === 0) resolve(sent);
      });
    }
  });
}

/** One sendMany() of WINDOW datagrams; returns how many the kernel took. */
function sendManyWindow(socket: Socket, count: number): Promise<number> {
  const messages = Array.from({ length: count }, () => ({ data: payload, port, address: '127.0.0.1' }));
  return new Promise((resolve) => socket.sendMany(messages, (_error, sent) => resolve(sent)));
}

const ways = {
  'send()': (count: number) => sendWindow(sender, count),
  'sendMany()': (count: number) => sendManyWindow(sender, count),
  'node:dgram send()': (count: number) => sendWindow(dgramSender, count),
};
type Way = keyof typeof ways;
const WAYS = Object.keys(ways) as Way[];

/** Sends `count` datagrams one way; datagrams per second and how many went. */
async function measure(way: Way, count: number): Promise<{ rate: number; sent: number }> {
  const started = performance.now();
  let sent = 0;
  for (let done = 0; done < count; done += WINDOW) {
    sent += await ways[way](Math.min(WINDOW, count - done));
    // Let the event loop turn (the receiver reads then): the callbacks came
    // from this same turn, and a sender that never yields starves the rest.
    await new Promise((resolve) => setImmediate(resolve));
  }
  return { rate: count / ((performance.now() - started) / 1000), sent };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

console.log(`${COUNT} datagrams of ${SIZE} bytes to 127.0.0.1:${port}, ${ROUNDS} round(s), backend ${sender.backend}`);
// Warm-up (JIT, socket buffers), not measured.
const warmUp = Math.min(COUNT, 5 * WINDOW);
for (const way of WAYS) await measure(way, warmUp);
const rates: Record<Way, number[]> = { 'send()': [], 'sendMany()': [], 'node:dgram send()': [] };
for (let round = 0; round < ROUNDS; round++) {
  for (const way of WAYS.map((_, i) => WAYS[(i + round) % WAYS.length]!)) {
    const { rate, sent } = await measure(way, COUNT);
    if (sent !== COUNT) throw new Error(`${way}: the kernel took ${sent} of ${COUNT} datagrams`);
    rates[way].push(rate);
  }
}
const perSecond = (rate: number) => `${Math.round(rate).toLocaleString('en')} datagrams/s`;
const send = median(rates['send()']);
const sendMany = median(rates['sendMany()']);
const dgramSend = median(rates['node:dgram send()']);
console.log(`send():            ${perSecond(send)}`);
console.log(`sendMany():        ${perSecond(sendMany)}`);
console.log(`node:dgram send(): ${perSecond(dgramSend)}`);
console.log(`ratio sendMany() / send(): ${(sendMany / send).toFixed(2)}x`);
console.log(`ratio sendMany() / node:dgram send(): ${(sendMany / dgramSend).toFixed(2)}x`);
const total = (COUNT * ROUNDS + warmUp) * WAYS.length;
await new Promise((resolve) => setTimeout(resolve, 100)); // the last datagrams in flight
console.log(`the receiver read ${received} of the ${total} datagrams sent (the kernel drops what its buffer can't hold; the rates are the sender's)`);
sender.close();
dgramSender.close();
receiver.close();
