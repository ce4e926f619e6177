/**
 * Group commit of SCIM creates (docs/group-commit.md, "Creates"), against MariaDB with the audit
 * plugin: creates that arrive in one turn share one transaction and one INSERT per table; when one of
 * them fails, each goes in a savepoint of its own, so each keeps its own outcome (201, 409 uniqueness,
 * 400), events and rows; the counter stays exact.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MysqlQueryRunner } from 'typeorm/driver/mysql/MysqlQueryRunner.js';
import { roleMappingServiceRef } from '@doorman/core';
import { auditPlugin } from '@doorman/plugin-audit';
import { readConnectionUserCount } from '@doorman/model';
import { ScimUserStore, type Tenant } from '../src/store.ts';
import { DOCKER, newUser, startScimTestBed, type ScimTestBed } from './setup.ts';

let bed: ScimTestBed;
let store: ScimUserStore;
const groups: number[] = [];
let transactions = 0;

beforeAll(async () => {
  bed = await startScimTestBed({ plugins: [auditPlugin] });
  const g = bed.t.gateway;
  store = new ScimUserStore({
    db: g.db,
    transaction: (work) => {
      transactions++;
      return g.transaction(work);
    },
    events: g.events,
    jobs: g.jobs,
    roleMapping: g.get(roleMappingServiceRef),
    dialect: 'mysql',
    baseUrl: 'http://test/scim/v2',
    now: () => new Date(),
    createGroupCommit: true,
    onCreateGroup: (size) => groups.push(size),
  });
});
afterAll(async () => bed?.t.close());

const as = (connectionId: string): Tenant => ({ connectionId, actor: { type: 'scim_token', id: 'test', requestId: null } });
const db = () => bed.t.gateway.db;
const status = (r: PromiseSettledResult<unknown>) => (r.status === 'fulfilled' ? 201 : (r.reason as { status?: number }).status);
const scimType = (r: PromiseSettledResult<unknown>) => (r.status === 'rejected' ? (r.reason as { scimType?: string }).scimType : undefined);
const auditOf = async (userName: string) =>
  ((await db().query('SELECT action FROM audit_events WHERE changes LIKE ? ORDER BY seq', [`%"${userName}"%`])) as Array<{ action: string }>).map((r) => r.action);
const accounts = async (email: string) => Number((await db().query('SELECT COUNT(*) AS n FROM users WHERE email_lc = ?', [email.toLowerCase()]))[0].n);
/** The counter behind unfiltered totals agrees with the rows. */
async function expectCounterExact(connectionId: string) {
  const [{ n }] = await db().query('SELECT COUNT(*) AS n FROM connection_users WHERE connection_id = ?', [connectionId]);
  expect((await readConnectionUserCount(db(), connectionId)).users).toBe(Number(n));
}

describe('group commit of SCIM creates', () => {
  it('runs creates of one turn in one transaction: one account read, one INSERT per table, one audit INSERT, one counter update, one COMMIT', async () => {
    // The connection's default team exists once its first user has it (a group whose members would
    // create a team maps them one by one, role-mapping's applyMany).
    await store.create(as(bed.a.connectionId), newUser('grouped-first@acme.test'));
    const spy = vi.spyOn(MysqlQueryRunner.prototype, 'query');
    groups.length = 0;
    transactions = 0;
    let statements: string[];
    try {
      const created = await Promise.all([0, 1, 2, 3].map((i) => store.create(as(bed.a.connectionId), newUser(`grouped${i}@acme.test`))));
      expect(created.map((r) => r.userName)).toEqual([0, 1, 2, 3].map((i) => `grouped${i}@acme.test`));
      statements = spy.mock.calls.map(([sql]) => String(sql));
    } finally {
      spy.mockRestore();
    }
    expect(groups).toEqual([4]);
    expect(transactions).toBe(1);
    // (The test gateway's background loops may run statements meanwhile: count only this store's.)
    expect(statements.filter((s) => /^SELECT .* FROM users WHERE email_lc IN \(\?, \?, \?, \?\)$/s.test(s))).toHaveLength(1);
    // Every member at once (createMembers): one multi-row INSERT of the accounts, the users and their emails.
    const inserts = (table: string) => statements.filter((s) => s.startsWith(`INSERT INTO \`${table}\``) || s.startsWith(`INSERT INTO ${table} `));
    for (const table of ['users', 'connection_users', 'connection_user_emails']) {
      expect(inserts(table), table).toHaveLength(1);
      expect(inserts(table)[0]!.match(/\),\s*\(/g), table).toHaveLength(3); // four rows in one INSERT
    }
    // Their role mapping at once (applyMany): one read of the state they share, their org memberships
    // in one INSERT. New accounts hold nothing: none of their memberships is read or locked
    // (docs/row-ids.md, "Locks").
    expect(statements.filter((s) => s.startsWith("(SELECT 'connection' AS kind"))).toHaveLength(1);
    expect(statements.filter((s) => s.includes('FROM org_memberships m WHERE m.user_id'))).toEqual([]);
    expect(inserts('org_memberships')).toHaveLength(1);
    expect(inserts('org_memberships')[0]!.match(/\),\s*\(/g)).toHaveLength(3);
    // One savepoint for the group, not one per member.
    expect(statements.filter((s) => s.startsWith('SAVEPOINT'))).toHaveLength(1);
    expect(statements.filter((s) => s.startsWith('INSERT INTO connection_user_counts'))).toHaveLength(1);
    const audit = statements.filter((s) => s.startsWith('INSERT INTO audit_events'));
    expect(audit).toHaveLength(1);
    for (let i = 0; i < 4; i++) expect(await auditOf(`grouped${i}@acme.test`)).toContain('user.created');
    await expectCounterExact(bed.a.connectionId);
  });

  it('a create alone in its group costs what a create alone does: no savepoint', async () => {
    const spy = vi.spyOn(MysqlQueryRunner.prototype, 'query');
    groups.length = 0;
    let statements: string[];
    try {
      await store.create(as(bed.a.connectionId), newUser('alone@acme.test'));
      statements = spy.mock.calls.map(([sql]) => String(sql));
    } finally {
      spy.mockRestore();
    }
    expect(groups).toEqual([1]);
    expect(statements.filter((s) => s.startsWith('SAVEPOINT') || s.startsWith('RELEASE'))).toEqual([]);
    expect(await auditOf('alone@acme.test')).toEqual(['user.created']);
    await expectCounterExact(bed.a.connectionId);
  });

  it('a duplicate userName in one group: the first is created, the second answered 409 uniqueness, leaving nothing behind', async () => {
    const results = await Promise.allSettled([
      store.create(as(bed.a.connectionId), newUser('twin@acme.test')),
      // Same userName (differently cased), another email: its new account must not survive.
      store.create(as(bed.a.connectionId), newUser('TWIN@acme.test', { emails: [{ value: 'twin-other@acme.test', primary: true }] })),
      store.create(as(bed.a.connectionId), newUser('single@acme.test')),
    ]);
    expect(results.map(status)).toEqual([201, 409, 201]);
    expect(scimType(results[1]!)).toBe('uniqueness');
    expect(await accounts('twin-other@acme.test')).toBe(0);
    // (LIKE compares case-insensitively: this counts the refused member's events too — there are none.)
    expect(await auditOf('twin@acme.test')).toEqual(['user.created']);
    // Once committed, the same create is answered 409 too.
    await expect(store.create(as(bed.a.connectionId), newUser('twin@acme.test'))).rejects.toMatchObject({ status: 409, scimType: 'uniqueness' });
    await expectCounterExact(bed.a.connectionId);
  });

  it('a member refused by role mapping fails alone: its savepoint is rolled back (account, user, emails, events)', async () => {
    const results = await Promise.allSettled([
      store.create(as(bed.a.connectionId), newUser('before@acme.test')),
      store.create(as(bed.a.connectionId), newUser('refused@acme.test', { schemas: newUser('').schemas.concat(DOCKER), [DOCKER]: { dockerRole: 'no-such-role' } })),
      store.create(as(bed.a.connectionId), newUser('after@acme.test')),
    ]);
    expect(results.map(status)).toEqual([201, 400, 201]);
    expect(await accounts('refused@acme.test')).toBe(0);
    expect(Number((await db().query('SELECT COUNT(*) AS n FROM connection_users WHERE user_name_lc = ?', ['refused@acme.test']))[0].n)).toBe(0);
    expect(Number((await db().query('SELECT COUNT(*) AS n FROM connection_user_emails WHERE value = ?', ['refused@acme.test']))[0].n)).toBe(0);
    expect(await auditOf('refused@acme.test')).toEqual([]);
    for (const name of ['before@acme.test', 'after@acme.test']) {
      expect(await auditOf(name)).toEqual(['user.created']);
      // The first attempt (every member at once) was rolled back with its events, role mapping's too:
      // each survivor's account has its events once.
      const [{ id }] = await db().query('SELECT id FROM users WHERE email_lc = ?', [name]);
      const actions = ((await db().query('SELECT action FROM audit_events WHERE target_id = ? ORDER BY seq', [id])) as Array<{ action: string }>).map((r) => r.action);
      expect(actions.filter((a) => a === 'user.created')).toHaveLength(1);
      expect(actions.length).toBeGreaterThan(1); // role mapping's membership events
      expect(new Set(actions).size).toBe(actions.length);
    }
    await expectCounterExact(bed.a.connectionId);
  });

  it('one email through two connections in one group: one account, created then linked', async () => {
    const [a, b] = await Promise.all([store.create(as(bed.a.connectionId), newUser('both@acme.test')), store.create(as(bed.b.connectionId), newUser('both@acme.test'))]);
    expect(a.id).not.toBe(b.id);
    expect(await accounts('both@acme.test')).toBe(1);
    expect((await auditOf('both@acme.test')).sort()).toEqual(['user.created', 'user.linked']);
    await expectCounterExact(bed.a.connectionId);
    await expectCounterExact(bed.b.connectionId);
  });

  it('concurrent groups with colliding userNames: each name exists once, every other create answered 409, the counter exact', async () => {
    groups.length = 0;
    const pending: Array<Promise<unknown>> = [];
    // Five waves, in successive turns, so several groups are in flight at once; each name is asked for three times.
    for (let wave = 0; wave < 5; wave++) {
      for (let i = 0; i < 12; i++) pending.push(store.create(as(bed.a.connectionId), newUser(`race${(wave * 12 + i) % 20}@acme.test`)));
      await new Promise((resolve) => setImmediate(resolve));
    }
    const results = await Promise.allSettled(pending);
    const other = results.filter((r) => status(r) !== 201 && status(r) !== 409);
    expect(other.map((r) => String((r as PromiseRejectedResult).reason))).toEqual([]);
    expect(groups.length).toBeGreaterThan(1);
    expect(results.filter((r) => status(r) === 201)).toHaveLength(20);
    expect(results.filter((r) => status(r) === 409 && scimType(r) === 'uniqueness')).toHaveLength(40);
    const [{ n }] = await db().query("SELECT COUNT(DISTINCT user_name_lc) AS n, COUNT(*) AS rows_ FROM connection_users WHERE connection_id = ? AND user_name_lc LIKE 'race%'", [bed.a.connectionId]);
    expect(Number(n)).toBe(20);
    await expectCounterExact(bed.a.connectionId);
  });
});
