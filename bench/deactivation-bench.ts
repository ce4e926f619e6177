/**
 * Deactivation benchmark (issue #6): end-to-end deprovisioning throughput — SCIM PATCH
 * `active=false` accepted → outbox → BullMQ → worker → the memberships gone — for N seeded users,
 * against the same run's BullMQ jobs that each make one durable DELETE on the same MariaDB (the
 * ceiling, issue #26: the least a deprovisioning job must do), and, for information, against raw
 * BullMQ no-op jobs on the same Redis.
 *
 *   npx tsx bench/deactivation-bench.ts [--users 10000] [--connections 32] [--quick] [--split]
 *
 * --split runs the API (HTTP + outbox relay) and the job worker as two processes, as compose.yaml does;
 * without it one process runs in role `all`.
 *
 * Prints a table and one `BENCH_JSON {...}` line. Loopback only; the gateway child, the database
 * and the run's Redis keys are removed at exit, also on error and on SIGINT.
 */
import { randomBytes } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { createPool, type Pool, type RowDataPacket } from 'mysql2/promise';
import { measureBullmqThroughput } from '@doorman/jobs/bench';
import { bundleGatewayEntries } from './lib/build.ts';
import { parseBenchArgs } from './lib/args.ts';
import { databasePid, freePort, redisPid, stopAllChildren } from './lib/children.ts';
import { createBenchStores, createTenant, dropBenchStores, gatewayEnv, startGateway } from './lib/gateway.ts';
import { cpuPerRequest, cpuSnapshot, measure, stopLoad } from './lib/load.ts';
import { cpuBudgetMicros, cpuParts, cpuTotal } from './lib/report.ts';
import { createCeilingRows, PATCH_OP, seedUsers } from './lib/seed.ts';

/** Issue #26: end-to-end deactivations ≥ 25% of BullMQ jobs each making one durable DELETE. */
const TARGET = 0.25;
const log = (message: string) => process.stderr.write(`[deactivation-bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);

const state: { dbName?: string; redisDb?: number; pool?: Pool } = {};
let cleaning: Promise<void> | undefined;
async function cleanup() {
  cleaning ??= (async () => {
    stopLoad();
    await stopAllChildren();
    await state.pool?.end().catch(() => undefined);
    await dropBenchStores(state, ['{doorman}:*', '{bench-ceiling}:*']);
  })();
  return cleaning;
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void cleanup().finally(() => process.exit(130)));

async function main() {
  const options = parseBenchArgs(process.argv.slice(2));
  const users = options.quick ? 1_000 : argNumber('--users', 10_000);
  const connections = options.connections;
  const tag = randomBytes(4).toString('hex');
  const loadBefore = loadavg()[0]!;

  const stores = await createBenchStores(`doorman_deact_${tag}`);
  Object.assign(state, stores);
  const { databaseUrl, redisUrl } = stores;

  // Ceiling first, on an idle Redis: raw BullMQ no-op jobs, added in bulk, one worker.
  log(`ceiling: ${users} BullMQ no-op jobs at concurrency 50`);
  const ceiling = await measureBullmqThroughput({ redisUrl, prefix: '{bench-ceiling}', jobs: users, concurrency: 50 });
  // A second, informational ceiling: the same jobs, each deleting one row with a single autocommit
  // DELETE (durable as the server is configured) — the least a deprovisioning job must do.
  const ceilingPool = createPool({ uri: databaseUrl, connectionLimit: 10 });
  await createCeilingRows(ceilingPool, users);
  log(`ceiling with the database: ${users} BullMQ jobs, each one durable DELETE`);
  const dbCeiling = await measureBullmqThroughput({
    redisUrl,
    prefix: '{bench-ceiling}',
    jobs: users,
    concurrency: 50,
    work: async (i) => void (await ceilingPool.query('DELETE FROM ceiling_rows WHERE id = ?', [i + 1])),
  });
  const [[leftover]] = await ceilingPool.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM ceiling_rows');
  await ceilingPool.end();
  if (Number(leftover!.n) !== 0) throw new Error(`the database ceiling left ${leftover!.n} rows undeleted`);

  const adminToken = `bench-admin-${randomBytes(24).toString('hex')}`;
  const port = await freePort();
  const plugins = 'token-auth,role-mapping,scim-users,audit';
  // --split: the production layout (compose.yaml): an API process (HTTP + outbox relay) and a worker
  // process; otherwise one process in role `all`.
  const split = process.argv.includes('--split');
  // The gateway as production runs it: a bundle on plain node (lib/build.ts).
  const { gateway: entry } = await bundleGatewayEntries();
  const gateway = await startGateway('gateway', entry, gatewayEnv(databaseUrl, redisUrl, port, adminToken, plugins, split ? { DOORMAN_ROLE: 'api' } : {}));
  const worker = split ? await startGateway('worker', entry, gatewayEnv(databaseUrl, redisUrl, await freePort(), adminToken, plugins, { DOORMAN_ROLE: 'worker' })) : null;
  // Every process that serves a deactivation, for its CPU time per deactivation.
  const dbPid = databasePid();
  const rPid = redisPid();
  const served: Record<string, number> = {
    [split ? 'api' : 'gateway']: gateway.child.pid,
    ...(worker ? { worker: worker.child.pid } : {}),
    ...(dbPid === null ? {} : { database: dbPid }),
    ...(rPid === null ? {} : { redis: rPid }),
  };
  const tenant = await createTenant(gateway.baseUrl, adminToken, `deact-${tag}`, `Deactivation ${tag}`);
  const pool = (state.pool = createPool({ uri: databaseUrl, connectionLimit: 4, timezone: 'Z' }));
  log(`seeding ${users} users with memberships`);
  const seeded = await seedUsers(pool, { connectionId: tenant.connectionId, orgId: tenant.orgId, tag }, users);
  const memberships = async () => {
    const [rows] = await pool.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM org_memberships WHERE connection_id = ?', [tenant.connectionId]);
    return Number(rows[0]!.n);
  };
  if ((await memberships()) !== users) throw new Error('seeding did not create one membership per user');

  // Every user is deactivated exactly once; the clock runs from the first PATCH to the last membership gone.
  log(`deactivating ${users} users through SCIM PATCH at ${connections} connections`);
  const started = process.hrtime.bigint();
  const cpuBefore = cpuSnapshot(served);
  const patch = await measure({
    baseUrl: gateway.baseUrl,
    headers: { Authorization: `Bearer ${tenant.token}`, 'Content-Type': 'application/scim+json' },
    connections,
    duration: 3_600,
    warmup: 0,
    maxRequests: users,
    next: (n) => ({ method: 'PATCH', path: `/scim/v2/Users/${seeded.ids[n]}`, body: { schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { active: false } }] } }),
  });
  const acceptedSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  let left = await memberships();
  const deadline = Date.now() + 600_000;
  while (left > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    left = await memberships();
  }
  const totalSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  /** CPU microseconds per deactivation, per process, from the first PATCH to the last membership gone. */
  const cpuPer = cpuPerRequest(cpuBefore, cpuSnapshot(served), Math.max(1, users - left));
  const budget = cpuBudgetMicros(TARGET * dbCeiling.jobsPerSecond);
  const endToEnd = (users - left) / totalSeconds;
  const ratio = endToEnd / dbCeiling.jobsPerSecond;
  const loadAfter = loadavg()[0]!;

  const lines = [
    ['BullMQ + one durable DELETE per job', `${dbCeiling.jobsPerSecond.toFixed(0)} jobs/s (the ceiling)`],
    ['SCIM PATCH active=false accepted', `${(patch.requests / acceptedSeconds).toFixed(0)} req/s (p50 ${patch.p50} ms, p99 ${patch.p99} ms, non-2xx ${patch.non2xx})`],
    ['deactivations end to end', `${endToEnd.toFixed(0)} /s (${users - left}/${users} users, memberships gone after ${totalSeconds.toFixed(1)} s)`],
    ['ratio to ceiling', `${(ratio * 100).toFixed(1)}%   target >= ${TARGET * 100}%  ${ratio >= TARGET ? 'ok' : 'MISS'}`],
    ['raw BullMQ no-op', `${ceiling.jobsPerSecond.toFixed(0)} jobs/s; deactivations end to end = ${((100 * endToEnd) / ceiling.jobsPerSecond).toFixed(1)}% of it (informational)`],
    [
      'CPU per deactivation',
      `${cpuTotal(cpuPer).toFixed(0)} µs (${cpuParts(cpuPer)}); the target rate (${(TARGET * dbCeiling.jobsPerSecond).toFixed(0)}/s) leaves ${budget.toFixed(0)} µs on ${cpus().length} cores`,
    ],
    ['machine load (1 min)', `${loadBefore.toFixed(2)} at start, ${loadAfter.toFixed(2)} at end (the run's own processes included), on ${cpus().length} cores`],
  ];
  for (const [k, v] of lines) process.stdout.write(`${k.padEnd(36)} ${v}\n`);
  process.stdout.write(
    `BENCH_JSON ${JSON.stringify({ bench: 'deactivation', users, connections, ceilingJobsPerSecond: dbCeiling.jobsPerSecond, noopJobsPerSecond: ceiling.jobsPerSecond, databaseCeilingJobsPerSecond: dbCeiling.jobsPerSecond, patchAcceptedPerSecond: patch.requests / acceptedSeconds, patchNon2xx: patch.non2xx, endToEndPerSecond: endToEnd, membershipsLeft: left, ratio, cpuMicrosPerDeactivation: Object.fromEntries(Object.entries(cpuPer).map(([k, v]) => [k, Math.round(v)])), cpuBudgetMicros: Math.round(budget), target: TARGET, pass: ratio >= TARGET && left === 0, loadAverage: { start: loadBefore, end: loadAfter } })}\n`,
  );
}

function argNumber(flag: string, fallback: number): number {
  const i = process.argv.indexOf(flag);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

main()
  .catch((err) => {
    process.stderr.write(`deactivation-bench failed: ${(err as Error).stack ?? err}\n`);
    process.exitCode = 1;
  })
  .finally(() => cleanup());
