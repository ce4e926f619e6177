/**
 * Explain bench (docs/people-and-explain.md): with 1,000,000 audit events across 100,000 people stored
 * in MariaDB, the p99 of `explain` for random people (goal < 1 s) and of people search by a prefix
 * (goal < 100 ms).
 *
 *   npx tsx bench/explain-bench.ts [--people N] [--events-per-person N] [--samples N] [--search-samples N]
 *   pnpm bench:explain
 *
 * A fresh database `doorman_bench_<random>` (dropped at the end, also on error) is migrated and seeded
 * with multi-row INSERTs: per person an account, a SCIM user of one of two connections, an org
 * membership, and `events-per-person` audit events shaped as the real producers write them (SCIM
 * request → mapping changes with their context and cause, group requests, a deactivation with its job's
 * events, refused sign-ins by email), spread over 100 organizations. The measured calls are the route
 * handlers' own functions (`explainPerson`, `searchPeople` from @doorman/plugin-people) in this process,
 * one at a time, for random people / random 3-letter prefixes, after a warm-up. Prints the figures,
 * the load average, and one `BENCH_JSON {...}` line. Seeded events are not sealed (nothing here reads
 * hashes).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { createConnection, type Connection } from 'mysql2/promise';
import { createDataSource } from '@doorman/model';
import { explainPerson, searchPeople } from '@doorman/plugin-people';

const MYSQL_URL = (process.env.BENCH_MYSQL_URL ?? process.env.TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306').replace(/\/$/, '');

function parseArgs(argv: string[]) {
  const opts = { people: 100_000, eventsPerPerson: 10, samples: 300, searchSamples: 100 };
  const keys: Record<string, keyof typeof opts> = { '--people': 'people', '--events-per-person': 'eventsPerPerson', '--samples': 'samples', '--search-samples': 'searchSamples' };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--') continue;
    const [flag, inline] = argv[i]!.split('=', 2) as [string, string | undefined];
    const key = keys[flag];
    const value = Number(inline ?? argv[++i]);
    if (!key || !Number.isInteger(value) || value < 1) throw new Error(`usage: explain-bench [--people N] [--events-per-person N] [--samples N] [--search-samples N] (bad: ${argv.join(' ')})`);
    opts[key] = value;
  }
  return opts;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
const stats = (samples: number[]) => {
  const s = [...samples].sort((a, b) => a - b);
  return { n: s.length, p50: percentile(s, 50), p99: percentile(s, 99), max: s[s.length - 1]! };
};
const sqlTime = (d: Date) => d.toISOString().replace('T', ' ').replace('Z', '');
const log = (msg: string) => process.stderr.write(`[explain-bench] ${msg}\n`);

/** Inserts `rows` in multi-row INSERTs of `per` rows. */
async function insertMany(c: Connection, table: string, columns: string[], rows: unknown[][], per = 2000) {
  const one = `(${columns.map(() => '?').join(',')})`;
  for (let i = 0; i < rows.length; i += per) {
    const chunk = rows.slice(i, i + per);
    await c.query(`INSERT INTO ${table} (${columns.join(',')}) VALUES ${chunk.map(() => one).join(',')}`, chunk.flat());
  }
}

const EVENT_COLUMNS = ['id', 'occurred_at', 'org_id', 'connection_id', 'actor_type', 'actor_id', 'request_id', 'action', 'target_type', 'target_id', 'changes', 'job_id', 'cause_id', 'context'];

/** One person's events, as the producers write them (src/… of scim-users, role-mapping, jit-provisioning). */
function personEvents(n: number, p: { id: string; email: string; orgId: string; connectionId: string }, at: number): unknown[][] {
  const rows: unknown[][] = [];
  const ev = (action: string, o: { orgId?: string | null; requestId?: string | null; target?: [string, string]; changes?: unknown; jobId?: string | null; cause?: string | null; context?: unknown; actor?: string }) => {
    const id = randomUUID();
    rows.push([
      id,
      sqlTime(new Date(at + rows.length * 1000)),
      o.orgId ?? null,
      p.connectionId,
      o.actor ?? 'scim_token',
      null,
      o.requestId ?? null,
      action,
      o.target?.[0] ?? 'user',
      o.target?.[1] ?? p.id,
      o.changes === undefined ? null : JSON.stringify(o.changes),
      o.jobId ?? null,
      o.cause ?? null,
      o.context === undefined ? null : JSON.stringify(o.context),
    ]);
    return id;
  };
  const context = (rule: string) => ({ rule, flow: 'scim', firstTime: false, inputs: { dockerRole: null, dockerOrg: null, dockerTeam: null, groups: [] }, mappedRole: 'member', role: 'member', org: { id: p.orgId, name: 'org', seatLimit: null, seatsUsed: 0, ownerCount: 0 } });
  const r1 = randomUUID();
  const created = randomUUID();
  ev('member.added', { orgId: p.orgId, requestId: r1, cause: created, changes: { role: { after: 'member' }, source: { after: 'scim' } }, context: context('defaultOrganization') });
  ev('team_member.added', { orgId: p.orgId, requestId: r1, cause: created, changes: { team: { after: 'Everyone' }, teamId: { after: randomUUID() }, grantedBy: { after: 'mapping' } }, context: context('defaultTeam') });
  rows.push([created, sqlTime(new Date(at + 2000)), null, p.connectionId, 'scim_token', null, r1, 'user.created', 'user', p.id, JSON.stringify({ userName: { after: p.email }, active: { after: true } }), null, null, null]);
  while (rows.length < n - 4) {
    const r = randomUUID();
    const g = randomUUID();
    ev('group.members_added', { requestId: r, target: ['group', randomUUID()], changes: { count: { after: 1 }, members: { after: [randomUUID()] } } });
    ev('team_member.added', { orgId: p.orgId, requestId: r, cause: g, changes: { team: { after: `team-${rows.length}` }, teamId: { after: randomUUID() }, grantedBy: { after: 'group' } }, context: context('group') });
  }
  const r3 = randomUUID();
  const deactivated = ev('user.deactivated', { requestId: r3, changes: { active: { before: true, after: false } } });
  const job = `deactivate-user.${randomUUID()}.v2`;
  ev('member.removed', { orgId: p.orgId, requestId: r3, jobId: job, cause: deactivated, actor: 'system', changes: { role: { before: 'member' } } });
  ev('user.deprovisioned', { requestId: r3, jobId: job, cause: deactivated, actor: 'system', changes: { memberships: { after: 1 }, sessions: { after: 0 } } });
  ev('sso.sign_in_denied', { orgId: p.orgId, requestId: randomUUID(), actor: 'system', target: ['email', p.email], changes: { reason: { after: 'deactivated' } }, context: { reason: 'deactivated', status: 403, field: null, detail: 'deactivated' } });
  return rows.slice(0, n);
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const dbName = `doorman_bench_${randomBytes(6).toString('hex')}`;
  const url = `${MYSQL_URL}/${dbName}`;
  const admin = await createConnection(MYSQL_URL);
  await admin.query(`CREATE DATABASE \`${dbName}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  const ds = createDataSource({ url, poolSize: 4 });
  try {
    await ds.initialize();
    await ds.runMigrations({ transaction: 'each' });
    const c = await createConnection(url);
    const t0 = performance.now();
    // 100 organizations, two connections serving half each.
    const orgs = Array.from({ length: 100 }, (_, i) => ({ id: randomUUID(), name: `org${i}` }));
    await insertMany(c, 'organizations', ['id', 'name'], orgs.map((o) => [o.id, o.name]));
    const conns = [randomUUID(), randomUUID()];
    await insertMany(c, 'sso_connections', ['id', 'name', 'type', 'default_org_id', 'jit_enabled', 'scim_enabled', 'idp_settings'], conns.map((id, i) => [id, `conn${i}`, 'saml', orgs[i]!.id, 1, 1, '{}']));
    await insertMany(c, 'connection_orgs', ['connection_id', 'org_id'], orgs.map((o, i) => [conns[i % 2]!, o.id]));
    const people = Array.from({ length: opts.people }, (_, i) => {
      const email = `${randomBytes(4).toString('hex')}.p${i}@example.com`;
      return { id: randomUUID(), email, username: `p${i}${randomBytes(3).toString('hex')}`, orgId: orgs[i % 100]!.id, connectionId: conns[i % 2]! };
    });
    await insertMany(c, 'users', ['id', 'email', 'email_lc', 'username', 'full_name'], people.map((p) => [p.id, p.email, p.email, p.username, `Person ${p.username}`]));
    await insertMany(
      c,
      'org_memberships',
      ['id', 'org_id', 'user_id', 'role', 'source', 'connection_id', 'grant_via'],
      people.map((p) => [randomUUID(), p.orgId, p.id, 'member', 'scim', p.connectionId, 'scim_attribute']),
    );
    log(`seeded ${opts.people} people in ${((performance.now() - t0) / 1000).toFixed(1)} s; seeding ${opts.people * opts.eventsPerPerson} audit events…`);
    const start = Date.UTC(2026, 0, 1);
    let events = 0;
    for (let i = 0; i < people.length; i += 500) {
      const rows = people.slice(i, i + 500).flatMap((p, k) => personEvents(opts.eventsPerPerson, p, start + (i + k) * 60_000));
      await insertMany(c, 'audit_events', EVENT_COLUMNS, rows, 1000);
      events += rows.length;
      if (i % 20_000 === 0) log(`  ${events} events`);
    }
    await c.end();
    const seedSeconds = (performance.now() - t0) / 1000;
    log(`seeded ${events} events in ${seedSeconds.toFixed(1)} s; measuring…`);

    const pick = () => people[Math.floor(Math.random() * people.length)]!;
    const time = async (work: () => Promise<unknown>) => {
      const s = performance.now();
      await work();
      return performance.now() - s;
    };
    for (let i = 0; i < 20; i++) await explainPerson(ds, pick().id, {});
    const explainAll: number[] = [];
    const explainOrg: number[] = [];
    const search: number[] = [];
    for (let i = 0; i < opts.samples; i++) {
      const p = pick();
      explainAll.push(await time(() => explainPerson(ds, p.id, {})));
      explainOrg.push(await time(() => explainPerson(ds, p.id, { org: `org${Math.floor(Math.random() * 100)}` })));
    }
    log(`explain p99 ${stats(explainAll).p99.toFixed(1)} ms; measuring search…`);
    for (let i = 0; i < opts.searchSamples; i++) search.push(await time(() => searchPeople(ds, { q: pick().email.slice(0, 3), limit: 50 })));
    const check = await explainPerson(ds, people[0]!.id, {});
    const figures = { explain: stats(explainAll), explainOrg: stats(explainOrg), search: stats(search) };
    const load = loadavg().map((l) => l.toFixed(2)).join(' ');
    const row = (name: string, s: ReturnType<typeof stats>, goal: number) =>
      `${name.padEnd(34)} p50 ${s.p50.toFixed(1).padStart(7)} ms   p99 ${s.p99.toFixed(1).padStart(7)} ms   max ${s.max.toFixed(1).padStart(7)} ms   goal p99 < ${goal} ms: ${s.p99 < goal ? 'met' : 'MISSED'}`;
    console.log(`explain bench: ${people.length} people, ${events} audit events (MariaDB), ${opts.samples} explain / ${opts.searchSamples} search samples, seeded in ${seedSeconds.toFixed(0)} s`);
    console.log(row('explain (every organization)', figures.explain, 1000));
    console.log(row('explain ?org=<random>', figures.explainOrg, 1000));
    console.log(row('people search (3-letter prefix)', figures.search, 100));
    console.log(`a person's chain: ${check.chain.length} steps; load average ${load} (2 cores shared: figures under load are indicative)`);
    console.log(`BENCH_JSON ${JSON.stringify({ bench: 'explain', people: people.length, events, ...figures, loadavg: loadavg() })}`);
  } finally {
    await ds.destroy().catch(() => {});
    await admin.query(`DROP DATABASE IF EXISTS \`${dbName}\``);
    await admin.end();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
