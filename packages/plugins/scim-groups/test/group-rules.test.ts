/**
 * The group mapping admin API (role mapping's routes, with scim-groups as the directory), on MariaDB:
 * rules, validation, the dry-run preview, the built-in rule's switch, unmapped groups, rule changes
 * applied through the sync job with progress, and provenance across two groups.
 * docs/group-mapping.md.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OrgMembershipEntity, TeamEntity, TeamMembershipEntity } from '@doorman/model';
import { GROUP, PATCH_OP, startGroupTestBed, type GroupTestBed } from './setup.ts';

let bed: GroupTestBed;
beforeAll(async () => {
  bed = await startGroupTestBed();
});
afterAll(async () => bed?.t.close());

const db = () => bed.t.gateway.db;
const rules = () => `/admin/v1/connections/${bed.a.connectionId}/group-rules`;
const teamUserIds = async (orgId: string, name: string) => {
  const team = await db().getRepository(TeamEntity).findOneBy({ orgId, nameLc: name.toLowerCase() });
  return team ? (await db().getRepository(TeamMembershipEntity).findBy({ teamId: team.id })).map((r) => r.userId).sort() : [];
};
const roleOf = async (userId: string, orgId: string) => (await db().getRepository(OrgMembershipEntity).findOneBy({ userId, orgId }))?.role;
const group = async (displayName: string, members: Array<{ id: string }>, externalId?: string) => {
  const res = await bed.scim(bed.a, 'post', '/Groups').send({ schemas: [GROUP], displayName, externalId, members: members.map((m) => ({ value: m.id })) });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id as string;
};

describe('rules: validation', () => {
  it.each([
    [{ org: 'acme' }, 'group'],
    [{ groupName: 'X', groupId: 'y', org: 'acme' }, 'group'],
    [{ groupName: 'X' }, 'org'],
    [{ groupName: 'X', org: 'initech' }, 'org'],
    [{ groupName: 'X', org: 'acme', role: 'admin' }, 'role'],
    [{ groupName: 'X', org: 'acme', team: 'bad/name' }, 'team'],
    [{ groupName: 'X', org: 'acme', colour: 'red' }, 'colour'],
  ])('%j → 400 naming %s, nothing saved', async (body, field) => {
    const res = await bed.t.admin('post', rules()).send(body);
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(JSON.stringify(res.body)).toContain(field);
    expect((await bed.t.admin('get', rules())).body.rules).toEqual([]);
  });

  it('404 for an unknown connection or rule; 409 for a duplicate rule', async () => {
    expect((await bed.t.admin('get', '/admin/v1/connections/00000000-0000-4000-8000-000000000000/group-rules')).status).toBe(404);
    expect((await bed.t.admin('delete', `${rules()}/nope`)).status).toBe(404);
    const first = await bed.t.admin('post', rules()).send({ groupName: 'Dup', org: 'acme', team: 'Dups' });
    expect(first.status).toBe(201);
    expect((await bed.t.admin('post', rules()).send({ groupName: 'dup', org: 'ACME', team: 'dups' })).status).toBe(409);
    expect((await bed.t.admin('delete', `${rules()}/${first.body.rule.id}`)).status).toBe(200);
  });
});

describe('rules: preview, save through the sync job, unmapped groups', () => {
  let people: Array<{ id: string; userId: string }>;
  let staff: string;

  beforeAll(async () => {
    people = [];
    for (const n of [1, 2, 3, 4]) people.push(await bed.user(bed.a, `staff${n}@acme.test`));
    staff = await group('All Staff', people, 'obj-staff');
  });

  it('lists the pushed group as unmapped, with its member count', async () => {
    const res = await bed.t.admin('get', `/admin/v1/connections/${bed.a.connectionId}/groups/unmapped`);
    expect(res.status).toBe(200);
    expect(res.body.groups).toContainEqual({ id: staff, displayName: 'All Staff', externalId: 'obj-staff', members: 4 });
  });

  it('previews a new rule without writing: how many people gain which membership', async () => {
    const res = await bed.t.admin('post', `${rules()}/preview`).send({ groupExternalId: 'obj-staff', org: 'globex', team: 'Staff', role: 'editor' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ people: 4, changedPeople: 4, losses: [], roleChanges: [], refused: [], groups: [{ id: staff, displayName: 'All Staff' }] });
    expect(res.body.gains).toEqual(expect.arrayContaining([{ org: 'globex', team: null, role: 'editor', people: 4 }, { org: 'globex', team: 'Staff', people: 4 }]));
    expect(await roleOf(people[0]!.userId, bed.orgs.globex!)).toBeUndefined();
    expect((await bed.t.admin('get', rules())).body.rules).toEqual([]);
  });

  it('saves the rule and re-decides the people through the sync job, reporting progress', async () => {
    const saved = await bed.t.admin('post', rules()).send({ groupExternalId: 'obj-staff', org: 'globex', team: 'Staff', role: 'editor' });
    expect(saved.status, JSON.stringify(saved.body)).toBe(201);
    expect(saved.body.jobId).toMatch(/^sync-connection\./);
    // Nothing changes until the job runs.
    expect(await roleOf(people[0]!.userId, bed.orgs.globex!)).toBeUndefined();
    const { result, progress } = await bed.runSyncJob(saved.body.jobId);
    expect(result).toMatchObject({ users: 4, changed: 4, failed: 0 });
    expect(progress.at(-1)).toEqual({ processed: 4, total: 4 });
    for (const p of people) expect(await roleOf(p.userId, bed.orgs.globex!)).toBe('editor');
    expect(await teamUserIds(bed.orgs.globex!, 'Staff')).toEqual(people.map((p) => p.userId).sort());
    const listed = await bed.t.admin('get', `/admin/v1/connections/${bed.a.connectionId}/groups`);
    expect(listed.body.groups.find((g: { id: string }) => g.id === staff).targets).toEqual([{ org: 'globex', orgId: bed.orgs.globex, team: 'Staff', role: 'editor', via: saved.body.rule.id }]);
    expect((await bed.t.admin('get', `/admin/v1/connections/${bed.a.connectionId}/groups/unmapped`)).body.groups.map((g: { id: string }) => g.id)).not.toContain(staff);
  });

  it('a second group giving a higher role in the same org wins; leaving it drops back', async () => {
    const owners = await group('Globex Owners', [people[0]!]);
    const r = await bed.t.admin('post', rules()).send({ groupId: owners, org: 'globex', role: 'owner' });
    await bed.runSyncJob(r.body.jobId);
    expect(await roleOf(people[0]!.userId, bed.orgs.globex!)).toBe('owner');
    expect(await roleOf(people[1]!.userId, bed.orgs.globex!)).toBe('editor');
    // Another owner exists (set by an admin), so the group-given owner role can go.
    await db().query("UPDATE org_memberships SET role = 'owner' WHERE user_id = ? AND org_id = ?", [people[3]!.userId, bed.orgs.globex]);
    const res = await bed.scim(bed.a, 'patch', `/Groups/${owners}`).send({ schemas: [PATCH_OP], Operations: [{ op: 'remove', path: `members[value eq "${people[0]!.id}"]` }] });
    expect(res.status).toBe(204);
    expect(await roleOf(people[0]!.userId, bed.orgs.globex!)).toBe('editor');
  });

  it('previews and deletes the rule: the people lose what it granted, not what another group grants', async () => {
    // "Staff Too" also maps to globex:Staff for people[1] only.
    const too = await group('Staff Too', [people[1]!]);
    const r2 = await bed.t.admin('post', rules()).send({ groupId: too, org: 'globex', team: 'Staff' });
    await bed.runSyncJob(r2.body.jobId);
    const rule = (await bed.t.admin('get', rules())).body.rules.find((x: { matchBy: string }) => x.matchBy === 'externalId');
    const preview = await bed.t.admin('post', `${rules()}/preview`).send({ deleteRuleId: rule.id });
    expect(preview.status, JSON.stringify(preview.body)).toBe(200);
    // people[1] keeps Staff through "Staff Too"; people[3] is globex's only owner, whom nothing may
    // remove (Docker: never remove the only owner): refused, and reported.
    expect(preview.body.losses).toEqual(expect.arrayContaining([{ org: 'globex', team: 'Staff', people: 2 }, { org: 'globex', team: null, people: 2 }]));
    expect(preview.body.refused).toEqual([{ userId: people[3]!.userId, message: expect.stringContaining('last owner') }]);
    const del = await bed.t.admin('delete', `${rules()}/${rule.id}`);
    expect(del.status).toBe(200);
    const { result } = await bed.runSyncJob(del.body.jobId);
    expect(result).toMatchObject({ failed: 1, errors: [{ userId: people[3]!.userId }] });
    expect(await teamUserIds(bed.orgs.globex!, 'Staff')).toEqual([people[1]!.userId, people[3]!.userId].sort());
    expect(await roleOf(people[1]!.userId, bed.orgs.globex!)).toBe('member');
    expect(await roleOf(people[2]!.userId, bed.orgs.globex!)).toBeUndefined();
  });

  it('turns the built-in organization:team rule off and on (preview first)', async () => {
    const u = await bed.user(bed.a, 'builtin@acme.test');
    await group('acme:Builtins', [u]);
    expect(await teamUserIds(bed.orgs.acme!, 'Builtins')).toEqual([u.userId]);
    const preview = await bed.t.admin('post', `${rules()}/preview`).send({ builtinOrgTeam: false });
    expect(preview.body.losses).toContainEqual({ org: 'acme', team: 'Builtins', people: 1 });
    const off = await bed.t.admin('put', `${rules()}/builtin`).send({ enabled: false });
    expect(off.status, JSON.stringify(off.body)).toBe(200);
    await bed.runSyncJob(off.body.jobId);
    expect(await teamUserIds(bed.orgs.acme!, 'Builtins')).toEqual([]);
    expect((await bed.t.admin('get', rules())).body.builtinOrgTeam).toBe(false);
    const on = await bed.t.admin('put', `${rules()}/builtin`).send({ enabled: true });
    await bed.runSyncJob(on.body.jobId);
    expect(await teamUserIds(bed.orgs.acme!, 'Builtins')).toEqual([u.userId]);
    expect((await bed.t.admin('put', `${rules()}/builtin`).send({ enabled: 'yes' })).status).toBe(400);
  });
});

describe('group changes that concern many people go through the sync job', () => {
  it('above the inline limit the SCIM request records a job; the job applies it', async () => {
    const small = await startGroupTestBed({}, { 'role-mapping': { groupInlineLimit: 2, syncCron: '' } });
    try {
      const us = [];
      for (const n of [1, 2, 3]) us.push(await small.user(small.a, `many${n}@acme.test`));
      const res = await small.scim(small.a, 'post', '/Groups').send({ schemas: [GROUP], displayName: 'acme:Many', members: us.map((u) => ({ value: u.id })) });
      expect(res.status).toBe(201);
      const [{ jobId }] = await small.t.gateway.db.query("SELECT job_id AS jobId FROM outbox WHERE job_name = 'sync-connection' ORDER BY seq DESC LIMIT 1");
      const team = () => small.t.gateway.db.getRepository(TeamEntity).findOneBy({ orgId: small.orgs.acme!, nameLc: 'many' });
      expect(await team()).toBeNull();
      const { result } = await small.runSyncJob(jobId);
      expect(result).toMatchObject({ users: 3, changed: 3 });
      expect(await small.t.gateway.db.getRepository(TeamMembershipEntity).countBy({ teamId: (await team())!.id })).toBe(3);
    } finally {
      await small.t.close();
    }
  });
});
