/**
 * Role mapping for several people at once (`applyMany`, a group of SCIM creates): the same outcome
 * and events as `apply` one person after another, on MariaDB; one state read and one INSERT per
 * table (statements.test.ts counts them).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ApplyMappingRequest } from '@doorman/plugin-api';
import type { TestGateway } from '@doorman/core/testing';
import type { DataSource, EntityManager } from 'typeorm';
import { insertAccount, newRowId } from '@doorman/model';
import { RowBatch } from '../src/apply-changes.ts';
import type { RoleMappingServiceImpl } from '../src/service.ts';
import { createConnection, createOrg, createUser, createWorld, eventRecorder, membershipsOf, startRoleMappingGateway, TEST_ACTOR, type World } from './support.ts';

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
  recorder.clear();
});

const request = (userId: string, attributes: ApplyMappingRequest['attributes'], connectionId = w.c1): ApplyMappingRequest => ({
  connectionId,
  userId,
  attributes,
  flow: 'scim',
  firstTime: true,
  actor: { ...TEST_ACTOR, id: userId },
});
const applyMany = (requests: ApplyMappingRequest[]) => t.gateway.transaction((tx) => service.applyMany(tx, requests));
const applyOneByOne = (requests: ApplyMappingRequest[]) =>
  t.gateway.transaction(async (tx) => {
    const out = [];
    for (const r of requests) out.push(await service.apply(tx, r));
    return out;
  });
/** What a person holds (organization and team names, roles, sources). */
const held = (userId: string) => membershipsOf(ds, userId);
/** Events as [actor, action, target], the actor standing for the person. */
const trace = (people: string[]) => recorder.events.map((e) => [people.indexOf(e.actor.id ?? ''), e.event.action, people.indexOf(e.event.target?.id ?? '')]);

describe('applyMany', () => {
  it('gives each person what apply one after another gives, with the same events in the same order', async () => {
    const attrs: Array<ApplyMappingRequest['attributes']> = [{ dockerRole: 'editor' }, { dockerRole: 'owner', dockerOrg: null }, {}, { dockerRole: 'member', dockerTeam: 'everyone' }];
    const batched = await Promise.all(attrs.map(() => createUser(ds)));
    const single = await Promise.all(attrs.map(() => createUser(ds)));
    const many = await applyMany(batched.map((u, i) => request(u, attrs[i]!)));
    const manyTrace = trace(batched);
    recorder.clear();
    const one = await applyOneByOne(single.map((u, i) => request(u, attrs[i]!)));
    expect(many).toEqual(one);
    expect(manyTrace).toEqual(trace(single));
    expect(manyTrace.length).toBeGreaterThan(attrs.length);
    for (const [i, u] of batched.entries()) expect(await held(u)).toEqual(await held(single[i]!));
    expect((await held(batched[0]!)).orgs).toMatchObject([{ role: 'editor', source: 'scim', connectionId: w.c1 }]);
    expect((await held(batched[0]!)).teams).toMatchObject([{ team: 'everyone' }]);
  });

  it('the last seat of an organization goes to the first person; the second is refused as apply refuses them', async () => {
    const org = await createOrg(ds, `seats-${Date.now()}`, 1);
    const conn = await createConnection(ds, { orgIds: [org], defaultOrgId: org });
    const [a, b, c, d] = [await createUser(ds), await createUser(ds), await createUser(ds), await createUser(ds)];
    const many = await applyMany([request(a, { dockerRole: 'member' }, conn), request(b, { dockerRole: 'member' }, conn)]).catch((err: unknown) => err);
    // The same refusal as apply one after another on a fresh organization of one seat.
    const org2 = await createOrg(ds, `seats2-${Date.now()}`, 1);
    const conn2 = await createConnection(ds, { orgIds: [org2], defaultOrgId: org2 });
    const one = await applyOneByOne([request(c, { dockerRole: 'member' }, conn2), request(d, { dockerRole: 'member' }, conn2)]).catch((err: unknown) => err);
    expect(many).toBeInstanceOf(Error);
    expect((many as { code?: string }).code).toBe((one as { code?: string }).code);
    expect((many as { status?: number }).status).toBe(403);
    // The caller's transaction rolled back: nobody holds anything.
    expect(await held(a)).toEqual({ orgs: [], teams: [] });
  });

  it('a team two people name that does not exist yet is created once and both join it', async () => {
    const [a, b] = [await createUser(ds), await createUser(ds)];
    const summaries = await applyMany([request(a, { dockerTeam: 'Divers' }), request(b, { dockerTeam: 'divers' })]);
    expect(summaries[0]!.changes.map((c) => c.kind)).toContain('createTeam');
    expect(summaries[1]!.changes.map((c) => c.kind)).not.toContain('createTeam');
    expect(recorder.actions().filter((a) => a === 'team.created')).toHaveLength(1);
    const [teamA, teamB] = [(await held(a)).teams, (await held(b)).teams];
    expect(teamA.map((x) => x.team)).toEqual(['Divers']);
    expect(teamB).toEqual(teamA);
  });

  it('the same person twice, or people of two connections: as apply one after another', async () => {
    const a = await createUser(ds);
    const twice = await applyMany([request(a, { dockerRole: 'editor' }), request(a, { dockerRole: 'editor' })]);
    expect(twice.map((s) => s.changes.length)).toEqual([2, 0]);
    const [b, c] = [await createUser(ds), await createUser(ds)];
    const mixed = await applyMany([request(b, { dockerRole: 'editor' }, w.c1), request(c, {}, w.c2)]);
    expect(mixed.map((s) => s.changes.map((x) => x.orgId))).toEqual([[w.moby, w.moby], [w.acme]]);
    expect((await held(c)).orgs).toMatchObject([{ role: 'member', connectionId: w.c2 }]);
  });

  it('a bad value of one person fails the call naming the field, and nothing is written', async () => {
    const [a, b] = [await createUser(ds), await createUser(ds)];
    const err = await applyMany([request(a, { dockerRole: 'editor' }), request(b, { dockerRole: 'emperor' })]).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 400, field: 'dockerRole' });
    expect(await held(a)).toEqual({ orgs: [], teams: [] });
  });

  it('new accounts are neither read nor locked: a second group of new people does not wait for an uncommitted first', async () => {
    // With time-ordered ids every new person's keys share the last gap of each index; a locking read
    // of their (empty) memberships would hold that gap until commit (docs/row-ids.md, "Locks").
    const fresh = async (tx: EntityManager, n: number) => {
      const ids: string[] = [];
      for (let i = 0; i < n; i++) ids.push((await insertAccount(tx, { email: `fresh-${newRowId()}@example.com`, fullName: null, now: new Date() })).id);
      return ids.map((u) => ({ ...request(u, {}), accountCreated: true }));
    };
    let release!: () => void;
    const hold = new Promise<void>((resolve) => (release = resolve));
    let applied!: (people: string[]) => void;
    const firstApplied = new Promise<string[]>((resolve) => (applied = resolve));
    const first = t.gateway.transaction(async (tx) => {
      const requests = await fresh(tx, 2);
      await service.applyMany(tx, requests);
      applied(requests.map((r) => r.userId));
      await hold;
    });
    const firstPeople = await firstApplied;
    let secondPeople: string[] = [];
    try {
      await t.gateway.transaction(async (tx) => {
        await tx.query('SET SESSION innodb_lock_wait_timeout = 1');
        try {
          const requests = await fresh(tx, 2);
          await service.applyMany(tx, requests);
          secondPeople = requests.map((r) => r.userId);
        } finally {
          await tx.query('SET SESSION innodb_lock_wait_timeout = DEFAULT');
        }
      });
    } finally {
      release();
      await first;
    }
    for (const u of [...firstPeople, ...secondPeople]) expect((await held(u)).orgs).toMatchObject([{ role: 'member', source: 'scim', connectionId: w.c1 }]);
    expect(secondPeople).toHaveLength(2);
  });

  it('a row another writer added meanwhile fails the batch with 409 (the caller re-runs people one by one)', async () => {
    const a = await createUser(ds);
    const err = await t.gateway
      .transaction(async (tx) => {
        const batch = new RowBatch();
        for (let i = 0; i < 2; i++) batch.add('org_memberships', [crypto.randomUUID(), w.moby, a, 'member', 'scim', w.c1, 'scim_attribute', null]);
        await batch.flush(tx);
      })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 409, code: 'DMN_CHANGED_CONCURRENTLY' });
    expect(await held(a)).toEqual({ orgs: [], teams: [] });
  });
});
