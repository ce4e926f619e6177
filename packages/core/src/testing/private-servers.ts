/**
 * Private MariaDB and Redis servers for fault tests and the fault benchmark: each on its own free
 * port and data directory, so killing, pausing or restarting one never touches the machine's shared
 * servers. Uses the machine's `mariadb-install-db`, `mariadbd` and `redis-server`.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, child: ChildProcess, what: string, limitMs = 60_000): Promise<void> {
  const until = Date.now() + limitMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode} before listening`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ port, host: '127.0.0.1' });
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > until) throw new Error(`${what} not listening on ${port} after ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface PrivateServer {
  port: number;
  url: string;
  /** The running server's pid (changes on restart). */
  pid(): number;
  /** SIGKILL and wait for the exit. */
  kill(): Promise<void>;
  /** Start again on the same port (MariaDB keeps its data directory; Redis comes back EMPTY). */
  start(): Promise<void>;
  /** SIGSTOP / SIGCONT: a hung server that still holds its connections. */
  pause(): void;
  resume(): void;
  /** Kill and remove the data directory. */
  stop(): Promise<void>;
}

function supervise(name: string, port: number, spawnServer: () => ChildProcess, url: string, cleanup: () => void): PrivateServer {
  let child: ChildProcess | undefined;
  const kill = async () => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    c.kill('SIGCONT');
    c.kill('SIGKILL');
    await exited;
  };
  return {
    port,
    url,
    pid: () => child?.pid ?? -1,
    kill,
    async start() {
      child = spawnServer();
      await waitForPort(port, child, name);
    },
    pause: () => void child?.kill('SIGSTOP'),
    resume: () => void child?.kill('SIGCONT'),
    async stop() {
      await kill();
      cleanup();
    },
  };
}

/** redis-server without persistence (a restart comes back empty, as `save ""` and no AOF do). */
export async function startPrivateRedis(): Promise<PrivateServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'doorman-redis-'));
  const server = supervise(
    'redis-server',
    port,
    () => spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--maxmemory-policy', 'noeviction'], { stdio: 'ignore' }),
    `redis://127.0.0.1:${port}`,
    () => rmSync(dir, { recursive: true, force: true }),
  );
  await server.start();
  return server;
}

/**
 * mariadbd on its own data directory (about 10 s to initialise), root without a password on
 * 127.0.0.1, with database `doorman`. Durable like a production server (`innodb_flush_log_at_trx_commit=1`).
 */
export async function startPrivateMariadb(options: { bufferPoolMb?: number } = {}): Promise<PrivateServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'doorman-mariadb-'));
  const data = join(dir, 'data');
  await promisify(execFile)('mariadb-install-db', ['--no-defaults', `--datadir=${data}`, '--user=root', '--auth-root-authentication-method=normal', '--skip-test-db'], {
    maxBuffer: 16 * 1024 * 1024,
  });
  const args = [
    '--no-defaults',
    `--datadir=${data}`,
    `--port=${port}`,
    '--bind-address=127.0.0.1',
    `--socket=${join(dir, 'mariadb.sock')}`,
    `--pid-file=${join(dir, 'mariadb.pid')}`,
    '--user=root',
    '--skip-log-bin',
    `--innodb-buffer-pool-size=${options.bufferPoolMb ?? 128}M`,
    '--max-connections=500',
  ];
  const server = supervise('mariadbd', port, () => spawn('mariadbd', args, { stdio: 'ignore' }), `mysql://root@127.0.0.1:${port}/doorman`, () =>
    rmSync(dir, { recursive: true, force: true }),
  );
  await server.start();
  // The port opens a moment before the server accepts logins: retry the first statement.
  for (let i = 0; ; i++) {
    try {
      await promisify(execFile)('mariadb', ['-h127.0.0.1', `-P${port}`, '-uroot', '-e', 'CREATE DATABASE IF NOT EXISTS doorman']);
      break;
    } catch (err) {
      if (i > 50) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return server;
}
