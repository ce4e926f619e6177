/**
 * Group membership bench: p99 of PATCH add one member + PATCH remove that member
 * (`members[value eq "<id>"]`) on a 10,000-member group vs a 10-member group, **with group mapping
 * rules on** (docs/group-mapping.md): both groups have arbitrary names and an admin rule maps each to
 * a team with a role, so every PATCH makes role mapping re-decide the person. The target is a ratio
 * ≤ 1.5×: only the people named are re-decided, so the cost must not follow the group's size.
 *
 * Also measured: a rule change touching every member of the large group (creating the rule that maps
 * it), which goes through the scoped sync job; the bench prints how long until the job has applied it
 * to all of them (polled in the database every 250 ms).
 *
 *   npx tsx bench/groups-bench.ts [--iterations N] [--members N] [--warmup N]
 *
 * The gateway runs in this process (buildGateway with the real catalog: token-auth, scim-users,
 * role-mapping, scim-groups), listening on 127.0.0.1 on a free port, on a fresh MariaDB database
 * (dropped at the end) and the machine's Redis. Users are seeded by bulk SQL; both groups are
 * created through POST /Groups (the large one with its whole member list in one request, timed).
 * Requests are sequential (one at a time, keep-alive), interleaved between the two groups so
 * drift affects both alike. Prints a table and one `BENCH_JSON {...}` line. Loopback only.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { cpus, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import { createConnection, createPool } from 'mysql2/promise';
import { Redis } from 'ioredis';
import { buildGateway, parseGatewayConfig } from '@doorman/core';
import { TEST_IDP_CERT } from '@doorman/core/testing/idp-cert';
import { BUILTIN_PLUGINS, PLUGIN_CATALOG } from '@doorman/gateway';
import { connectionUsersChangeSql } from '@doorman/model';
import { startJobRuntime, type JobRuntime } from '@doorman/jobs';

const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const MYSQL_URL = (process.env.BENCH_MYSQL_URL ?? process.env.TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306').replace(/\/$/, '');
const REDIS_URL = process.env.BENCH_REDIS_URL ?? process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const ADMIN_TOKEN = `bench-admin-${randomBytes(16).toString('hex')}`;

function parseArgs(argv: string[]) {
  const opts = { iterations: 300, members: 10_000, small: 10, warmup: 30, movers: 40 };
  const keys: Record<string, keyof typeof opts> = { '--iterations': 'iterations', '--members': 'members', '--warmup': 'warmup' };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.split('=', 2) as [string, string | undefined];
    if (flag === '--') continue;
    const key = keys[flag];
    const value = Number(inline ?? argv[++i]);
    if (!key || !Number.isInteger(value) || value < (key === 'warmup' ? 0 : 1)) {
      throw new Error(`usage: groups-bench [--iterations N] [--members N] [--warmup N] (bad: ${argv.join(' ')})`);
    }
    opts[key] = value;
  }
  return opts;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
const summary = (samples: number[]) => {
  const s = [...samples].sort((a, b) => a - b);
  return { n: s.length, p50: percentile(s, 50), p90: percentile(s, 90), p99: percentile(s, 99), max: s[s.length - 1]! };
};
const ms = (v: number) => `${v.toFixed(2)} ms`;

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const dbName = `doorman_bench_groups_${randomBytes(4).toString('hex')}`;
  const admin = await createConnection(MYSQL_URL);
  await admin.query(`CREATE DATABASE \`${dbName}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  await admin.end();
  const databaseUrl = `${MYSQL_URL}/${dbName}`;
  let gateway: Awaited<ReturnType<typeof buildGateway>> | undefined;
  let jobs: JobRuntime | undefined;
  const jobsPrefix = `{bench-groups-${randomBytes(4).toString('hex')}}`;
  const pool = createPool({ uri: databaseUrl, connectionLimit: 2 });
  try {
    const { config, problems } = parseGatewayConfig({
      databaseUrl,
      redisUrl: REDIS_URL,
      plugins: 'token-auth,scim-users,role-mapping,scim-groups',
      adminBootstrapToken: ADMIN_TOKEN,
      host: '127.0.0.1',
      port: 0,
      logLevel: 'warn',
      bodyLimitBytes: 4 * 1_048_576,
    });
    if (!config) throw new Error(problems.join('; '));
    gateway = await buildGateway({
      config,
      catalog: PLUGIN_CATALOG,
      builtins: BUILTIN_PLUGINS,
      // The bench measures the service, not the per-connection rate limit.
      pluginSettings: { 'token-auth': { rateLimitPerSecond: 100_000 }, 'role-mapping': { syncCron: '' } },
    });
    // The job runtime (relay + BullMQ workers) as the gateway's `all` role runs it, on a private
    // prefix so no other process on this Redis takes the bench's jobs.
    jobs = await startJobRuntime({
      registry: gateway.jobs,
      db: gateway.db,
      transaction: gateway.transaction,
      redisUrl: REDIS_URL,
      role: 'all',
      mode: gateway.config.mode,
      logger: gateway.logger,
      metrics: gateway.metrics,
      prefix: jobsPrefix,
      extraQueues: ['provisioning', 'sync'], // scim-users' and role mapping's queues, as the gateway's dashboard shows them
    });
    const server = await gateway.listen();
    const port = (server.address() as { port: number }).port;
    const base = `http://127.0.0.1:${port}`;
    const call = async (method: string, path: string, token: string, body?: unknown) => {
      const res = await fetch(`${base}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null };
    };

    // Tenant: one organization, one SCIM connection, one token.
    const org = await call('POST', '/admin/v1/orgs', ADMIN_TOKEN, { name: 'benchorg' });
    const conn = await call('POST', '/admin/v1/connections', ADMIN_TOKEN, {
      name: 'bench',
      type: 'saml',
      orgIds: ['benchorg'],
      defaultOrgId: 'benchorg',
      scimEnabled: true,
      idp: { entryPoint: 'https://idp.example.com/sso', idpIssuer: 'https://idp.example.com', idpCert: TEST_IDP_CERT },
    });
    if (conn.status !== 201) throw new Error(`connection: ${JSON.stringify(conn.body)}`);
    const tok = await call('POST', `/admin/v1/connections/${conn.body.id}/scim-tokens`, ADMIN_TOKEN, { name: 'bench' });
    const token: string = tok.body.secret ?? tok.body.token;
    const connectionId: string = conn.body.id;
    void org;

    // Users by bulk SQL: the columns scim-users writes for a minimal POST /Users.
    const total = opts.members + opts.small + opts.movers;
    const seedStart = performance.now();
    const ids: string[] = [];
    for (let start = 0; start < total; start += 1000) {
      const users: unknown[][] = [];
      const scoped: unknown[][] = [];
      for (let i = start; i < Math.min(total, start + 1000); i++) {
        const userId = randomUUID();
        const id = randomUUID();
        const email = `g${i}.${dbName}@bench.example`;
        users.push([userId, email, email.toLowerCase(), `g${i}x${dbName.slice(-8)}`, null]);
        scoped.push([id, connectionId, userId, email, email.toLowerCase(), 1, JSON.stringify({ userName: email, active: true }), 1]);
        ids.push(id);
      }
      await pool.query('INSERT INTO users (id, email, email_lc, username, full_name) VALUES ?', [users]);
      await pool.query('INSERT INTO connection_users (id, connection_id, user_id, user_name, user_name_lc, active, resource, version) VALUES ?', [scoped]);
      await pool.query(
        connectionUsersChangeSql(true),
        [connectionId, 0, scoped.length, scoped.length],
      );
    }
    const seedMs = performance.now() - seedStart;
    const large = ids.slice(0, opts.members);
    const small = ids.slice(opts.members, opts.members + opts.small);
    const movers = ids.slice(opts.members + opts.small);

    // Both groups have names no built-in rule reads; the large one is pushed before any rule maps it.
    const postStart = performance.now();
    const bigGroup = await call('POST', '/scim/v2/Groups?excludedAttributes=members', token, { schemas: [GROUP], displayName: 'Everyone at Bench Corp', members: large.map((value) => ({ value })) });
    const postLargeMs = performance.now() - postStart;
    if (bigGroup.status !== 201) throw new Error(`large group: ${bigGroup.status} ${JSON.stringify(bigGroup.body)}`);

    // The rule change: map the large group (by id) to a team with a role. Saving records a scoped sync
    // job; it is done when every member holds the group's team grant.
    const grantsOf = async (groupId: string) => {
      const [[row]] = (await pool.query("SELECT COUNT(*) AS n FROM membership_grants WHERE kind = 'group' AND source_ref = ? AND team_id <> ''", [groupId])) as any;
      return Number(row.n);
    };
    const ruleStart = performance.now();
    const rule = await call('POST', `/admin/v1/connections/${connectionId}/group-rules`, ADMIN_TOKEN, { groupId: bigGroup.body.id, org: 'benchorg', team: 'Large', role: 'editor' });
    if (rule.status !== 201 || !rule.body.jobId) throw new Error(`rule: ${rule.status} ${JSON.stringify(rule.body)}`);
    const ruleSavedMs = performance.now() - ruleStart;
    let lastLog = performance.now();
    for (;;) {
      const n = await grantsOf(bigGroup.body.id);
      if (n >= opts.members) break;
      if (performance.now() - lastLog > 15_000) {
        process.stderr.write(`groups-bench: rule change applied to ${n}/${opts.members} people so far\n`);
        lastLog = performance.now();
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    const ruleAppliedMs = performance.now() - ruleStart;

    const smallGroup = await call('POST', '/scim/v2/Groups', token, { schemas: [GROUP], displayName: 'Bench Small Team', members: small.map((value) => ({ value })) });
    if (smallGroup.status !== 201) throw new Error(`small group: ${smallGroup.status} ${JSON.stringify(smallGroup.body)}`);
    const smallRule = await call('POST', `/admin/v1/connections/${connectionId}/group-rules`, ADMIN_TOKEN, { groupId: smallGroup.body.id, org: 'benchorg', team: 'Small', role: 'editor' });
    if (smallRule.status !== 201) throw new Error(`small rule: ${smallRule.status} ${JSON.stringify(smallRule.body)}`);
    while ((await grantsOf(smallGroup.body.id)) < opts.small) await new Promise((r) => setTimeout(r, 100));
    const [[teamRows]] = (await pool.query("SELECT COUNT(*) AS n FROM team_memberships WHERE granted_by = 'group'")) as any;

    const samples = { large: { add: [] as number[], remove: [] as number[] }, small: { add: [] as number[], remove: [] as number[] } };
    const once = async (groupId: string, member: string, into?: { add: number[]; remove: number[] }) => {
      let t0 = performance.now();
      const add = await call('PATCH', `/scim/v2/Groups/${groupId}`, token, { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: [{ value: member }] }] });
      const addMs = performance.now() - t0;
      t0 = performance.now();
      const remove = await call('PATCH', `/scim/v2/Groups/${groupId}`, token, { schemas: [PATCH_OP], Operations: [{ op: 'remove', path: `members[value eq "${member}"]` }] });
      const removeMs = performance.now() - t0;
      if (add.status !== 204 || remove.status !== 204) throw new Error(`PATCH answered ${add.status}/${remove.status}: ${JSON.stringify(add.body ?? remove.body)}`);
      into?.add.push(addMs);
      into?.remove.push(removeMs);
    };
    for (let i = 0; i < opts.warmup; i++) {
      await once(bigGroup.body.id, movers[i % movers.length]!);
      await once(smallGroup.body.id, movers[i % movers.length]!);
    }
    for (let i = 0; i < opts.iterations; i++) {
      const member = movers[i % movers.length]!;
      // Alternate which group goes first, so neither always follows the other.
      if (i % 2 === 0) {
        await once(bigGroup.body.id, member, samples.large);
        await once(smallGroup.body.id, member, samples.small);
      } else {
        await once(smallGroup.body.id, member, samples.small);
        await once(bigGroup.body.id, member, samples.large);
      }
    }
    // The groups are as they started: nothing leaked between iterations.
    const [[sizes]] = (await pool.query('SELECT SUM(group_id = ?) AS large, SUM(group_id = ?) AS small FROM group_members', [bigGroup.body.id, smallGroup.body.id])) as any;
    if (Number(sizes.large) !== opts.members || Number(sizes.small) !== opts.small) throw new Error(`group sizes drifted: ${JSON.stringify(sizes)}`);

    const result = {
      large: { members: opts.members, add: summary(samples.large.add), remove: summary(samples.large.remove), both: summary([...samples.large.add, ...samples.large.remove]) },
      small: { members: opts.small, add: summary(samples.small.add), remove: summary(samples.small.remove), both: summary([...samples.small.add, ...samples.small.remove]) },
    };
    const ratio = result.large.both.p99 / result.small.both.p99;
    const out: string[] = [];
    out.push(`groups-bench: PATCH add + remove one member, ${opts.iterations} iterations per group (sequential, keep-alive, after ${opts.warmup} warm-up)`);
    out.push(`machine: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${Math.round(totalmem() / 2 ** 30)} GiB; node ${process.version}; client and gateway share this process`);
    out.push(`seed: ${total} users by SQL in ${seedMs.toFixed(0)} ms; POST /Groups with ${opts.members} members (no rule maps it yet) in ${postLargeMs.toFixed(0)} ms`);
    out.push(`rule change touching ${opts.members} people: saved in ${ruleSavedMs.toFixed(0)} ms, applied by the sync job in ${(ruleAppliedMs / 1000).toFixed(1)} s (${(opts.members / (ruleAppliedMs / 1000)).toFixed(0)} people/s; ${teamRows.n} group-granted team memberships after both rules)`);
    out.push('');
    out.push('group          op       p50         p90         p99         max');
    for (const [name, r] of [[`${opts.members}-member`, result.large], [`${opts.small}-member`, result.small]] as const) {
      for (const op of ['add', 'remove', 'both'] as const) out.push(`${name.padEnd(14)} ${op.padEnd(8)} ${ms(r[op].p50).padEnd(11)} ${ms(r[op].p90).padEnd(11)} ${ms(r[op].p99).padEnd(11)} ${ms(r[op].max)}`);
    }
    out.push('');
    out.push(`p99 ratio (large / small, add and remove together): ${ratio.toFixed(2)}× — target ≤ 1.5× → ${ratio <= 1.5 ? 'PASS' : 'FAIL'}`);
    process.stdout.write(`${out.join('\n')}\n`);
    const json = {
      bench: 'groups',
      iterations: opts.iterations,
      seedMs: Math.round(seedMs),
      postLargeGroupMs: Math.round(postLargeMs),
      ruleChange: { people: opts.members, savedMs: Math.round(ruleSavedMs), appliedMs: Math.round(ruleAppliedMs) },
      large: result.large,
      small: result.small,
      p99Ratio: Number(ratio.toFixed(3)),
      target: 1.5,
      pass: ratio <= 1.5,
    };
    process.stdout.write(`BENCH_JSON ${JSON.stringify(json)}\n`);
  } finally {
    await pool.end();
    await jobs?.close();
    await gateway?.close();
    // The bench's BullMQ keys go with it (its own prefix only).
    const redis = new Redis(REDIS_URL);
    const keys: string[] = [];
    for await (const batch of redis.scanStream({ match: `${jobsPrefix}*`, count: 1000 })) keys.push(...(batch as string[]));
    for (let i = 0; i < keys.length; i += 500) await redis.del(...keys.slice(i, i + 500));
    await redis.quit();
    const drop = await createConnection(MYSQL_URL);
    await drop.query(`DROP DATABASE IF EXISTS \`${dbName}\``);
    await drop.end();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`groups-bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
