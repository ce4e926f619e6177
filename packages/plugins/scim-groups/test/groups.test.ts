import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DomainEvent } from '@doorman/core';
import { OrgMembershipEntity, ScimGroupEntity, TeamEntity, TeamMembershipEntity } from '@doorman/model';

// docs/group-mapping.md: any display name; the built-in organization:team rule maps these groups.
import { GROUP, PATCH_OP, startGroupTestBed, type GroupTestBed } from './setup.ts';

let bed: GroupTestBed;
const events: DomainEvent[] = [];
beforeAll(async () => {
  // A small cap, so the "members only up to the cap" rule is exercised with a few users.
  bed = await startGroupTestBed({ maxMembersInResponse: 3 });
  bed.t.gateway.events.subscribe(async (_tx, _actor, e) => {
    events.push(e);
  });
});
afterAll(async () => bed?.t.close());

const scimError = (res: { status: number; body: any; headers: any }, status: number, scimType?: string) => {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.headers['content-type']).toMatch(/application\/scim\+json/);
  expect(res.body.schemas).toEqual(['urn:ietf:params:scim:api:messages:2.0:Error']);
  if (scimType) expect(res.body.scimType).toBe(scimType);
};
const q = encodeURIComponent;
const db = () => bed.t.gateway.db;
const teamOf = (orgId: string, name: string) => db().getRepository(TeamEntity).findOneBy({ orgId, nameLc: name.toLowerCase() });
const teamRows = (teamId: string) => db().getRepository(TeamMembershipEntity).find({ where: { teamId }, order: { userId: 'ASC' } });
const teamUserIds = async (teamId: string) => (await teamRows(teamId)).map((r) => r.userId).sort();
const eventsSince = (mark: number) => events.slice(mark);

describe('discovery', () => {
  it('lists Group in ResourceTypes and Schemas when scim-groups is enabled', async () => {
    const types = await bed.scim(bed.a, 'get', '/ResourceTypes');
    expect(types.body.Resources.map((r: { id: string }) => r.id)).toEqual(['User', 'Group']);
    expect((await bed.scim(bed.a, 'get', '/ResourceTypes/Group')).body).toMatchObject({ endpoint: '/Groups', schema: GROUP });
    const schemas = await bed.scim(bed.a, 'get', '/Schemas');
    expect(schemas.body.Resources.map((s: { id: string }) => s.id)).toContain(GROUP);
    expect((await bed.scim(bed.a, 'get', `/Schemas/${GROUP}`)).status).toBe(200);
  });
});

describe('organization:team groups (built-in rule): create, PUT members, rename, delete', () => {
  let u1: { id: string; userId: string }, u2: typeof u1, u3: typeof u1;
  let groupId: string;
  let teamId: string;

  beforeAll(async () => {
    u1 = await bed.user(bed.a, 'okta.one@acme.test');
    u2 = await bed.user(bed.a, 'okta.two@acme.test');
    u3 = await bed.user(bed.a, 'okta.three@acme.test');
  });

  it('looks the group up, creates it with members, and creates the missing team', async () => {
    const lookup = await bed.scim(bed.a, 'get', `/Groups?filter=${q('displayName eq "acme:Developers"')}&startIndex=1&count=100`);
    expect(lookup.body).toMatchObject({ totalResults: 0, itemsPerPage: 0, Resources: [] });
    const mark = events.length;
    const created = await bed.scim(bed.a, 'post', '/Groups').send({
      schemas: [GROUP],
      displayName: 'acme:Developers',
      members: [{ value: u1.id, display: 'okta.one@acme.test' }, { value: u2.id, display: 'okta.two@acme.test' }],
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    groupId = created.body.id;
    expect(created.headers.location).toMatch(new RegExp(`/scim/v2/Groups/${groupId}$`));
    expect(created.headers.etag).toBe('W/"1"');
    expect(created.body).toMatchObject({ schemas: [GROUP], displayName: 'acme:Developers', meta: { resourceType: 'Group', version: 'W/"1"' } });
    expect(created.body.members.map((m: { value: string }) => m.value).sort()).toEqual([u1.id, u2.id].sort());
    expect(created.body.members[0]).toMatchObject({ type: 'User', $ref: expect.stringMatching(/\/scim\/v2\/Users\//) });

    const team = await teamOf(bed.orgs.acme!, 'Developers');
    expect(team?.name).toBe('Developers');
    teamId = team!.id;
    const rows = await teamRows(teamId);
    expect(rows.map((r) => r.userId).sort()).toEqual([u1.userId, u2.userId].sort());
    for (const r of rows) expect(r).toMatchObject({ grantedBy: 'group', source: 'scim', connectionId: bed.a.connectionId, orgId: bed.orgs.acme });

    const actions = eventsSince(mark).map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['team.created', 'group.created', 'group.members_added']));
    const added = eventsSince(mark).find((e) => e.action === 'group.members_added')!;
    expect(added.changes).toMatchObject({ count: { after: 2 }, peopleApplied: { after: 2 }, syncJobId: { after: null } });
    expect(added.target).toEqual({ type: 'group', id: groupId });
  });

  it('applies a PUT with a changed member list as a diff: u1 leaves the team, u3 joins, u2 untouched', async () => {
    const before = (await teamRows(teamId)).find((r) => r.userId === u2.userId)!;
    const put = await bed.scim(bed.a, 'put', `/Groups/${groupId}`).send({
      schemas: [GROUP],
      id: groupId,
      displayName: 'acme:Developers',
      members: [{ value: u2.id }, { value: u3.id }],
    });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(put.headers.etag).toBe('W/"2"');
    expect(put.body.members.map((m: { value: string }) => m.value).sort()).toEqual([u2.id, u3.id].sort());
    expect(await teamUserIds(teamId)).toEqual([u2.userId, u3.userId].sort());
    // The untouched member's row is the same row (not deleted and re-inserted).
    expect((await teamRows(teamId)).find((r) => r.userId === u2.userId)!.id).toBe(before.id);
    // Leaving the group keeps the organization membership and the account.
    expect(await db().getRepository(OrgMembershipEntity).countBy({ userId: u1.userId, orgId: bed.orgs.acme })).toBe(1);
  });

  it('re-maps the members on a path-less rename (Okta echoes the id): they leave Developers and join Platform', async () => {
    const res = await bed.scim(bed.a, 'patch', `/Groups/${groupId}`).send({ schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { id: groupId, displayName: 'acme:Platform' } }] });
    expect(res.status, JSON.stringify(res.body)).toBe(204);
    expect(res.headers.etag).toBe('W/"3"');
    const got = await bed.scim(bed.a, 'get', `/Groups/${groupId}`);
    expect(got.body.displayName).toBe('acme:Platform');
    // The group is not the team: Developers stays (empty of what this group granted), Platform is created.
    expect(await teamUserIds(teamId)).toEqual([]);
    expect((await db().getRepository(TeamEntity).findOneByOrFail({ id: teamId })).name).toBe('Developers');
    teamId = (await teamOf(bed.orgs.acme!, 'Platform'))!.id;
    expect(await teamUserIds(teamId)).toEqual([u2.userId, u3.userId].sort());
  });

  it("refuses a rename onto another group's displayName (any case): 409 uniqueness, nothing changed", async () => {
    const other = await bed.scim(bed.a, 'post', '/Groups').send({ schemas: [GROUP], displayName: 'Taken Name' });
    expect(other.status).toBe(201);
    const res = await bed.scim(bed.a, 'patch', `/Groups/${groupId}`).send({ schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'displayName', value: 'TAKEN name' }] });
    scimError(res, 409, 'uniqueness');
    expect((await bed.scim(bed.a, 'get', `/Groups/${groupId}`)).body).toMatchObject({ displayName: 'acme:Platform', meta: { version: 'W/"3"' } });
  });

  it('answers 412 on a stale If-Match and 304 on a matching If-None-Match', async () => {
    const stale = await bed.scim(bed.a, 'patch', `/Groups/${groupId}`).set('If-Match', 'W/"1"').send({ schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: [{ value: u1.id }] }] });
    expect(stale.status).toBe(412);
    expect(await teamUserIds(teamId)).not.toContain(u1.userId);
    expect((await bed.scim(bed.a, 'get', `/Groups/${groupId}`).set('If-None-Match', 'W/"3"')).status).toBe(304);
  });

  it('deletes the group: members leave the team, the team stays', async () => {
    const mark = events.length;
    const res = await bed.scim(bed.a, 'delete', `/Groups/${groupId}`);
    expect(res.status).toBe(204);
    expect(await teamRows(teamId)).toEqual([]);
    expect(await db().getRepository(TeamEntity).countBy({ id: teamId })).toBe(1);
    expect(await db().getRepository(OrgMembershipEntity).countBy({ userId: u2.userId, orgId: bed.orgs.acme })).toBe(1);
    scimError(await bed.scim(bed.a, 'get', `/Groups/${groupId}`), 404);
    // Role mapping's membership events come first, in the same transaction as the group's own.
    expect(eventsSince(mark).map((e) => e.action)).toEqual(['team_member.removed', 'team_member.removed', 'group.members_removed', 'group.deleted']);
  });
});

describe('organization:team groups with Entra request shapes', () => {
  const e: Array<{ id: string; userId: string }> = [];
  let groupId: string;
  let teamId: string;

  beforeAll(async () => {
    for (const n of [1, 2, 3, 4]) e.push(await bed.user(bed.b, `entra.${n}@initech.test`));
  });

  it('creates the group with the objectId as externalId and finds it by displayName, without members', async () => {
    const created = await bed.scim(bed.b, 'post', '/Groups').send({ schemas: [GROUP], externalId: '8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159', displayName: 'initech:Sales', members: [] });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    groupId = created.body.id;
    expect(created.body.externalId).toBe('8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159');

    const found = await bed.scim(bed.b, 'get', `/Groups?filter=${q('displayName eq "initech:Sales"')}&excludedAttributes=members`);
    expect(found.body.totalResults).toBe(1);
    expect(found.body.Resources[0]).toEqual({
      schemas: [GROUP],
      id: groupId,
      externalId: '8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159',
      displayName: 'initech:Sales',
      meta: expect.objectContaining({ resourceType: 'Group' }),
    });
    const byExternal = await bed.scim(bed.b, 'get', `/Groups?filter=${q('externalId eq "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159"')}`);
    expect(byExternal.body.totalResults).toBe(1);
  });

  it('adds members with Entra\'s capitalised "Add" and a value list', async () => {
    const res = await bed.scim(bed.b, 'patch', `/Groups/${groupId}`).send({
      schemas: [PATCH_OP],
      Operations: [{ op: 'Add', path: 'members', value: e.map((u) => ({ value: u.id })) }],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(204);
    teamId = (await teamOf(bed.orgs.initech!, 'Sales'))!.id;
    expect(await teamUserIds(teamId)).toEqual(e.map((u) => u.userId).sort());
    // Entra's membership probe.
    const probe = await bed.scim(bed.b, 'get', `/Groups?filter=${q(`id eq "${groupId}" and members[value eq "${e[0]!.id}"]`)}&excludedAttributes=members`);
    expect(probe.body.totalResults).toBe(1);
    const byMember = await bed.scim(bed.b, 'get', `/Groups?filter=${q(`members.value eq "${e[1]!.id}"`)}`);
    expect(byMember.body.Resources.map((g: { id: string }) => g.id)).toEqual([groupId]);
    expect(byMember.body.Resources[0].members).toBeUndefined();
  });

  it('removes one member with members[value eq "…"]: the others stay', async () => {
    const mark = events.length;
    const res = await bed.scim(bed.b, 'patch', `/Groups/${groupId}`).send({ schemas: [PATCH_OP], Operations: [{ op: 'Remove', path: `members[value eq "${e[0]!.id}"]` }] });
    expect(res.status, JSON.stringify(res.body)).toBe(204);
    expect(await teamUserIds(teamId)).toEqual(e.slice(1).map((u) => u.userId).sort());
    const removed = eventsSince(mark).find((ev) => ev.action === 'group.members_removed')!;
    expect(removed.changes).toMatchObject({ count: { after: 1 }, members: { after: [e[0]!.id] }, peopleApplied: { after: 1 } });
  });

  it('removes with path "members" and a value list (Entra): only those', async () => {
    const res = await bed.scim(bed.b, 'patch', `/Groups/${groupId}`).send({
      schemas: [PATCH_OP],
      Operations: [{ op: 'Remove', path: 'members', value: [{ $ref: null, value: e[1]!.id }] }],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(204);
    expect(await teamUserIds(teamId)).toEqual([e[2]!.userId, e[3]!.userId].sort());
    // Org membership and account stay for those who left the group.
    expect(await db().getRepository(OrgMembershipEntity).countBy({ userId: e[1]!.userId, orgId: bed.orgs.initech })).toBe(1);
  });

  it('returns members on GET only up to the cap, and all of them with attributes=members', async () => {
    const small = await bed.scim(bed.b, 'get', `/Groups/${groupId}`);
    expect(small.body.members).toHaveLength(2);
    await bed.scim(bed.b, 'patch', `/Groups/${groupId}`).send({ schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: e.map((u) => ({ value: u.id })) }] });
    const big = await bed.scim(bed.b, 'get', `/Groups/${groupId}`);
    expect(big.body.members).toBeUndefined();
    expect(big.body.displayName).toBe('initech:Sales');
    const asked = await bed.scim(bed.b, 'get', `/Groups/${groupId}?attributes=members`);
    expect(asked.body.members).toHaveLength(4);
    expect(asked.body.displayName).toBeUndefined();
    const listed = await bed.scim(bed.b, 'get', `/Groups?attributes=displayName,members`);
    expect(listed.body.Resources[0].members).toHaveLength(4);
  });

  it('replaces the whole member list with a replace of "members"', async () => {
    const res = await bed.scim(bed.b, 'patch', `/Groups/${groupId}?attributes=members`).send({ schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'members', value: [{ value: e[0]!.id }] }] });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.members.map((m: { value: string }) => m.value)).toEqual([e[0]!.id]);
    expect(await teamUserIds(teamId)).toEqual([e[0]!.userId]);
  });
});

describe('removal semantics', () => {
  it('never touches admin- or mapping-granted team memberships', async () => {
    const admin = await bed.user(bed.a, 'admin.granted@acme.test');
    const grouped = await bed.user(bed.a, 'grouped@acme.test');
    // Both hold the default team Everyone through role mapping.
    const everyone = (await teamOf(bed.orgs.acme!, 'Everyone'))!;
    expect((await teamRows(everyone.id)).filter((r) => [admin.userId, grouped.userId].includes(r.userId)).every((r) => r.grantedBy === 'mapping')).toBe(true);
    // An admin put `admin` into QA by hand.
    const qa = await bed.t.admin('post', `/admin/v1/orgs/${bed.orgs.acme}/teams`).send({ name: 'QA' });
    expect(qa.status, JSON.stringify(qa.body)).toBe(201);
    await db().getRepository(TeamMembershipEntity).insert({ id: crypto.randomUUID(), teamId: qa.body.id, orgId: bed.orgs.acme!, userId: admin.userId, source: 'manual', connectionId: null, grantedBy: 'admin' });

    const qaGroup = await bed.scim(bed.a, 'post', '/Groups').send({ schemas: [GROUP], displayName: 'acme:QA', members: [{ value: admin.id }, { value: grouped.id }] });
    expect(qaGroup.status).toBe(201);
    const allGroup = await bed.scim(bed.a, 'post', '/Groups').send({ schemas: [GROUP], displayName: 'acme:Everyone', members: [{ value: admin.id }] });
    expect(allGroup.status).toBe(201);
    const qaRows = await teamRows(qa.body.id);
    expect(qaRows.find((r) => r.userId === admin.userId)).toMatchObject({ grantedBy: 'admin' });
    expect(qaRows.find((r) => r.userId === grouped.userId)).toMatchObject({ grantedBy: 'group' });

    for (const id of [admin.id, grouped.id]) {
      const res = await bed.scim(bed.a, 'patch', `/Groups/${qaGroup.body.id}`).send({ schemas: [PATCH_OP], Operations: [{ op: 'remove', path: `members[value eq "${id}"]` }] });
      expect(res.status).toBe(204);
    }
    expect((await teamRows(qa.body.id)).map((r) => [r.userId, r.grantedBy])).toEqual([[admin.userId, 'admin']]);

    const res = await bed.scim(bed.a, 'delete', `/Groups/${allGroup.body.id}`);
    expect(res.status).toBe(204);
    expect((await teamRows(everyone.id)).find((r) => r.userId === admin.userId)).toMatchObject({ grantedBy: 'mapping' });
  });

  it('adds the organization membership (as member) for a group in another served org; it goes with the group, the own org stays', async () => {
    const u = await bed.user(bed.a, 'globex.bound@acme.test');
    expect(await db().getRepository(OrgMembershipEntity).countBy({ userId: u.userId, orgId: bed.orgs.globex })).toBe(0);
    const g = await bed.scim(bed.a, 'post', '/Groups').send({ schemas: [GROUP], displayName: 'globex:Ops', members: [{ value: u.id }] });
    expect(g.status, JSON.stringify(g.body)).toBe(201);
    expect(await db().getRepository(OrgMembershipEntity).findOneBy({ userId: u.userId, orgId: bed.orgs.globex })).toMatchObject({ role: 'member', source: 'scim', connectionId: bed.a.connectionId });
    await bed.scim(bed.a, 'patch', `/Groups/${g.body.id}`).send({ schemas: [PATCH_OP], Operations: [{ op: 'remove', path: 'members', value: [{ value: u.id }] }] });
    expect(await teamUserIds((await teamOf(bed.orgs.globex!, 'Ops'))!.id)).toEqual([]);
    // Only the group put them in globex (provenance), so that membership goes; acme (the default org) stays.
    expect(await db().getRepository(OrgMembershipEntity).countBy({ userId: u.userId, orgId: bed.orgs.globex })).toBe(0);
    expect(await db().getRepository(OrgMembershipEntity).countBy({ userId: u.userId, orgId: bed.orgs.acme })).toBe(1);
  });

  it('moves members when a rename names another served organization', async () => {
    const u = await bed.user(bed.a, 'mover@acme.test');
    const g = await bed.scim(bed.a, 'post', '/Groups').send({ schemas: [GROUP], displayName: 'acme:Movers', members: [{ value: u.id }] });
    const oldTeam = (await teamOf(bed.orgs.acme!, 'Movers'))!;
    const res = await bed.scim(bed.a, 'patch', `/Groups/${g.body.id}`).send({ schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'displayName', value: 'globex:Movers' }] });
    expect(res.status, JSON.stringify(res.body)).toBe(204);
    const newTeam = (await teamOf(bed.orgs.globex!, 'Movers'))!;
    expect(await teamUserIds(oldTeam.id)).toEqual([]);
    expect(await teamUserIds(newTeam.id)).toEqual([u.userId]);
  });

  it('takes memberships away on deactivation and gives them back on reactivation', async () => {
    const u = await bed.user(bed.a, 'sleeper@acme.test');
    const g = await bed.scim(bed.a, 'post', '/Groups').send({ schemas: [GROUP], displayName: 'acme:Sleepers', members: [{ value: u.id }] });
    const team = (await teamOf(bed.orgs.acme!, 'Sleepers'))!;
    await bed.scim(bed.a, 'patch', `/Users/${u.id}`).send({ schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'active', value: false }] });
    const [intent] = await db().query("SELECT payload FROM outbox WHERE job_name = 'deactivate-user' ORDER BY seq DESC LIMIT 1");
    const job = bed.t.gateway.jobs.definitions.get('provisioning/deactivate-user')!;
    await job.process(JSON.parse(intent.payload), { id: 'x', attemptsMade: 0, logger: bed.t.gateway.logger, updateProgress: async () => {} });
    expect(await teamUserIds(team.id)).toEqual([]);
    // Still listed as a member while inactive; adding again grants nothing to an inactive user.
    await bed.scim(bed.a, 'patch', `/Groups/${g.body.id}`).send({ schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: [{ value: u.id }] }] });
    expect(await teamUserIds(team.id)).toEqual([]);
    await bed.scim(bed.a, 'patch', `/Users/${u.id}`).send({ schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'active', value: true }] });
    expect((await teamRows(team.id)).map((r) => [r.userId, r.grantedBy])).toEqual([[u.userId, 'group']]);
  });
});

describe('bad input and tenancy', () => {
  it('accepts any display name (unmapped ones grant nothing) and refuses only a missing or non-string one', async () => {
    for (const displayName of ['Developers', ':team', 'acme:', 'initech:Sales', 'nowhere:Team', 'Ünïcode Team (EU)']) {
      const res = await bed.scim(bed.a, 'post', '/Groups').send({ schemas: [GROUP], displayName });
      expect(res.status, `${displayName}: ${JSON.stringify(res.body)}`).toBe(201);
      expect(res.body.displayName).toBe(displayName);
    }
    for (const displayName of [42, '', '   ', null, 'x'.repeat(256)]) scimError(await bed.scim(bed.a, 'post', '/Groups').send({ schemas: [GROUP], displayName }), 400, 'invalidValue');
    scimError(await bed.scim(bed.a, 'post', '/Groups').send({ schemas: [GROUP] }), 400, 'invalidValue');
  });

  it('refuses members outside the connection with 400 invalidValue and applies nothing', async () => {
    const mine = await bed.user(bed.a, 'mine@acme.test');
    const theirs = await bed.user(bed.b, 'theirs@initech.test');
    const post = await bed.scim(bed.a, 'post', '/Groups').send({ schemas: [GROUP], displayName: 'acme:Scoped', members: [{ value: mine.id }, { value: theirs.id }] });
    scimError(post, 400, 'invalidValue');
    expect(post.body.detail).toContain(theirs.id);
    expect(await db().getRepository(ScimGroupEntity).countBy({ displayNameLc: 'acme:scoped' })).toBe(0);
    expect(await teamOf(bed.orgs.acme!, 'Scoped')).toBeNull();

    const g = await bed.scim(bed.a, 'post', '/Groups').send({ schemas: [GROUP], displayName: 'acme:Scoped', members: [] });
    // No member yet: nothing granted, the team is created with the first member.
    expect(await teamOf(bed.orgs.acme!, 'Scoped')).toBeNull();
    const patch = await bed.scim(bed.a, 'patch', `/Groups/${g.body.id}`).send({
      schemas: [PATCH_OP],
      Operations: [
        { op: 'replace', path: 'displayName', value: 'acme:Scoped2' },
        { op: 'add', path: 'members', value: [{ value: mine.id }, { value: 'no-such-user' }] },
      ],
    });
    scimError(patch, 400, 'invalidValue');
    expect(await teamOf(bed.orgs.acme!, 'Scoped')).toBeNull();
    expect((await bed.scim(bed.a, 'get', `/Groups/${g.body.id}`)).body).toMatchObject({ displayName: 'acme:Scoped', meta: { version: 'W/"1"' } });
  });

  it('answers 409 uniqueness for a duplicate displayName (any case)', async () => {
    scimError(await bed.scim(bed.a, 'post', '/Groups').send({ schemas: [GROUP], displayName: 'ACME:scoped' }), 409, 'uniqueness');
  });

  it("answers 404 for another tenant's group, exactly like an unknown id, and never lists it", async () => {
    const g = await bed.scim(bed.a, 'post', '/Groups').send({ schemas: [GROUP], displayName: 'acme:Private' });
    expect(g.status).toBe(201);
    const id = g.body.id;
    scimError(await bed.scim(bed.b, 'get', `/Groups/${id}`), 404);
    scimError(await bed.scim(bed.b, 'patch', `/Groups/${id}`).send({ schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'displayName', value: 'initech:Stolen' }] }), 404);
    scimError(await bed.scim(bed.b, 'put', `/Groups/${id}`).send({ schemas: [GROUP], displayName: 'initech:Stolen' }), 404);
    scimError(await bed.scim(bed.b, 'delete', `/Groups/${id}`), 404);
    const listed = await bed.scim(bed.b, 'get', `/Groups?filter=${q(`id eq "${id}"`)}`);
    expect(listed.body.totalResults).toBe(0);
    expect((await bed.scim(bed.a, 'get', `/Groups/${id}`)).status).toBe(200);
  });

  it('answers 400 for a bad PATCH and for an unknown filter attribute, never a 500', async () => {
    const g = await bed.scim(bed.a, 'post', '/Groups').send({ schemas: [GROUP], displayName: 'acme:Patchy' });
    const bad = [
      [{ schemas: [PATCH_OP], Operations: [{ op: 'remove', path: 'displayName' }] }, 'invalidValue'],
      [{ schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members[value eq "x"]', value: { value: 'x' } }] }, 'invalidPath'],
      [{ schemas: [PATCH_OP], Operations: [{ op: 'remove', path: 'members[display eq "x"]' }] }, 'invalidPath'],
      [{ schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: [{ display: 'no value' }] }] }, 'invalidValue'],
      [{ schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { id: 'another-id' } }] }, 'mutability'],
      [{ Operations: [] }, 'invalidSyntax'],
    ] as const;
    for (const [body, scimType] of bad) scimError(await bed.scim(bed.a, 'patch', `/Groups/${g.body.id}`).send(body), 400, scimType);
    scimError(await bed.scim(bed.a, 'get', `/Groups?filter=${q('title eq "x"')}`), 400, 'invalidFilter');
  });
});

describe('Users filtered by their groups (the attribute this plugin adds to scim-users)', () => {
  it('finds the members of a group by groups.value and groups.display, in this tenant only', async () => {
    const ann = await bed.user(bed.a, 'filter.ann@acme.test');
    const bob = await bed.user(bed.a, 'filter.bob@acme.test');
    const g = await bed.scim(bed.a, 'post', '/Groups').send({ schemas: [GROUP], displayName: 'Filter Admins', members: [{ value: ann.id }] });
    expect(g.status).toBe(201);
    const userNames = async (tenant: typeof bed.a, filter: string) => {
      const res = await bed.scim(tenant, 'get', `/Users?filter=${q(filter)}&attributes=userName`);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return res.body.Resources.map((r: { userName: string }) => r.userName);
    };
    expect(await userNames(bed.a, `groups.value eq "${g.body.id}"`)).toEqual(['filter.ann@acme.test']);
    expect(await userNames(bed.a, 'groups.display eq "filter admins"')).toEqual(['filter.ann@acme.test']);
    expect(await userNames(bed.a, `userName sw "filter." and not (groups[value eq "${g.body.id}"])`)).toEqual(['filter.bob@acme.test']);
    expect(await userNames(bed.b, `groups.value eq "${g.body.id}"`)).toEqual([]);
    void bob;
  });

  it('refuses a bad attributes / excludedAttributes on a write before writing (as on Users)', async () => {
    const before = await db().getRepository(ScimGroupEntity).countBy({ displayNameLc: 'projection first' });
    const res = await bed.scim(bed.a, 'post', `/Groups?attributes=${q('members[value eq "x"]')}`).send({ schemas: [GROUP], displayName: 'Projection First' });
    scimError(res, 400, 'invalidValue');
    expect(await db().getRepository(ScimGroupEntity).countBy({ displayNameLc: 'projection first' })).toBe(before);
  });
});
