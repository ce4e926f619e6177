import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** A child process of the bench (a gateway or the bare Koa app), with its recent output kept for error reports. */
export interface Child {
  name: string;
  process: ChildProcess;
  pid: number;
  /** Last output lines (stdout and stderr), for diagnostics. */
  tail: string[];
  /** Log lines at warn level or above (pino level >= 40) seen so far. */
  warnings: number;
  /** The first few of them, for the report. */
  warningLines: string[];
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

const children = new Set<Child>();

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Spawns `node <entry>` for a bundle (`.mjs`), `node --import tsx <entry>` for TypeScript, from the
 * repository root, stdin piped (our own entries exit when it closes).
 */
export function startChild(name: string, entry: string, env: NodeJS.ProcessEnv, cwd: string): Child {
  // BENCH_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") is passed to every child's node: profiling a run.
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const loader = entry.endsWith('.ts') ? ['--import', 'tsx'] : [];
  const proc = spawn(process.execPath, [...nodeArgs, ...loader, entry], { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
  const tail: string[] = [];
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code, signal) => resolve((exitCode = code ?? (signal ? -1 : null)))));
  const child: Child = {
    name,
    process: proc,
    pid: proc.pid!,
    tail,
    warnings: 0,
    warningLines: [],
    exited,
    async stop() {
      if (exitCode !== undefined) return;
      // A paused child (pauseChild) acts on SIGTERM only once it runs again.
      proc.kill('SIGCONT');
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
      children.delete(child);
    },
  };
  const collect = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line.trim()) continue;
      const level = /"level":(\d+)/.exec(line);
      if (level && Number(level[1]) >= 40 && child.warnings++ < 5) child.warningLines.push(line.slice(0, 400));
      tail.push(line.length > 500 ? `${line.slice(0, 500)}…` : line);
      if (tail.length > 40) tail.shift();
    }
  };
  proc.stdout!.on('data', collect);
  proc.stderr!.on('data', collect);
  proc.stdin!.on('error', () => undefined);
  children.add(child);
  exited.then(() => children.delete(child));
  return child;
}

/** Every child still running: stopped at exit, even on error or SIGINT. */
export async function stopAllChildren(): Promise<void> {
  await Promise.all([...children].map((c) => c.stop().catch(() => undefined)));
}

/**
 * SIGSTOP: the child keeps its sockets (database and Redis connections stay open) but runs nothing
 * until `resumeChild`; `stop()` resumes it first, so clean-up also ends a paused child.
 */
export function pauseChild(child: Child): void {
  child.process.kill('SIGSTOP');
}

/** SIGCONT: a child paused by `pauseChild` runs again. */
export function resumeChild(child: Child): void {
  child.process.kill('SIGCONT');
}

/** Resolves with the port printed as `READY <port>` by our own entries. */
export async function waitForReadyLine(child: Child, timeoutMs = 60_000): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${child.name} did not start within ${timeoutMs} ms:\n${child.tail.join('\n')}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      const match = /READY (\d+)/.exec(chunk.toString('utf8'));
      if (match) {
        clearTimeout(timer);
        child.process.stdout!.off('data', onData);
        resolve(Number(match[1]));
      }
    };
    child.process.stdout!.on('data', onData);
    child.exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${child.name} exited with ${code} before it was ready:\n${child.tail.join('\n')}`));
    });
  });
}

/** Polls `GET /readyz` until 200 (database and Redis reachable). */
export async function waitForReadyz(child: Child, baseUrl: string, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void child.exited.then(() => (exited = true));
  while (Date.now() < deadline) {
    if (exited) throw new Error(`${child.name} exited before it was ready:\n${child.tail.join('\n')}`);
    try {
      const res = await fetch(`${baseUrl}/readyz`, { signal: AbortSignal.timeout(2_000) });
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${child.name} not ready after ${timeoutMs} ms:\n${child.tail.join('\n')}`);
}

/** Resident set size of a process in MB (Linux /proc), or null when it is gone. */
export function rssMb(pid: number): number | null {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/**
 * CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat (clock ticks of 10 ms;
 * over a run of several seconds that is well under 1%). Null when the process is gone.
 */
export function cpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces), 1-based from field 3: utime is 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

/**
 * The local MariaDB/MySQL server's pid (from its pid file), so the bench can count the database's
 * CPU per request beside the gateway's; null when the server is not on this machine.
 */
export function databasePid(): number | null {
  for (const file of ['/run/mysqld/mysqld.pid', '/var/run/mysqld/mysqld.pid']) {
    try {
      const pid = Number(readFileSync(file, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && cpuSeconds(pid) !== null) return pid;
    } catch {
      // not here
    }
  }
  return null;
}

/** The local Redis server's pid (`pidof redis-server`), or null when it is not on this machine. */
export function redisPid(): number | null {
  try {
    const pid = Number(execFileSync('pidof', ['-s', 'redis-server'], { encoding: 'utf8' }).trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** Samples a process's RSS every 500 ms: the maximum overall and per named phase. */
export class RssSampler {
  max = 0;
  readonly byPhase: Record<string, number> = {};
  private phase = 'startup';
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly pid: number) {
    this.timer = setInterval(() => this.sample(), 500);
    this.timer.unref();
    this.sample();
  }

  setPhase(name: string) {
    this.sample();
    this.phase = name;
  }

  sample() {
    const mb = rssMb(this.pid);
    if (mb === null) return;
    this.max = Math.max(this.max, mb);
    this.byPhase[this.phase] = Math.max(this.byPhase[this.phase] ?? 0, mb);
  }

  stop() {
    this.sample();
    clearInterval(this.timer);
  }
}
