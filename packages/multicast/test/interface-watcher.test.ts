import { type NetworkInterface } from '@udpkit/multicast';
import { describe, expect, it } from 'vitest';
import { InterfaceWatcher } from '../src/interface-watcher.js';

const lo: NetworkInterface = { name: 'lo', index: 1, ipv4: ['127.0.0.1'], ipv6: ['::1'] };
const eth0: NetworkInterface = { name: 'eth0', index: 2, ipv4: ['192.0.2.1'], ipv6: [] };
const eth1: NetworkInterface = { name: 'eth1', index: 3, ipv4: [], ipv6: ['fe80::1'] };

function watch(family: 4 | 6, lists: NetworkInterface[][]) {
  let poll = 0;
  const watcher = new InterfaceWatcher(family, () => lists[Math.min(poll, lists.length - 1)]!);
  const events: string[] = [];
  watcher.on('added', (i) => events.push(`+${i.name}`));
  watcher.on('removed', (i) => events.push(`-${i.name}`));
  return {
    watcher,
    events,
    next() {
      poll++;
      watcher.poll();
    },
  };
}

describe('InterfaceWatcher', () => {
  it('reports interfaces that come and go, removals first', () => {
    const { watcher, events, next } = watch(4, [[lo], [lo, eth0], [eth0], [eth0]]);
    expect(watcher.current().map((i) => i.name)).toEqual(['lo']);
    next();
    expect(events).toEqual(['+eth0']);
    next();
    expect(events).toEqual(['+eth0', '-lo']);
    next();
    expect(events).toEqual(['+eth0', '-lo']);
  });

  it('counts an interface only with an address of its family', () => {
    const four = watch(4, [[lo, eth0, eth1]]);
    const six = watch(6, [[lo, eth0, eth1]]);
    expect(four.watcher.current().map((i) => i.name)).toEqual(['lo', 'eth0']);
    expect(six.watcher.current().map((i) => i.name)).toEqual(['lo', 'eth1']);
    // eth1 gains an IPv4 address: it appears for IPv4.
    const gains = watch(4, [[eth1], [{ ...eth1, ipv4: ['198.51.100.1'] }]]);
    gains.next();
    expect(gains.events).toEqual(['+eth1']);
  });

  it('takes an interface recreated under the same name (a new index) as gone and new', () => {
    const { events, next } = watch(4, [[eth0], [{ ...eth0, index: 7 }]]);
    next();
    expect(events).toEqual(['-eth0', '+eth0']);
  });

  it('reports a failed look at the interfaces as an error, and keeps polling', async () => {
    let polls = 0;
    const watcher = new InterfaceWatcher(4, () => {
      polls++;
      if (polls === 2) throw Object.assign(new Error('uv_interface_addresses returned Unknown system error -24'), { code: 'EMFILE' });
      return polls > 2 ? [eth0] : [];
    });
    const failed = new Promise<string>((resolve) => watcher.once('error', (error) => resolve((error as Error & { code?: string }).code ?? '')));
    const added = new Promise<string>((resolve) => watcher.once('added', (i) => resolve(i.name)));
    watcher.start(10);
    expect(await failed).toBe('EMFILE');
    expect(await added).toBe('eth0');
    watcher.stop();
  });

  it('polls on a timer that does not keep the process alive', async () => {
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    let polls = 0;
    const watcher = new InterfaceWatcher(4, () => (++polls > 1 ? [eth0] : []));
    const added = new Promise<string>((resolve) => watcher.once('added', (i) => resolve(i.name)));
    watcher.start(10);
    expect(timers()).toBe(before);
    expect(await added).toBe('eth0');
    watcher.stop();
  });
});
