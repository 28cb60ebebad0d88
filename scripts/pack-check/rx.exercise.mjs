// @udpkit/rx as installed: a udpFeed that owns its socket receives one
// datagram sent with node:dgram, through `consume`.
import dgram from 'node:dgram';
import { firstValueFrom } from 'rxjs';
import { within } from './within.mjs';

export default async function exercise(rx) {
  const sender = dgram.createSocket('udp4');
  try {
    const feed = rx.udpFeed({
      address: '127.0.0.1',
      onListening: (socket) => sender.send('pack-check', socket.address().port, '127.0.0.1'),
    });
    const first = firstValueFrom(feed.datagrams$.pipe(feed.consume(async ({ data }) => data.toString())));
    const text = await within(10_000, 'udpFeed datagram', first);
    if (text !== 'pack-check') throw new Error(`udpFeed delivered ${JSON.stringify(text)}`);
    return { delivered: feed.counters().delivered };
  } finally {
    sender.close();
  }
}
