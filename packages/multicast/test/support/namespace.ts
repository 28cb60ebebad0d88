// Runs a scenario of scenarios.mjs in a fresh network namespace (and mount
// namespace, for a sysfs of that network namespace): loopback with a route
// for 224.0.0.0/4, and a veth pair v0/v1 with TEST-NET and ULA addresses.
// Nothing leaves the namespace. Needs root.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const isRoot = process.getuid?.() === 0;
export const backend = process.env.UDPKIT_BACKEND === 'portable' ? 'portable' : 'native';

const scenarios = fileURLToPath(new URL('./scenarios.mjs', import.meta.url));
const setup = [
  'mount -t sysfs sysfs /sys',
  'sysctl -qw net.ipv6.conf.all.accept_dad=0',
  'sysctl -qw net.ipv6.conf.default.accept_dad=0',
  'sysctl -qw net.ipv4.conf.all.rp_filter=0',
  'sysctl -qw net.ipv4.conf.default.rp_filter=0',
  // v1 takes datagrams from v0's address (a local one) as if from another host.
  'sysctl -qw net.ipv4.conf.all.accept_local=1',
  'sysctl -qw net.ipv4.conf.default.accept_local=1',
  'ip link set lo up',
  'ip link set lo multicast on',
  'ip route add 224.0.0.0/4 dev lo',
  'ip link add v0 type veth peer name v1',
  'ip addr add 198.51.100.1/24 dev v0',
  'ip addr add 203.0.113.1/24 dev v1',
  'ip -6 addr add fd00::1/64 dev v0 nodad',
  'ip -6 addr add fd00::2/64 dev v0 nodad',
  'ip link set v0 up',
  'ip link set v1 up',
  // "Running" (what os.networkInterfaces() lists) follows "up" once the
  // kernel's link watch has run: wait for it, at most 5 s.
  'for i in $(seq 100); do ip -o link show v0 | grep -q "state UP" && ip -o link show v1 | grep -q "state UP" && break; sleep 0.05; done',
].join(' && ');

/**
 * Runs `name`; with `ownSysfs: false`, /sys stays the host's, as after a
 * bare `unshare -n`; with `empty`, the namespace has no interface up.
 */
export function runScenario<T = Record<string, unknown>>(name: string, { ownSysfs = true, empty = false } = {}): T {
  let commands = ownSysfs ? setup : setup.replace('mount -t sysfs sysfs /sys && ', '');
  if (empty) commands = 'mount -t sysfs sysfs /sys';
  const output = execFileSync('unshare', ['-n', '-m', 'sh', '-c', `${commands} && exec "$0" "$@"`, process.execPath, scenarios, name], {
    encoding: 'utf8',
    env: { ...process.env, UDPKIT_BACKEND: backend },
    timeout: 30_000,
  });
  return JSON.parse(output.trim().split('\n').at(-1)!) as T;
}

if (!isRoot) console.warn('multicast namespace tests skipped: they need root to make a network namespace (CI runs as root)');
