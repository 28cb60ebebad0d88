#!/usr/bin/env bash
# Runs the native helper's paths (those of test/native-binding.test.ts) in a
# plain node script under valgrind memcheck. Exits non-zero on any memory
# error, on a definite leak, or on any valgrind report that names udpkit.
# The suppressions cover Node/V8 internals only, never udpkit frames.
# UDPKIT_MEMCHECK_ONLY=gso runs only the GSO send part (the whole run is slow).
set -euo pipefail

cd "$(dirname "$0")/.."
addon="$PWD/native/build/Release/udpkit.node"
[ -f "$addon" ] || node scripts/build-native.mjs
command -v valgrind >/dev/null || { echo "memcheck: valgrind is not installed" >&2; exit 2; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cat >"$work/node.supp" <<'EOF'
{
   node-thread-tls-at-exit
   Memcheck:Leak
   match-leak-kinds: possible
   fun:calloc
   ...
   fun:pthread_create*
}
{
   v8-conservative-stack-scan-reads-uninitialised-stack-words
   Memcheck:Cond
   fun:*IteratePointersInStack*
}
EOF

cat >"$work/exercise.mjs" <<'EOF'
// Every path of the helper, briefly; output is checked at the end.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

const b = createRequire(import.meta.url)(process.env.UDPKIT_ADDON);
const meta = new Int32Array(640);
const status = new Int32Array(4);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// Packs views (or arrays of views) and sockaddr()/null destinations the way
// the helper takes a batch (BINDING.md).
function pack(datagrams, dests) {
  const offsets = new Uint32Array(datagrams.length + 1);
  const parts = datagrams.map((d) => (Array.isArray(d) ? d : [d]).map((v) => Buffer.from(v.buffer, v.byteOffset, v.byteLength)));
  parts.forEach((p, i) => (offsets[i + 1] = offsets[i] + p.reduce((n, v) => n + v.length, 0)));
  const unique = [...new Set((dests ?? []).filter((d) => d))];
  const table = Buffer.alloc(28 * Math.max(1, unique.length));
  unique.forEach((d, i) => d.copy(table, i * 28));
  const slots = Int32Array.from(datagrams, (_, i) => (dests?.[i] ? unique.indexOf(dests[i]) : -1));
  return [Buffer.concat(parts.flat()), offsets, slots, table];
}
let errnos = new Int32Array(0);
const send = (h, datagrams, dests, start, end) => b.send(h, ...pack(datagrams, dests), start, end, (errnos = new Int32Array(datagrams.length)));
async function until(what, fn, ms = 30000) {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error('timed out: ' + what);
    await sleep(5);
  }
}
function peer(family = 4) {
  const p = { got: [], errors: [], dests: [], segments: [] };
  p.h = b.create(family, (n, data, addrs, dests) => {
    if (n < 0) return void p.errors.push(n);
    for (let i = 0; i < n; i++) {
      p.got.push(Buffer.from(data, meta[i * 10], meta[i * 10 + 1]));
      p.segments.push(meta[i * 10 + 8]);
      if (dests) p.dests.push(dests[i]);
    }
  }, () => p.onwritable?.(), meta, status);
  assert.equal(b.bind(p.h, family === 4 ? '127.0.0.1' : '::1', 0, 0), 0);
  const out = {};
  assert.equal(b.getsockname(p.h, out), 0);
  assert.ok(b.fileno(p.h) > 0);
  p.port = out.port;
  p.to = b.sockaddr(family, family === 4 ? '127.0.0.1' : '::1', p.port);
  return p;
}
const numbered = (n, size = 64) => Array.from({ length: n }, (_, i) => { const d = Buffer.alloc(size); d.writeUInt32BE(i); return d; });

// GSO send: runs grouped (a shorter last, 64-datagram limit), oversize
// datagrams alone, a forced EIO fallback, an EINVAL cap, a failed probe,
// off and on again, a pending ICMP error inside a run
for (const family of [4, 6]) {
  const rx = peer(family), tx = peer(family);
  b.bufferSize(rx.h, 4 << 20, true);
  b.recvStart(rx.h);
  const st = {};
  const sizes = [...Array(130).fill(100), 60, 70000, 70000, ...Array(70).fill(1)];
  const data = sizes.map((size, i) => Buffer.alloc(size, i));
  const expected = sizes.map((size) => (size > 65507 ? -90 : 0));
  assert.equal(send(tx.h, data, Array(data.length).fill(rx.to), 0, data.length), data.length);
  assert.deepEqual([...errnos], expected);
  b.gsoStatus(tx.h, st);
  assert.equal(st.state, 1);
  assert.equal(st.sends, 5);
  b.setGso(tx.h, true, 5); // EIO
  assert.equal(send(tx.h, data, Array(data.length).fill(rx.to), 0, data.length), data.length);
  assert.deepEqual([...errnos], expected);
  b.gsoStatus(tx.h, st);
  assert.equal(st.state, 4);
  assert.equal(st.errno, -5);
  b.setGso(tx.h, false, 0);
  b.setGso(tx.h, true, 22); // EINVAL, for 1400-byte segments: a cap
  assert.equal(send(tx.h, numbered(10, 1400), Array(10).fill(rx.to), 0, 10), 10);
  b.gsoStatus(tx.h, st);
  assert.deepEqual([st.state, st.maxSize], [1, 1399]);
  await until('gso', () => rx.got.length === 2 * (data.length - 2) + 10);
  const lazy = b.create(family, () => {}, () => {}, meta, status);
  b.setGso(lazy, true, 92); // ENOPROTOOPT
  send(lazy, numbered(2), [rx.to, rx.to], 0, 2);
  b.gsoStatus(lazy, st);
  assert.equal(st.state, 3);
  const closedPort = rx.port;
  b.close(rx.h);
  b.connect(tx.h, family === 4 ? '127.0.0.1' : '::1', closedPort);
  send(tx.h, numbered(1), null, 0, 1);
  assert.equal(send(tx.h, numbered(5), null, 0, 5), 5);
  assert.deepEqual([...errnos], [-111, 0, 0, 0, 0]);
  for (const h of [tx.h, lazy]) b.close(h);
  b.gsoStatus(tx.h, st);
}
if (process.env.UDPKIT_MEMCHECK_ONLY === 'gso') {
  console.log('exercise: ok');
  process.exit(0);
}

// the receive pool: small batches fill it back to back, a larger one gets
// its own memory, a full pool is let go, and one the listener detaches
// (transfers) is replaced; no byte handed out is written again
{
  const kept = [];
  let batches = 0;
  const h = b.create(4, (n, data) => {
    for (let i = 0; i < n; i++) kept.push(Buffer.from(Buffer.from(data, meta[i * 10], meta[i * 10 + 1])));
    if (++batches % 7 === 0) structuredClone(data, { transfer: [data] });
  }, () => {}, meta, status);
  assert.equal(b.bind(h, '127.0.0.1', 0, 0), 0);
  const out = {};
  b.getsockname(h, out);
  const to = b.sockaddr(4, '127.0.0.1', out.port);
  b.recvStart(h);
  const tx = peer();
  const sent = [];
  for (let burst = 0; burst < 60; burst++) {
    const sizes = Array.from({ length: 1 + (burst % 4) }, (_, k) => [0, 1, 9, 1023, 2048, 4097][(burst + k) % 6]);
    const data = sizes.map((size, k) => Buffer.alloc(size, burst * 4 + k));
    sent.push(...data);
    assert.equal(send(tx.h, data, Array(data.length).fill(to), 0, data.length), data.length);
    await until('pool burst', () => kept.length === sent.length);
  }
  assert.deepEqual(kept.map((d) => d.toString('hex')), sent.map((d) => d.toString('hex')));
  b.close(h);
  b.close(tx.h);
}

// batches, mixed and connected destinations, gathering, IPv6
for (const family of [4, 6]) {
  const rx = peer(family), rx2 = peer(family), tx = peer(family);
  b.bufferSize(rx.h, 4 << 20, true);
  b.setRecvMetadata(rx.h, 3);
  b.recvStart(rx.h);
  b.recvStart(rx2.h);
  assert.equal(send(tx.h, [], [], 0, 0), 0);
  assert.equal(send(tx.h, numbered(1024), Array(1024).fill(rx.to), 0, 1024), 1024);
  assert.throws(() => send(tx.h, numbered(1025), Array(1025).fill(rx.to), 0, 1025), TypeError);
  await until('1024', () => rx.got.length === 1024);
  rx.got.forEach((d, i) => assert.equal(d.readUInt32BE(0), i));
  b.connect(tx.h, family === 4 ? '127.0.0.1' : '::1', rx2.port);
  const gathered = [[Buffer.from('ab'), new Uint16Array(3)], [], new DataView(new ArrayBuffer(5), 1, 3), Buffer.from('x')];
  assert.equal(send(tx.h, gathered, [null, rx.to, null, rx.to], 0, 4), 4);
  await until('gathered', () => rx2.got.length === 2 && rx.got.length === 1026);
  b.disconnect(tx.h);
  for (const p of [rx, rx2, tx]) b.close(p.h);
}

// EMSGSIZE by index, EDESTADDRREQ
{
  const rx = peer(), tx = peer();
  b.recvStart(rx.h);
  const d = [Buffer.from('a'), Buffer.alloc(65508), Buffer.from('b')];
  assert.equal(send(tx.h, d, [rx.to, rx.to, rx.to], 0, 3), 3);
  assert.deepEqual([...errnos], [0, -90, 0]);
  assert.equal(status[0], 0);
  assert.equal(status[3], 2);
  assert.equal(send(tx.h, [Buffer.from('z')], null, 0, 1), 1);
  assert.equal(errnos[0], -89);
  await until('2', () => rx.got.length === 2);
  b.close(rx.h); b.close(tx.h);
}

// recvStop/recvStart, drops, awaitWritable, ECONNREFUSED
{
  const rx = peer(), tx = peer();
  b.bufferSize(rx.h, 1, true);
  send(tx.h, numbered(300), Array(300).fill(rx.to), 0, 300);
  b.recvStart(rx.h);
  b.recvStop(rx.h);
  b.recvStart(rx.h);
  await sleep(200);
  const n = rx.got.length;
  send(tx.h, [Buffer.from('last')], [rx.to], 0, 1);
  await until('last', () => rx.got.length === n + 1);
  assert.equal(status[1], 300 - n);
  let writable = 0;
  tx.onwritable = () => writable++;
  b.unref(tx.h); // a writability wait holds the loop even so
  assert.equal(b.awaitWritable(tx.h), 0);
  await until('writable', () => writable === 1);
  b.ref(tx.h);
  const port = rx.port;
  b.close(rx.h);
  b.recvStart(tx.h);
  b.connect(tx.h, '127.0.0.1', port);
  send(tx.h, [Buffer.from('x')], null, 0, 1);
  await until('ECONNREFUSED', () => tx.errors.length === 1);
  b.close(tx.h);
}

// GRO: coalesced reads from a GSO sender, one of them cut (setRecvSlot);
// UDP_GRO asked for before the descriptor exists and after
{
  const rx = peer(6);
  assert.equal(b.setGro(rx.h), 0);
  assert.equal(b.groState(rx.h), 1);
  b.setRecvMetadata(rx.h, 3);
  b.recvStart(rx.h);
  execFileSync(process.env.GSO_SEND, ['::1', String(rx.port), '64:4096', '100:250', '7:7']);
  await until('gro', () => rx.got.length === 3);
  assert.deepEqual(rx.got.map((d) => d.length), [4096, 250, 7]);
  assert.deepEqual(rx.segments, [64, 100, 0]);
  assert.equal(b.setRecvSlot(rx.h, 1000), 0);
  execFileSync(process.env.GSO_SEND, ['::1', String(rx.port), '64:4096']);
  await until('cut', () => rx.got.length === 4);
  assert.equal(rx.got[3].length, 1000);
  b.close(rx.h);
  const lazy = b.create(4, () => {}, () => {}, meta, status);
  assert.equal(b.setGro(lazy), 0);
  assert.equal(b.groState(lazy), 0);
  b.bind(lazy, '127.0.0.1', 0, 0);
  assert.equal(b.groState(lazy), 1);
  b.close(lazy);
}

// send() with offsets and slots in a SharedArrayBuffer rewritten by another
// thread (the table stays zeros: any slot names port 0, which never sends)
{
  const n = 64;
  const shared = new SharedArrayBuffer(4 * (n + 1) + 4 * n);
  const offsets = new Uint32Array(shared, 0, n + 1);
  const slots = new Int32Array(shared, 4 * (n + 1), n);
  const table = Buffer.alloc(28 * 4);
  const tx = peer();
  const hammer = new Worker(`
    const { workerData: shared } = require('node:worker_threads');
    const words = new Int32Array(shared);
    for (;;) for (let i = 0; i < words.length; i++) words[i] = (Math.random() * 2 ** 32) | 0;`, { eval: true, workerData: shared });
  await sleep(200);
  for (let k = 0; k < 50; k++) {
    for (let i = 0; i <= n; i++) offsets[i] = i;
    slots.fill(-1);
    try { b.send(tx.h, Buffer.alloc(n), offsets, slots, table, 0, n, new Int32Array(n)); } catch (e) { assert.ok(e instanceof TypeError); }
  }
  await hammer.terminate();
  b.close(tx.h);
}

// options and membership
{
  const p = peer(), q = peer(6);
  for (const h of [p.h, q.h]) {
    b.setBroadcast(h, true); b.setTTL(h, 9); b.setTTL(h, 0); b.setMulticastTTL(h, 3);
    b.setMulticastLoopback(h, true); b.setMulticastAll(h, false);
    b.bufferSize(h, 0, true); b.bufferSize(h, 9000, false); b.setRecvMetadata(h, 2);
    b.ref(h); b.unref(h); b.ref(h);
  }
  b.setMulticastInterface(p.h, '127.0.0.1'); b.setMulticastInterface(q.h, '::%lo');
  b.setMembership(p.h, '239.1.2.3', '127.0.0.1', true);
  b.setSourceMembership(p.h, '127.0.0.1', '232.1.2.3', undefined, true);
  b.blockSource(p.h, '127.0.0.2', '239.1.2.3', undefined, true);
  b.setMembership(q.h, 'ff12::1', '::%lo', true);
  b.setSourceMembership(q.h, '::1', 'ff32::8000:1', '::%lo', true);
  const lazy = b.create(4, () => {}, () => {}, meta, status);
  b.setMembership(lazy, '239.1.2.3', undefined, true);
  b.close(lazy); b.close(p.h); b.close(q.h);
  b.guessHandleType(0); b.guessHandleType(1 << 30);
}

// open(fd) of another handle's descriptor
{
  const socks = () => readdirSync('/proc/self/fd').filter((f) => { try { return readlinkSync('/proc/self/fd/' + f).startsWith('socket:'); } catch { return false; } });
  const before = new Set(socks());
  const a = peer();
  const fd = Number(socks().find((f) => !before.has(f)));
  let adopted = 0;
  // created for IPv6: the adopted descriptor's own family wins
  const h = b.create(6, (n) => { adopted += n; }, () => {}, meta, status);
  assert.equal(b.open(h, fd), 0);
  assert.equal(b.open(h, fd), -16);
  b.recvStart(h);
  const tx = peer();
  send(tx.h, [Buffer.from('adopted')], [a.to], 0, 1);
  await until('adopted', () => adopted === 1);
  b.close(h); // closes fd; a still thinks it owns it
  b.close(a.h); b.close(tx.h);
}

// junk arguments
{
  const h = b.create(4, () => {}, () => {}, meta, status);
  const names = Object.keys(b).filter((k) => !['create', 'sockaddr', 'guessHandleType'].includes(k));
  const junk = [undefined, null, 1, 'x', {}, [], Symbol(), 1n, () => {}, meta, Buffer.alloc(8), Object.create(h)];
  let thrown = 0;
  for (const name of names) {
    for (const j of junk) {
      try { b[name](j, j, j, j, j); } catch { thrown++; }
      try { b[name](h, j, j, j, j); } catch { thrown++; }
    }
  }
  for (const args of [[], [5], [4, 1, 1, meta, status], [4, () => {}, () => {}, new Int32Array(8), status]]) {
    try { b.create(...args); } catch { thrown++; }
  }
  const x = Buffer.from('x');
  for (const args of [[x, [0, 1], new Int32Array(1), x], [x, new Uint32Array([0, 9]), new Int32Array(1), x],
                      [x, new Uint32Array([0, 1]), new Int32Array([5]), Buffer.alloc(28)], [1, 2, 3, 4]]) {
    try { b.send(h, ...args, 0, 1, new Int32Array(1)); } catch { thrown++; }
  }
  assert.ok(thrown > names.length * junk.length);
  b.close(h);
  for (const name of names) { try { b[name](h, '127.0.0.1', 1, 0, true); } catch { /* type errors */ } }
  send(h, [Buffer.from('x')], null, 0, 1);
  assert.equal(status[0], -9);
}

// an exception from a callback, handled
{
  const rx = peer(), tx = peer();
  let caught = 0;
  const onUncaught = () => caught++;
  process.on('uncaughtException', onUncaught);
  const h = b.create(4, () => { throw new Error('from onmessages'); }, () => {}, meta, status);
  b.bind(h, '127.0.0.1', 0, 0);
  const out = {}; b.getsockname(h, out);
  b.recvStart(h);
  send(tx.h, [Buffer.from('x')], [b.sockaddr(4, '127.0.0.1', out.port)], 0, 1);
  await until('uncaught', () => caught === 1);
  process.off('uncaughtException', onUncaught);
  b.close(h); b.close(rx.h); b.close(tx.h);
}

// one datagram per onmessage call while status[2] asks: a throwing one,
// close() from inside one (its async context outlives the call), and
// many handles reading through the thread's one set of receive buffers
{
  const tx = peer();
  let caught = 0;
  const onUncaught = () => caught++;
  process.on('uncaughtException', onUncaught);
  const each = (onmessage) => {
    const st = new Int32Array(4);
    const p = { seen: 0 };
    p.h = b.create(4, (n) => { st[2] = n; }, () => {}, meta, st, function () { st[2]--; p.seen++; onmessage(p); });
    assert.equal(b.bind(p.h, '127.0.0.1', 0, 0), 0);
    const out = {}; b.getsockname(p.h, out);
    p.to = b.sockaddr(4, '127.0.0.1', out.port);
    b.recvStart(p.h);
    return p;
  };
  const thrower = each(() => { throw new Error('from onmessage'); });
  const closer = each((p) => { if (p.seen === 2) b.close(p.h); });
  const quiet = Array.from({ length: 20 }, () => each(() => {}));
  send(tx.h, numbered(5), Array(5).fill(thrower.to), 0, 5);
  send(tx.h, numbered(5), Array(5).fill(closer.to), 0, 5);
  for (const q of quiet) send(tx.h, numbered(3, 1500), Array(3).fill(q.to), 0, 3);
  await until('each', () => thrower.seen === 5 && caught === 5 && quiet.every((q) => q.seen === 3));
  await sleep(50);
  assert.equal(closer.seen, 2);
  process.off('uncaughtException', onUncaught);
  for (const p of [thrower, ...quiet, tx]) b.close(p.h);
}

// dropped handles: finalizers close what was never closed
(function drop() {
  for (let i = 0; i < 20; i++) {
    const p = peer(i % 2 ? 6 : 4);
    if (i % 3 === 0) { b.recvStart(p.h); b.recvStop(p.h); }
    if (i % 4 === 0) send(p.h, [Buffer.from('x')], [p.to], 0, 1);
  }
})();
for (let i = 0; i < 5; i++) { globalThis.gc(); await sleep(20); }

// a worker's environment torn down with open handles
{
  const code = `
    const b = require(process.env.UDPKIT_ADDON);
    const meta = new Int32Array(640), status = new Int32Array(4);
    const handles = [];
    for (let i = 0; i < 6; i++) {
      const h = b.create(4, () => {}, () => {}, meta, status);
      b.bind(h, '127.0.0.1', 0, 0);
      if (i % 2) b.recvStart(h);
      handles.push(h);
    }
    // the worker's own receive buffers: one datagram read before the end
    const out = {};
    b.getsockname(handles[1], out);
    const reader = b.create(4, () => {
      b.close(handles[5]);
      require('node:worker_threads').parentPort.postMessage('ready');
    }, () => {}, meta, status);
    b.bind(reader, '127.0.0.1', 0, 0);
    b.getsockname(reader, out);
    b.recvStart(reader);
    const table = Buffer.alloc(28);
    b.sockaddr(4, '127.0.0.1', out.port).copy(table);
    b.send(handles[0], Buffer.from('w'), new Uint32Array([0, 1]), new Int32Array([0]), table, 0, 1, new Int32Array(1));
    globalThis.handles = [...handles, reader];`;
  const w = new Worker(code, { eval: true });
  await new Promise((r) => w.once('message', r));
  await w.terminate();
}

// left open at exit: environment teardown closes them
{
  const left = peer();
  b.recvStart(left.h);
  b.unref(left.h);
  peer(6);
}
console.log('exercise: ok');
EOF

log="$work/valgrind.log"
status=0
gcc -O2 -o "$work/gso-send" test/support/gso-send.c
UDPKIT_ADDON="$addon" GSO_SEND="$work/gso-send" valgrind --tool=memcheck --error-exitcode=1 \
  --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite \
  --suppressions="$work/node.supp" --log-file="$log" \
  node --jitless --expose-gc "$work/exercise.mjs" || status=$?

grep -E "ERROR SUMMARY|definitely lost" "$log" | sed 's/^==[0-9]*== //'
if grep -q "udpkit" "$log"; then
  echo "memcheck: valgrind reports mention udpkit:" >&2
  grep -B2 -A25 "udpkit" "$log" | head -120 >&2
  status=1
fi
if [ "$status" -ne 0 ]; then
  echo "memcheck: FAILED (exit $status)" >&2
  tail -60 "$log" >&2
  exit "$status"
fi
echo "memcheck: clean"
