/**
 * Group commit A/B (docs/group-commit.md): two gateways on one database, one with
 * SCIM_USERS_GROUP_COMMIT=true and SCIM_USERS_CREATE_GROUP_COMMIT=true (A) and one with both false (B), loaded AT THE SAME TIME with half the
 * connections each, in rounds — on a shared machine, both meet the same moments, so what differs is
 * their own cost. Scenarios: PATCH displayName of random users, creates (a unique userName each), and
 * deactivations (each request a different active user).
 *
 *   npx tsx bench/group-commit-bench.ts [--users 4000] [--duration 10] [--connections 32] [--quick]
 *
 * Prints per scenario each side's req/s and gateway CPU µs per request, and one BENCH_JSON line.
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { createPool, type Pool } from 'mysql2/promise';
import { parseBenchArgs } from './lib/args.ts';
import { bundleGatewayEntries } from './lib/build.ts';
import { cpuSeconds, freePort, stopAllChildren } from './lib/children.ts';
import { createBenchStores, createTenant, dropBenchStores, gatewayEnv, startGateway } from './lib/gateway.ts';
import { measure, stopLoad, type LoadResult, type ScenarioRequest } from './lib/load.ts';
import { PATCH_OP, seedUsers } from './lib/seed.ts';

const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
const log = (m: string) => process.stderr.write(`[group-commit-bench ${new Date().toISOString().slice(11, 19)}] ${m}\n`);
const state: { dbName?: string; redisDb?: number; pool?: Pool } = {};
let cleaning: Promise<void> | undefined;
const cleanup = () =>
  (cleaning ??= (async () => {
    stopLoad();
    await stopAllChildren();
    await state.pool?.end().catch(() => undefined);
    await dropBenchStores(state, ['{doorman}:*']);
  })());
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void cleanup().finally(() => process.exit(130)));

async function main() {
  const options = parseBenchArgs(process.argv.slice(2));
  const users = options.quick ? 4_000 : Math.max(4_000, Math.min(options.users, 20_000));
  const rounds = options.quick ? 4 : 8;
  const half = Math.max(1, Math.floor(options.connections / 2));
  const tag = randomBytes(4).toString('hex');
  const loadBefore = loadavg()[0]!;
  const stores = await createBenchStores(`doorman_gc_${tag}`);
  Object.assign(state, stores);
  const adminToken = randomBytes(24).toString('hex');
  const { gateway: entry } = await bundleGatewayEntries();
  const plugins = 'token-auth,role-mapping,scim-users,audit';
  const a = await startGateway('gateway-group', entry, gatewayEnv(stores.databaseUrl, stores.redisUrl, await freePort(), adminToken, plugins, { SCIM_USERS_GROUP_COMMIT: 'true', SCIM_USERS_CREATE_GROUP_COMMIT: 'true' }));
  const b = await startGateway('gateway-single', entry, gatewayEnv(stores.databaseUrl, stores.redisUrl, await freePort(), adminToken, plugins, { SCIM_USERS_GROUP_COMMIT: 'false' }));
  const tenant = await createTenant(a.baseUrl, adminToken, `gc-${tag}`, `Group commit ${tag}`);
  const pool = (state.pool = createPool({ uri: stores.databaseUrl, connectionLimit: 4, timezone: 'Z' }));
  log(`seeding ${users} users`);
  const { ids } = await seedUsers(pool, { connectionId: tenant.connectionId, orgId: tenant.orgId, tag }, users);
  const headers = { Authorization: `Bearer ${tenant.token}`, 'Content-Type': 'application/scim+json' };
  // Deactivations: each side takes distinct users from its own half of the set.
  const pools = { a: ids.filter((_, i) => i % 2 === 0), b: ids.filter((_, i) => i % 2 === 1) };
  const used = { a: 0, b: 0 };
  const created = { a: 0, b: 0 };
  const scenarios: Record<string, (side: 'a' | 'b') => (n: number) => ScenarioRequest> = {
    'PATCH displayName': () => (n) => ({
      method: 'PATCH',
      path: `/scim/v2/Users/${ids[Math.floor(Math.random() * ids.length)]}`,
      body: { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'displayName', value: `Patched ${n}` }] },
    }),
    // Creates: a unique userName per request (the two sides never collide); group commit covers creates too.
    create: (side) => (n) => ({
      method: 'POST',
      path: '/scim/v2/Users',
      body: { schemas: [USER_SCHEMA], userName: `gc-${side}-${tag}-${created[side]++}-${n}@bench.test`, name: { givenName: 'Bench', familyName: 'Create' }, active: true },
    }),
    deactivate: (side) => () => ({
      method: 'PATCH',
      path: `/scim/v2/Users/${pools[side][used[side]++ % pools[side].length]}`,
      body: { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'active', value: false }] },
    }),
  };
  const results: Record<string, { a: { rps: number; cpu: number; p99: number }; b: { rps: number; cpu: number; p99: number }; non2xx: number }> = {};
  for (const [name, make] of Object.entries(scenarios)) {
    const runs = { a: [] as LoadResult[], b: [] as LoadResult[] };
    const cpu = { a: 0, b: 0 };
    // Deactivations are bounded by each side's pool of active users.
    const duration = name === 'deactivate' ? Math.min(options.duration / 2, 2) : options.duration / 2;
    for (let r = 0; r < (name === 'deactivate' ? Math.min(rounds, 4) : rounds); r++) {
      const before = { a: cpuSeconds(a.child.pid)!, b: cpuSeconds(b.child.pid)! };
      const order = r % 2 === 0 ? (['a', 'b'] as const) : (['b', 'a'] as const);
      const out = await Promise.all(order.map((side) => measure({ baseUrl: (side === 'a' ? a : b).baseUrl, headers, next: make(side), connections: half, duration, warmup: 0 })));
      const bySide = order[0] === 'a' ? { a: out[0]!, b: out[1]! } : { a: out[1]!, b: out[0]! };
      cpu.a += cpuSeconds(a.child.pid)! - before.a;
      cpu.b += cpuSeconds(b.child.pid)! - before.b;
      runs.a.push(bySide.a);
      runs.b.push(bySide.b);
      log(`${name} round ${r + 1}: group ${bySide.a.rps.toFixed(0)} req/s, single ${bySide.b.rps.toFixed(0)} req/s`);
    }
    const sum = (rs: LoadResult[]) => ({ requests: rs.reduce((x, r) => x + r.requests, 0), seconds: rs.reduce((x, r) => x + r.seconds, 0), p99: Math.max(...rs.map((r) => r.p99)) });
    const sa = sum(runs.a);
    const sb = sum(runs.b);
    results[name] = {
      a: { rps: sa.requests / sa.seconds, cpu: (1e6 * cpu.a) / sa.requests, p99: sa.p99 },
      b: { rps: sb.requests / sb.seconds, cpu: (1e6 * cpu.b) / sb.requests, p99: sb.p99 },
      non2xx: [...runs.a, ...runs.b].reduce((x, r) => x + r.non2xx + r.errors, 0),
    };
  }
  const loadAfter = loadavg()[0]!;
  for (const [name, r] of Object.entries(results)) {
    process.stdout.write(
      `${name.padEnd(20)} group commit ${r.a.rps.toFixed(0).padStart(6)} req/s (gateway ${r.a.cpu.toFixed(0)} µs/req, p99 ${r.a.p99} ms)  vs one transaction each ${r.b.rps.toFixed(0).padStart(6)} req/s (gateway ${r.b.cpu.toFixed(0)} µs/req, p99 ${r.b.p99} ms)  = ${(r.a.rps / r.b.rps).toFixed(2)}x; non-2xx/errors ${r.non2xx}\n`,
    );
  }
  process.stdout.write(`machine load (1 min): ${loadBefore.toFixed(2)} at start, ${loadAfter.toFixed(2)} at end\n`);
  process.stdout.write(`BENCH_JSON ${JSON.stringify({ bench: 'group-commit', users, connections: options.connections, results, loadAverage: { start: loadBefore, end: loadAfter } })}\n`);
}

main()
  .catch((err) => {
    process.stderr.write(`group-commit-bench failed: ${(err as Error).stack ?? err}\n`);
    process.exitCode = 1;
  })
  .finally(() => cleanup());
