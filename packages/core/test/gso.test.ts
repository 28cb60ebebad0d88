// GSO send (UDP_SEGMENT) through the Socket, on real loopback sockets. The
// same datagrams go once with GSO on and once with `gso: false`: receivers
// must see the same datagrams (bytes, boundaries, order) and every callback
// the same result, for runs at every grouping limit (64 segments, 65507
// bytes, a shorter last segment, a longer one that breaks a run, 1024 per
// helper call), mixed destinations, refused datagrams and blocked
// addresses. The fallback is forced with UDPKIT_TEST_GSO_FAULT (test only:
// the helper fails the probe or the first UDP_SEGMENT send without a system
// call). On the portable backend GSO reports itself unsupported.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { BlockList } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createSocket, type Socket } from '@udpkit/core';
import { afterEach, describe, expect, it } from 'vitest';
import { backend, closeAll, sendManyAsync, socketsClosedAfterEach, waitFor } from './support/sockets.js';

type Family = 'udp4' | 'udp6';
const LOCALHOST = { udp4: '127.0.0.1', udp6: '::1' };

const { socket, track } = socketsClosedAfterEach();
afterEach(() => {
  delete process.env.UDPKIT_TEST_GSO_FAULT;
});

/** A datagram of `size` bytes: its number in the first bytes (as many as fit), then filler. */
function datagram(n: number, size: number): Buffer {
  const data = Buffer.alloc(size, n & 0xff);
  const head = Buffer.alloc(4);
  head.writeUInt32BE(n);
  head.copy(data, 0, 0, Math.min(4, size));
  return data;
}

/** A datagram for receiver `to` (an index; -1: a blocked address; -2: the broadcast address, refused without SO_BROADCAST). */
interface Planned {
  size: number;
  to: number;
}

interface Outcome {
  /** What each callback said, in call order: an error code or `ok`. */
  callbacks: string[];
  /** The datagrams each receiver got, in order, as hex. */
  received: string[][];
  gsoSends: number;
  gsoSegments: number;
  gsoState: string;
}

const BLOCKED = { udp4: '127.0.0.9', udp6: '::ffff:127.0.0.9' };

/**
 * Sends `plan` from a new socket (gso on or off) to `receivers` new bound
 * sockets, with sendMany (one callback) or send() per datagram in one tick,
 * and waits for every datagram that went to arrive.
 */
async function run(type: Family, gso: boolean, plan: Planned[], receivers: number, mode: 'sendMany' | 'send'): Promise<Outcome> {
  const rx = await Promise.all(Array.from({ length: receivers }, () => socket(type)));
  const received = rx.map(() => [] as string[]);
  rx.forEach((s, k) => {
    s.setRecvBufferSize(4 << 20);
    s.on('message', (data) => received[k]!.push(data.toString('hex')));
  });
  const blockList = new BlockList();
  blockList.addAddress(BLOCKED[type], type === 'udp4' ? 'ipv4' : 'ipv6');
  const tx = await socket(type, { gso, sendBlockList: blockList });
  const ports = rx.map((s) => s.address().port);
  const address = (to: number) => (to === -1 ? BLOCKED[type] : to === -2 ? '127.255.255.255' : LOCALHOST[type]);
  const port = (to: number) => (to < 0 ? 9 : ports[to]!);
  const data = plan.map(({ size }, i) => datagram(i, size));
  const callbacks: string[] = [];
  if (mode === 'sendMany') {
    const { error, sent } = await sendManyAsync(tx, plan.map(({ to }, i) => ({ data: data[i]!, port: port(to), address: address(to) })));
    callbacks.push(`${(error as NodeJS.ErrnoException | null)?.code ?? 'ok'} ${sent}`);
  } else {
    await new Promise<void>((resolve) => {
      plan.forEach(({ to }, i) =>
        tx.send(data[i]!, port(to), address(to), (error) => {
          callbacks.push((error as NodeJS.ErrnoException | null)?.code ?? 'ok');
          if (callbacks.length === plan.length) resolve();
        }),
      );
    });
  }
  const expected = rx.map((_, k) => plan.flatMap(({ to, size }, i) => (to === k && size <= 65507 ? [data[i]!.toString('hex')] : [])));
  const total = expected.reduce((n, e) => n + e.length, 0);
  await waitFor(() => received.reduce((n, r) => n + r.length, 0) >= total, 10_000, `${total} datagrams`);
  expect(received).toEqual(expected);
  const { gsoSends, gsoSegments } = tx.stats();
  return { callbacks, received, gsoSends, gsoSegments, gsoState: tx.features.gso.state };
}

/**
 * The UDP_SEGMENT sends the helper should make for `plan`, by its rules:
 * the queue (blocked datagrams never enter it) goes 1024 datagrams per
 * helper call; a run to one destination of one size, the last possibly
 * shorter but not empty, at most 64 datagrams and 65507 bytes, is one send.
 */
function expectedGrouping(plan: Planned[]): { gsoSends: number; gsoSegments: number } {
  const queue = plan.filter(({ to }) => to !== -1);
  let gsoSends = 0;
  let gsoSegments = 0;
  for (let base = 0; base < queue.length; base += 1024) {
    const call = queue.slice(base, base + 1024);
    for (let k = 0, j = 1; k < call.length; k = j, j = k + 1) {
      const { size, to } = call[k]!;
      let total = size;
      let last = size;
      while (size > 0 && size <= 65507 && j < call.length && j - k < 64 && last === size && call[j]!.to === to) {
        const next = call[j]!.size;
        if (next === 0 || next > size || total + next > 65507) break;
        total += next;
        last = next;
        j++;
      }
      // A run to -2 is tried as one send, but the kernel takes none of it (EACCES).
      if (j - k > 1 && to !== -2) {
        gsoSends++;
        gsoSegments += j - k;
      }
    }
  }
  return { gsoSends, gsoSegments };
}

/** Runs `plan` with GSO on and off; both must look the same from outside. Returns the GSO run's counters. */
async function same(type: Family, plan: Planned[], receivers: number, mode: 'sendMany' | 'send' = 'sendMany') {
  const off = await run(type, false, plan, receivers, mode);
  const on = await run(type, true, plan, receivers, mode);
  expect(off.gsoSends).toBe(0);
  expect(on.callbacks).toEqual(off.callbacks);
  expect(on.received).toEqual(off.received);
  // No fallback hid a refused UDP_SEGMENT send, and every run was grouped.
  expect(on.gsoState).toBe('on');
  expect({ gsoSends: on.gsoSends, gsoSegments: on.gsoSegments }).toEqual(expectedGrouping(plan));
  return on;
}

/** `count` datagrams of `size` bytes to receiver `to`. */
const runOf = (count: number, size: number, to = 0): Planned[] => Array.from({ length: count }, () => ({ size, to }));

/** A deterministic pseudo-random mix: runs of 1..80 datagrams, sizes at every edge, 3 receivers and a blocked address. */
function mixedPlan(count: number, seed: number): Planned[] {
  // mulberry32
  let state = seed;
  const next = (n: number) => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) % n;
  };
  const sizes = [0, 1, 2, 63, 64, 65, 100, 1023, 1024, 1025, 1232, 1233, 1472, 1473, 8000];
  const plan: Planned[] = [];
  while (plan.length < count) {
    const size = sizes[next(sizes.length)]!;
    const to = next(10) === 0 ? -1 : next(3);
    const length = 1 + next(80);
    for (let i = 0; i < length && plan.length < count; i++) plan.push({ size, to });
    // Sometimes a shorter last datagram, sometimes a longer one that breaks the run.
    const twist = next(4);
    if (twist === 0 && size > 1) plan.push({ size: size - 1, to });
    if (twist === 1) plan.push({ size: size + 1, to });
  }
  return plan.slice(0, count);
}

const native = backend === 'native';

describe.runIf(native)('GSO on and off: the same datagrams and callbacks', () => {
  it.each(['udp4', 'udp6'] as const)('%s: 1500 datagrams, mixed sizes, runs and destinations, with sendMany', async (type) => {
    const on = await same(type, mixedPlan(1500, 7), 3);
    expect(on.gsoSends).toBeGreaterThan(10);
  });

  it.each(['udp4', 'udp6'] as const)('%s: the same mix with send() per datagram in one tick (per-datagram callbacks)', async (type) => {
    const on = await same(type, mixedPlan(1200, 99), 3, 'send');
    expect(on.gsoSends).toBeGreaterThan(10);
  });

  // [count, size, UDP_SEGMENT sends, segments they carry]
  it.each([
    [1, 64, 0, 0],
    [2, 64, 1, 2],
    [63, 64, 1, 63],
    [64, 64, 1, 64],
    [65, 64, 1, 64], // 64 + 1 alone
    [128, 64, 2, 128],
    [129, 64, 2, 128],
    [1024, 64, 16, 1024],
    [1025, 64, 16, 1024], // the 1025th goes in the next helper call, alone
    [64, 1023, 1, 64], // 65472 bytes: within 65507
    [64, 1024, 1, 63], // 64 × 1024 would exceed 65507: 63 group, the 64th alone
    [3, 32753, 1, 2], // 2 × 32753 = 65506 fits, the third alone
    [3, 32754, 0, 0], // 2 × 32754 = 65508 does not fit: none grouped
    [2, 65507, 0, 0],
    [5, 0, 0, 0], // empty datagrams never group
    [66, 1, 2, 66],
  ])('%i × %i bytes to one receiver: identical, %i UDP_SEGMENT sends carrying %i', async (count, size, sends, segments) => {
    const on = await same('udp4', runOf(count, size), 1);
    expect({ gsoSends: on.gsoSends, gsoSegments: on.gsoSegments }).toEqual({ gsoSends: sends, gsoSegments: segments });
  });

  it('a shorter last datagram ends a run; a longer one starts a new run', async () => {
    const plan = [...runOf(10, 100), { size: 60, to: 0 }, ...runOf(10, 100), { size: 101, to: 0 }, ...runOf(5, 101)];
    const on = await same('udp6', plan, 1);
    // [10 × 100 + 60], [10 × 100], [101 + 5 × 101]
    expect({ gsoSends: on.gsoSends, gsoSegments: on.gsoSegments }).toEqual({ gsoSends: 3, gsoSegments: 27 });
  });

  it('a run alternating between two receivers never groups', async () => {
    const plan = Array.from({ length: 100 }, (_, i) => ({ size: 64, to: i % 2 }));
    const on = await same('udp4', plan, 2);
    expect(on.gsoSends).toBe(0);
  });

  it.each(['sendMany', 'send'] as const)('EMSGSIZE for an oversize datagram inside a run fails it alone (%s)', async (mode) => {
    const plan = [...runOf(10, 100), { size: 65508, to: 0 }, ...runOf(10, 100), ...runOf(3, 70000), ...runOf(4, 100)];
    const on = await same('udp4', plan, 1, mode);
    if (mode === 'sendMany') expect(on.callbacks).toEqual([`EMSGSIZE ${plan.length - 4}`]);
    else expect(on.callbacks.filter((c) => c === 'EMSGSIZE')).toHaveLength(4);
    expect(on.gsoSends).toBe(3);
  });

  it.each(['sendMany', 'send'] as const)('datagrams to a blocked address (sendBlockList) inside runs fail alone (%s)', async (mode) => {
    const plan = [...runOf(20, 64), ...runOf(5, 64, -1), ...runOf(20, 64), { size: 64, to: -1 }, ...runOf(3, 64)];
    const on = await same('udp6', plan, 1, mode);
    if (mode === 'send') expect(on.callbacks.filter((c) => c === 'ERR_IP_BLOCKED')).toHaveLength(6);
    // Blocked datagrams never reach the queue: the 43 others are one run.
    expect({ gsoSends: on.gsoSends, gsoSegments: on.gsoSegments }).toEqual({ gsoSends: 1, gsoSegments: 43 });
  });

  it.each(['sendMany', 'send'] as const)('EACCES (broadcast without SO_BROADCAST) for runs inside a mix fails each datagram alone (%s)', async (mode) => {
    const plan = [...runOf(20, 64), ...runOf(70, 64, -2), ...runOf(20, 64), { size: 64, to: -2 }, ...runOf(3, 64)];
    const on = await same('udp4', plan, 1, mode);
    if (mode === 'send') expect(on.callbacks.filter((c) => c === 'EACCES')).toHaveLength(71);
    else expect(on.callbacks).toEqual(['EACCES 43']);
  });

  it('a pending ICMP error (ECONNREFUSED) fails the first datagram of a run only, as without GSO', () => {
    // The helper itself: a socket that does not read keeps the error for the next send.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const b: any = createRequire(import.meta.url)('../native/build/Release/udpkit.node');
    const meta = new Int32Array(640);
    const status = new Int32Array(4);
    const closed = b.create(4, () => {}, () => {}, meta, status);
    const out: { port?: number } = {};
    expect(b.bind(closed, '127.0.0.1', 0, 0)).toBe(0);
    b.getsockname(closed, out);
    b.close(closed);
    const outcomes = [false, true].map((gso) => {
      const h = b.create(4, () => {}, () => {}, meta, status);
      b.setGso(h, gso, 0);
      expect(b.bind(h, '127.0.0.1', 0, 0)).toBe(0);
      expect(b.connect(h, '127.0.0.1', out.port)).toBe(0);
      const send = (n: number) => {
        const errnos = new Int32Array(n);
        const offsets = Uint32Array.from({ length: n + 1 }, (_, i) => i * 64);
        expect(b.send(h, Buffer.alloc(64 * n), offsets, new Int32Array(n).fill(-1), Buffer.alloc(28), 0, n, errnos)).toBe(n);
        return [...errnos];
      };
      // Loopback answers within the send: each call finds the error the previous one caused.
      const seen = [send(1), send(5), send(70), send(1)];
      const gsoState = { sends: 0 };
      b.gsoStatus(h, gsoState);
      b.close(h);
      return { seen, sends: gsoState.sends };
    });
    const ECONNREFUSED = -111;
    expect(outcomes[0]!.seen).toEqual([[0], [ECONNREFUSED, 0, 0, 0, 0], [ECONNREFUSED, ...Array(69).fill(0)], [ECONNREFUSED]]);
    expect(outcomes[1]!.seen).toEqual(outcomes[0]!.seen);
    expect(outcomes[0]!.sends).toBe(0);
    expect(outcomes[1]!.sends).toBe(3); // 4, then 64 + 5
  });

  it('a connected socket groups its datagrams to the peer', async () => {
    const rx = await socket('udp4');
    const got: Buffer[] = [];
    rx.on('message', (data) => got.push(data));
    const tx = await socket('udp4');
    await new Promise<void>((resolve) => tx.connect(rx.address().port, '127.0.0.1', resolve));
    const data = Array.from({ length: 130 }, (_, i) => datagram(i, i === 129 ? 7 : 48));
    expect(await sendManyAsync(tx, data.map((d) => ({ data: d })))).toEqual({ error: null, sent: 130 });
    await waitFor(() => got.length === 130, 10_000, '130 datagrams');
    expect(got).toEqual(data);
    expect(tx.stats()).toMatchObject({ datagramsSent: 130, gsoSends: 3, gsoSegments: 130, sendBatches: 1 });
  });
});

describe.runIf(native)('GSO state, fallback and counters', () => {
  it('a bound socket reports GSO on; stats count UDP_SEGMENT sends and segments', async () => {
    const rx = await socket();
    const tx = await socket();
    expect(tx.features.gso).toEqual({ active: true, state: 'on', reason: undefined, code: undefined, maxSegmentSize: 65507 });
    expect(tx.stats()).toMatchObject({ gsoSends: 0, gsoSegments: 0 });
    const got: Buffer[] = [];
    rx.on('message', (data) => got.push(data));
    await sendManyAsync(tx, runOf(200, 64).map((_, i) => ({ data: datagram(i, 64), port: rx.address().port })));
    await waitFor(() => got.length === 200);
    expect(tx.stats()).toMatchObject({ datagramsSent: 200, bytesSent: 12800, sendBatches: 1, gsoSends: 4, gsoSegments: 200 });
  });

  it('an unbound socket is pending until it has a descriptor', () => {
    const tx = track(createSocket('udp4'));
    expect(tx.features.gso).toMatchObject({ active: false, state: 'pending', reason: undefined });
  });

  it('a gso option that is not a boolean throws ERR_INVALID_ARG_TYPE', () => {
    for (const gso of [1, 'yes', null, {}]) {
      expect(() => createSocket({ type: 'udp4', gso } as never)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE', message: expect.stringContaining('"options.gso" property must be of type boolean') }),
      );
    }
  });

  it('gso: false turns it off, and says so', async () => {
    const tx = await socket('udp6', { gso: false });
    expect(tx.features.gso).toMatchObject({ active: false, state: 'off', reason: 'turned off by the gso: false option' });
  });

  async function faulted(fault: string, size: number, type: Family = 'udp4') {
    process.env.UDPKIT_TEST_GSO_FAULT = fault;
    const tx = await socket(type);
    delete process.env.UDPKIT_TEST_GSO_FAULT;
    const rx = await socket(type);
    rx.setRecvBufferSize(4 << 20);
    const got: Buffer[] = [];
    rx.on('message', (data) => got.push(data));
    const data = Array.from({ length: 200 }, (_, i) => datagram(i, size));
    const result = await sendManyAsync(tx, data.map((d) => ({ data: d, port: rx.address().port, address: LOCALHOST[type] })));
    await waitFor(() => got.length === 200, 10_000, '200 datagrams');
    expect(got).toEqual(data);
    expect(result).toEqual({ error: null, sent: 200 });
    return tx;
  }

  it.each([
    ['EIO', 'udp4'],
    ['EINVAL', 'udp4'],
    ['EIO', 'udp6'],
    ['EINVAL', 'udp6'],
  ] as const)('%s from the first UDP_SEGMENT send (%s): every datagram still arrives once, GSO is off since, with the reason', async (code, type) => {
    const tx = await faulted(code, 100, type);
    expect(tx.features.gso).toMatchObject({ active: false, state: 'fallback', code });
    expect(tx.features.gso.reason).toMatch(new RegExp(`^a UDP_SEGMENT send failed with ${code} \\(.+\\); datagrams are sent one by one$`));
    expect(tx.stats()).toMatchObject({ datagramsSent: 200, gsoSends: 0, gsoSegments: 0 });
  });

  it('EINVAL for large segments (over a route MTU) only stops grouping segments that large', async () => {
    const tx = await faulted('EINVAL', 1400);
    expect(tx.features.gso).toMatchObject({ active: true, state: 'on', code: 'EINVAL', maxSegmentSize: 1399 });
    expect(tx.features.gso.reason).toMatch(/1400-byte segments failed with EINVAL/);
    expect(tx.stats().gsoSends).toBe(0);
    // Smaller runs still group.
    const rx = await socket();
    const got: Buffer[] = [];
    rx.on('message', (data) => got.push(data));
    await sendManyAsync(tx, runOf(10, 1399).map((_, i) => ({ data: datagram(i, 1399), port: rx.address().port })));
    await waitFor(() => got.length === 10);
    expect(tx.stats()).toMatchObject({ gsoSends: 1, gsoSegments: 10 });
  });

  // IP_RECVERR is 11 at IPPROTO_IP; IPV6_RECVERR 25 at IPPROTO_IPV6. An IPv6
  // socket takes both: it sends to IPv4-mapped addresses as IPv4.
  it.each([
    ['udp4', 'IP_RECVERR', 'AF_INET', [['IPPROTO_IP', 11]]],
    ['udp6', 'IPV6_RECVERR', 'AF_INET6', [['IPPROTO_IPV6', 25]]],
    ['udp6', 'IP_RECVERR', 'AF_INET6', [['IPPROTO_IP', 11]]],
    ['udp6', 'IP_RECVERR and IPV6_RECVERR', 'AF_INET6', [['IPPROTO_IP', 11], ['IPPROTO_IPV6', 25]]],
  ] as const)('%s: a descriptor adopted with %s reports GSO unsupported, naming it, and its runs go one by one', (type, named, domain, options) => {
    // Neither Node nor udpkit sets IP_RECVERR: a python3 parent (node-gyp's
    // prerequisite) makes such a socket, the child adopts it with bind({ fd }).
    const script = `
      const { createSocket } = await import('@udpkit/core');
      const address = '${LOCALHOST[type]}';
      const rx = createSocket('${type}');
      await new Promise((resolve) => rx.bind(0, address, resolve));
      let got = 0;
      rx.on('message', () => got++);
      const tx = createSocket('${type}');
      await new Promise((resolve) => tx.bind({ fd: Number(process.env.FD) }, resolve));
      const messages = Array.from({ length: 100 }, () => ({ data: Buffer.alloc(64), port: rx.address().port, address }));
      const result = await new Promise((resolve) => tx.sendMany(messages, (error, sent) => resolve([error, sent])));
      const deadline = Date.now() + 10000;
      while (got < 100 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
      console.log(JSON.stringify({ gso: tx.features.gso, result, got, gsoSends: tx.stats().gsoSends }));
      tx.close(); rx.close();`;
    const adopt = [
      'import os, socket, sys',
      `s = socket.socket(socket.${domain}, socket.SOCK_DGRAM)`,
      ...options.map(([level, option]) => `s.setsockopt(socket.${level}, ${option}, 1)`),
      'os.set_inheritable(s.fileno(), True)',
      'os.environ["FD"] = str(s.fileno())',
      'os.execvp(sys.argv[1], sys.argv[1:])',
    ].join('\n');
    const output = execFileSync('python3', ['-c', adopt, process.execPath, '--input-type=module', '-e', script], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      encoding: 'utf8',
      timeout: 30_000,
      env: { ...process.env, UDPKIT_BACKEND: 'native' },
    });
    const outcome = JSON.parse(output.trim().split('\n').at(-1)!);
    expect(outcome).toMatchObject({ result: [null, 100], got: 100, gsoSends: 0 });
    expect(outcome.gso).toMatchObject({ active: false, state: 'unsupported' });
    expect(outcome.gso.reason).toBe(
      `the descriptor has ${named} set, and the kernel reports no ENOBUFS per datagram for a UDP_SEGMENT send`,
    );
  });

  it('a failed probe (ENOPROTOOPT, a kernel before 4.18) reports GSO unsupported; datagrams go one by one', async () => {
    const tx = await faulted('ENOPROTOOPT', 64);
    expect(tx.features.gso).toMatchObject({ active: false, state: 'unsupported', code: 'ENOPROTOOPT' });
    expect(tx.features.gso.reason).toMatch(/^the kernel refused UDP_SEGMENT \(ENOPROTOOPT: /);
    expect(tx.stats().gsoSends).toBe(0);
  });
});

describe.runIf(native && process.getuid?.() === 0)('through a veth with a 1500-byte MTU (a namespace of the test\'s own)', () => {
  it('segments over the MTU: the kernel refuses the UDP_SEGMENT send, the run goes one by one, larger runs stop grouping', () => {
    // 192.0.2.3 is a permanent neighbour on v0: datagrams leave by v0 and v1 drops them.
    const script = `
      const { createSocket } = await import('@udpkit/core');
      const out = {};
      for (const gso of [false, true]) {
        const tx = createSocket({ type: 'udp4', gso });
        await new Promise((resolve) => tx.bind(0, resolve));
        const send = (size, n) => new Promise((resolve) =>
          tx.sendMany(Array.from({ length: n }, () => ({ data: Buffer.alloc(size), port: 9, address: '192.0.2.3' })), (error, sent) => resolve([error?.code ?? null, sent])));
        const results = [await send(1473, 10), await send(1472, 10), await send(1473, 10), await send(8000, 3)];
        const { gsoSends, gsoSegments, datagramsSent } = tx.stats();
        out[gso ? 'on' : 'off'] = { results, gso: tx.features.gso, gsoSends, gsoSegments, datagramsSent };
        tx.close();
      }
      console.log(JSON.stringify(out));`;
    const output = execFileSync(
      'unshare',
      [
        '-n', 'sh', '-c',
        'ip link set lo up && ip link add v0 type veth peer name v1 && ip addr add 192.0.2.1/24 dev v0 && ' +
          'ip link set v0 up && ip link set v1 up && ip neigh add 192.0.2.3 lladdr 02:00:00:00:00:03 dev v0 nud permanent && exec "$@"',
        'sh', process.execPath, '--input-type=module', '-e', script,
      ],
      { cwd: fileURLToPath(new URL('..', import.meta.url)), encoding: 'utf8', timeout: 30_000, env: { ...process.env, UDPKIT_BACKEND: 'native' } },
    );
    const { on, off } = JSON.parse(output.trim().split('\n').at(-1)!);
    // IPv4 fragments a datagram over the MTU: every one goes, GSO or not.
    expect(off.results).toEqual([[null, 10], [null, 10], [null, 10], [null, 3]]);
    expect(on.results).toEqual(off.results);
    expect(on.datagramsSent).toBe(33);
    // Only the 1472-byte run (1500 - 28) was grouped; the first 1473-byte run taught the socket.
    expect({ gsoSends: on.gsoSends, gsoSegments: on.gsoSegments }).toEqual({ gsoSends: 1, gsoSegments: 10 });
    expect(on.gso).toMatchObject({ active: true, state: 'on', maxSegmentSize: 1472 });
    expect(['EMSGSIZE', 'EINVAL']).toContain(on.gso.code);
    expect(on.gso.reason).toMatch(/1473-byte segments failed with (EMSGSIZE|EINVAL)/);
  });
});

describe.runIf(native && process.getuid?.() === 0)('behind a qdisc that holds little (a namespace of the test\'s own)', () => {
  it('a small send buffer keeps pushing back with GSO on: nothing is lost where node:dgram loses nothing', () => {
    // With SO_SNDBUF at its minimum the kernel pushes back (EAGAIN) before
    // a 40 KB qdisc fills, so node:dgram loses nothing. The kernel checks
    // the send buffer before each send, not against its size: a UDP_SEGMENT
    // send as large as 64 KB would overflow the qdisc, which drops silently.
    const script = `
      const dgram = process.env.IMPL === 'node' ? (await import('node:dgram')).default : (await import('@udpkit/core')).default;
      const total = 3000;
      const rx = dgram.createSocket('udp4');
      await new Promise((resolve) => rx.bind(0, '127.0.0.1', resolve));
      rx.setRecvBufferSize(32 << 20);
      const got = [];
      rx.on('message', (data) => got.push(data.readUInt32BE(0)));
      const tx = dgram.createSocket('udp4');
      await new Promise((resolve) => tx.bind(0, '127.0.0.1', resolve));
      tx.setSendBufferSize(1);
      let calls = 0, errors = 0;
      await new Promise((resolve) => {
        for (let i = 0; i < total; i++) {
          const data = Buffer.alloc(1000);
          data.writeUInt32BE(i);
          tx.send(data, rx.address().port, '127.0.0.1', (error) => { calls++; if (error) errors++; if (calls === total) resolve(); });
        }
      });
      const deadline = Date.now() + 15000;
      while (got.length < total && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
      // Each once, in order: a wait for room resumed at the right datagram.
      const inOrder = got.every((n, i) => n === i);
      console.log(JSON.stringify({ calls, errors, received: got.length, inOrder, gsoSends: tx.stats?.().gsoSends ?? 0 }));
      tx.close(); rx.close();`;
    const observe = (impl: 'node' | 'udpkit') => {
      const output = execFileSync(
        'unshare',
        [
          '-n', 'sh', '-c', 'ip link set lo up && tc qdisc add dev lo root tbf rate 50mbit burst 16kb limit 40kb && exec "$@"', 'sh',
          process.execPath, '--input-type=module', '-e', script,
        ],
        { cwd: fileURLToPath(new URL('..', import.meta.url)), encoding: 'utf8', timeout: 30_000, env: { ...process.env, UDPKIT_BACKEND: 'native', IMPL: impl } },
      );
      return JSON.parse(output.trim().split('\n').at(-1)!);
    };
    const theirs = observe('node');
    expect(theirs).toEqual({ calls: 3000, errors: 0, received: 3000, inOrder: true, gsoSends: 0 });
    const ours = observe('udpkit');
    expect(ours).toMatchObject({ calls: 3000, errors: 0, received: 3000, inOrder: true });
    // Still grouped, in groups the send buffer bounds.
    expect(ours.gsoSends).toBeGreaterThan(0);
  });
});

describe('sendSegments', () => {
  it.runIf(native).each(['udp4', 'udp6'] as const)('%s: one buffer in segments, the last shorter, each a datagram', async (type) => {
    const rx = await socket(type);
    rx.setRecvBufferSize(4 << 20);
    const got: Buffer[] = [];
    rx.on('message', (data) => got.push(data));
    for (const gso of [true, false]) {
      const tx = await socket(type, { gso });
      const buffer = Buffer.alloc(1200 * 130 + 17);
      for (let i = 0; i < buffer.length; i++) buffer[i] = (i * 7) & 0xff;
      const result = await new Promise((resolve) => tx.sendSegments(buffer, 1200, rx.address().port, LOCALHOST[type], (error, sent) => resolve({ error, sent })));
      expect(result).toEqual({ error: null, sent: 131 });
      await waitFor(() => got.length === 131, 10_000, '131 segments');
      expect(got).toEqual(Array.from({ length: 131 }, (_, i) => buffer.subarray(i * 1200, (i + 1) * 1200)));
      expect(tx.stats()).toMatchObject({ datagramsSent: 131, gsoSends: gso ? 3 : 0, gsoSegments: gso ? 131 : 0 });
      got.length = 0;
    }
  });

  it.runIf(native)('connected form, default address, a string, and an empty buffer', async () => {
    const rx = await socket();
    const got: string[] = [];
    rx.on('message', (data) => got.push(data.toString()));
    const tx = await socket();
    const sent = (...args: unknown[]) =>
      new Promise((resolve) => (tx.sendSegments as (...a: unknown[]) => void)(...args, (error: Error | null, n: number) => resolve([error, n])));
    expect(await sent('abcdefg', 3, rx.address().port)).toEqual([null, 3]);
    expect(await sent(new Uint8Array(0), 3, rx.address().port)).toEqual([null, 0]);
    await new Promise<void>((resolve) => tx.connect(rx.address().port, '127.0.0.1', resolve));
    expect(await sent(new Uint16Array([0x6968, 0x6a6a]), 2)).toEqual([null, 2]);
    await waitFor(() => got.length === 5);
    expect(got).toEqual(['abc', 'def', 'g', 'hi', 'jj']);
    expect(() => tx.sendSegments('x', 1, 5, '127.0.0.1')).toThrow(expect.objectContaining({ code: 'ERR_SOCKET_DGRAM_IS_CONNECTED' }));
  });

  it.runIf(native)('in order with send() and sendMany of the same tick; a blocked address fails every segment; a host name resolves', async () => {
    const rx = await socket();
    rx.setRecvBufferSize(4 << 20);
    const got: string[] = [];
    rx.on('message', (data) => got.push(data.toString()));
    const blockList = new BlockList();
    blockList.addAddress('127.0.0.9');
    const tx = await socket('udp4', { sendBlockList: blockList });
    const port = rx.address().port;
    const results: unknown[] = [];
    await new Promise<void>((resolve) => {
      tx.send('first', port, '127.0.0.1');
      tx.sendSegments('aabbc', 2, port, '127.0.0.1', (error, sent) => results.push(['segments', error, sent]));
      tx.sendMany([{ data: 'many', port, address: '127.0.0.1' }]);
      tx.sendSegments('xxyy', 2, 9, '127.0.0.9', (error, sent) => results.push(['blocked', (error as NodeJS.ErrnoException).code, sent]));
      tx.sendSegments('hhii', 2, port, 'localhost', (error, sent) => {
        results.push(['localhost', error, sent]);
        resolve();
      });
    });
    await waitFor(() => got.length === 7);
    expect(got).toEqual(['first', 'aa', 'bb', 'c', 'many', 'hh', 'ii']);
    // As for sendMany: a batch that never reaches the kernel calls back first.
    expect(results).toEqual([['blocked', 'ERR_IP_BLOCKED', 0], ['segments', null, 3], ['localhost', null, 2]]);
  });

  it.runIf(native)('reads the buffer when it queues it: changed in the same tick, the change goes; detached or shrunk since the call, nothing goes and the callback says ERR_INVALID_STATE', async () => {
    const rx = await socket();
    const got: string[] = [];
    rx.on('message', (data) => got.push(data.toString()));
    const tx = await socket();
    const port = rx.address().port;
    const changed = Buffer.from('aabb');
    const transferred = new Uint8Array(new ArrayBuffer(4));
    transferred.set(Buffer.from('ccdd'));
    // Resizable ArrayBuffers are ES2024, beyond the lib this package compiles against.
    const resizable = new (ArrayBuffer as unknown as new (length: number, options: { maxByteLength: number }) => ArrayBuffer & { resize(length: number): void })(4, {
      maxByteLength: 8,
    });
    const shrunk = new Uint8Array(resizable);
    shrunk.set(Buffer.from('gghh'));
    const results: unknown[] = [];
    const record = (label: string) => (error: Error | null, sent: number) =>
      results.push([label, (error as NodeJS.ErrnoException | null)?.code ?? null, error?.message ?? null, sent]);
    await new Promise<void>((resolve) => {
      tx.sendSegments(changed, 2, port, '127.0.0.1', record('changed'));
      changed.write('zz', 2);
      tx.sendSegments(transferred, 2, port, '127.0.0.1', record('detached'));
      structuredClone(transferred.buffer, { transfer: [transferred.buffer] });
      tx.sendSegments(shrunk, 2, port, '127.0.0.1', record('shrunk'));
      resizable.resize(2);
      tx.sendSegments('eeff', 2, port, '127.0.0.1', (error, sent) => {
        record('string')(error, sent);
        resolve();
      });
    });
    await waitFor(() => got.length === 4);
    expect(got).toEqual(['aa', 'zz', 'ee', 'ff']);
    // As for sendMany: a batch that never reaches the kernel calls back first.
    const lost = 'Invalid state: the buffer was detached before its datagrams were queued';
    expect(results).toEqual([
      ['detached', 'ERR_INVALID_STATE', lost, 0],
      ['shrunk', 'ERR_INVALID_STATE', lost, 0],
      ['changed', null, null, 2],
      ['string', null, null, 2],
    ]);
  });

  it.runIf(native)("a buffer detached before the call reads as empty, as node:dgram's send() reads it: no datagram, (null, 0)", async () => {
    const detached = () => {
      const view = new Uint8Array(8);
      structuredClone(view.buffer, { transfer: [view.buffer] });
      return view;
    };
    const detachedBuffer = () => {
      const buffer = Buffer.alloc(8); // not from the pool: its ArrayBuffer can be transferred
      structuredClone(buffer.buffer, { transfer: [buffer.buffer] });
      return buffer;
    };
    const inputs = { empty: () => Buffer.alloc(0), detached, detachedBuffer };
    // What each input does, then a marker datagram: the datagrams that came before the marker.
    const observe = async (send: (tx: Socket, data: Uint8Array, port: number, cb: (e: Error | null, n: number) => void) => void, tx: Socket, rx: Socket) => {
      const outcome: Record<string, unknown> = {};
      for (const [label, make] of Object.entries(inputs)) {
        const lengths: number[] = [];
        const onMessage = (data: Buffer) => lengths.push(data.length);
        rx.on('message', onMessage);
        const result = await new Promise((resolve) => send(tx, make(), rx.address().port, (error, n) => resolve([error, n])));
        tx.send('marker', rx.address().port, '127.0.0.1');
        await waitFor(() => lengths.at(-1) === 6, 5000, 'the marker');
        rx.off('message', onMessage);
        outcome[label] = { result, before: lengths.slice(0, -1) };
      }
      return outcome;
    };
    const nodeDgram = (await import('node:dgram')).default;
    const pair = async (create: (type: 'udp4') => Socket) => {
      const made = [create('udp4'), create('udp4')];
      await Promise.all(made.map((s) => new Promise<void>((resolve) => s.bind(0, '127.0.0.1', () => resolve()))));
      return made as [Socket, Socket];
    };
    const [nodeTx, nodeRx] = await pair((type) => nodeDgram.createSocket(type) as unknown as Socket);
    const theirs = await observe((tx, data, port, cb) => tx.send(data, port, '127.0.0.1', cb), nodeTx, nodeRx);
    await closeAll(nodeTx, nodeRx);
    // node:dgram reads a detached buffer as it reads an empty one...
    expect(theirs.detached).toEqual(theirs.empty);
    expect(theirs.detachedBuffer).toEqual(theirs.empty);
    // ...and so does sendSegments, for which an empty buffer is no datagram.
    const [tx, rx] = await pair((type) => track(createSocket(type)));
    const ours = await observe((s, data, port, cb) => s.sendSegments(data, 2, port, '127.0.0.1', cb), tx, rx);
    expect(ours).toEqual({
      empty: { result: [null, 0], before: [] },
      detached: { result: [null, 0], before: [] },
      detachedBuffer: { result: [null, 0], before: [] },
    });
  });

  it.runIf(native)('bad arguments throw Node-style errors before anything is sent', async () => {
    const tx = await socket();
    const call = (...args: unknown[]) => () => (tx.sendSegments as (...a: unknown[]) => void)(...args);
    expect(call(42, 10, 5)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE', message: expect.stringContaining('"buffer" argument') }));
    expect(call('x', '10', 5)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE', message: expect.stringContaining('"segmentSize"') }));
    for (const size of [0, -1, 1.5, 65536, NaN, Infinity]) {
      expect(call('x', size, 5)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE', name: 'RangeError' }));
    }
    expect(call('x', 1, 0)).toThrow(expect.objectContaining({ code: 'ERR_SOCKET_BAD_PORT' }));
    expect(call('x', 1, 70000)).toThrow(expect.objectContaining({ code: 'ERR_SOCKET_BAD_PORT' }));
    expect(call('x', 1)).toThrow(expect.objectContaining({ code: 'ERR_SOCKET_BAD_PORT' }));
    expect(call('x', 1, 5, 7)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE', message: expect.stringContaining('"address"') }));
    expect(call('x', 1, 5, '127.0.0.1', 'cb')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE', message: expect.stringContaining('"callback"') }));
    expect(tx.stats().datagramsSent).toBe(0);
    await closeAll(tx);
    expect(call('x', 1, 5)).toThrow(expect.objectContaining({ code: 'ERR_SOCKET_DGRAM_NOT_RUNNING' }));
  });
});

describe.runIf(!native)('the portable backend', () => {
  it('reports GSO unsupported, with the reason', async () => {
    const tx = await socket();
    expect(tx.features.gso).toEqual({
      active: false,
      state: 'unsupported',
      reason: 'the portable backend sends through node:dgram, which cannot set UDP_SEGMENT',
      code: undefined,
      maxSegmentSize: 0,
    });
    expect(tx.stats()).toMatchObject({ gsoSends: 0, gsoSegments: 0 });
  });

  it('refuses gso: true and sendSegments with ERR_UDPKIT_UNSUPPORTED; gso: false is fine', async () => {
    expect(() => createSocket({ type: 'udp4', gso: true })).toThrow(
      expect.objectContaining({ code: 'ERR_UDPKIT_UNSUPPORTED', message: 'gso is not supported by the portable backend' }),
    );
    const tx = await socket('udp4', { gso: false });
    expect(() => tx.sendSegments('abc', 1, 9, '127.0.0.1')).toThrow(
      expect.objectContaining({ code: 'ERR_UDPKIT_UNSUPPORTED', message: 'sendSegments is not supported by the portable backend' }),
    );
  });
});
