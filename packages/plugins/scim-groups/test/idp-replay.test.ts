/**
 * Okta's Push Groups and Entra's group provisioning, replayed request by request against MariaDB
 * with group names that are NOT `organization:team` (docs/idp-group-sequences.md): an admin rule
 * decides what each group grants (docs/group-mapping.md).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OrgMembershipEntity, TeamEntity, TeamMembershipEntity } from '@doorman/model';
import { GROUP, PATCH_OP, startGroupTestBed, type GroupTestBed } from './setup.ts';

let bed: GroupTestBed;
beforeAll(async () => {
  bed = await startGroupTestBed();
});
afterAll(async () => bed?.t.close());

const q = encodeURIComponent;
const db = () => bed.t.gateway.db;
const teamOf = (orgId: string, name: string) => db().getRepository(TeamEntity).findOneBy({ orgId, nameLc: name.toLowerCase() });
const teamUserIds = async (orgId: string, name: string) => {
  const team = await teamOf(orgId, name);
  if (!team) return [];
  return (await db().getRepository(TeamMembershipEntity).find({ where: { teamId: team.id } })).map((r) => r.userId).sort();
};
const roleOf = async (userId: string, orgId: string) => (await db().getRepository(OrgMembershipEntity).findOneBy({ userId, orgId }))?.role;
const grantsOf = (groupId: string): Promise<Array<{ userId: string }>> => db().query("SELECT user_id AS userId FROM membership_grants WHERE kind = 'group' AND source_ref = ?", [groupId]);

describe('Okta Push Groups with an arbitrary group name ("Engineering")', () => {
  let u1: { id: string; userId: string }, u2: typeof u1, u3: typeof u1;
  let groupId: string;

  beforeAll(async () => {
    u1 = await bed.user(bed.a, 'okta.eng1@acme.test');
    u2 = await bed.user(bed.a, 'okta.eng2@acme.test');
    u3 = await bed.user(bed.a, 'okta.eng3@acme.test');
    // The admin maps the group by name before Okta pushes it: acme, team Engineers, role editor.
    const rule = await bed.t.admin('post', `/admin/v1/connections/${bed.a.connectionId}/group-rules`).send({ groupName: 'Engineering', org: 'acme', team: 'Engineers', role: 'editor' });
    expect(rule.status, JSON.stringify(rule.body)).toBe(201);
    expect(rule.body).toMatchObject({ rule: { matchBy: 'displayName', matchValue: 'Engineering', team: 'Engineers', role: 'editor', org: 'acme' }, jobId: null, groupsConcerned: 0 });
  });

  it('1. looks the group up by displayName, then creates it with no members', async () => {
    const lookup = await bed.scim(bed.a, 'get', `/Groups?filter=${q('displayName eq "Engineering"')}&startIndex=1&count=100`);
    expect(lookup.body).toMatchObject({ totalResults: 0, Resources: [] });
    const created = await bed.scim(bed.a, 'post', '/Groups').send({ schemas: [GROUP], displayName: 'Engineering', members: [] });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    groupId = created.body.id;
    expect(created.body).toMatchObject({ displayName: 'Engineering', meta: { version: 'W/"1"' } });
    expect((await bed.scim(bed.a, 'get', `/Groups/${groupId}`)).body.displayName).toBe('Engineering');
  });

  it('2. adds members (PATCH add members): the rule grants team and role', async () => {
    const res = await bed.scim(bed.a, 'patch', `/Groups/${groupId}`).send({
      schemas: [PATCH_OP],
      Operations: [{ op: 'add', path: 'members', value: [{ value: u1.id, display: 'okta.eng1@acme.test' }, { value: u2.id, display: 'okta.eng2@acme.test' }, { value: u3.id }] }],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(204);
    expect(await teamUserIds(bed.orgs.acme!, 'Engineers')).toEqual([u1.userId, u2.userId, u3.userId].sort());
    for (const u of [u1, u2, u3]) expect(await roleOf(u.userId, bed.orgs.acme!)).toBe('editor');
    // The default team stays beside the group's team (SCIM groups add teams).
    expect(await teamUserIds(bed.orgs.acme!, 'Everyone')).toEqual(expect.arrayContaining([u1.userId, u2.userId, u3.userId]));
  });

  it('3. renames the group (path-less replace echoing the id): a name rule no longer matches, the grants go', async () => {
    const res = await bed.scim(bed.a, 'patch', `/Groups/${groupId}`).send({ schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { id: groupId, displayName: 'Engineering (all)' } }] });
    expect(res.status, JSON.stringify(res.body)).toBe(204);
    expect(await teamUserIds(bed.orgs.acme!, 'Engineers')).toEqual([]);
    expect(await roleOf(u1.userId, bed.orgs.acme!)).toBe('member');
    const unmapped = await bed.t.admin('get', `/admin/v1/connections/${bed.a.connectionId}/groups/unmapped`);
    expect(unmapped.body.groups).toEqual([expect.objectContaining({ id: groupId, displayName: 'Engineering (all)', members: 3 })]);
    // A rule on the group's id survives any rename; saving it re-decides the members through the sync job.
    const rule = await bed.t.admin('post', `/admin/v1/connections/${bed.a.connectionId}/group-rules`).send({ groupId, org: 'acme', team: 'Engineers', role: 'editor' });
    expect(rule.status, JSON.stringify(rule.body)).toBe(201);
    expect(rule.body.groupsConcerned).toBe(1);
    await bed.runSyncJob(rule.body.jobId);
    expect(await teamUserIds(bed.orgs.acme!, 'Engineers')).toEqual([u1.userId, u2.userId, u3.userId].sort());
    expect(await roleOf(u2.userId, bed.orgs.acme!)).toBe('editor');
  });

  it('4. removes one member with members[value eq "…"]: only what this group granted goes', async () => {
    const res = await bed.scim(bed.a, 'patch', `/Groups/${groupId}`).send({ schemas: [PATCH_OP], Operations: [{ op: 'remove', path: `members[value eq "${u1.id}"]` }] });
    expect(res.status, JSON.stringify(res.body)).toBe(204);
    expect(await teamUserIds(bed.orgs.acme!, 'Engineers')).toEqual([u2.userId, u3.userId].sort());
    expect(await roleOf(u1.userId, bed.orgs.acme!)).toBe('member');
    // The default org and team (attribute/default) stay.
    expect(await teamUserIds(bed.orgs.acme!, 'Everyone')).toContain(u1.userId);
    expect((await grantsOf(groupId)).map((g) => g.userId)).not.toContain(u1.userId);
  });

  it('5. deletes the group: its members lose what it granted, nothing else', async () => {
    expect((await bed.scim(bed.a, 'delete', `/Groups/${groupId}`)).status).toBe(204);
    expect(await teamUserIds(bed.orgs.acme!, 'Engineers')).toEqual([]);
    expect(await roleOf(u2.userId, bed.orgs.acme!)).toBe('member');
    expect(await grantsOf(groupId)).toEqual([]);
    expect((await bed.scim(bed.a, 'get', `/Groups/${groupId}`)).status).toBe(404);
  });
});

describe('Entra group provisioning with an arbitrary group name ("Sales Team EU", objectId as externalId)', () => {
  const objectId = '3f1b2c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d';
  const e: Array<{ id: string; userId: string }> = [];
  let groupId: string;

  beforeAll(async () => {
    for (const n of [1, 2, 3]) e.push(await bed.user(bed.b, `entra.sales${n}@initech.test`));
    const rule = await bed.t.admin('post', `/admin/v1/connections/${bed.b.connectionId}/group-rules`).send({ groupExternalId: objectId, org: 'initech', team: 'Sales', role: 'owner' });
    expect(rule.status, JSON.stringify(rule.body)).toBe(201);
  });

  it('1. queries by displayName excluding members, then creates the group with externalId and no members', async () => {
    const lookup = await bed.scim(bed.b, 'get', `/Groups?excludedAttributes=members&filter=${q('displayName eq "Sales Team EU"')}`);
    expect(lookup.body.totalResults).toBe(0);
    const created = await bed.scim(bed.b, 'post', '/Groups').send({ schemas: [GROUP], externalId: objectId, displayName: 'Sales Team EU', meta: { resourceType: 'Group' } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    groupId = created.body.id;
    expect(created.body).toMatchObject({ externalId: objectId, displayName: 'Sales Team EU' });
  });

  it('2. adds members (Add, path members, a value list with $ref null)', async () => {
    const res = await bed.scim(bed.b, 'patch', `/Groups/${groupId}`).send({
      schemas: [PATCH_OP],
      Operations: [{ name: 'addMember', op: 'Add', path: 'members', value: e.map((u) => ({ $ref: null, value: u.id })) }],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(204);
    expect(await teamUserIds(bed.orgs.initech!, 'Sales')).toEqual(e.map((u) => u.userId).sort());
    for (const u of e) expect(await roleOf(u.userId, bed.orgs.initech!)).toBe('owner');
    const probe = await bed.scim(bed.b, 'get', `/Groups?filter=${q(`id eq "${groupId}" and members[value eq "${e[0]!.id}"]`)}&excludedAttributes=members`);
    expect(probe.body.totalResults).toBe(1);
  });

  it('3. renames (Replace displayName): the externalId rule still matches, nothing changes', async () => {
    const res = await bed.scim(bed.b, 'patch', `/Groups/${groupId}`).send({ schemas: [PATCH_OP], Operations: [{ op: 'Replace', path: 'displayName', value: 'Sales Team Europe' }] });
    expect(res.status, JSON.stringify(res.body)).toBe(204);
    expect((await bed.scim(bed.b, 'get', `/Groups/${groupId}?excludedAttributes=members`)).body.displayName).toBe('Sales Team Europe');
    expect(await teamUserIds(bed.orgs.initech!, 'Sales')).toEqual(e.map((u) => u.userId).sort());
  });

  it('4. removes a member by value filter: its team and role go; the last owner rule still holds for the rest', async () => {
    const res = await bed.scim(bed.b, 'patch', `/Groups/${groupId}`).send({ schemas: [PATCH_OP], Operations: [{ op: 'Remove', path: `members[value eq "${e[0]!.id}"]` }] });
    expect(res.status, JSON.stringify(res.body)).toBe(204);
    expect(await teamUserIds(bed.orgs.initech!, 'Sales')).toEqual([e[1]!.userId, e[2]!.userId].sort());
    expect(await roleOf(e[0]!.userId, bed.orgs.initech!)).toBe('member');
    // Entra's other form: Remove with path "members" and a value list.
    const res2 = await bed.scim(bed.b, 'patch', `/Groups/${groupId}`).send({ schemas: [PATCH_OP], Operations: [{ name: 'removeMember', op: 'Remove', path: 'members', value: [{ $ref: null, value: e[1]!.id }] }] });
    expect(res2.status, JSON.stringify(res2.body)).toBe(204);
    expect(await teamUserIds(bed.orgs.initech!, 'Sales')).toEqual([e[2]!.userId]);
  });

  it('5. deletes the group: the last owner keeps ownership (never remove the only owner), the team goes', async () => {
    expect((await bed.scim(bed.b, 'delete', `/Groups/${groupId}`)).status).toBe(204);
    expect(await teamUserIds(bed.orgs.initech!, 'Sales')).toEqual([]);
    // e[2] was the last owner of initech: demoting them is refused, and a group change must not fail
    // because of it (docs/group-mapping.md), so they stay owner until another owner exists.
    expect(await roleOf(e[2]!.userId, bed.orgs.initech!)).toBe('owner');
    expect((await bed.scim(bed.b, 'get', `/Groups/${groupId}`)).status).toBe(404);
  });
});
