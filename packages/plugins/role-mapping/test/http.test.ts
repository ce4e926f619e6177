import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { roleMappingServiceRef, SYSTEM_ACTOR } from '@doorman/plugin-api';
import { startTestGateway, testEvent, type TestGateway } from '@doorman/core/testing';
import { OutboxMessageEntity } from '@doorman/model';
import type { DataSource } from 'typeorm';
import { roleMappingPlugin } from '../src/index.ts';
import { createConnection, createOrg, createUser, createWorld, membershipsOf, rowCounts, TEST_ACTOR, type World } from './support.ts';

let t: TestGateway;
let ds: DataSource;
let w: World;
let moby: string;
let whale: string;

beforeAll(async () => {
  t = await startTestGateway({ plugins: [roleMappingPlugin] });
  ds = t.gateway.db;
});
afterAll(async () => t?.close());
beforeEach(async () => {
  w = await createWorld(ds);
  [{ name: moby }] = await ds.query('SELECT name FROM organizations WHERE id = ?', [w.moby]);
  [{ name: whale }] = await ds.query('SELECT name FROM organizations WHERE id = ?', [w.whale]);
});

const preview = (connectionId: string, body: unknown) => t.admin('post', `/admin/v1/connections/${connectionId}/role-mapping/preview`).send(body as object);

describe('POST /admin/v1/connections/:id/role-mapping/preview', () => {
  it('returns what apply would change for an existing user, and writes nothing', async () => {
    const email = `Preview-${Date.now()}@Example.com`;
    const user = await createUser(ds, email);
    await t.gateway.transaction((tx) =>
      t.gateway.get(roleMappingServiceRef).apply(tx, { connectionId: w.c1, userId: user, attributes: {}, flow: 'scim', firstTime: true, actor: TEST_ACTOR }),
    );
    const before = await rowCounts(ds);
    const res = await preview(w.c1, { email: email.toLowerCase(), attributes: { dockerRole: 'owner', dockerTeam: 'new-team', groups: ['nonsense'] } });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      userId: user,
      changes: [
        { kind: 'changeRole', orgId: w.moby, org: moby, from: 'member', to: 'owner' },
        { kind: 'createTeam', orgId: w.moby, org: moby, team: 'new-team', teamId: null },
        { kind: 'addTeamMembership', orgId: w.moby, org: moby, team: 'new-team', teamId: null, grantedBy: 'mapping' },
        { kind: 'removeTeamMembership', orgId: w.moby, org: moby, team: 'everyone', teamId: w.everyoneTeam },
      ],
      ignoredGroups: ['nonsense'],
      role: 'owner',
      mappedRole: 'owner',
      effectiveOrg: { id: w.moby, name: moby },
      team: 'new-team',
      firstTime: false,
    });
    expect(await rowCounts(ds)).toEqual(before);
    expect((await membershipsOf(ds, user)).orgs[0]!.role).toBe('member');
  });

  it('previews a person not provisioned yet, and accepts the flat (CLI) attribute form', async () => {
    const res = await preview(w.c1, { dockerOrg: whale, dockerRole: 'editor', flow: 'jit' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      userId: null,
      changes: [{ kind: 'addOrgMembership', orgId: w.whale, org: whale, role: 'editor' }],
      role: 'editor',
      effectiveOrg: { id: w.whale, name: whale },
      firstTime: true,
    });
  });

  it('previews a JIT later sign-in by userId: the role is kept', async () => {
    const user = await createUser(ds);
    await t.gateway.transaction((tx) =>
      t.gateway.get(roleMappingServiceRef).apply(tx, { connectionId: w.c1, userId: user, attributes: {}, flow: 'jit', firstTime: true, actor: TEST_ACTOR }),
    );
    const res = await preview(w.c1, { userId: user, flow: 'jit', attributes: { dockerRole: 'owner' } });
    expect(res.body).toMatchObject({ changes: [], role: 'member', mappedRole: 'owner', firstTime: false });
  });

  it('answers what apply would refuse, with the same error', async () => {
    const org = await createOrg(ds, `seatless-${Date.now()}`, 1);
    const conn = await createConnection(ds, { orgIds: [org], defaultOrgId: org });
    await ds.query("INSERT INTO org_memberships (id, org_id, user_id, role, source) VALUES (UUID(), ?, ?, 'owner', 'manual')", [org, await createUser(ds)]);
    const res = await preview(conn, {});
    expect(res.status).toBe(403);
    expect(res.body.error.message).toMatch(/^Not enough seats in organization 'seatless-\d+'/);
  });

  it.each([
    ['an unknown dockerRole', { attributes: { dockerRole: 'admin' } }, 'dockerRole'],
    ['a dockerOrg the connection does not serve', { attributes: { dockerOrg: 'elsewhere' } }, 'dockerOrg'],
    ['an invalid team name', { dockerTeam: 'a:b' }, 'dockerTeam'],
    ['a non-string attribute', { attributes: { dockerRole: 3 } }, 'attributes.dockerRole'],
    ['groups that are not a list', { groups: 'a:b' }, 'groups'],
    ['an unknown attribute', { attributes: { dockerRoles: 'owner' } }, 'attributes.dockerRoles'],
    ['an unknown field', { user: 'x' }, 'user'],
    ['an invalid email', { email: 'not-an-email' }, 'email'],
    ['both userId and email', { userId: 'a', email: 'a@example.com' }, 'email'],
    ['both nested and flat attributes', { attributes: {}, dockerRole: 'owner' }, 'attributes'],
    ['an unknown flow', { flow: 'saml' }, 'flow'],
  ])('answers 400 naming the field for %s', async (_name, body, field) => {
    const res = await preview(w.c1, body);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('DMN_INPUT_INVALID');
    expect(res.body.error.field).toBe(field);
  });

  it('answers 404 for an unknown connection, user id or email', async () => {
    expect((await preview('no-such-connection', {})).status).toBe(404);
    expect((await preview(w.c1, { userId: 'no-such-user' })).body.error).toMatchObject({ code: 'DMN_NOT_FOUND', field: 'userId' });
    expect((await preview(w.c1, { email: 'nobody@example.com' })).body.error).toMatchObject({ code: 'DMN_NOT_FOUND', field: 'email' });
  });

  it('requires admin authentication', async () => {
    expect((await t.http.post(`/admin/v1/connections/${w.c1}/role-mapping/preview`).send({})).status).toBe(401);
  });
});

describe('POST /admin/v1/connections/:id/sync', () => {
  it('answers 202 with the job id and records the job intent', async () => {
    const res = await t.admin('post', `/admin/v1/connections/${w.c1}/sync`);
    expect(res.status).toBe(202);
    expect(res.body.jobId).toMatch(new RegExp(`^sync-connection\\.${w.c1}\\.\\d+$`));
    const outbox = await ds.getRepository(OutboxMessageEntity).findBy({ jobId: res.body.jobId });
    expect(outbox).toMatchObject([{ queue: 'sync', jobName: 'sync-connection', payload: { connectionId: w.c1, trigger: 'manual' }, relayedAt: null }]);
  });

  it('answers 404 for an unknown connection, 403 when SCIM is disabled, 400 for a body', async () => {
    const before = await rowCounts(ds);
    expect((await t.admin('post', '/admin/v1/connections/nope/sync')).status).toBe(404);
    const off = await createConnection(ds, { orgIds: [w.moby], defaultOrgId: w.moby, scimEnabled: false });
    const res = await t.admin('post', `/admin/v1/connections/${off}/sync`);
    expect(res.status).toBe(403);
    expect(res.body.error.message).toMatch(/SCIM is disabled/);
    expect((await t.admin('post', `/admin/v1/connections/${w.c1}/sync`).send({ force: true })).body.error).toMatchObject({ code: 'DMN_INPUT_INVALID', field: 'force' });
    expect(await rowCounts(ds)).toEqual(before);
  });
});

describe('connection.updated subscriber', () => {
  const publish = (changes: Record<string, { before?: unknown; after?: unknown }>) =>
    t.gateway.transaction((tx) => t.gateway.events.publish(tx, SYSTEM_ACTOR, testEvent({ action: 'connection.updated', connectionId: w.c1, target: { type: 'connection', id: w.c1 }, changes })));
  const intents = () => ds.getRepository(OutboxMessageEntity).findBy({ queue: 'sync', jobName: 'sync-connection' });

  it('enqueues a sync, in the same transaction, when the default org or team changes', async () => {
    const before = (await intents()).length;
    await publish({ defaultTeam: { before: 'everyone', after: 'staff' } });
    const after = await intents();
    expect(after).toHaveLength(before + 1);
    expect(after.at(-1)!.payload).toEqual({ connectionId: w.c1, trigger: 'default-changed' });

    await t.gateway
      .transaction(async (tx) => {
        await t.gateway.events.publish(tx, SYSTEM_ACTOR, testEvent({ action: 'connection.updated', connectionId: w.c1, changes: { defaultOrgId: { before: w.moby, after: w.whale } } }));
        throw new Error('rolled back');
      })
      .catch(() => undefined);
    expect(await intents()).toHaveLength(before + 1);
  });

  it('ignores other changes', async () => {
    const before = (await intents()).length;
    await publish({ name: { before: 'a', after: 'b' } });
    await publish({ defaultTeam: { before: 'same', after: 'same' } });
    await t.gateway.transaction((tx) => t.gateway.events.publish(tx, SYSTEM_ACTOR, testEvent({ action: 'connection.created', connectionId: w.c1, changes: { defaultTeam: { after: 'x' } } })));
    expect(await intents()).toHaveLength(before);
  });
});
