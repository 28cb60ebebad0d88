// Descriptor accounting: many create/bind/close cycles, and sockets dropped
// without close(), leave the process with the descriptors it had. Each case
// runs in a child process (its own /proc/self/fd, --expose-gc). CI runs
// 10,000 cycles; `pnpm test:soak` (UDPKIT_SOAK=1) runs 50,000.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { backend } from './support/sockets.js';

const SOAK = process.env.UDPKIT_SOAK === '1';
const CYCLES = SOAK ? 50_000 : 10_000;
const TIMEOUT_MS = SOAK ? 600_000 : 120_000;

function runChild(script: string): Record<string, number> {
  const output = execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    encoding: 'utf8',
    timeout: TIMEOUT_MS,
    env: { ...process.env, UDPKIT_BACKEND: backend },
  });
  return JSON.parse(output) as Record<string, number>;
}

const prelude = `
  import { createSocket } from '@udpkit/core';
  import { readdirSync } from 'node:fs';
  const fds = () => readdirSync('/proc/self/fd').length;
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const bind = (socket) => new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, socket.type === 'udp6' ? '::1' : '127.0.0.1', () => resolve(socket));
  });
  const close = (socket) => new Promise((resolve) => socket.close(resolve));
  /** Collects garbage until the count is back at \`target\` or 100 rounds passed. */
  const settle = async (target) => {
    for (let i = 0; i < 100 && fds() > target; i++) { globalThis.gc(); await sleep(10); }
    return fds();
  };
  // Warm up: the first socket loads the helper and starts libuv's machinery.
  await close(await bind(createSocket('udp4')));
`;

describe(`descriptors (${CYCLES} cycles)`, () => {
  it(
    'create/bind/close cycles, udp4 and udp6, some with a send in flight, leave none behind',
    () => {
      const result = runChild(`${prelude}
        const before = fds();
        let sent = 0;
        for (let i = 0; i < ${CYCLES}; i++) {
          const socket = await bind(createSocket(i % 2 ? 'udp6' : 'udp4'));
          if (i % 3 === 0) socket.send('x', socket.address().port, i % 2 ? '::1' : '127.0.0.1', () => sent++);
          await close(socket);
        }
        console.log(JSON.stringify({ before, after: await settle(before), sent }));`);
      expect(result.after).toBe(result.before);
    },
    TIMEOUT_MS,
  );

  it(
    'sockets closed during their bind, connect or first send leave none behind',
    () => {
      const result = runChild(`${prelude}
        const before = fds();
        for (let i = 0; i < ${CYCLES / 2}; i++) {
          const socket = createSocket('udp4');
          if (i % 3 === 0) socket.bind(0, '127.0.0.1');
          else if (i % 3 === 1) socket.connect(9, '127.0.0.1');
          else socket.send('x', 9, '127.0.0.1');
          await close(socket);
        }
        console.log(JSON.stringify({ before, after: await settle(before) }));`);
      expect(result.after).toBe(result.before);
    },
    TIMEOUT_MS,
  );

  it(
    'sockets dropped without close() before bind are collected and hold nothing',
    () => {
      const result = runChild(`${prelude}
        const before = fds();
        for (let i = 0; i < ${CYCLES}; i++) createSocket(i % 2 ? 'udp6' : 'udp4');
        console.log(JSON.stringify({ before, after: await settle(before) }));`);
      expect(result.after).toBe(result.before);
    },
    TIMEOUT_MS,
  );

  // A bound socket that does not read (paused) and is dropped is collected,
  // and the native backend closes its descriptor then (README, Lifetime).
  // node:dgram keeps such a descriptor until close(), and so does the
  // portable backend built on it: native only.
  it.runIf(backend === 'native')(
    'bound, paused sockets dropped without close() give their descriptors back after GC',
    () => {
      const result = runChild(`${prelude}
        const before = fds();
        let most = before;
        // In rounds of 500, so that the count stays far below the fd limit.
        for (let round = 0; round < ${CYCLES} / 500; round++) {
          await Promise.all(Array.from({ length: 500 }, () => bind(createSocket('udp4')).then((socket) => socket.pause())));
          most = Math.max(most, fds());
          await settle(before);
        }
        console.log(JSON.stringify({ before, most, after: await settle(before) }));`);
      expect(result.most).toBeGreaterThanOrEqual((result.before as number) + 500);
      expect(result.after).toBe(result.before);
    },
    TIMEOUT_MS,
  );
});
