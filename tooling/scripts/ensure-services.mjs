#!/usr/bin/env node
// Starts MariaDB and Redis on this machine when they are not running (the integration tests need
// both) and installs Debian's Chromium when it is missing (the console's browser tests). Uses the
// machine's own commands; does nothing when all are there.
import { execSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';

const open = (port) =>
  new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
const waitFor = async (port, name) => {
  for (let i = 0; i < 60; i++) {
    if (await open(port)) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${name} did not start on port ${port}`);
};
const services = [
  { name: 'MariaDB', port: 3306, start: 'start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd' },
  {
    name: 'Redis',
    port: 6379,
    start: 'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log',
  },
];
for (const s of services) {
  if (await open(s.port)) continue;
  console.log(`starting ${s.name} (port ${s.port} closed)`);
  execSync(s.start, { stdio: 'inherit', shell: '/bin/bash' });
  await waitFor(s.port, s.name);
}
// The console's end-to-end tests drive Debian's Chromium (never a browser downloaded by a test tool).
const CHROMIUM = '/usr/bin/chromium';
if (!existsSync(CHROMIUM)) {
  console.log('installing Debian chromium (the console end-to-end tests need it)');
  execSync('apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium', { stdio: 'inherit', shell: '/bin/bash' });
}
console.log('services ready: MariaDB 127.0.0.1:3306, Redis 127.0.0.1:6379, Chromium /usr/bin/chromium');
