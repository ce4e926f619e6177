import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { InputError, NotAllowedError, type ApplyMappingRequest } from '@doorman/plugin-api';
import type { TestGateway } from '@doorman/core/testing';
import { OrgMembershipEntity } from '@doorman/model';
import type { DataSource } from 'typeorm';
import type { RoleMappingServiceImpl } from '../src/service.ts';
import {
  addMembership,
  addTeamMembership,
  createOrg,
  createConnection,
  createTeam,
  createUser,
  createWorld,
  eventRecorder,
  membershipsOf,
  rowCounts,
  startRoleMappingGateway,
  TEST_ACTOR,
  type World,
} from './support.ts';

const recorder = eventRecorder();
let t: TestGateway;
let ds: DataSource;
let service: RoleMappingServiceImpl;
let w: World;
let names: { moby: string; whale: string; acme: string };

beforeAll(async () => {
  ({ t, ds, service } = await startRoleMappingGateway(recorder));
});
afterAll(async () => t?.close());

beforeEach(async () => {
  w = await createWorld(ds);
  const rows: Array<{ id: string; name: string }> = await ds.query('SELECT id, name FROM organizations WHERE id IN (?, ?, ?)', [w.moby, w.whale, w.acme]);
  const byId = new Map(rows.map((r) => [r.id, r.name]));
  names = { moby: byId.get(w.moby)!, whale: byId.get(w.whale)!, acme: byId.get(w.acme)! };
  recorder.clear();
});

const apply = (userId: string, attributes: ApplyMappingRequest['attributes'], opts: Partial<ApplyMappingRequest> = {}) =>
  t.gateway.transaction((tx) => service.apply(tx, { connectionId: w.c1, userId, attributes, flow: 'scim', firstTime: false, actor: TEST_ACTOR, ...opts }));

describe('apply, SCIM flow', () => {
  it('creates the org membership with the role and the default team, publishing one event per change', async () => {
    const user = await createUser(ds);
    const summary = await apply(user, { dockerRole: 'editor' }, { firstTime: true });
    expect(summary.changes.map((c) => c.kind)).toEqual(['addOrgMembership', 'addTeamMembership']);
    expect(await membershipsOf(ds, user)).toEqual({
      orgs: [{ org: names.moby, role: 'editor', source: 'scim', connectionId: w.c1 }],
      teams: [{ org: names.moby, team: 'everyone', grantedBy: 'mapping', source: 'scim', connectionId: w.c1 }],
    });
    // Each event records the decision's inputs (src/decision-context.ts); compared apart.
    expect(recorder.events.map((e) => [e.event.context?.rule, (e.event.context?.inputs as { dockerRole?: string })?.dockerRole])).toEqual([
      ['defaultOrganization', 'editor'],
      ['defaultTeam', 'editor'],
    ]);
    expect(recorder.events.map(({ event: { context: _, ...e } }) => e)).toEqual([
      { action: 'member.added', orgId: w.moby, connectionId: w.c1, target: { type: 'user', id: user }, changes: { role: { after: 'editor' }, source: { after: 'scim' } } },
      {
        action: 'team_member.added',
        orgId: w.moby,
        connectionId: w.c1,
        target: { type: 'user', id: user },
        changes: { team: { after: 'everyone' }, teamId: { after: w.everyoneTeam }, grantedBy: { after: 'mapping' } },
      },
    ]);
    expect(recorder.events.every((e) => e.actor === TEST_ACTOR)).toBe(true);
  });

  it('changes the role when dockerRole changes', async () => {
    const user = await createUser(ds);
    await apply(user, { dockerRole: 'member' });
    recorder.clear();
    const summary = await apply(user, { dockerRole: 'owner' });
    expect(summary.changes).toEqual([{ kind: 'changeRole', orgId: w.moby, org: names.moby, from: 'member', to: 'owner' }]);
    expect((await membershipsOf(ds, user)).orgs[0]!.role).toBe('owner');
    expect(recorder.events.map((e) => e.event.context?.rule)).toEqual(['dockerRole']);
    expect(recorder.events.map(({ event: { context: _, ...e } }) => e)).toEqual([
      { action: 'member.role_changed', orgId: w.moby, connectionId: w.c1, target: { type: 'user', id: user }, changes: { role: { before: 'member', after: 'owner' } } },
    ]);
  });

  it('moves the membership when dockerOrg changes, dropping the default team', async () => {
    const user = await createUser(ds);
    await apply(user, {});
    recorder.clear();
    await apply(user, { dockerOrg: names.whale.toUpperCase() });
    expect(await membershipsOf(ds, user)).toEqual({ orgs: [{ org: names.whale, role: 'member', source: 'scim', connectionId: w.c1 }], teams: [] });
    expect(recorder.actions()).toEqual(['member.added', 'team_member.removed', 'member.removed']);
  });

  it('changes the team when dockerTeam changes, and creates a team that does not exist', async () => {
    const user = await createUser(ds);
    await apply(user, { dockerTeam: 'everyone' });
    recorder.clear();
    const summary = await apply(user, { dockerTeam: 'Platform' });
    const team: Array<{ id: string; name: string; name_lc: string }> = await ds.query('SELECT id, name, name_lc FROM teams WHERE org_id = ? AND name = ?', [w.moby, 'Platform']);
    expect(team).toEqual([{ id: expect.any(String), name: 'Platform', name_lc: 'platform' }]);
    expect(summary.changes).toEqual([
      { kind: 'createTeam', orgId: w.moby, org: names.moby, team: 'Platform', teamId: team[0]!.id },
      { kind: 'addTeamMembership', orgId: w.moby, org: names.moby, team: 'Platform', teamId: team[0]!.id, grantedBy: 'mapping' },
      { kind: 'removeTeamMembership', orgId: w.moby, org: names.moby, team: 'everyone', teamId: w.everyoneTeam },
    ]);
    expect((await membershipsOf(ds, user)).teams.map((x) => x.team)).toEqual(['Platform']);
    expect(recorder.events.map((e) => [e.event.action, e.event.target])).toEqual([
      ['team.created', { type: 'team', id: team[0]!.id }],
      ['team_member.added', { type: 'user', id: user }],
      ['team_member.removed', { type: 'user', id: user }],
    ]);
  });

  it('is idempotent: the same attributes again write nothing and publish nothing', async () => {
    const user = await createUser(ds);
    const attrs = { dockerRole: 'editor', dockerOrg: names.whale, dockerTeam: 'desktop', groups: [`${names.moby}:devs`, 'malformed'] };
    const first = await apply(user, attrs);
    expect(first.changes.length).toBeGreaterThan(0);
    expect(first.ignoredGroups).toEqual(['malformed']);
    const before = await rowCounts(ds);
    const updatedAt = await ds.query('SELECT id, updated_at FROM org_memberships WHERE user_id = ? ORDER BY id', [user]);
    recorder.clear();
    const second = await apply(user, attrs);
    expect(second).toEqual({ changes: [], ignoredGroups: ['malformed'] });
    expect(recorder.events).toEqual([]);
    expect(await rowCounts(ds)).toEqual(before);
    expect(await ds.query('SELECT id, updated_at FROM org_memberships WHERE user_id = ? ORDER BY id', [user])).toEqual(updatedAt);
  });

  it('leaves memberships an admin added alone: no role change, no removal', async () => {
    const user = await createUser(ds);
    const adminTeam = await createTeam(ds, w.moby, 'admins');
    await addMembership(ds, { orgId: w.moby, userId: user, role: 'editor' });
    await addTeamMembership(ds, { teamId: adminTeam, orgId: w.moby, userId: user });
    await apply(user, { dockerRole: 'owner' });
    await apply(user, { dockerRole: 'member', dockerOrg: names.whale });
    expect(await membershipsOf(ds, user)).toEqual({
      orgs: [
        { org: names.moby, role: 'editor', source: 'manual', connectionId: null },
        { org: names.whale, role: 'member', source: 'scim', connectionId: w.c1 },
      ],
      teams: [
        { org: names.moby, team: 'admins', grantedBy: 'admin', source: 'manual', connectionId: null },
        // The default team was added by the mapping (teams can be added to an admin's membership) and removed on the move.
      ],
    });
  });

  it('refuses to demote the last owner, writing and publishing nothing', async () => {
    const user = await createUser(ds);
    await apply(user, { dockerRole: 'owner' });
    const before = await rowCounts(ds);
    recorder.clear();
    const err = await apply(user, { dockerRole: 'member' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).message).toMatch(/last owner/);
    expect((err as InputError).field).toBe('dockerRole');
    expect((await membershipsOf(ds, user)).orgs[0]!.role).toBe('owner');
    expect(await rowCounts(ds)).toEqual(before);
    expect(recorder.events).toEqual([]);
  });

  it('allows demoting an owner when another owner remains', async () => {
    const [a, b] = [await createUser(ds), await createUser(ds)];
    await apply(a, { dockerRole: 'owner' });
    await apply(b, { dockerRole: 'owner' });
    await apply(a, { dockerRole: 'member' });
    expect((await membershipsOf(ds, a)).orgs[0]!.role).toBe('member');
    await expect(apply(b, { dockerRole: 'member' })).rejects.toThrow(/last owner/);
  });

  it('refuses a new membership when the organization has no seat left', async () => {
    const full = await createOrg(ds, `full-${Date.now()}`, 1);
    const conn = await createConnection(ds, { orgIds: [full], defaultOrgId: full });
    await addMembership(ds, { orgId: full, userId: await createUser(ds), role: 'owner' });
    const user = await createUser(ds);
    const before = await rowCounts(ds);
    recorder.clear();
    const err = await apply(user, {}, { connectionId: conn }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotAllowedError);
    expect((err as Error).message).toMatch(/^Not enough seats in organization 'full-\d+'/);
    expect(await rowCounts(ds)).toEqual(before);
    expect(recorder.events).toEqual([]);
  });

  it('rejects bad values naming the attribute', async () => {
    const user = await createUser(ds);
    await expect(apply(user, { dockerRole: 'admin' })).rejects.toMatchObject({ field: 'dockerRole', scimType: 'invalidValue' });
    await expect(apply(user, { dockerOrg: names.acme })).rejects.toMatchObject({ field: 'dockerOrg' });
    await expect(apply(user, { dockerTeam: 'a:b' })).rejects.toMatchObject({ field: 'dockerTeam' });
    expect(await membershipsOf(ds, user)).toEqual({ orgs: [], teams: [] });
  });

  it('answers 404-style errors for an unknown user or connection', async () => {
    const user = await createUser(ds);
    await expect(apply('no-such-user', {})).rejects.toMatchObject({ status: 404, field: 'userId' });
    await expect(apply(user, {}, { connectionId: 'no-such-connection' })).rejects.toMatchObject({ status: 404, field: 'connectionId' });
  });
});

describe('apply: the teams it looks up', () => {
  // apply reads only the teams the attributes, the default team and the user's memberships name,
  // not every team of the organizations; these pin that each of them is still found.
  it('finds existing teams named by dockerTeam and by groups in any case, even names a new team could not have', async () => {
    const equipe = await createTeam(ds, w.moby, 'Équipe Ω');
    const ops = await createTeam(ds, w.whale, 'Ops Ω');
    const user = await createUser(ds);
    const summary = await apply(user, { dockerTeam: 'équipe ω', groups: [`${names.whale}:OPS ω`] });
    expect(summary.changes).toEqual([
      { kind: 'addOrgMembership', orgId: w.moby, org: names.moby, role: 'member' },
      { kind: 'addOrgMembership', orgId: w.whale, org: names.whale, role: 'member' },
      { kind: 'addTeamMembership', orgId: w.moby, org: names.moby, team: 'Équipe Ω', teamId: equipe, grantedBy: 'mapping' },
      { kind: 'addTeamMembership', orgId: w.whale, org: names.whale, team: 'Ops Ω', teamId: ops, grantedBy: 'group' },
    ]);
  });

  it('finds the existing default team when the connection stores it with other case and whitespace', async () => {
    const equipe = await createTeam(ds, w.moby, 'Équipe');
    const conn = await createConnection(ds, { orgIds: [w.moby], defaultOrgId: w.moby, defaultTeam: '\tÉQUIPE ' });
    const user = await createUser(ds);
    const summary = await apply(user, {}, { connectionId: conn });
    expect(summary.changes).toEqual([
      { kind: 'addOrgMembership', orgId: w.moby, org: names.moby, role: 'member' },
      { kind: 'addTeamMembership', orgId: w.moby, org: names.moby, team: 'Équipe', teamId: equipe, grantedBy: 'mapping' },
    ]);
  });

  it('compares a team the user holds that is newer than the transaction\'s snapshot', async () => {
    const user = await createUser(ds);
    await apply(user, {});
    let late = '';
    const summary = await t.gateway.transaction(async (tx) => {
      await tx.query('SELECT COUNT(*) FROM teams'); // fixes this transaction's snapshot
      // Committed by another transaction after that: a team this connection's mapping granted.
      late = await createTeam(ds, w.moby, 'late');
      await addTeamMembership(ds, { teamId: late, orgId: w.moby, userId: user, grantedBy: 'mapping', source: 'scim', connectionId: w.c1 });
      return service.apply(tx, { connectionId: w.c1, userId: user, attributes: {}, flow: 'scim', firstTime: false, actor: TEST_ACTOR });
    });
    expect(summary.changes).toEqual([{ kind: 'removeTeamMembership', orgId: w.moby, org: names.moby, team: 'late', teamId: late }]);
    expect((await membershipsOf(ds, user)).teams.map((x) => x.team)).toEqual(['everyone']);
  });
});

describe('apply under concurrency', () => {
  it('ten concurrent applies for one user make exactly one membership of each kind', async () => {
    const user = await createUser(ds);
    const results = await Promise.all(Array.from({ length: 10 }, () => apply(user, { dockerRole: 'editor' })));
    expect(results.filter((r) => r.changes.length > 0)).toHaveLength(1);
    expect(await membershipsOf(ds, user)).toEqual({
      orgs: [{ org: names.moby, role: 'editor', source: 'scim', connectionId: w.c1 }],
      teams: [{ org: names.moby, team: 'everyone', grantedBy: 'mapping', source: 'scim', connectionId: w.c1 }],
    });
    expect(recorder.actions().sort()).toEqual(['member.added', 'team_member.added']);
  });

  it('ten users needing the same missing team at once create it once and all join it', async () => {
    const users = await Promise.all(Array.from({ length: 10 }, () => createUser(ds)));
    await Promise.all(users.map((u) => apply(u, { dockerTeam: 'Brand-New' })));
    const teams = await ds.query('SELECT id FROM teams WHERE org_id = ? AND name_lc = ?', [w.moby, 'brand-new']);
    expect(teams).toHaveLength(1);
    for (const u of users) expect((await membershipsOf(ds, u)).teams.map((x) => x.team)).toEqual(['Brand-New']);
    expect(recorder.actions().filter((a) => a === 'team.created')).toHaveLength(1);
  });

  it('two users racing for the last seat: exactly one gets it', async () => {
    const org = await createOrg(ds, `tight-${Date.now()}`, 2);
    const conn = await createConnection(ds, { orgIds: [org], defaultOrgId: org });
    await addMembership(ds, { orgId: org, userId: await createUser(ds), role: 'owner' });
    const racers = await Promise.all(Array.from({ length: 4 }, () => createUser(ds)));
    const outcomes = await Promise.allSettled(racers.map((u) => apply(u, {}, { connectionId: conn })));
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    for (const o of outcomes) if (o.status === 'rejected') expect(o.reason).toBeInstanceOf(NotAllowedError);
    expect(await ds.getRepository(OrgMembershipEntity).countBy({ orgId: org })).toBe(2);
  });

  it('two owners demoting each other at once: one demotion is refused', async () => {
    const [a, b] = [await createUser(ds), await createUser(ds)];
    await apply(a, { dockerRole: 'owner' });
    await apply(b, { dockerRole: 'owner' });
    const outcomes = await Promise.allSettled([apply(a, { dockerRole: 'member' }), apply(b, { dockerRole: 'member' })]);
    expect(outcomes.map((o) => o.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(await ds.getRepository(OrgMembershipEntity).countBy({ orgId: w.moby, role: 'owner' })).toBe(1);
  });
});

describe('apply, JIT flow', () => {
  const jit = (userId: string, attributes: ApplyMappingRequest['attributes'], firstTime: boolean) => apply(userId, attributes, { flow: 'jit', firstTime });

  it('sets the role only at first provisioning; later sign-ins add teams and never remove', async () => {
    const user = await createUser(ds);
    await jit(user, { dockerRole: 'editor' }, true);
    expect(await membershipsOf(ds, user)).toEqual({
      orgs: [{ org: names.moby, role: 'editor', source: 'jit', connectionId: w.c1 }],
      teams: [{ org: names.moby, team: 'everyone', grantedBy: 'mapping', source: 'jit', connectionId: w.c1 }],
    });
    recorder.clear();
    await jit(user, { dockerRole: 'owner', dockerTeam: 'design' }, false);
    await jit(user, { dockerRole: 'member', groups: [`${names.whale}:mobile`] }, false);
    expect(await membershipsOf(ds, user)).toEqual({
      orgs: [
        { org: names.moby, role: 'editor', source: 'jit', connectionId: w.c1 },
        { org: names.whale, role: 'member', source: 'jit', connectionId: w.c1 },
      ],
      teams: [
        { org: names.moby, team: 'design', grantedBy: 'mapping', source: 'jit', connectionId: w.c1 },
        { org: names.moby, team: 'everyone', grantedBy: 'mapping', source: 'jit', connectionId: w.c1 },
        { org: names.whale, team: 'mobile', grantedBy: 'group', source: 'jit', connectionId: w.c1 },
      ],
    });
    expect(recorder.actions().some((a) => a.endsWith('removed') || a === 'member.role_changed')).toBe(false);
  });

  it('keeps a role SCIM set when the person later signs in', async () => {
    const user = await createUser(ds);
    await apply(user, { dockerRole: 'owner' });
    await apply(await createUser(ds), { dockerRole: 'owner' }); // not the last owner, so a demotion would be allowed
    const summary = await jit(user, { dockerRole: 'member' }, false);
    expect(summary.changes).toEqual([]);
    expect(await membershipsOf(ds, user)).toMatchObject({ orgs: [{ org: names.moby, role: 'owner', source: 'scim' }] });
  });
});

describe('revokeConnectionMemberships', () => {
  const revoke = (userId: string, connectionId = w.c1) => t.gateway.transaction((tx) => service.revokeConnectionMemberships(tx, { connectionId, userId, actor: TEST_ACTOR }));

  it("removes only this connection's memberships", async () => {
    const user = await createUser(ds);
    await apply(user, { groups: [`${names.whale}:mobile`] }); // c1: moby (default) + whale via group
    await t.gateway.transaction((tx) => service.apply(tx, { connectionId: w.c2, userId: user, attributes: {}, flow: 'scim', firstTime: false, actor: TEST_ACTOR })); // c2: acme
    const otherName = `other-${Date.now()}`;
    const other = await createOrg(ds, otherName);
    await addMembership(ds, { orgId: other, userId: user, role: 'editor' }); // admin-added
    recorder.clear();

    const summary = await revoke(user);
    expect(summary.skipped).toEqual([]);
    expect(summary.changes.map((c) => c.kind).sort()).toEqual(['removeOrgMembership', 'removeOrgMembership', 'removeTeamMembership']);
    const left = await membershipsOf(ds, user);
    expect(left.orgs.map((o) => [o.org, o.connectionId]).sort()).toEqual([[names.acme, w.c2], [otherName, null]].sort());
    expect(left.teams).toEqual([]);
    expect(recorder.actions().sort()).toEqual(['member.removed', 'member.removed', 'team_member.removed']);
    expect((await revoke(user)).changes).toEqual([]);
  });

  it('keeps the last owner membership and reports it, removing the teams', async () => {
    const user = await createUser(ds);
    await apply(user, { dockerRole: 'owner' });
    const summary = await revoke(user);
    expect(summary.skipped).toEqual([{ kind: 'removeOrgMembership', orgId: w.moby, org: names.moby, reason: 'last owner' }]);
    expect(await membershipsOf(ds, user)).toMatchObject({ orgs: [{ org: names.moby, role: 'owner' }], teams: [] });
  });

  it('is a no-op for an unknown user', async () => {
    expect(await revoke('no-such-user')).toEqual({ changes: [], ignoredGroups: [], skipped: [] });
  });
});
