/**
 * How many SQL statements role mapping costs, counted by MariaDB itself (the session's `Questions`
 * status), so a change that adds round trips to the hot path fails here. The bounds are the counts
 * measured when they were set; lower is fine, higher needs a reason.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ApplyMappingRequest } from '@doorman/plugin-api';
import type { TestGateway } from '@doorman/core/testing';
import type { DataSource, EntityManager } from 'typeorm';
import type { RoleMappingServiceImpl } from '../src/service.ts';
import { addMembership, createConnection, createOrg, createUser, createWorld, eventRecorder, membershipsOf, startRoleMappingGateway, TEST_ACTOR, type World } from './support.ts';

const recorder = eventRecorder();
let t: TestGateway;
let ds: DataSource;
let service: RoleMappingServiceImpl;
let w: World;

beforeAll(async () => {
  ({ t, ds, service } = await startRoleMappingGateway(recorder));
});
afterAll(async () => t?.close());
beforeEach(async () => {
  w = await createWorld(ds);
});

async function questions(tx: EntityManager): Promise<number> {
  const [row]: Array<{ Value: string }> = await tx.query("SHOW SESSION STATUS LIKE 'Questions'");
  return Number(row!.Value);
}

/**
 * Runs `work` in a transaction and returns how many statements it sent, as MariaDB counts them on
 * the transaction's connection (the second SHOW counts itself, hence the -1). `sql` lists them, for
 * a failure message that says what was added.
 */
async function counted<T>(work: (tx: EntityManager) => Promise<T>): Promise<{ result: T; statements: number; sql: string[] }> {
  return t.gateway.transaction(async (tx) => {
    const qr = tx.queryRunner!;
    const sql: string[] = [];
    const before = await questions(tx);
    const query = qr.query.bind(qr);
    qr.query = ((text: string, ...rest: unknown[]) => {
      sql.push(text.replace(/\s+/g, ' ').slice(0, 160));
      return (query as (...a: unknown[]) => unknown)(text, ...rest);
    }) as typeof qr.query;
    try {
      const result = await work(tx);
      qr.query = query;
      return { result, statements: (await questions(tx)) - before - 1, sql };
    } finally {
      qr.query = query;
    }
  });
}

const request = (userId: string, attributes: ApplyMappingRequest['attributes'], opts: Partial<ApplyMappingRequest> = {}): ApplyMappingRequest => ({
  connectionId: w.c1,
  userId,
  attributes,
  flow: 'scim',
  firstTime: false,
  actor: TEST_ACTOR,
  ...opts,
});

/** The statement count, with the statements themselves in the failure message. */
const statementsOf = (run: { statements: number; sql: string[] }) => {
  // The trace sees every statement the transaction's connection sent, or the bound would be blind.
  expect(run.sql).toHaveLength(run.statements);
  return run.statements;
};

describe('statements per role-mapping operation (MariaDB Questions)', () => {
  it('counts what the work sends and nothing else', async () => {
    expect((await counted(async () => undefined)).statements).toBe(0);
    expect((await counted(async (tx) => tx.query('SELECT 1'))).statements).toBe(1);
  });

  // Each bound: [before, bound]. Before = separate TypeORM reads (user lock, connection, orgs, all
  // teams of the orgs, org and team memberships) and a TypeORM insert that re-reads its defaulted
  // timestamps.
  it('first-time SCIM create with dockerRole, default org without a default team: 2 (was 8)', async () => {
    const org = await createOrg(ds, `plain-${Date.now()}`);
    const conn = await createConnection(ds, { orgIds: [org], defaultOrgId: org });
    const user = await createUser(ds);
    const run = await counted((tx) => service.apply(tx, request(user, { dockerRole: 'editor' }, { connectionId: conn, firstTime: true })));
    expect(run.result.changes.map((c) => c.kind)).toEqual(['addOrgMembership']);
    expect(statementsOf(run), run.sql.join('\n')).toBeLessThanOrEqual(2);
  });

  it('first-time SCIM create with dockerRole, default org and default team: 3 (was 10)', async () => {
    const user = await createUser(ds);
    const run = await counted((tx) => service.apply(tx, request(user, { dockerRole: 'editor' }, { firstTime: true })));
    expect(run.result.changes.map((c) => c.kind)).toEqual(['addOrgMembership', 'addTeamMembership']);
    expect(statementsOf(run), run.sql.join('\n')).toBeLessThanOrEqual(3);
  });

  it('revoke of a batch of 5 people, an org and a team membership each: 3, as for one', async () => {
    const people: string[] = [];
    for (let i = 0; i < 5; i++) {
      const user = await createUser(ds);
      await t.gateway.transaction((tx) => service.apply(tx, request(user, { dockerRole: 'editor' })));
      people.push(user);
    }
    const run = await counted((tx) => service.revokeConnectionMembershipsOfMany(tx, people.map((userId) => ({ connectionId: w.c1, userId, actor: TEST_ACTOR }))));
    expect(run.result.map((s) => s.changes.length)).toEqual([2, 2, 2, 2, 2]);
    for (const user of people) expect(await membershipsOf(ds, user)).toEqual({ orgs: [], teams: [] });
    expect(statementsOf(run), run.sql.join('\n')).toBeLessThanOrEqual(3);
  });

  it('first-time SCIM creates of 5 people at once (applyMany), default org and default team: 3, as for one (was 15)', async () => {
    const people: string[] = [];
    for (let i = 0; i < 5; i++) people.push(await createUser(ds));
    const run = await counted((tx) => service.applyMany(tx, people.map((user) => request(user, { dockerRole: 'editor' }, { firstTime: true }))));
    expect(run.result.map((s) => s.changes.map((c) => c.kind))).toEqual(people.map(() => ['addOrgMembership', 'addTeamMembership']));
    for (const user of people) expect((await membershipsOf(ds, user)).teams).toHaveLength(1);
    expect(statementsOf(run), run.sql.join('\n')).toBeLessThanOrEqual(3);
  });

  it('first-time SCIM create into a seat-limited org, recounting under lock: 3 (was 10)', async () => {
    const org = await createOrg(ds, `seats-${Date.now()}`, 100);
    const conn = await createConnection(ds, { orgIds: [org], defaultOrgId: org });
    await addMembership(ds, { orgId: org, userId: await createUser(ds), role: 'owner' });
    const user = await createUser(ds);
    const run = await counted((tx) => service.apply(tx, request(user, { dockerRole: 'editor' }, { connectionId: conn, firstTime: true })));
    expect(run.result.changes.map((c) => c.kind)).toEqual(['addOrgMembership']);
    expect(statementsOf(run), run.sql.join('\n')).toBeLessThanOrEqual(3);
  });

  it('apply with unchanged attributes: one read, no write (was 6)', async () => {
    const user = await createUser(ds);
    await t.gateway.transaction((tx) => service.apply(tx, request(user, { dockerRole: 'editor' })));
    const run = await counted((tx) => service.apply(tx, request(user, { dockerRole: 'editor' })));
    expect(run.result.changes).toEqual([]);
    expect(statementsOf(run), run.sql.join('\n')).toBe(1);
    expect(run.sql.every((q) => /^\(?SELECT /.test(q)), run.sql.join('\n')).toBe(true);
  });

  it('revoke (deactivation) of an org and a team membership: 3 (was 7)', async () => {
    const user = await createUser(ds);
    await t.gateway.transaction((tx) => service.apply(tx, request(user, { dockerRole: 'editor' })));
    const run = await counted((tx) => service.revokeConnectionMemberships(tx, { connectionId: w.c1, userId: user, actor: TEST_ACTOR }));
    expect(run.result.changes.map((c) => c.kind)).toEqual(['removeTeamMembership', 'removeOrgMembership']);
    expect(await membershipsOf(ds, user)).toEqual({ orgs: [], teams: [] });
    expect(statementsOf(run), run.sql.join('\n')).toBeLessThanOrEqual(3);
  });
});
