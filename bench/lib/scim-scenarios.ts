/**
 * The SCIM benchmark's (scim-bench.ts) targets, scenarios, clean-up and database diagnostics.
 */
import { type Pool, type RowDataPacket } from 'mysql2/promise';
import { RssSampler, stopAllChildren } from './children.ts';
import { stopLoad, type ScenarioRequest } from './load.ts';
import { call, dropBenchStores, expectStatus } from './gateway.ts';
import { PATCH_OP, seedUserBody, seedUserName, USER_SCHEMA, type SeededUsers } from './seed.ts';
/**
 * Targets from the issues (#26 re-based the throughput targets on ceilings that include the same
 * database work: reads vs bare GET and bare GET + the raw page query, writes vs bare POST + one durable
 * UPDATE, creates vs bare POST + one durable INSERT; #3 auth overhead, #7 audit cost, #4 RSS).
 */
export const TARGETS = { getOrFilter: 0.35, list: 0.3, create: 0.25, write: 0.4, listP99Ratio: 1.2, rssMb: 300, authOverhead: 0.05, auditRatio: 0.85 };

export const log = (message: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
export const pick = <T>(list: readonly T[]) => list[Math.floor(Math.random() * list.length)]!;
export const shuffled = <T>(list: readonly T[]) => {
  const out = [...list];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
};

export interface Tenant {
  connectionId: string;
  orgId: string;
  token: string;
  seeded: SeededUsers;
}

// ---- cleanup ---------------------------------------------------------------------------------

export const state: { dbName?: string; redisDb?: number; pool?: Pool; sampler?: RssSampler; workerSampler?: RssSampler } = {};
let cleaning: Promise<void> | undefined;

export async function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    stopLoad();
    state.sampler?.stop();
    state.workerSampler?.stop();
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
export async function verifySeeded(baseUrl: string, tenant: Tenant, tag: string, expectedTotal: number) {
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

export const scimHeaders = (token: string) => ({ Authorization: `Bearer ${token}`, 'Content-Type': 'application/scim+json', Accept: 'application/scim+json' });

export function scenarios(tenant: Tenant, tag: string) {
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
export async function databaseStorage(pool: Pool, dbName: string) {
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
export async function settle(pool: Pool, dbName: string, limitMs: number): Promise<number> {
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
export async function queryCosts(pool: Pool, big: Tenant, small: Tenant) {
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
