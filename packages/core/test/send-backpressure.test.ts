// Sends that wait for room in the kernel's send buffer, on both backends.
// Loopback frees the send buffer as it transmits, so the kernel pushes back
// only with a queue in the way: each scenario runs in a child process inside
// a private network namespace whose lo is rate-limited (needs root; CI runs
// as root). Nothing leaves the namespace.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { backend } from './support/sockets.js';

const canThrottle = process.getuid?.() === 0;
if (!canThrottle) console.warn('send-backpressure: skipped: needs root to make a network namespace');

const packageDir = fileURLToPath(new URL('..', import.meta.url));

/**
 * Runs an ES module in a throttled namespace and returns what it printed
 * last, parsed. `impl` picks the module `dgram` is bound to: node:dgram or
 * udpkit (on the backend under test).
 */
function inThrottledNamespace(
  script: string,
  impl: 'node' | 'udpkit' = 'udpkit',
  { nodeArgs = [] as string[], rate = '200mbit', queue = 'latency 200ms' } = {},
): any {
  const prelude = `
    const dgram = process.env.IMPL === 'node' ? (await import('node:dgram')).default : (await import('@udpkit/core')).default;
    const bound = async (socket) => { await new Promise((resolve) => socket.bind(0, '127.0.0.1', resolve)); return socket; };
    const until = async (what, condition, ms = 15000) => {
      const deadline = Date.now() + ms;
      while (!condition()) {
        if (Date.now() > deadline) return false;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      return true;
    };
  `;
  const output = execFileSync(
    'unshare',
    [
      '-n', 'sh', '-c',
      `ip link set lo up && tc qdisc add dev lo root tbf rate ${rate} burst 16kb ${queue} && exec "$@"`, 'sh',
      process.execPath, ...nodeArgs, '--input-type=module', '-e', prelude + script,
    ],
    { cwd: packageDir, encoding: 'utf8', timeout: 60_000, env: { ...process.env, UDPKIT_BACKEND: backend, IMPL: impl } },
  );
  return JSON.parse(output.trim().split('\n').at(-1)!);
}

describe.runIf(canThrottle)('under sustained backpressure', () => {
  it('keeps memory flat while the queue never drains (heap + ArrayBuffers after GC grow < 8 MB over 50 MB sent)', () => {
    // A producer keeps ~100 datagrams of 1 KiB queued until 50,000 went;
    // memory after GC at 5,000 and at 48,000 is compared while the queue
    // is still backed up (a queue that drains would hide a leak).
    const result = inThrottledNamespace(`
      const total = 50000, waiting = 100;
      const tx = await bound(dgram.createSocket('udp4'));
      tx.setSendBufferSize(1);
      const sink = await bound(dgram.createSocket('udp4'));
      const port = sink.address().port;
      const memory = () => { globalThis.gc(); globalThis.gc(); const m = process.memoryUsage(); return m.heapUsed + m.arrayBuffers; };
      let sent = 0, done = 0, errors = 0, baseline = 0, later = 0, queuedThen = 0;
      const payload = Buffer.alloc(1024);
      await new Promise((resolve) => {
        const onSent = (error) => {
          if (error) errors++;
          done++;
          if (done === 5000) baseline = memory();
          if (done === total - 2000) { later = memory(); queuedThen = tx.getSendQueueCount(); }
          while (sent < total && sent - done < waiting) { sent++; tx.send(payload, port, '127.0.0.1', onSent); }
          if (done === total) resolve();
        };
        for (; sent < waiting; sent++) tx.send(payload, port, '127.0.0.1', onSent);
      });
      tx.close(); sink.close();
      console.log(JSON.stringify({ done, errors, queuedThen, growth: later - baseline }));`, 'udpkit', { nodeArgs: ['--expose-gc'], rate: '100mbit' });
    expect(result).toMatchObject({ done: 50_000, errors: 0 });
    if (backend === 'native') expect(result.queuedThen).toBeGreaterThan(0);
    expect(result.growth).toBeLessThan(8 * 2 ** 20);
  });

  it('an unref()ed socket with sends waiting keeps the process alive until all 2,000 went, as node:dgram', () => {
    // The receiver runs here; the sender is a child in the same namespace
    // that must deliver everything and exit by itself.
    const observe = (impl: 'node' | 'udpkit') =>
      inThrottledNamespace(`
        import('node:child_process').then(async ({ spawn }) => {
          const rx = await bound(dgram.createSocket('udp4'));
          rx.setRecvBufferSize(4 << 20);
          const got = new Set();
          rx.on('message', (data) => got.add(data.readUInt32BE(0)));
          const sender = \`
            const dgram = process.env.IMPL === 'node' ? (await import('node:dgram')).default : (await import('@udpkit/core')).default;
            const tx = dgram.createSocket('udp4');
            await new Promise((resolve) => tx.bind(0, '127.0.0.1', resolve));
            tx.setSendBufferSize(1);
            tx.unref();
            let calls = 0, waited = false;
            for (let i = 0; i < 2000; i++) {
              const data = Buffer.alloc(512);
              data.writeUInt32BE(i);
              tx.send(data, \${rx.address().port}, '127.0.0.1', (error) => {
                if (!error) calls++;
                // Sent while others still wait: the kernel did push back.
                if (tx.getSendQueueCount() > 0) waited = true;
              });
            }
            process.on('exit', () => console.log(JSON.stringify({ calls, waited })));\`;
          const child = spawn(process.execPath, ['--input-type=module', '-e', sender], { stdio: ['ignore', 'pipe', 'inherit'] });
          let out = '';
          child.stdout.on('data', (chunk) => (out += chunk));
          const killer = setTimeout(() => child.kill('SIGKILL'), 20000);
          const code = await new Promise((resolve) => child.on('exit', (c, signal) => resolve(c ?? signal)));
          clearTimeout(killer);
          await until('arrivals', () => got.size === 2000, 3000);
          rx.close();
          console.log(JSON.stringify({ code, sender: out ? JSON.parse(out) : null, received: got.size }));
        });`, impl, { rate: '20mbit' }); // slower than a sender on a busy machine: it must wait
    const theirs = observe('node');
    const ours = observe('udpkit');
    expect(theirs).toEqual({ code: 0, sender: { calls: 2000, waited: true }, received: 2000 });
    expect(ours).toEqual(theirs);
  });

  it("close() with a backlog: 'close' first, then every waiting callback once with ECANCELED, as node:dgram", () => {
    const observe = (impl: 'node' | 'udpkit') =>
      inThrottledNamespace(`
        const total = 3000;
        const rx = await bound(dgram.createSocket('udp4'));
        const tx = await bound(dgram.createSocket('udp4'));
        tx.setSendBufferSize(1);
        const log = [];
        const calls = new Array(total).fill(0);
        for (let i = 0; i < total; i++) {
          tx.send(Buffer.alloc(1200), rx.address().port, '127.0.0.1', (error) => { calls[i]++; log.push(error ? error.code : 'ok'); });
        }
        await new Promise((resolve) => setImmediate(resolve));
        const queued = tx.getSendQueueCount();
        log.push('close()');
        tx.close(() => log.push("'close'"));
        const complete = await until('callbacks', () => calls.every((n) => n > 0) && log.includes("'close'"));
        await new Promise((resolve) => setTimeout(resolve, 50)); // a second callback would show by now
        rx.close();
        // The log in runs: what came, in which order.
        const runs = log.filter((entry, i) => entry !== log[i - 1]);
        console.log(JSON.stringify({ complete, backlog: queued > 0, once: calls.every((n) => n === 1), runs }));`, impl, { rate: '50mbit' });
    const theirs = observe('node');
    const ours = observe('udpkit');
    expect(theirs).toEqual({ complete: true, backlog: true, once: true, runs: ['ok', 'close()', "'close'", 'ECANCELED'] });
    expect(ours).toEqual(theirs);
  });

  it('a callback that throws after a wait for room: the others still run and every datagram goes, as node:dgram', () => {
    // Callbacks after a wait run from the writability callback, in a batch:
    // one that throws must not drop the rest of that batch or stall the queue.
    const observe = (impl: 'node' | 'udpkit') =>
      inThrottledNamespace(`
        const total = 2000;
        const rx = await bound(dgram.createSocket('udp4'));
        rx.setRecvBufferSize(4 << 20);
        const got = new Set();
        rx.on('message', (data) => got.add(data.readUInt32BE(0)));
        const tx = await bound(dgram.createSocket('udp4'));
        tx.setSendBufferSize(1);
        let uncaught = 0, waited = false;
        process.on('uncaughtException', () => uncaught++);
        const calls = new Array(total).fill(0);
        for (let i = 0; i < total; i++) {
          const data = Buffer.alloc(512);
          data.writeUInt32BE(i);
          tx.send(data, rx.address().port, '127.0.0.1', (error) => {
            calls[i]++;
            if (tx.getSendQueueCount() > 0) waited = true;
            if (!error && i % 100 === 50) throw new Error('from ' + i);
          });
        }
        const complete = await until('callbacks', () => calls.every((n) => n > 0) && got.size === total);
        await new Promise((resolve) => setTimeout(resolve, 50)); // a second callback would show by now
        tx.close(); rx.close();
        console.log(JSON.stringify({ complete, waited, once: calls.every((n) => n === 1), uncaught, received: got.size }));`, impl, { rate: '20mbit' });
    const theirs = observe('node');
    const ours = observe('udpkit');
    expect(theirs).toEqual({ complete: true, waited: true, once: true, uncaught: 20, received: 2000 });
    expect(ours).toEqual(theirs);
  });

  it('a send callback that calls sendMany() on a connected socket: the other callbacks never run inside that call', () => {
    // After a wait for room, callbacks run from the writability callback;
    // sendMany() on a connected socket hands its batch over at once. That
    // must not run the callbacks of the rest of the queue inside it, as
    // Node never runs a send callback inside another send call. A long qdisc
    // and a 4 MiB send buffer, so one wake-up sends more than one batch.
    const result = inThrottledNamespace(`
      const total = 20000;
      const rx = await bound(dgram.createSocket('udp4'));
      const tx = await bound(dgram.createSocket('udp4'));
      tx.setSendBufferSize(4 << 20);
      await new Promise((resolve) => tx.connect(rx.address().port, '127.0.0.1', resolve));
      let depth = 0, nested = 0, calls = 0, waited = false, threwOut = 0;
      process.on('uncaughtException', () => {});
      await new Promise((resolve) => {
        for (let i = 0; i < total; i++) {
          tx.send(Buffer.alloc(1), () => {
            depth++;
            calls++;
            if (depth > 1) nested++;
            if (tx.getSendQueueCount() > 1024) waited = true;
            if (calls === total) resolve();
            if (i % 100 === 50) { try { tx.sendMany([{ data: 'x' }]); } catch { threwOut++; } }
            depth--;
            if (i % 100 === 51) throw new Error('from ' + i);
          });
        }
      });
      tx.close(); rx.close();
      console.log(JSON.stringify({ calls, waited, nested, threwOut }));`, 'udpkit', { rate: '5mbit', queue: 'limit 50mb' });
    expect(result).toMatchObject({ calls: 20000, nested: 0, threwOut: 0 });
    // More than a batch waited for room: the case this is about did occur.
    if (backend === 'native') expect(result.waited).toBe(true);
  });

  it('ENOBUFS (a full qdisc) waits for room and retries, as libuv: every datagram arrives, none fails', () => {
    // Linux reports ENOBUFS for UDP only with IP_RECVERR, which neither Node
    // nor udpkit sets: a python3 parent (node-gyp's prerequisite) makes such
    // a socket, the child adopts it with bind({ fd }). The qdisc holds 2 KB.
    const observe = (impl: 'node' | 'udpkit') => {
      const script = `
        const dgram = process.env.IMPL === 'node' ? (await import('node:dgram')).default : (await import('@udpkit/core')).default;
        const total = 300;
        const rx = dgram.createSocket('udp4');
        await new Promise((resolve) => rx.bind(0, '127.0.0.1', resolve));
        const got = new Set();
        rx.on('message', (data) => got.add(data.readUInt32BE(0)));
        const tx = dgram.createSocket('udp4');
        await new Promise((resolve) => tx.bind({ fd: Number(process.env.FD) }, resolve));
        const errors = {};
        let calls = 0;
        for (let i = 0; i < total; i++) {
          const data = Buffer.alloc(200);
          data.writeUInt32BE(i);
          tx.send(data, rx.address().port, '127.0.0.1', (error) => { calls++; if (error) errors[error.code] = (errors[error.code] ?? 0) + 1; });
        }
        const deadline = Date.now() + 15000;
        while ((calls < total || got.size < total) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
        console.log(JSON.stringify({ calls, errors, received: got.size }));
        tx.close(); rx.close();`;
      const recverrSocket = [
        'import os, socket, sys',
        's = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)',
        's.setsockopt(socket.IPPROTO_IP, 11, 1)  # IP_RECVERR',
        's.bind(("127.0.0.1", 0))',
        'os.set_inheritable(s.fileno(), True)',
        'os.environ["FD"] = str(s.fileno())',
        'os.execvp(sys.argv[1], sys.argv[1:])',
      ].join('\n');
      const output = execFileSync(
        'unshare',
        [
          '-n', 'sh', '-c', 'ip link set lo up && tc qdisc add dev lo root tbf rate 2mbit burst 2kb limit 2kb && exec "$@"', 'sh',
          'python3', '-c', recverrSocket, process.execPath, '--input-type=module', '-e', script,
        ],
        { cwd: packageDir, encoding: 'utf8', timeout: 30_000, env: { ...process.env, UDPKIT_BACKEND: backend, IMPL: impl } },
      );
      return JSON.parse(output.trim().split('\n').at(-1)!);
    };
    const theirs = observe('node');
    expect(theirs).toEqual({ calls: 300, errors: {}, received: 300 });
    expect(observe('udpkit')).toEqual(theirs);
  });
});
