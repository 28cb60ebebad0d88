// Source-specific multicast (SSM, RFC 4607): a receiver joins (S1, G) and
// gets what S1 sends to G, while the kernel filters out S2, another host
// sending to the same group. Run as root, it makes its own network
// namespace first (`unshare -n`), so nothing leaves this machine; otherwise
// it says why and exits 0.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { openReceiver, openSender, type MulticastRemoteInfo } from '@udpkit/multicast';

const GROUP = '232.1.2.3';
const S1 = '127.0.0.1';
const S2 = '127.0.0.2';

if (process.env.UDPKIT_EXAMPLE_NETNS !== '1') {
  if (process.getuid?.() !== 0) {
    console.log('multicast-ssm.ts makes a network namespace so no traffic leaves this machine: that needs root. Run it as root.');
    process.exit(0);
  }
  // Loopback in a new namespace, with multicast on and a route for it.
  const setup = 'ip link set lo up && ip link set lo multicast on && ip route add 224.0.0.0/4 dev lo';
  execFileSync(
    'unshare',
    ['-n', 'sh', '-c', `${setup} && exec "$0" "$@"`, process.execPath, ...process.execArgv, fileURLToPath(import.meta.url)],
    { stdio: 'inherit', env: { ...process.env, UDPKIT_EXAMPLE_NETNS: '1' } },
  );
  process.exit(0);
}

// In the namespace: the receiver joins (S1, G) on lo.
const receiver = await openReceiver({ group: GROUP, port: 0, source: S1, interfaces: 'lo' });
const { port } = receiver.address();
console.log(`joined (${S1}, ${GROUP}) on ${receiver.membership.interfaces.join()}`);

// Two senders to the same group and port, from S1 and from S2.
const s1 = await openSender({ group: GROUP, port, source: S1, interface: 'lo' });
const s2 = await openSender({ group: GROUP, port, source: S2, interface: 'lo' });

const last = 'tick 3';
const done = new Promise<void>((resolve) => {
  receiver.on('message', (msg, rinfo: MulticastRemoteInfo) => {
    console.log(`${rinfo.address} -> ${rinfo.destination}: ${msg}`);
    if (String(msg) === last) resolve();
  });
});
// S2 sends each time before S1: had the kernel let S2 through, it would show up first.
for (const tick of ['tick 1', 'tick 2', last]) {
  s2.send(`${tick} (from S2)`);
  s1.send(tick);
}
await done;
console.log(`nothing from ${S2}: the kernel filtered it`);
await Promise.all([receiver.close(), s1.close(), s2.close()]);
