/**
 * SCIM benchmark: the real gateway (apps/gateway/src/main.ts, a child process) on a fresh MariaDB
 * database with N seeded users, against a bare Koa app measured in the same run as the ceiling.
 *
 *   npx tsx bench/scim-bench.ts [--users 100000] [--duration 10] [--connections 32] [--quick]
 *
 * Prints a table and one `BENCH_JSON {...}` line. Loopback only; every child process, the
 * database and the bench's Redis keys are removed at exit, also on error and on SIGINT.
 * See README.md for what each line means and the targets.
 */
import { randomBytes } from 'node:crypto';
import { cpus, loadavg, totalmem } from 'node:os';
import { createPool, type Pool, type RowDataPacket } from 'mysql2/promise';
import { parseBenchArgs, type BenchOptions } from './lib/args.ts';
import { cpuSeconds, databasePid, freePort, RssSampler, startChild, stopAllChildren, waitForReadyLine } from './lib/children.ts';
import { measure, stopLoad, type LoadResult, type LoadSpec, type ScenarioRequest } from './lib/load.ts';
import { cpuBudgetMicros, cpuParts, cpuTotal, fixed, pct, ratioOf, scenarioTable, verdict, type ScenarioLine } from './lib/report.ts';
import { bundleGatewayEntries } from './lib/build.ts';
import { measureAuthenticatorCost } from '@doorman/plugin-token-auth/bench';
import { call, createBenchStores, createTenant, dropBenchStores, expectStatus, gatewayEnv, startGateway, ROOT } from './lib/gateway.ts';
import { createCeilingRows, PATCH_OP, seedUserBody, seedUserName, seedUsers, USER_SCHEMA, verifyMirror, type SeededUsers, type SeedTarget } from './lib/seed.ts';

const BARE_ENTRY = 'bench/bare-koa.ts';
const ALL_PLUGINS = 'token-auth,role-mapping,scim-users,audit';
const NO_AUDIT_PLUGINS = 'token-auth,role-mapping,scim-users';

/**
 * Targets from the issues (#26 re-based the throughput targets on ceilings that include the same
 * database work: reads vs bare GET and bare GET + the raw page query, writes vs bare POST + one durable
 * UPDATE, creates vs bare POST + one durable INSERT; #3 auth overhead, #7 audit cost, #4 RSS).
 */
const TARGETS = { getOrFilter: 0.35, list: 0.3, create: 0.25, write: 0.4, listP99Ratio: 1.2, rssMb: 300, authOverhead: 0.05, auditRatio: 0.85 };

const log = (message: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
const pick = <T>(list: readonly T[]) => list[Math.floor(Math.random() * list.length)]!;
const shuffled = <T>(list: readonly T[]) => {
  const out = [...list];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
};

interface Tenant {
  connectionId: string;
  orgId: string;
  token: string;
  seeded: SeededUsers;
}

// ---- cleanup ---------------------------------------------------------------------------------

const state: { dbName?: string; redisDb?: number; pool?: Pool; sampler?: RssSampler } = {};
let cleaning: Promise<void> | undefined;

async function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    stopLoad();
    state.sampler?.stop();
    await stopAllChildren();
    await state.pool?.end().catch(() => undefined);
    try {
      await dropBenchStores(state, ['{doorman}:*']);
      if (state.dbName) log(`dropped database ${state.dbName}`);
    } catch (err) {
      log(`could not drop database ${state.dbName}: ${(err as Error).message}`);
    }
  })();
  return cleaning;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    log(`${signal}: stopping`);
    void cleanup().finally(() => process.exit(130));
  });
}

/** Reads a few seeded users back through SCIM: the API must see them exactly as it would its own. */
async function verifySeeded(baseUrl: string, tenant: Tenant, tag: string, expectedTotal: number) {
  for (let k = 0; k < 3; k++) {
    const i = Math.floor(Math.random() * tenant.seeded.ids.length);
    const id = tenant.seeded.ids[i]!;
    const user = await expectStatus(`GET seeded user ${i}`, 200, await call(baseUrl, tenant.token, 'GET', `/scim/v2/Users/${id}`));
    const want = seedUserBody(seedUserName(tag, i), i);
    const problems = [
      user.id !== id && 'id',
      user.userName !== want.userName && 'userName',
      user.displayName !== want.displayName && 'displayName',
      user.externalId !== want.externalId && 'externalId',
      user.name?.givenName !== want.name.givenName && 'name.givenName',
      user.emails?.[0]?.value !== want.userName && 'emails',
      user.active !== true && 'active',
      user.meta?.version !== 'W/"1"' && 'meta.version',
      JSON.stringify(user.schemas) !== JSON.stringify([USER_SCHEMA]) && 'schemas',
    ].filter(Boolean);
    if (problems.length) throw new Error(`seeded user ${id} reads back wrong (${problems.join(', ')}): ${JSON.stringify(user)}`);
    const found = await expectStatus('filter seeded user', 200, await call(baseUrl, tenant.token, 'GET', `/scim/v2/Users?filter=${encodeURIComponent(`userName eq "${want.userName.toUpperCase()}"`)}`));
    if (found.totalResults !== 1 || found.Resources?.[0]?.id !== id) throw new Error(`filter by userName did not find seeded user ${id}: ${JSON.stringify(found).slice(0, 300)}`);
  }
  const list = await expectStatus('list users', 200, await call(baseUrl, tenant.token, 'GET', '/scim/v2/Users?count=1'));
  if (list.totalResults !== expectedTotal) throw new Error(`list reports ${list.totalResults} users, expected ${expectedTotal}`);
}

// ---- scenarios -------------------------------------------------------------------------------

const scimHeaders = (token: string) => ({ Authorization: `Bearer ${token}`, 'Content-Type': 'application/scim+json', Accept: 'application/scim+json' });

function scenarios(tenant: Tenant, tag: string) {
  const { ids, userNames } = tenant.seeded;
  const pages = Math.max(1, Math.floor(ids.length / 100));
  const randomIndex = () => Math.floor(Math.random() * ids.length);
  return {
    get: (): ScenarioRequest => ({ method: 'GET', path: `/scim/v2/Users/${pick(ids)}` }),
    filter: (): ScenarioRequest => ({ method: 'GET', path: `/scim/v2/Users?filter=${encodeURIComponent(`userName eq "${pick(userNames)}"`)}` }),
    list: (): ScenarioRequest => ({ method: 'GET', path: `/scim/v2/Users?count=100&startIndex=${1 + 100 * Math.floor(Math.random() * pages)}` }),
    create: (label: string) => {
      // One counter per label across all runs, so warm-up and measured runs never repeat a userName.
      let next = 0;
      return (): ScenarioRequest => {
        const n = next++;
        return { method: 'POST', path: '/scim/v2/Users', body: seedUserBody(`c${n}.${tag}${label}@bench.example`, n) };
      };
    },
    patch: (n: number): ScenarioRequest => ({
      method: 'PATCH',
      path: `/scim/v2/Users/${pick(ids)}`,
      body: { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'displayName', value: `Patched ${n}` }] },
    }),
    put: (n: number): ScenarioRequest => {
      const i = randomIndex();
      const body = seedUserBody(userNames[i]!, i);
      return { method: 'PUT', path: `/scim/v2/Users/${ids[i]}`, body: { ...body, id: ids[i], displayName: `Put ${n}`, name: { givenName: `Put${n}`, familyName: body.name.familyName } } };
    },
    /** Each request deactivates a different, still active user. */
    deactivate: (pool: readonly string[]) => (n: number): ScenarioRequest => ({
      method: 'PATCH',
      path: `/scim/v2/Users/${pool[n % pool.length]}`,
      body: { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'active', value: false }] },
    }),
  };
}

/**
 * The size of Doorman's tables in the bench database (not the ceiling's) and the server's InnoDB
 * buffer pool: whether the data fits in memory.
 */
async function databaseStorage(pool: Pool, dbName: string) {
  const [[size]] = await pool.query<RowDataPacket[]>(
    "SELECT COALESCE(SUM(DATA_LENGTH), 0) AS data, COALESCE(SUM(INDEX_LENGTH), 0) AS idx FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME <> 'ceiling_rows'",
    [dbName],
  );
  const [[buffer]] = await pool.query<RowDataPacket[]>('SELECT @@innodb_buffer_pool_size AS bytes');
  const mb = (bytes: unknown) => Number(bytes) / 2 ** 20;
  return { dataMb: mb(size!.data), indexMb: mb(size!.idx), bufferPoolMb: mb(buffer!.bytes) };
}

/**
 * Waits until no query of the bench database is running: requests a scenario left in flight (its
 * connections are closed when it ends, the gateway still serves what it queued) must not slow the next.
 */
async function settle(pool: Pool, dbName: string, limitMs: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    const [[row]] = await pool.query<RowDataPacket[]>(
      "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE DB = ? AND COMMAND <> 'Sleep' AND ID <> CONNECTION_ID()",
      [dbName],
    );
    const waited = (Date.now() - started) / 1000;
    if (Number(row!.n) === 0 || Date.now() - started > limitMs) return waited;
    await new Promise((r) => setTimeout(r, 250));
  }
}

// ---- diagnostics -----------------------------------------------------------------------------

/** Server-side cost of the queries an unfiltered list runs, median of 5, on an idle gateway. */
async function queryCosts(pool: Pool, big: Tenant, small: Tenant) {
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const time = async (sql: string, params: unknown[]) => {
    const runs: number[] = [];
    for (let k = 0; k < 5; k++) {
      const t = process.hrtime.bigint();
      await pool.query(sql, params);
      runs.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    return Math.round(median(runs) * 100) / 100;
  };
  const explain = async (sql: string, params: unknown[]) => {
    const [rows] = await pool.query<RowDataPacket[]>(`EXPLAIN ${sql}`, params);
    return rows.map((r) => `${r.table}:${r.type}/${r.key ?? 'no index'} rows~${r.rows}${r.Extra ? ` (${r.Extra})` : ''}`).join('; ');
  };
  // The SQL an unfiltered ScimUserStore.list issues: the counter read, the anchor scan (once per
  // change of the user set), an anchored page (at most ANCHOR_EVERY index entries skipped).
  const total = 'SELECT COALESCE(SUM(users), 0) AS users, COALESCE(SUM(changes), 0) AS changes FROM connection_user_counts WHERE connection_id = ?';
  const anchorScan = `SELECT createdAt, id FROM (SELECT CAST(created_at AS CHAR) AS createdAt, id, ROW_NUMBER() OVER (ORDER BY created_at, id) AS rn
      FROM connection_users WHERE connection_id = ?) ranked WHERE (rn - 1) % 1000 = 0 ORDER BY rn`;
  const page = `SELECT u.* FROM connection_users u JOIN (SELECT id FROM connection_users WHERE connection_id = ?
      AND (created_at > ? OR (created_at = ? AND id >= ?)) ORDER BY created_at, id LIMIT 100 OFFSET ?) page ON page.id = u.id`;
  /** The last page's parameters: from the last anchor, skipping to the page. */
  const lastPage = async (t: Tenant) => {
    const [anchors] = await pool.query<RowDataPacket[]>(anchorScan, [t.connectionId]);
    const last = anchors[anchors.length - 1]!;
    const skip = Math.max(0, t.seeded.ids.length - 100 - 1000 * (anchors.length - 1));
    return [t.connectionId, last.createdAt, last.createdAt, last.id, skip];
  };
  const out: Record<string, { big: number; small: number; explainBig: string }> = {};
  out['list total (counter)'] = { big: await time(total, [big.connectionId]), small: await time(total, [small.connectionId]), explainBig: await explain(total, [big.connectionId]) };
  out['list anchors (once per user-set change)'] = {
    big: await time(anchorScan, [big.connectionId]),
    small: await time(anchorScan, [small.connectionId]),
    explainBig: await explain(anchorScan, [big.connectionId]),
  };
  const lastBig = await lastPage(big);
  out['list page, last (anchored)'] = { big: await time(page, lastBig), small: await time(page, await lastPage(small)), explainBig: await explain(page, lastBig) };
  return out;
}

// ---- main ------------------------------------------------------------------------------------

async function main(options: BenchOptions) {
  const tag = randomBytes(3).toString('hex');
  const adminToken = randomBytes(24).toString('hex');
  const settleLimitMs = options.quick ? 30_000 : 120_000;
  /** Processes whose CPU per request a scenario against this base URL reports (the main gateway, the bare app). */
  const cpuWatch = new Map<string, Record<string, number>>();
  const dbPid = databasePid();
  const databaseWatch: Record<string, number> = dbPid === null ? {} : { database: dbPid };
  const load = async (baseUrl: string, headers: Record<string, string>, next: LoadSpec['next'], extra: Partial<LoadSpec> = {}) => {
    if (state.pool && state.dbName) {
      const waited = await settle(state.pool, state.dbName, settleLimitMs);
      if (waited > 1) log(`waited ${waited.toFixed(1)} s for the previous run's queued requests to finish`);
    }
    return measure({ baseUrl, headers, next, connections: options.connections, duration: options.duration, warmup: options.warmup, cpuOf: cpuWatch.get(baseUrl), ...extra });
  };
  const lines: ScenarioLine[] = [];
  const totals: { non2xx: number; errors: number } = { non2xx: 0, errors: 0 };
  const record = (name: string, result: LoadResult, ceiling?: ScenarioLine['ceiling']) => {
    lines.push({ name, result, ceiling });
    totals.non2xx += result.non2xx;
    totals.errors += result.errors;
    const note = result.non2xx || result.errors ? `  !! non-2xx ${result.non2xx}, errors ${result.errors}, codes ${JSON.stringify(result.statusCodes)}; first: ${result.firstError}` : '';
    log(`${name}: ${fixed(result.rps)} req/s, p50 ${result.p50} ms, p99 ${result.p99} ms${note}`);
    return result;
  };

  const loadBefore = loadavg();
  log(`options ${JSON.stringify(options)}; ${cpus().length} cores, node ${process.version}`);

  // The gateway as production runs it: a bundle on plain node (lib/build.ts).
  const entries = await bundleGatewayEntries();
  const GATEWAY_ENTRY = entries.gateway;
  const NOAUTH_ENTRY = entries.noauth;

  // Database and Redis of our own.
  const stores = await createBenchStores(`doorman_bench_${tag}`);
  Object.assign(state, stores);
  const { databaseUrl, redisUrl } = stores;
  log(`database ${state.dbName}, redis db ${state.redisDb}`);

  // The gateway under test (runs the migrations on first start).
  const port = await freePort();
  let started = Date.now();
  const gateway = await startGateway('gateway', GATEWAY_ENTRY, gatewayEnv(databaseUrl, redisUrl, port, adminToken, ALL_PLUGINS));
  const sampler = (state.sampler = new RssSampler(gateway.child.pid));
  cpuWatch.set(gateway.baseUrl, { gateway: gateway.child.pid, ...databaseWatch });
  log(`gateway pid ${gateway.child.pid} ready on ${gateway.baseUrl} in ${Date.now() - started} ms`);

  const main = await createTenant(gateway.baseUrl, adminToken, `bench-${tag}`, `Bench ${tag}`);
  const small = await createTenant(gateway.baseUrl, adminToken, `bench-${tag}-small`, `Bench ${tag} small`);

  // Seeded rows must be indistinguishable from API-created ones: compare with a user the API created.
  const pool = (state.pool = createPool({ uri: databaseUrl, connectionLimit: 4, timezone: 'Z', charset: 'utf8mb4_unicode_ci' }));
  const mainTarget: SeedTarget = { connectionId: main.connectionId, orgId: main.orgId, tag };
  const probeName = `probe.${tag}@bench.example`;
  await expectStatus('create probe user', 201, await call(gateway.baseUrl, main.token, 'POST', '/scim/v2/Users', seedUserBody(probeName, 7)));
  const mirrorProblems = await verifyMirror(pool, mainTarget, probeName, 7);
  if (mirrorProblems.length) throw new Error(`seeded rows would differ from API-created ones:\n  ${mirrorProblems.join('\n  ')}`);
  log('seed rows match an API-created user column for column');

  sampler.setPhase('seed');
  started = Date.now();
  const seededMain = await seedUsers(pool, mainTarget, options.users, 2_000, (done) => {
    if (done % 20_000 === 0) log(`seeded ${done}/${options.users}`);
  });
  const smallTag = `${tag}s`;
  const seededSmall = await seedUsers(pool, { connectionId: small.connectionId, orgId: small.orgId, tag: smallTag }, options.smallUsers);
  const seedSeconds = (Date.now() - started) / 1000;
  log(`seeded ${options.users} + ${options.smallUsers} users in ${seedSeconds.toFixed(1)} s`);
  const tMain: Tenant = { ...main, seeded: seededMain };
  const tSmall: Tenant = { ...small, seeded: seededSmall };
  await pool.query('ANALYZE TABLE users, connection_users, connection_user_emails, org_memberships');
  await verifySeeded(gateway.baseUrl, tMain, tag, options.users + 1);
  await verifySeeded(gateway.baseUrl, tSmall, smallTag, options.smallUsers);
  log('seeded users read back through SCIM (get, filter, list totals)');

  // Ceiling: bare Koa in its own process. It also serves the informational ceiling that includes the
  // database (one primary-key read, one durable single-row UPDATE) on a table as large as the user set.
  await createCeilingRows(pool, options.users, JSON.stringify(seedUserBody('ceiling@bench.example', 0)));
  const bare = startChild('bare-koa', BARE_ENTRY, { PATH: process.env.PATH, PORT: String(await freePort()), DATABASE_URL: databaseUrl }, ROOT);
  const barePort = await waitForReadyLine(bare);
  const bareUrl = `http://127.0.0.1:${barePort}`;
  cpuWatch.set(bareUrl, { 'bare Koa': bare.pid, ...databaseWatch });
  const jsonHeaders = { 'Content-Type': 'application/json', Accept: 'application/json' };
  sampler.setPhase('ceiling');
  const bareGet = record('bare GET (ceiling)', await load(bareUrl, jsonHeaders, () => ({ method: 'GET', path: '/bare' })));
  const barePost = record(
    'bare POST (ceiling)',
    await load(bareUrl, jsonHeaders, (n) => ({ method: 'POST', path: '/bare', body: seedUserBody(`c${n}@bench.example`, n) })),
  );
  const randomRow = () => 1 + Math.floor(Math.random() * options.users);
  const dbGet = record('bare GET + PK read', await load(bareUrl, jsonHeaders, () => ({ method: 'GET', path: `/bare/row/${randomRow()}` })));
  const dbWrite = record(
    'bare POST + durable UPDATE',
    await load(bareUrl, jsonHeaders, (n) => ({ method: 'POST', path: `/bare/row/${randomRow()}`, body: seedUserBody(`d${n}@bench.example`, n) })),
  );
  const dbInsert = record('bare POST + durable INSERT', await load(bareUrl, jsonHeaders, (n) => ({ method: 'POST', path: '/bare/insert', body: seedUserBody(`i${n}@bench.example`, n) })));
  const randomPage = () => 1 + 100 * Math.floor((Math.random() * options.users) / 100);
  const dbPage = record('bare GET + page query', await load(bareUrl, jsonHeaders, () => ({ method: 'GET', path: `/bare/page/${Math.min(randomPage(), Math.max(1, options.users - 99))}` })));
  await bare.stop();
  const vsGet = (target: number) => ({ name: 'bare GET' as const, rps: bareGet.rps, target });
  const vsPage = (target: number) => ({ name: 'bare GET + page query' as const, rps: dbPage.rps, target });
  const vsUpdate = (target: number) => ({ name: 'bare POST + durable UPDATE' as const, rps: dbWrite.rps, target });
  const vsInsert = (target: number) => ({ name: 'bare POST + durable INSERT' as const, rps: dbInsert.rps, target });

  const s = scenarios(tMain, tag);
  const sSmall = scenarios(tSmall, smallTag);
  const scim = (tenant: Tenant) => scimHeaders(tenant.token);
  const phase = async (name: string, work: () => Promise<LoadResult>, ceiling?: ScenarioLine['ceiling']) => {
    sampler.setPhase(name);
    return record(name, await work(), ceiling);
  };

  // Reads.
  await phase('get by id', () => load(gateway.baseUrl, scim(tMain), s.get), vsGet(TARGETS.getOrFilter));
  await phase('filter userName eq', () => load(gateway.baseUrl, scim(tMain), s.filter), vsGet(TARGETS.getOrFilter));
  const listBig = await phase(`list page (${options.users} users)`, () => load(gateway.baseUrl, scim(tMain), s.list), vsPage(TARGETS.list));
  const listSmall = await phase(`list page (${options.smallUsers} users)`, () => load(gateway.baseUrl, scim(tSmall), sSmall.list));

  // A/B comparisons between two fresh gateways: warmed up, then measured A-B-B-A twice in runs of
  // half the scenario duration. Throughput of single runs on this shared 2-core machine varies by ±30%
  // from run to run — more than the few percent being measured — so each run also records the
  // gateway's own CPU time per request (/proc/<pid>/stat), which other processes disturb far less.
  type Side = { url: string; headers: Record<string, string>; next: LoadSpec['next']; pid: number };
  const abba = async (label: string, a: Side, b: Side) => {
    sampler.setPhase(label);
    const warm = Math.max(3, 2 * options.warmup);
    for (const side of [a, b]) await load(side.url, side.headers, side.next, { duration: warm, warmup: 0 });
    const runs = { a: [] as LoadResult[], b: [] as LoadResult[] };
    const cpu = { a: { seconds: 0, requests: 0 }, b: { seconds: 0, requests: 0 } };
    for (const side of ['a', 'b', 'b', 'a', 'a', 'b', 'b', 'a'] as const) {
      const target = side === 'a' ? a : b;
      const before = cpuSeconds(target.pid);
      const result = record(`  ${label} ${side.toUpperCase()}`, await load(target.url, target.headers, target.next, { warmup: 0, duration: options.duration / 2 }));
      const after = cpuSeconds(target.pid);
      lines.pop(); // reported on their own lines, not in the scenario table
      runs[side].push(result);
      if (before !== null && after !== null) {
        cpu[side].seconds += after - before;
        cpu[side].requests += result.requests;
      }
    }
    /** Gateway CPU microseconds per request, per side. */
    const cpuPerRequest = { a: (1e6 * cpu.a.seconds) / cpu.a.requests, b: (1e6 * cpu.b.seconds) / cpu.b.requests };
    return { ...runs, cpuPerRequest };
  };
  /**
   * Both sides at once, each with half the connections, in rounds: the two processes meet the same
   * machine at the same moments (other work, MariaDB's state, CPU frequency), so what differs between
   * them is their own cost. With both CPU-bound and scheduled fairly, the cheaper side also serves more.
   */
  const concurrentPair = async (label: string, a: Side, b: Side, rounds = 12) => {
    sampler.setPhase(label);
    if (state.pool && state.dbName) await settle(state.pool, state.dbName, settleLimitMs);
    const half = Math.max(1, Math.floor(options.connections / 2));
    let round = 0;
    // Which side's load generator starts first alternates by round, so neither is favoured by order.
    const both = async (duration: number) => {
      const sides = round++ % 2 === 0 ? [a, b] : [b, a];
      const results = await Promise.all(sides.map((side) => measure({ baseUrl: side.url, headers: side.headers, next: side.next, connections: half, duration, warmup: 0 })));
      return sides[0] === a ? results : results.reverse();
    };
    await both(Math.max(3, 2 * options.warmup));
    const runs = { a: [] as LoadResult[], b: [] as LoadResult[] };
    const cpu = { a: { seconds: 0, requests: 0 }, b: { seconds: 0, requests: 0 } };
    const perRound: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const before = { a: cpuSeconds(a.pid), b: cpuSeconds(b.pid) };
      const [ra, rb] = await both(options.duration / 2);
      const after = { a: cpuSeconds(a.pid), b: cpuSeconds(b.pid) };
      for (const [side, result] of [['a', ra!], ['b', rb!]] as const) {
        record(`  ${label} ${side.toUpperCase()} (round ${r + 1})`, result);
        lines.pop(); // reported on their own lines, not in the scenario table
        runs[side].push(result);
        if (before[side] !== null && after[side] !== null) {
          cpu[side].seconds += after[side]! - before[side]!;
          cpu[side].requests += result.requests;
        }
      }
      if (before.a !== null && after.a !== null && before.b !== null && after.b !== null) {
        perRound.push(1 - (after.b - before.b) / rb!.requests / ((after.a - before.a) / ra!.requests));
      }
    }
    const cpuPerRequest = { a: (1e6 * cpu.a.seconds) / cpu.a.requests, b: (1e6 * cpu.b.seconds) / cpu.b.requests };
    return { ...runs, cpuPerRequest, perRound };
  };
  const meanRps = (rs: LoadResult[]) => rs.reduce((a, r) => a + r.rps, 0) / rs.length;
  /** Two runs as one line: requests and time added up, p50 averaged, the worse p99. */
  const combined = (rs: LoadResult[]): LoadResult => {
    const requests = rs.reduce((a, r) => a + r.requests, 0);
    const seconds = rs.reduce((a, r) => a + r.seconds, 0);
    const statusCodes: Record<string, number> = {};
    for (const r of rs) for (const [code, n] of Object.entries(r.statusCodes)) statusCodes[code] = (statusCodes[code] ?? 0) + n;
    return {
      requests,
      seconds,
      rps: requests / seconds,
      p50: rs.reduce((a, r) => a + r.p50, 0) / rs.length,
      p99: Math.max(...rs.map((r) => r.p99)),
      non2xx: rs.reduce((a, r) => a + r.non2xx, 0),
      errors: rs.reduce((a, r) => a + r.errors, 0),
      statusCodes,
      firstError: rs.find((r) => r.firstError)?.firstError ?? null,
    };
  };

  // Auth overhead: get by id through token-auth (A) vs the same build with the authenticator stubbed (B).
  // Both sides are fresh processes started together: the main gateway has served the list pages by
  // now, and a process's history (heap size, JIT state) must not be counted as authentication cost.
  const authPort = await freePort();
  const noauthPort = await freePort();
  // Started together, so neither is systematically the older process.
  const [withAuthGateway, noauth] = await Promise.all([
    startGateway('gateway-auth', GATEWAY_ENTRY, gatewayEnv(databaseUrl, redisUrl, authPort, adminToken, ALL_PLUGINS)),
    // --auth-control: token-auth on both sides, so the line shows what the method reads when nothing differs.
    options.authControl
      ? startGateway('gateway-auth-control', GATEWAY_ENTRY, gatewayEnv(databaseUrl, redisUrl, noauthPort, adminToken, ALL_PLUGINS))
      : startGateway('gateway-noauth', NOAUTH_ENTRY, gatewayEnv(databaseUrl, redisUrl, noauthPort, adminToken, ALL_PLUGINS, { BENCH_NOAUTH_CONNECTION_ID: tMain.connectionId })),
  ]);
  const authRuns = await concurrentPair(
    `get by id, token-auth (A) vs ${options.authControl ? 'token-auth again (B, control)' : 'auth stubbed (B)'}, concurrently`,
    { url: withAuthGateway.baseUrl, headers: scim(tMain), next: s.get, pid: withAuthGateway.child.pid },
    // The same request on both sides (the stub ignores the token): only authentication differs.
    { url: noauth.baseUrl, headers: scim(tMain), next: s.get, pid: noauth.child.pid },
  );
  await withAuthGateway.child.stop();
  await noauth.child.stop();
  // The authenticator's own code, in this process with the gateways stopped: what the A/B's
  // process-to-process differences (heap, JIT, cache pressure) cannot blur.
  const isolated = await measureAuthenticatorCost();
  const isolatedShare = isolated.addedMicros / authRuns.cpuPerRequest.b;
  const withAuth = authRuns.a;
  const withoutAuth = authRuns.b;
  // Both sides ran at the same time: each side's throughput is its requests over the same rounds.
  const authRps = meanRps(withAuth);
  const noAuthRps = meanRps(withoutAuth);
  // How far single rounds scatter, and the standard error of their mean: the measurement's resolution.
  const rounds = authRuns.perRound;
  const roundMean = rounds.reduce((x, y) => x + y, 0) / Math.max(1, rounds.length);
  const roundSe = rounds.length > 1 ? Math.sqrt(rounds.reduce((x, y) => x + (y - roundMean) ** 2, 0) / (rounds.length - 1) / rounds.length) : Number.NaN;
  const roundSpread = rounds.length ? `${pct(Math.min(...rounds))} to ${pct(Math.max(...rounds))}, mean ${pct(roundMean)} ± ${pct(roundSe)} s.e.` : 'n/a';
  const throughputOverhead = 1 - authRps / noAuthRps;
  // Judged, as the issue asks, by get-by-id throughput; also shown by gateway CPU per request (within
  // a run steadier, but across runs it moved 1–7% with the same code: the two processes differ in
  // more than authentication) and by the authenticator alone, measured in this process.
  const authOverhead = 1 - authRuns.cpuPerRequest.b / authRuns.cpuPerRequest.a;

  // Writes.
  await phase('PATCH displayName', () => load(gateway.baseUrl, scim(tMain), s.patch), vsUpdate(TARGETS.write));
  await phase('PUT (full replace)', () => load(gateway.baseUrl, scim(tMain), s.put), vsUpdate(TARGETS.write));

  // Creates (this gateway), and the audit cost: creates with the audit plugin (A) vs without it (B),
  // two fresh processes.
  await phase('create', () => load(gateway.baseUrl, scim(tMain), s.create('m')), vsInsert(TARGETS.create));
  const auditPort = await freePort();
  const noAuditPort = await freePort();
  const withAudit = await startGateway('gateway-audit', GATEWAY_ENTRY, gatewayEnv(databaseUrl, redisUrl, auditPort, adminToken, ALL_PLUGINS));
  const noAudit = await startGateway('gateway-no-audit', GATEWAY_ENTRY, gatewayEnv(databaseUrl, redisUrl, noAuditPort, adminToken, NO_AUDIT_PLUGINS));
  const auditRuns = await abba(
    'create, audit (A) vs no audit plugin (B)',
    { url: withAudit.baseUrl, headers: scim(tMain), next: s.create('a'), pid: withAudit.child.pid },
    { url: noAudit.baseUrl, headers: scim(tMain), next: s.create('n'), pid: noAudit.child.pid },
  );
  await withAudit.child.stop();
  await noAudit.child.stop();
  const createAudit = combined(auditRuns.a);
  const createNoAudit = combined(auditRuns.b);
  const auditRatio = createAudit.rps / createNoAudit.rps;

  // Deactivate last: each request a distinct active seeded user; deprovisioning jobs follow.
  const deactivatePool = shuffled(tMain.seeded.ids);
  const deactivate = await phase('deactivate (PATCH active=false)', () =>
    load(gateway.baseUrl, scim(tMain), s.deactivate(deactivatePool), { maxRequests: deactivatePool.length - 2 * options.connections }),
  vsUpdate(TARGETS.write));

  // The deprovisioning jobs (outbox → BullMQ → worker) drain in the background: wait for them, bounded.
  sampler.setPhase('deprovision drain');
  const [[inactive]] = await pool.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM connection_users WHERE connection_id = ? AND active = 0', [tMain.connectionId]);
  const pendingMemberships = async () => {
    const [[row]] = await pool.query<RowDataPacket[]>(
      `SELECT COUNT(*) AS n FROM connection_users cu JOIN org_memberships m ON m.user_id = cu.user_id AND m.connection_id = cu.connection_id
        WHERE cu.connection_id = ? AND cu.active = 0`,
      [tMain.connectionId],
    );
    return Number(row!.n);
  };
  const drainStarted = Date.now();
  const drainLimitMs = options.quick ? 30_000 : 120_000;
  let pending = await pendingMemberships();
  while (pending > 0 && Date.now() - drainStarted < drainLimitMs) {
    await new Promise((r) => setTimeout(r, 1_000));
    pending = await pendingMemberships();
  }
  const drainSeconds = (Date.now() - drainStarted) / 1000;
  log(`deprovisioning: ${inactive!.n} users inactive; ${pending} memberships still pending after ${drainSeconds.toFixed(1)} s`);
  sampler.stop();
  const costs = await queryCosts(pool, tMain, tSmall);
  const storage = await databaseStorage(pool, stores.dbName);
  const loadAfter = loadavg();
  const gatewayWarnings = gateway.child.warnings;

  // ---- report ---------------------------------------------------------------------------------
  // A run where no request completed has no latency: every request took longer than the run.
  const listP99Ratio = listBig.requests && listSmall.requests ? listBig.p99 / listSmall.p99 : Number.NaN;
  const out: string[] = [];
  out.push('');
  out.push(`SCIM benchmark — ${options.users} users (+${options.smallUsers} on a second connection), ${options.connections} connections, ${options.duration} s per scenario after ${options.warmup} s warm-up`);
  out.push(`machine: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${Math.round(totalmem() / 2 ** 30)} GiB; node ${process.version}; autocannon runs in the bench process on the same cores`);
  out.push('');
  out.push(scenarioTable(lines));
  out.push('');
  // What a target asks of this machine: at the target rate, the cores allow so much CPU per request
  // for everything that serves it (gateway, database, load generator); what this run used.
  const budgets = lines.flatMap((line) => {
    const r = ratioOf(line);
    const used = line.result.cpuMicros;
    if (!r || !used) return [];
    const neededRps = r.target * line.ceiling!.rps;
    return [{ name: line.name, neededRps, budget: cpuBudgetMicros(neededRps), used }];
  });
  if (budgets.length) {
    out.push(`CPU per request: what each target leaves on ${cpus().length} cores at the target rate, and what this run used (gateway, database, load generator):`);
    for (const b of budgets) {
      out.push(`  ${b.name.padEnd(32)} target ${fixed(b.neededRps, 0).padStart(6)} req/s → ${fixed(b.budget, 0).padStart(5)} µs;  used ${fixed(cpuTotal(b.used), 0).padStart(5)} µs (${cpuParts(b.used)})`);
    }
    out.push('');
  }
  // The same scenarios against the bare app alone (the #4 targets' ceilings, before #26 re-based
  // them on ceilings that include the database): informational.
  const bareOf = (line: ScenarioLine) => (line.ceiling!.name.startsWith('bare GET') ? { name: 'bare GET', result: bareGet } : { name: 'bare POST', result: barePost });
  const cpuText = (r: LoadResult) => (r.cpuMicros ? ` (${cpuParts(r.cpuMicros)} µs/req)` : '');
  const bareRatios = lines.filter((line) => line.ceiling).map((line) => ({ name: line.name, ceiling: bareOf(line).name, ratio: line.result.rps / bareOf(line).result.rps }));
  out.push('ceilings that include the database, and the scenarios against the bare app alone (informational):');
  out.push(`  bare GET + PK read ${fixed(dbGet.rps)} req/s${cpuText(dbGet)}`);
  out.push(`  bare GET + page query ${fixed(dbPage.rps)} req/s${cpuText(dbPage)}`);
  out.push(`  bare POST + durable UPDATE ${fixed(dbWrite.rps)} req/s${cpuText(dbWrite)}`);
  out.push(`  bare POST + durable INSERT ${fixed(dbInsert.rps)} req/s${cpuText(dbInsert)}`);
  for (const r of bareRatios) out.push(`  ${r.name.padEnd(32)} ${pct(r.ratio).padStart(6)} of ${r.ceiling}`);
  out.push('');
  const p99Text = (r: LoadResult) => (r.requests ? `${fixed(r.p99)} ms` : `> ${options.duration * 1000} ms (no request completed)`);
  out.push(`list page p99: ${p99Text(listBig)} at ${options.users} users vs ${p99Text(listSmall)} at ${options.smallUsers} users = ${fixed(listP99Ratio, 2)}x   target <= ${TARGETS.listP99Ratio}x  ${verdict(listP99Ratio <= TARGETS.listP99Ratio)}`);
  out.push(
    `auth overhead${options.authControl ? ' CONTROL (token-auth on both sides)' : ''} (get by id, both gateways at once, ${authRuns.perRound.length} rounds): throughput ${fixed(authRps)} vs ${fixed(noAuthRps)} req/s = ${pct(throughputOverhead)}   target < ${pct(TARGETS.authOverhead)} of get-by-id throughput  ${verdict(throughputOverhead < TARGETS.authOverhead)}`,
    `  by gateway CPU per request: ${fixed(authRuns.cpuPerRequest.a)} µs with token-auth vs ${fixed(authRuns.cpuPerRequest.b)} µs ${options.authControl ? 'with token-auth' : 'stubbed'} = ${pct(authOverhead)} (rounds: ${roundSpread})  ${verdict(authOverhead < TARGETS.authOverhead)}`,
    `  the authenticator alone (one process, cache hit, keep-alive): ${fixed(isolated.authenticatorMicros, 2)} µs vs ${fixed(isolated.stubMicros, 2)} µs for the stub = +${fixed(isolated.addedMicros, 2)} µs per request = ${pct(isolatedShare)} of the stubbed gateway's CPU per get by id`,
  );
  out.push(`audit cost (create): ${fixed(createAudit.rps)} req/s with audit vs ${fixed(createNoAudit.rps)} req/s without = ${pct(auditRatio)}   target >= ${pct(TARGETS.auditRatio)}  ${verdict(auditRatio >= TARGETS.auditRatio)}`);
  out.push(`gateway RSS max: ${fixed(sampler.max)} MB   target < ${TARGETS.rssMb} MB  ${verdict(sampler.max < TARGETS.rssMb)}   (per phase: ${Object.entries(sampler.byPhase).map(([k, v]) => `${k} ${Math.round(v)}`).join(', ')})`);
  out.push(`database: ${fixed(storage.dataMb + storage.indexMb, 0)} MB of data and indexes at the end (${fixed(storage.dataMb, 0)} + ${fixed(storage.indexMb, 0)}), InnoDB buffer pool ${fixed(storage.bufferPoolMb, 0)} MB${storage.bufferPoolMb < storage.dataMb + storage.indexMb ? '  (smaller than the data: writes and list pages also wait for disk reads)' : ''}`);
  out.push(`seeding: ${options.users + options.smallUsers} users in ${fixed(seedSeconds)} s (${fixed((options.users + options.smallUsers) / seedSeconds, 0)} users/s)`);
  out.push(`deprovisioning after deactivate: ${inactive!.n} inactive users, ${pending} memberships still pending after ${fixed(drainSeconds)} s`);
  out.push(`where the time goes (server-side query time, median of 5, gateway idle; ${options.users} vs ${options.smallUsers} users):`);
  for (const [name, c] of Object.entries(costs)) out.push(`  ${name.padEnd(46)} ${fixed(c.big, 2).padStart(8)} ms vs ${fixed(c.small, 2).padStart(6)} ms   EXPLAIN: ${c.explainBig}`);
  // The end figure counts the run's own processes (gateway, MariaDB, load generator); only the start
  // figure says whether something else was busy.
  out.push(`machine load average (1 min): ${fixed(loadBefore[0]!, 2)} at start, ${fixed(loadAfter[0]!, 2)} at end (the run's own processes included), on ${cpus().length} cores${loadBefore[0]! > cpus().length / 2 ? '  !! the machine was busy when the run started: figures may be low and noisy' : ''}`);
  out.push(`non-2xx responses: ${totals.non2xx}, connection errors: ${totals.errors}; gateway warn/error log lines: ${gatewayWarnings}`);
  for (const line of gateway.child.warningLines) out.push(`  gateway: ${line}`);
  out.push('');

  const scenarioJson = Object.fromEntries(
    lines.map((line) => {
      const r = ratioOf(line);
      const { rps, p50, p99, non2xx, errors, requests, seconds, statusCodes, cpuMicros } = line.result;
      const cpu = cpuMicros ? { cpuMicrosPerRequest: Object.fromEntries(Object.entries(cpuMicros).map(([k, v]) => [k, Math.round(v)])) } : {};
      return [line.name, { rps: Math.round(rps * 10) / 10, p50, p99, non2xx, errors, requests, seconds: Math.round(seconds * 100) / 100, statusCodes, ...cpu, ...(r ? { ratio: Math.round(r.ratio * 1000) / 1000, target: r.target, pass: r.pass, ceiling: line.ceiling!.name } : {}) }];
    }),
  );
  const json = {
    bench: 'scim',
    options,
    machine: { cores: cpus().length, memGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
    seed: { users: options.users, smallUsers: options.smallUsers, seconds: seedSeconds },
    database: { dataMb: Math.round(storage.dataMb), indexMb: Math.round(storage.indexMb), bufferPoolMb: Math.round(storage.bufferPoolMb) },
    scenarios: scenarioJson,
    databaseCeilings: {
      'bare GET + PK read': Math.round(dbGet.rps),
      'bare GET + page query': Math.round(dbPage.rps),
      'bare POST + durable UPDATE': Math.round(dbWrite.rps),
      'bare POST + durable INSERT': Math.round(dbInsert.rps),
    },
    bareAppRatios: Object.fromEntries(bareRatios.map((r) => [r.name, Math.round(r.ratio * 1000) / 1000])),
    listP99: { big: listBig.p99, small: listSmall.p99, ratio: Number.isFinite(listP99Ratio) ? Math.round(listP99Ratio * 100) / 100 : null, target: TARGETS.listP99Ratio, pass: listP99Ratio <= TARGETS.listP99Ratio },
    authOverhead: {
      withAuthRps: Math.round(authRps),
      withoutAuthRps: Math.round(noAuthRps),
      runs: { withAuth: withAuth.map((r) => Math.round(r.rps)), withoutAuth: withoutAuth.map((r) => Math.round(r.rps)) },
      cpuMicrosPerRequest: { withAuth: Math.round(authRuns.cpuPerRequest.a * 10) / 10, withoutAuth: Math.round(authRuns.cpuPerRequest.b * 10) / 10 },
      method: 'concurrent',
      control: options.authControl,
      perRoundOverhead: rounds.map((o) => Math.round(o * 1000) / 1000),
      perRoundStandardError: Math.round(roundSe * 1000) / 1000,
      throughputOverhead: Math.round(throughputOverhead * 1000) / 1000,
      overhead: Math.round(authOverhead * 1000) / 1000,
      isolated: { authenticatorMicros: Math.round(isolated.authenticatorMicros * 100) / 100, stubMicros: Math.round(isolated.stubMicros * 100) / 100, share: Math.round(isolatedShare * 1000) / 1000 },
      target: TARGETS.authOverhead,
      // The issue's measure: get-by-id throughput. CPU per request is judged on its own line.
      pass: throughputOverhead < TARGETS.authOverhead,
      cpuPass: authOverhead < TARGETS.authOverhead,
    },
    auditCost: { withAuditRps: Math.round(createAudit.rps), withoutAuditRps: Math.round(createNoAudit.rps), ratio: Math.round(auditRatio * 1000) / 1000, target: TARGETS.auditRatio, pass: auditRatio >= TARGETS.auditRatio },
    rss: { maxMb: Math.round(sampler.max), byPhaseMb: Object.fromEntries(Object.entries(sampler.byPhase).map(([k, v]) => [k, Math.round(v)])), target: TARGETS.rssMb, pass: sampler.max < TARGETS.rssMb },
    deprovision: { inactive: Number(inactive!.n), deactivateRequests: deactivate.requests, pendingMemberships: pending, waitedSeconds: drainSeconds },
    non2xx: totals.non2xx,
    errors: totals.errors,
    gatewayWarnings,
    queryCostsMs: costs,
    loadAverage: { start: loadBefore[0], end: loadAfter[0] },
  };
  process.stdout.write(out.join('\n') + '\n');
  process.stdout.write(`BENCH_JSON ${JSON.stringify(json)}\n`);
  return totals.non2xx === 0 && totals.errors === 0;
}

let options: BenchOptions;
try {
  options = parseBenchArgs(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(2);
}
main(options)
  .then(async (clean) => {
    await cleanup();
    process.exit(clean ? 0 : 1);
  })
  .catch(async (err) => {
    log(`failed: ${(err as Error).stack ?? err}`);
    await cleanup();
    process.exit(1);
  });
