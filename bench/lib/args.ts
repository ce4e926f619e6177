/** Command-line options of scim-bench.ts. */
export interface BenchOptions {
  /** Users seeded into the main connection. */
  users: number;
  /** Users seeded into the second connection (list-page p99 baseline). */
  smallUsers: number;
  /** Measured seconds per scenario. */
  duration: number;
  /** Warm-up seconds before each measurement (discarded). */
  warmup: number;
  /** Concurrent HTTP connections (autocannon). */
  connections: number;
  quick: boolean;
  /** Auth overhead control: token-auth on both sides, to show the measurement's resolution. */
  authControl: boolean;
}

const USAGE = 'usage: scim-bench [--users N] [--duration SECONDS] [--connections N] [--warmup SECONDS] [--small-users N] [--quick] [--auth-control]';

/** Parses argv (without node and script); throws with the usage line on anything unknown or invalid. */
export function parseBenchArgs(argv: readonly string[]): BenchOptions {
  const quick = argv.includes('--quick');
  const authControl = argv.includes('--auth-control');
  const options: BenchOptions = quick
    ? { users: 2_000, smallUsers: 1_000, duration: 3, warmup: 1, connections: 32, quick, authControl }
    : { users: 100_000, smallUsers: 1_000, duration: 10, warmup: 2, connections: 32, quick, authControl };
  const numeric: Record<string, keyof BenchOptions> = {
    '--users': 'users',
    '--small-users': 'smallUsers',
    '--duration': 'duration',
    '--warmup': 'warmup',
    '--connections': 'connections',
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--quick' || arg === '--split' || arg === '--auth-control' || arg === '--') continue;
    const [flag, inline] = arg.split('=', 2) as [string, string | undefined];
    const key = numeric[flag];
    if (!key) throw new Error(`unknown option ${arg}\n${USAGE}`);
    const raw = inline ?? argv[++i];
    const value = Number(raw);
    const min = key === 'warmup' ? 0 : 1;
    if (raw === undefined || !Number.isFinite(value) || value < min) throw new Error(`${flag} needs a number >= ${min}\n${USAGE}`);
    (options as unknown as Record<string, number>)[key] = key === 'duration' || key === 'warmup' ? value : Math.floor(value);
  }
  // The deactivate scenario needs distinct active users; list pages need at least one page.
  if (options.users < 200) throw new Error(`--users must be at least 200\n${USAGE}`);
  if (options.smallUsers < 100) throw new Error(`--small-users must be at least 100\n${USAGE}`);
  return options;
}
