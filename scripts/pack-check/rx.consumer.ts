// Type-checks against @udpkit/rx's published types, with rxjs operators.
import { udpFeed, type Datagram, type FeedCounters, type UdpFeed } from '@udpkit/rx';
import { filter, map, type Observable } from 'rxjs';

const feed: UdpFeed = udpFeed({ port: 0, address: '127.0.0.1' }, { strategy: { buffer: 16, overflow: 'drop-oldest' } });
const lengths: Observable<number> = feed.datagrams$.pipe(
  filter((datagram: Datagram) => datagram.rinfo.size > 0),
  map(({ data }) => data.toString()),
  feed.consume(async (text: string) => text.length, { concurrency: 4 }),
);
const counters: FeedCounters = feed.counters();
void [lengths, counters.libraryDrops];

// @ts-expect-error: not a strategy
udpFeed({ port: 0 }, { strategy: 'faster' });
