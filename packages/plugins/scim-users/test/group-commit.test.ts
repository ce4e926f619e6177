/**
 * Group commit of SCIM PUT/PATCH (docs/group-commit.md), against MariaDB with the audit plugin: writes
 * that arrive in one turn of the event loop share one transaction, yet each keeps its own outcome,
 * its own audit events and job intents, and no update is lost.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MysqlQueryRunner } from 'typeorm/driver/mysql/MysqlQueryRunner.js';
import { roleMappingServiceRef } from '@doorman/core';
import { auditPlugin } from '@doorman/plugin-audit';
import { OutboxMessageEntity } from '@doorman/model';
import { ScimUserStore, type Tenant } from '../src/store.ts';
import { DOCKER, newUser, PATCH_OP, startScimTestBed, type ScimTestBed } from './setup.ts';

let bed: ScimTestBed;
let store: ScimUserStore;
const groups: number[] = [];
const ids: string[] = [];
/** Transactions the store opened. */
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
    onWriteGroup: (size) => groups.push(size),
  });
  for (let i = 0; i < 6; i++) {
    const res = await bed.scim(bed.a, 'post', '/Users').send(newUser(`group${i}@acme.test`));
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    ids.push(res.body.id);
  }
});
afterAll(async () => bed?.t.close());

const asA = (): Tenant => ({ connectionId: bed.a.connectionId, actor: { type: 'scim_token', id: 'test', requestId: null } });
const asB = (): Tenant => ({ connectionId: bed.b.connectionId, actor: { type: 'scim_token', id: 'test', requestId: null } });
const replace = (path: string, value: unknown) => ({ schemas: [PATCH_OP], Operations: [{ op: 'replace', path, value }] });

async function auditActions(targetScimId: string): Promise<string[]> {
  const rows: Array<{ action: string }> = await bed.t.gateway.db.query('SELECT action FROM audit_events WHERE changes LIKE ? ORDER BY seq', [`%${targetScimId}%`]);
  return rows.map((r) => r.action);
}

describe('group commit of SCIM writes', () => {
  it('runs writes of one turn in one transaction: one BEGIN, one locking read, one UPDATE, one audit INSERT, one COMMIT', async () => {
    const spy = vi.spyOn(MysqlQueryRunner.prototype, 'query');
    groups.length = 0;
    transactions = 0;
    let statements: Array<{ sql: string; params: unknown[] }>;
    try {
      const results = await Promise.all(ids.slice(0, 4).map((id, i) => store.patch(asA(), id, replace('displayName', `Grouped ${i}`))));
      expect(results.map((r) => r.displayName)).toEqual(['Grouped 0', 'Grouped 1', 'Grouped 2', 'Grouped 3']);
      statements = spy.mock.calls.map(([sql, params]) => ({ sql: String(sql), params: (params as unknown[]) ?? [] }));
    } finally {
      spy.mockRestore();
    }
    expect(groups).toEqual([4]);
    expect(transactions).toBe(1);
    // (The test gateway's background loops — outbox relay, audit sealer — may run statements meanwhile.)
    expect(statements.filter((s) => /^SELECT .* FROM connection_users WHERE id IN \(\?, \?, \?, \?\) ORDER BY id FOR UPDATE$/s.test(s.sql))).toHaveLength(1);
    // The four rows' changes in one UPDATE (each row its own values: CASE id WHEN … THEN …).
    const updates = statements.filter((s) => /^UPDATE `?connection_users`? /.test(s.sql));
    expect(updates).toHaveLength(1);
    expect(updates[0]!.sql).toMatch(/WHERE `?id`? IN \(\?, \?, \?, \?\)$/);
    const audit = statements.filter((s) => s.sql.startsWith('INSERT INTO audit_events'));
    expect(audit).toHaveLength(1);
    expect(audit[0]!.sql.match(/\),\s*\(/g)).toHaveLength(3); // four rows in one INSERT
    for (const id of ids.slice(0, 4)) expect(await auditActions(id)).toContain('user.updated');
  });

  it('applies writes of one user in one group in arrival order: no lost update, one version each', async () => {
    const id = ids[4]!;
    const before = (await store.get(asA(), id)).version;
    const adds = Array.from({ length: 8 }, (_, i) => store.patch(asA(), id, { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'phoneNumbers', value: [{ value: `+1555000${i}`, type: 'work' }] }] }));
    await Promise.all(adds);
    const { resource, version } = await store.get(asA(), id);
    expect((resource.phoneNumbers as Array<{ value: string }>).map((p) => p.value).sort()).toEqual(Array.from({ length: 8 }, (_, i) => `+1555000${i}`));
    expect(version).toBe(before + 8);
  });

  it("answers each member with its own outcome: a bad one, another tenant's, a stale If-Match and a rolled-back savepoint fail alone", async () => {
    const [ok1, bad, foreign, stale, mapping, ok2] = await Promise.allSettled([
      store.patch(asA(), ids[0]!, replace('displayName', 'Kept 0')),
      store.patch(asA(), ids[1]!, replace('active', 'not a boolean')),
      store.patch(asB(), ids[2]!, replace('displayName', 'Other tenant')),
      store.patch(asA(), ids[3]!, replace('displayName', 'Stale'), 'W/"1"'),
      // A complex member: its UPDATE runs, then role mapping refuses the role (400), so the savepoint
      // is rolled back — the UPDATE and its events with it.
      store.patch(asA(), ids[5]!, { schemas: [PATCH_OP, DOCKER], Operations: [{ op: 'add', path: `${DOCKER}:dockerRole`, value: 'no-such-role' }, { op: 'replace', path: 'displayName', value: 'Never' }] }),
      store.patch(asA(), ids[1]!, replace('displayName', 'Kept 1')),
    ]);
    expect(ok1.status === 'fulfilled' && ok1.value.displayName).toBe('Kept 0');
    expect(ok2.status === 'fulfilled' && ok2.value.displayName).toBe('Kept 1');
    expect(bad.status === 'rejected' && (bad.reason as { status: number }).status).toBe(400);
    expect(foreign.status === 'rejected' && (foreign.reason as { status: number }).status).toBe(404);
    expect(stale.status === 'rejected' && (stale.reason as { status: number }).status).toBe(412);
    expect(mapping.status === 'rejected' && (mapping.reason as { status: number }).status).toBe(400);
    expect((await store.get(asA(), ids[5]!)).resource.displayName).not.toBe('Never');
    expect((await store.get(asA(), ids[5]!)).version).toBe(1);
    expect(await auditActions(ids[5]!)).not.toContain('user.updated');
    expect((await store.get(asA(), ids[2]!)).resource.displayName).not.toBe('Other tenant');
  });

  it('a complex member after simple ones of the same user: each sees the one before it, nothing lost', async () => {
    const id = ids[0]!;
    const before = (await store.get(asA(), id)).version;
    const [a, b, c] = await Promise.all([
      store.patch(asA(), id, replace('displayName', 'First')),
      store.patch(asA(), id, replace('title', 'Second')),
      // Complex (emails change): the simple changes before it must be in the database when it runs,
      // and must not be written over it afterwards.
      store.patch(asA(), id, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'emails', value: [{ value: 'mixed@acme.test', type: 'work', primary: true }] }, { op: 'replace', path: 'name.givenName', value: 'Third' }] }),
    ]);
    expect(groups.at(-1)).toBe(3);
    expect([a.meta, b.meta, c.meta].map((m) => (m as { version: string }).version)).toEqual([`W/"${before + 1}"`, `W/"${before + 2}"`, `W/"${before + 3}"`]);
    const { resource, version } = await store.get(asA(), id);
    expect(version).toBe(before + 3);
    expect(resource).toMatchObject({ displayName: 'First', title: 'Second', name: { givenName: 'Third' }, emails: [{ value: 'mixed@acme.test' }] });
    const [{ n }] = await bed.t.gateway.db.query('SELECT COUNT(*) AS n FROM connection_user_emails WHERE connection_user_id = ? AND value = ?', [id, 'mixed@acme.test']);
    expect(Number(n)).toBe(1);
  });

  it('a group of deactivations: one locking read, one UPDATE, one outbox INSERT, one audit INSERT', async () => {
    const targets = await Promise.all([0, 1, 2].map(async (i) => (await store.create(asB(), { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: `off${i}@initech.test`, active: true })).id as string));
    const spy = vi.spyOn(MysqlQueryRunner.prototype, 'query');
    let statements: string[];
    try {
      const done = await Promise.all(targets.map((id) => store.patch(asB(), id, replace('active', false))));
      expect(done.map((r) => r.active)).toEqual([false, false, false]);
      statements = spy.mock.calls.map(([sql]) => String(sql));
    } finally {
      spy.mockRestore();
    }
    expect(groups.at(-1)).toBe(3);
    expect(statements.filter((s) => /^SELECT .* FROM connection_users WHERE id IN \(\?, \?, \?\) ORDER BY id FOR UPDATE$/s.test(s))).toHaveLength(1);
    expect(statements.filter((s) => /^UPDATE `?connection_users`? /.test(s))).toHaveLength(1);
    expect(statements.filter((s) => /^INSERT INTO `?outbox`? /.test(s))).toHaveLength(1);
    expect(statements.filter((s) => s.startsWith('INSERT INTO audit_events'))).toHaveLength(1);
    for (const id of targets) {
      expect((await store.get(asB(), id)).resource.active).toBe(false);
      expect(await auditActions(id)).toContain('user.deactivated');
    }
  });

  it('simple members changing different columns: one UPDATE per set of columns, each row its own values', async () => {
    const [p1, p2, d1] = await Promise.all([0, 1, 2].map(async (i) => (await store.create(asB(), { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: `sets${i}@initech.test`, active: true })).id as string));
    const spy = vi.spyOn(MysqlQueryRunner.prototype, 'query');
    let statements: string[];
    try {
      await Promise.all([
        store.patch(asB(), p1!, replace('displayName', 'Sets One')),
        store.patch(asB(), d1!, replace('active', false)),
        store.patch(asB(), p2!, replace('displayName', 'Sets Two')),
      ]);
      statements = spy.mock.calls.map(([sql]) => String(sql));
    } finally {
      spy.mockRestore();
    }
    expect(groups.at(-1)).toBe(3);
    expect(statements.filter((s) => /^UPDATE `?connection_users`? /.test(s))).toHaveLength(2);
    expect((await store.get(asB(), p1!)).resource).toMatchObject({ displayName: 'Sets One', active: true });
    expect((await store.get(asB(), p2!)).resource).toMatchObject({ displayName: 'Sets Two', active: true });
    expect((await store.get(asB(), d1!)).resource).toMatchObject({ active: false });
    expect((await store.get(asB(), d1!)).resource.displayName).toBeUndefined();
  });

  it('records each deactivation of a group with its own job intent and audit event, in the one transaction', async () => {
    const targets = [ids[2]!, ids[3]!];
    await Promise.all(targets.map((id) => store.patch(asA(), id, replace('active', false))));
    const intents = await bed.t.gateway.db.getRepository(OutboxMessageEntity).findBy({ jobName: 'deactivate-user' });
    for (const id of targets) {
      expect(intents.filter((j) => (j.payload as { connectionUserId: string }).connectionUserId === id)).toHaveLength(1);
      expect(await auditActions(id)).toContain('user.deactivated');
    }
  });
});
