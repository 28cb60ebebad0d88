// A StatsD-like feed as an RxJS pipeline: parse, group by metric, sum per window.
import { createSocket } from '@udpkit/core';
import { fromSocket } from '@udpkit/rx';
import { filter, firstValueFrom, map, reduce, take } from 'rxjs';

const socket = createSocket('udp4');
await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));

const totals = firstValueFrom(
  fromSocket(socket).pipe(
    map(({ data }) => data.toString().split(':')),
    filter((parts): parts is [string, string] => parts.length === 2),
    take(6),
    reduce((sums, [name, value]) => sums.set(name, (sums.get(name) ?? 0) + Number(value)), new Map<string, number>()),
  ),
);

const sender = createSocket('udp4');
const lines = ['hits:1', 'bytes:512', 'hits:1', 'bytes:128', 'hits:1', 'bytes:64'];
sender.sendMany(lines.map((data) => ({ data, port: socket.address().port })));

console.log(Object.fromEntries(await totals));
sender.close();
socket.close();
