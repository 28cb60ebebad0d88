// reusePort fan-out across worker threads: N workers, each with its own
// socket bound with `reusePort` to one port, share a flood from many source
// ports. The kernel picks a socket of the group by a hash of the 4-tuple, so
// each flow (source port) lands on one worker; when a member closes, the
// kernel removes it from the group and its flows go to the others.
import nodeDgram from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { backend, waitFor } from './support/sockets.js';
import {
  boundSocketInodes,
  Flood,
  type Family,
  openDescriptorCount,
  openSocketInodes,
  ReusePortGroup,
} from './support/reuseport-group.js';

const FLOWS = 24;
/** Flows that start after a worker was terminated. */
const NEW_FLOWS = 8;
/** Datagrams in flight at most: well within one socket's receive buffer. */
const WINDOW = 192;
const ROUNDS = 60; // datagrams per flow in each phase
/** Rounds of the flood sent before a worker is terminated (the window keeps several in flight). */
const TERMINATE_AFTER_ROUNDS = 4;
/** Sequence numbers recorded: room for a termination that takes seconds on a loaded machine. */
const LEDGER = 1 << 16;
/** Worker threads start slowly on a loaded machine. */
const TIMEOUT_MS = 60_000;

/** Whether node:dgram of the running Node lets two reusePort sockets share a port (it ignores the option before 22.12). */
async function nodeDgramSharesPort(): Promise<boolean> {
  const first = nodeDgram.createSocket({ type: 'udp4', reusePort: true } as nodeDgram.SocketOptions);
  await new Promise<void>((resolve) => first.bind(0, '127.0.0.1', resolve));
  const second = nodeDgram.createSocket({ type: 'udp4', reusePort: true } as nodeDgram.SocketOptions);
  const shared = await new Promise<boolean>((resolve) => {
    second.once('error', () => resolve(false));
    second.bind(first.address().port, '127.0.0.1', () => resolve(true));
  });
  first.close();
  second.close();
  return shared;
}

const offered = backend === 'native' || (await nodeDgramSharesPort());

/** The workers each flow's datagrams in [from, to) went to (lost ones left out). */
function ownersByFlow(group: ReusePortGroup, flood: Flood, from: number, to: number): Set<number>[] {
  const owners = Array.from({ length: flood.flows }, () => new Set<number>());
  for (let seq = from; seq < to; seq++) {
    const owner = group.ownerOf(seq);
    if (owner >= 0) owners[flood.flowOf(seq)]!.add(owner);
  }
  return owners;
}

/** Each flow's one worker; fails if a flow was split. */
function oneWorkerPerFlow(owners: Set<number>[]): number[] {
  expect(owners.map((set) => set.size)).toEqual(owners.map(() => 1));
  return owners.map((set) => [...set][0]!);
}

describe('reusePort across worker threads', () => {
  it(`is offered where documented: on the native backend always, on the portable one where node:dgram shares a port (here: ${offered ? 'yes' : 'no'})`, async () => {
    if (offered) {
      const group = await ReusePortGroup.start('udp4', 2, 16);
      expect(group.backend).toBe(backend);
      expect(new Set(group.inodes).size).toBe(2);
      await group.close();
      return;
    }
    await expect(ReusePortGroup.start('udp4', 2, 16)).rejects.toMatchObject({
      code: 'ERR_UDPKIT_UNSUPPORTED',
      message: 'reusePort is not supported by the portable backend',
    });
  });
});

describe.runIf(offered).each(['udp4', 'udp6'] as Family[])('reusePort fan-out, %s', (type) => {
  it.each([2, 3, 4])('%i workers share a flood from many source ports: each datagram once, each flow on one worker, more than one worker used', async (size) => {
    const descriptors = openDescriptorCount();
    const group = await ReusePortGroup.start(type, size, ROUNDS * FLOWS);
    const flood = await Flood.start(group, FLOWS, WINDOW);
    try {
      await flood.send(() => flood.sent < ROUNDS * FLOWS);
      await flood.drain();

      const stats = await Promise.all(group.workers.map((_, id) => group.stats(id)));
      const kernelDrops = stats.reduce((sum, s) => sum + s.kernelDrops, 0);
      expect(group.receivedByAll() + kernelDrops).toBe(flood.sent);
      expect(kernelDrops).toBe(0);
      expect(group.duplicates()).toBe(0);
      expect(stats.map((s) => s.datagramsReceived)).toEqual(group.workers.map((_, id) => group.received(id)));

      const workerOfFlow = oneWorkerPerFlow(ownersByFlow(group, flood, 0, flood.sent));
      expect(new Set(workerOfFlow).size).toBeGreaterThan(1);
    } finally {
      await flood.close();
      await group.close();
    }
    await waitFor(() => openDescriptorCount() === descriptors, 5000, `the descriptor count to come back to ${descriptors}`);
  }, TIMEOUT_MS);

  it.each([2, 3, 4])(
    '%i workers, one terminated mid-flood: only what its socket held is lost, the kernel gives its flows and new ones to the others, its descriptor is closed',
    async (size) => {
      const descriptors = openDescriptorCount();
      const group = await ReusePortGroup.start(type, size, LEDGER);
      const flood = await Flood.start(group, FLOWS, WINDOW);
      let newcomers: Flood | undefined;
      try {
        // Learn where the kernel sends each flow.
        await flood.send(() => flood.sent < ROUNDS * FLOWS);
        await flood.drain();
        const workerOfFlow = oneWorkerPerFlow(ownersByFlow(group, flood, 0, flood.sent));
        // The worker with the fewest flows, but some.
        const flowCounts = group.workers.map((_, id) => workerOfFlow.filter((w) => w === id).length);
        const victim = flowCounts.indexOf(Math.min(...flowCounts.filter((n) => n > 0)));
        const victimFlows = new Set(workerOfFlow.flatMap((w, flow) => (w === victim ? [flow] : [])));
        const victimInode = group.inodes[victim]!;
        expect(openSocketInodes()).toContain(victimInode);

        // Terminate it while the flood goes on, with datagrams in flight to
        // every worker; note when its socket leaves the kernel's table (and
        // so the reusePort group).
        const floodFrom = flood.sent;
        let termination: Promise<unknown> | undefined;
        let terminatedFrom: number | undefined;
        let goneFrom: number | undefined;
        // While the victim's socket leaves the group (from terminate() until it
        // is out of the kernel's table), a datagram of any flow may be lost:
        // seen once in CI (Node 24, udp6), one datagram of a survivor's flow,
        // sent in the round right after terminate(). Only those rounds.
        const leaving = (seq: number) => terminatedFrom !== undefined && seq >= terminatedFrom && (goneFrom === undefined || seq < goneFrom);
        const mayBeLost = (seq: number) => (victimFlows.has(flood.flowOf(seq)) && (goneFrom === undefined || seq < goneFrom)) || leaving(seq);
        const afterRound = () => {
          if (termination === undefined && flood.sent >= floodFrom + TERMINATE_AFTER_ROUNDS * FLOWS) {
            terminatedFrom = flood.sent;
            termination = group.workers[victim]!.terminate();
          } else if (termination !== undefined && goneFrom === undefined && !boundSocketInodes(type, group.port).includes(victimInode)) {
            goneFrom = flood.sent;
          }
        };
        const deadline = Date.now() + 10_000;
        const victimSocketLeft = () => {
          if (Date.now() > deadline) throw new Error(`worker ${victim}'s socket is still in the kernel's table 10 s after terminate()`);
          return goneFrom !== undefined;
        };
        await flood.send(() => !victimSocketLeft(), mayBeLost, afterRound);
        await termination;
        // And after it is gone: the same flows, then new ones.
        const afterFrom = flood.sent;
        await flood.send(() => flood.sent < afterFrom + ROUNDS * FLOWS, mayBeLost);
        await flood.drain(mayBeLost);
        const gone = goneFrom!;
        newcomers = await Flood.start(group, NEW_FLOWS, WINDOW, flood.sent);
        await newcomers.send(() => newcomers!.sent < newcomers!.firstSeq + ROUNDS * NEW_FLOWS);
        await newcomers.drain();
        const sent = newcomers.sent;

        expect(group.duplicates()).toBe(0);
        const lost: number[] = [];
        for (let seq = 0; seq < sent; seq++) if (group.ownerOf(seq) < 0) lost.push(seq);
        // Lost: only datagrams of the victim's flows sent before its socket was
        // gone, and at most what was sent while it was leaving.
        expect(lost.filter((seq) => !leaving(seq) && (seq < floodFrom || seq >= gone || !victimFlows.has(flood.flowOf(seq))))).toEqual([]);
        expect(group.receivedByAll() + lost.length).toBe(sent);
        // The others kept receiving their own flows throughout, the victim never got any of theirs.
        const othersAtVictim: number[] = [];
        for (let seq = floodFrom; seq < newcomers.firstSeq; seq++) {
          if (!victimFlows.has(flood.flowOf(seq)) && !leaving(seq) && group.ownerOf(seq) === victim) othersAtVictim.push(seq);
        }
        expect(othersAtVictim).toEqual([]);
        const survivors = group.workers.map((_, id) => id).filter((id) => id !== victim);
        const stats = await Promise.all(survivors.map((id) => group.stats(id)));
        expect(stats.map((s) => s.kernelDrops)).toEqual(survivors.map(() => 0));
        expect(stats.map((s) => s.datagramsReceived)).toEqual(survivors.map((id) => group.received(id)));

        // Once its socket is gone, the kernel sends every flow, the victim's
        // and new ones included, to one of the remaining sockets, each flow to one.
        const afterwards = oneWorkerPerFlow(ownersByFlow(group, flood, gone, newcomers.firstSeq));
        for (const flow of victimFlows) expect(survivors).toContain(afterwards[flow]);
        for (const worker of oneWorkerPerFlow(ownersByFlow(group, newcomers, newcomers.firstSeq, sent))) expect(survivors).toContain(worker);

        // Its descriptor is closed: neither the kernel's table nor this process has it.
        expect(boundSocketInodes(type, group.port).sort()).toEqual(survivors.map((id) => group.inodes[id]).sort());
        const open = openSocketInodes();
        expect(open).not.toContain(victimInode);
        for (const id of survivors) expect(open).toContain(group.inodes[id]);
      } finally {
        await flood.close();
        await newcomers?.close();
        await group.close();
      }
      await waitFor(() => openDescriptorCount() === descriptors, 5000, `the descriptor count to come back to ${descriptors}`);
    },
    TIMEOUT_MS,
  );
});
