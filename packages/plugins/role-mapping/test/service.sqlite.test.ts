/**
 * The service on the embedded default, SQLite: its state query is written for both dialects (no row
 * locks, no parenthesised UNION members there), so the main paths run here too.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DataSource } from 'typeorm';
import { createTransactionRunner, EventBus } from '@doorman/core';
import { type ApplyMappingRequest, type DomainEvent } from '@doorman/plugin-api';
import { createDataSource } from '@doorman/model';
import { createRoleMappingService, previewMapping, type RoleMappingServiceImpl } from '../src/service.ts';
import { addMembership, createConnection, createTeam, createUser, createWorld, membershipsOf, TEST_ACTOR, type World } from './support.ts';

let ds: DataSource;
let transaction: ReturnType<typeof createTransactionRunner>;
let service: RoleMappingServiceImpl;
let w: World;
let names: { moby: string; whale: string };
const events: DomainEvent[] = [];

beforeAll(async () => {
  ds = createDataSource({ url: 'sqlite::memory:' });
  await ds.initialize();
  await ds.runMigrations({ transaction: 'each' });
  transaction = createTransactionRunner(ds);
  const bus = new EventBus();
  bus.subscribe(async (_tx, _actor, event) => void events.push(event));
  service = createRoleMappingService({ events: bus, directory: () => null, inlineLimit: 100, enqueueGroupSync: async () => 'unused' });
});
afterAll(async () => ds?.destroy());

beforeEach(async () => {
  w = await createWorld(ds);
  const rows: Array<{ id: string; name: string }> = await ds.query('SELECT id, name FROM organizations WHERE id IN (?, ?)', [w.moby, w.whale]);
  const byId = new Map(rows.map((r) => [r.id, r.name]));
  names = { moby: byId.get(w.moby)!, whale: byId.get(w.whale)! };
  events.splice(0);
});

const apply = (userId: string, attributes: ApplyMappingRequest['attributes'], opts: Partial<ApplyMappingRequest> = {}) =>
  transaction((tx) => service.apply(tx, { connectionId: w.c1, userId, attributes, flow: 'scim', firstTime: false, actor: TEST_ACTOR, ...opts }));

describe('role mapping on SQLite', () => {
  it('creates, changes the role, moves teams and organizations, and is idempotent', async () => {
    const user = await createUser(ds);
    const created = await apply(user, { dockerRole: 'editor' }, { firstTime: true });
    expect(created.changes.map((c) => c.kind)).toEqual(['addOrgMembership', 'addTeamMembership']);
    expect(await membershipsOf(ds, user)).toEqual({
      orgs: [{ org: names.moby, role: 'editor', source: 'scim', connectionId: w.c1 }],
      teams: [{ org: names.moby, team: 'everyone', grantedBy: 'mapping', source: 'scim', connectionId: w.c1 }],
    });
    expect((await apply(user, { dockerRole: 'editor' })).changes).toEqual([]);

    const moved = await apply(user, { dockerRole: 'owner', dockerTeam: 'Platform' });
    expect(moved.changes.map((c) => c.kind)).toEqual(['changeRole', 'createTeam', 'addTeamMembership', 'removeTeamMembership']);
    expect(moved.changes.at(-1)).toMatchObject({ team: 'everyone', teamId: w.everyoneTeam });
    expect((await apply(user, { dockerRole: 'owner', dockerTeam: 'platform' })).changes).toEqual([]);

    await apply(await createUser(ds), { dockerRole: 'owner' }); // a second owner, so the first may leave moby
    const away = await apply(user, { dockerOrg: names.whale });
    expect(away.changes.map((c) => c.kind)).toEqual(['addOrgMembership', 'removeTeamMembership', 'removeOrgMembership']);
    expect(await membershipsOf(ds, user)).toEqual({ orgs: [{ org: names.whale, role: 'member', source: 'scim', connectionId: w.c1 }], teams: [] });
    expect(events.map((e) => e.action)).toContain('team.created');
  });

  it('finds an existing default team whatever case or spaces the connection stores it with', async () => {
    await createTeam(ds, w.moby, 'Équipe');
    const conn = await createConnection(ds, { orgIds: [w.moby], defaultOrgId: w.moby, defaultTeam: '\tÉQUIPE ' });
    const user = await createUser(ds);
    const summary = await apply(user, {}, { connectionId: conn });
    expect(summary.changes.map((c) => c.kind)).toEqual(['addOrgMembership', 'addTeamMembership']);
    expect((await membershipsOf(ds, user)).teams.map((t) => t.team)).toEqual(['Équipe']);
  });

  it('revokes this connection\'s memberships, keeping a last owner', async () => {
    const user = await createUser(ds);
    await apply(user, { dockerRole: 'owner', groups: [`${names.whale}:mobile`] }); // the group replaces the default team
    const summary = await transaction((tx) => service.revokeConnectionMemberships(tx, { connectionId: w.c1, userId: user, actor: TEST_ACTOR }));
    expect(summary.skipped).toEqual([{ kind: 'removeOrgMembership', orgId: w.moby, org: names.moby, reason: 'last owner' }]);
    expect(summary.changes.map((c) => [c.kind, c.org, 'team' in c ? c.team : null]).sort()).toEqual(
      [
        ['removeOrgMembership', names.whale, null],
        ['removeTeamMembership', names.whale, 'mobile'],
      ].sort(),
    );
    expect(await membershipsOf(ds, user)).toEqual({ orgs: [{ org: names.moby, role: 'owner', source: 'scim', connectionId: w.c1 }], teams: [] });
  });

  it('previews without writing and answers not found for an unknown user or connection', async () => {
    const user = await createUser(ds);
    await addMembership(ds, { orgId: w.moby, userId: user, role: 'editor' });
    const preview = await transaction((tx) => previewMapping({ directory: () => null }, tx, { connectionId: w.c1, userId: user, attributes: { dockerTeam: 'design' }, flow: 'scim' }));
    expect(preview).toMatchObject({ role: 'editor', mappedRole: 'member', team: 'design', effectiveOrg: { id: w.moby, name: names.moby } });
    expect(preview.changes.map((c) => c.kind)).toEqual(['createTeam', 'addTeamMembership']);
    expect((await membershipsOf(ds, user)).teams).toEqual([]);
    await expect(transaction((tx) => previewMapping({ directory: () => null }, tx, { connectionId: w.c1, userId: 'nobody', attributes: {}, flow: 'scim' }))).rejects.toMatchObject({ status: 404, field: 'userId' });
    await expect(transaction((tx) => previewMapping({ directory: () => null }, tx, { connectionId: 'nothing', userId: null, attributes: {}, flow: 'scim' }))).rejects.toMatchObject({ status: 404, field: 'connectionId' });
  });
});
