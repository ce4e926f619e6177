/**
 * Fault benchmark (issue #20): deprovisioning under a burst of SCIM deactivations while a dependency
 * fails. Starts its OWN MariaDB and Redis (private data directories, free ports; the machine's shared
 * servers are never touched), one api process (HTTP + outbox relay) and one worker process, as
 * compose.yaml lays them out, then for each scenario seeds fresh users with a membership and an open
 * SSO session each, fires 1,000 `PATCH active=false` at 32 concurrent and injects the fault when 30%
 * have been answered:
 *
 *   none                  no fault: the deprovisioning latency baseline (goal: p99 < 1 s)
 *   worker-kill           the worker is SIGKILLed and a new one started 2 s later
 *   redis-pause           Redis is SIGSTOPped for 10 s (a hung Redis), then SIGCONTed
 *   redis-restart-empty   Redis is SIGKILLed and started again WITHOUT its data
 *   mariadb-restart       MariaDB is SIGKILLed and started again 2 s later
 *
 * and prints per scenario: lost (answered 200, never deprovisioned), duplicated, applied to the wrong
 * person (bystanders who lost something), 500s and 503s answered, whether it recovered without
 * restarting any Doorman process (other than the killed worker), and the p50/p99 from each PATCH's
 * 200 to the person's memberships removed and sessions ended.
 *
 *   npx tsx bench/fault-bench.ts [--users 1000] [--connections 32] [--bystanders 100] [--only name,name]
 *
 * Prints a table and one `BENCH_JSON` line. Every child and private server is stopped at exit.
 */
import { randomBytes } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { createPool, type Pool, type RowDataPacket } from 'mysql2/promise';
import { startPrivateMariadb, startPrivateRedis, freePort, type PrivateServer } from '@doorman/core/testing/servers';
import { bundleGatewayEntries } from './lib/build.ts';
import { cpuSeconds, stopAllChildren, type Child } from './lib/children.ts';
import { createTenant, gatewayEnv, startGateway, type TenantAccess } from './lib/gateway.ts';
import { deactivationBurst, duplicatedDeprovisions, misapplied, openSessions, percentile, startDoneWatcher, type BurstTarget } from './lib/burst.ts';
import { seedUsers } from './lib/seed.ts';

const SCENARIOS = ['none', 'worker-kill', 'redis-pause', 'redis-restart-empty', 'mariadb-restart'] as const;
type Scenario = (typeof SCENARIOS)[number];
const PLUGINS = 'token-auth,role-mapping,scim-users,audit';
/** After the burst, how long every deactivation may take to be applied before it counts as lost. */
const SETTLE_MS = 120_000;

const log = (message: string) => process.stderr.write(`[fault-bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const servers: PrivateServer[] = [];
let pool: Pool | undefined;
let cleaning: Promise<void> | undefined;
async function cleanup() {
  cleaning ??= (async () => {
    for (const s of servers) s.resume();
    await stopAllChildren();
    await pool?.end().catch(() => undefined);
    await Promise.all(servers.map((s) => s.stop().catch(() => undefined)));
  })();
  return cleaning;
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void cleanup().finally(() => process.exit(130)));

interface Result {
  scenario: Scenario;
  lost: number;
  duplicated: number;
  wrongPerson: number;
  status500: number;
  status503: number;
  otherErrors: number;
  recovered: boolean;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  patchSeconds: number;
  /** CPU milliseconds per deactivation of api + worker + MariaDB + Redis, from the first PATCH to the last person done. */
  cpuMsPerDeactivation: number;
  restarted: string;
}

async function main() {
  const { values } = parseArgs({
    options: { users: { type: 'string', default: '1000' }, connections: { type: 'string', default: '32' }, bystanders: { type: 'string', default: '100' }, only: { type: 'string' } },
  });
  const users = Number(values.users);
  const concurrency = Number(values.connections);
  const bystanders = Number(values.bystanders);
  const only = values.only?.split(',').map((s) => s.trim()) ?? [...SCENARIOS];
  for (const name of only) if (!SCENARIOS.includes(name as Scenario)) throw new Error(`unknown scenario '${name}' (${SCENARIOS.join(', ')})`);
  const loadBefore = loadavg()[0]!;

  log('starting a private MariaDB and Redis');
  const [mariadb, redis] = await Promise.all([startPrivateMariadb({ bufferPoolMb: 256 }), startPrivateRedis()]);
  servers.push(mariadb, redis);
  const { gateway: entry } = await bundleGatewayEntries();
  const adminToken = `fault-admin-${randomBytes(24).toString('hex')}`;
  const env = async (role: string) => gatewayEnv(mariadb.url, redis.url, await freePort(), adminToken, PLUGINS, { DOORMAN_ROLE: role });
  const api = await startGateway('api', entry, await env('api'));
  const workerEnv = await env('worker');
  let worker = await startGateway('worker', entry, workerEnv);
  const tenant = await createTenant(api.baseUrl, adminToken, `fault-${randomBytes(3).toString('hex')}`, 'Fault bench');
  pool = createPool({ uri: mariadb.url, connectionLimit: 4, timezone: 'Z' });

  const results: Result[] = [];
  for (const scenario of only as Scenario[]) {
    const pids = { api: api.child.pid, worker: worker.child.pid };
    const faults = {
      async inject(): Promise<string> {
        switch (scenario) {
          case 'none':
            return '';
          case 'worker-kill': {
            worker.child.process.kill('SIGKILL');
            await worker.child.exited;
            await sleep(2_000);
            worker = await startGateway('worker', entry, workerEnv);
            return 'worker (it was killed)';
          }
          case 'redis-pause':
            redis.pause();
            await sleep(10_000);
            redis.resume();
            return '';
          case 'redis-restart-empty':
            await redis.kill();
            await redis.start();
            return '';
          case 'mariadb-restart':
            await mariadb.kill();
            await sleep(2_000);
            await mariadb.start();
            return '';
        }
      },
    };
    results.push(await runScenario(scenario, { api, tenant, users, bystanders, concurrency, faults, pids: () => ({ api: api.child.pid, worker: worker.child.pid }), before: pids }));
  }

  const table = [
    ['scenario', 'lost', 'dup', 'wrong', '500s', '503s', 'other', 'recovered', 'p50 ms', 'p99 ms', 'max ms', 'PATCH s', 'CPU ms/deact', 'restarted'],
    ...results.map((r) => [
      r.scenario,
      r.lost,
      r.duplicated,
      r.wrongPerson,
      r.status500,
      r.status503,
      r.otherErrors,
      r.recovered ? 'yes' : 'NO',
      r.p50Ms.toFixed(0),
      r.p99Ms.toFixed(0),
      r.maxMs.toFixed(0),
      r.patchSeconds.toFixed(1),
      r.cpuMsPerDeactivation.toFixed(2),
      r.restarted || '—',
    ]),
  ].map((row) => row.map(String));
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  for (const row of table) process.stdout.write(`${row.map((c, i) => c.padEnd(widths[i]!)).join('  ')}\n`);
  const baseline = results.find((r) => r.scenario === 'none');
  if (baseline) process.stdout.write(`deprovisioning p99 without faults: ${baseline.p99Ms.toFixed(0)} ms (goal < 1000 ms: ${baseline.p99Ms < 1000 ? 'ok' : 'MISS'})\n`);
  const loadAfter = loadavg()[0]!;
  process.stdout.write(`machine load (1 min): ${loadBefore.toFixed(2)} at start, ${loadAfter.toFixed(2)} at end, on ${cpus().length} cores (shared machine: figures are noisy)\n`);
  const pass = results.every((r) => r.lost === 0 && r.duplicated === 0 && r.wrongPerson === 0 && r.status500 === 0 && r.recovered);
  process.stdout.write(`BENCH_JSON ${JSON.stringify({ bench: 'faults', users, concurrency, bystanders, results, pass, loadAverage: { start: loadBefore, end: loadAfter } })}\n`);
}

async function runScenario(
  scenario: Scenario,
  o: {
    api: { baseUrl: string; child: Child };
    tenant: TenantAccess;
    users: number;
    bystanders: number;
    concurrency: number;
    faults: { inject(): Promise<string> };
    pids: () => { api: number; worker: number; mariadb: number; redis: number };
    before: { api: number; worker: number };
  },
): Promise<Result> {
  const tag = `${scenario.replace(/-/g, '')}${randomBytes(3).toString('hex')}`;
  log(`${scenario}: seeding ${o.users} people to deactivate and ${o.bystanders} bystanders`);
  const seeded = await seedUsers(pool!, { connectionId: o.tenant.connectionId, orgId: o.tenant.orgId, tag }, o.users + o.bystanders);
  const [rows] = await pool!.query<RowDataPacket[]>('SELECT id, user_id FROM connection_users WHERE id IN (?)', [seeded.ids]);
  const userOf = new Map(rows.map((r) => [r.id as string, r.user_id as string]));
  const all: BurstTarget[] = seeded.ids.map((id) => ({ id, userId: userOf.get(id)! }));
  const targets = all.slice(0, o.users);
  const bystanders = all.slice(o.users);
  await openSessions(pool!, o.tenant.connectionId, all.map((t) => t.userId));

  const watcher = startDoneWatcher(pool!, o.tenant.connectionId, targets);
  // CPU of every process serving the burst (a restarted process's CPU is counted from its start).
  const cpuOf = (pids: Record<string, number>) => Object.values(pids).reduce((n, pid) => n + (cpuSeconds(pid) ?? 0), 0);
  const cpuBefore = cpuOf(o.pids());
  let fault: Promise<string> | undefined;
  log(`${scenario}: ${o.users} PATCH active=false at ${o.concurrency} concurrent${scenario === 'none' ? '' : ', fault at 30% answered'}`);
  const started = performance.now();
  const burst = await deactivationBurst({
    baseUrl: o.api.baseUrl,
    token: o.tenant.token,
    targets,
    concurrency: o.concurrency,
    giveUpMs: SETTLE_MS,
    onAnswered: (n) => {
      if (!fault && n >= Math.floor(o.users * 0.3)) fault = o.faults.inject();
    },
  });
  const patchSeconds = (performance.now() - started) / 1000;
  const restarted = (await fault) ?? '';
  const deadline = Date.now() + SETTLE_MS;
  while (watcher.pending.size && Date.now() < deadline) await sleep(100);
  await watcher.stop();
  const cpuUsed = cpuOf(o.pids()) - cpuBefore;

  const latencies = targets.filter((t) => watcher.doneAt.has(t.id) && burst.answeredAt.has(t.id)).map((t) => Math.max(0, watcher.doneAt.get(t.id)! - burst.answeredAt.get(t.id)!));
  const lost = targets.filter((t) => burst.answeredAt.has(t.id) && !watcher.doneAt.has(t.id)).length;
  const now = o.pids();
  const unchanged = now.api === o.before.api && (scenario === 'worker-kill' || now.worker === o.before.worker);
  const result: Result = {
    scenario,
    lost,
    duplicated: await duplicatedDeprovisions(pool!, targets),
    wrongPerson: await misapplied(pool!, o.tenant.connectionId, bystanders.map((b) => b.userId)),
    status500: burst.statuses['500'] ?? 0,
    status503: burst.statuses['503'] ?? 0,
    otherErrors: Object.entries(burst.statuses).filter(([k]) => !['200', '500', '503'].includes(k)).reduce((n, [, v]) => n + v, 0) + burst.unanswered.length,
    recovered: unchanged && lost === 0 && burst.unanswered.length === 0,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    maxMs: percentile(latencies, 100),
    patchSeconds,
    cpuMsPerDeactivation: (cpuUsed * 1000) / Math.max(1, watcher.doneAt.size),
    restarted,
  };
  log(`${scenario}: ${JSON.stringify({ ...result, statuses: burst.statuses })}`);
  return result;
}

main()
  .catch((err) => {
    process.stderr.write(`fault-bench failed: ${(err as Error).stack ?? err}\n`);
    process.exitCode = 1;
  })
  .finally(() => cleanup());
