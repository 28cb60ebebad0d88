// The helper's send() reads its offsets, slots and sockaddr table once:
// here they live in a SharedArrayBuffer that a worker thread keeps
// rewriting with random values while the main thread sends. Every call must
// end in a count or a TypeError, never a crash. The random sockaddrs could
// name any address, so the child runs in a private network namespace with
// only lo up: nothing can leave it (needs root; CI runs as root).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const addon = fileURLToPath(new URL('../native/build/Release/udpkit.node', import.meta.url));
const canUnshare = process.getuid?.() === 0 && spawnSync('unshare', ['-n', 'true']).status === 0;
if (!canUnshare) console.warn('native-send-shared: skipped: needs root to make a network namespace');

const script = `
const { Worker } = require('node:worker_threads');
const b = require(process.env.UDPKIT_ADDON);
const n = 1024;
const shared = new SharedArrayBuffer(4 * (n + 1) + 4 * n + 28 * 64);
const offsets = new Uint32Array(shared, 0, n + 1);
const slots = new Int32Array(shared, 4 * (n + 1), n);
const table = new Uint8Array(shared, 8 * n + 4, 28 * 64);
const slab = Buffer.alloc(64 * 1024);
const errnos = new Int32Array(n);
const h = b.create(4, () => {}, () => {}, new Int32Array(640), new Int32Array(4));
b.bind(h, '127.0.0.1', 0, 0);
const hammer = new Worker(\`
  const { workerData: shared } = require('node:worker_threads');
  const words = new Int32Array(shared);
  for (;;) for (let i = 0; i < words.length; i++) words[i] = (Math.random() * 2 ** 32) | 0;
\`, { eval: true, workerData: shared });
const outcomes = { counts: 0, typeErrors: 0 };
const deadline = Date.now() + 1500;
let calls = 0;
while (calls < 200 || Date.now() < deadline) {
  calls++;
  // A valid batch, that the worker starts to overwrite at once.
  for (let i = 0; i <= n; i++) offsets[i] = i * 16;
  slots.fill(-1);
  try {
    const sent = b.send(h, slab, offsets, slots, table, 0, n, errnos);
    if (sent < 0 || sent > n) throw new Error('count out of range: ' + sent);
    outcomes.counts++;
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    outcomes.typeErrors++;
  }
}
hammer.terminate().then(() => {
  b.close(h);
  console.log(JSON.stringify(outcomes));
});
`;

describe.runIf(canUnshare)('send() with its arrays changed by another thread', () => {
  it('never crashes: each call returns a count or throws a TypeError', () => {
    const r = spawnSync('unshare', ['-n', 'sh', '-c', 'ip link set lo up && exec "$@"', 'sh', process.execPath, '-e', script], {
      env: { ...process.env, UDPKIT_ADDON: addon },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.signal).toBe(null);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const outcomes = JSON.parse(r.stdout);
    expect(outcomes.counts + outcomes.typeErrors).toBeGreaterThanOrEqual(200);
  });
});
