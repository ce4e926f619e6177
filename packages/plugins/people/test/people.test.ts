import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditPlugin } from '@doorman/plugin-audit';
import { scimGroupsPlugin } from '@doorman/plugin-scim-groups';
import { jitProvisioningPlugin } from '@doorman/plugin-jit-provisioning';
import { newUser, PATCH_OP, startScimTestBed, type ScimTestBed } from '@doorman/plugin-scim-users/testing';
import { peoplePlugin } from '../src/index.ts';

const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
let bed: ScimTestBed;
let ada: { scimId: string; userId: string };
let groupId: string;

beforeAll(async () => {
  bed = await startScimTestBed({ plugins: [scimGroupsPlugin, auditPlugin, jitProvisioningPlugin, peoplePlugin] });
  const res = await bed.scim(bed.a, 'post', '/Users').send(newUser('ada@acme.test', { externalId: 'EXT-123', displayName: 'Countess Ada' }));
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const [row] = await bed.t.gateway.db.query('SELECT user_id AS userId FROM connection_users WHERE id = ?', [res.body.id]);
  ada = { scimId: res.body.id, userId: row.userId };
  const group = await bed.scim(bed.a, 'post', '/Groups').send({ schemas: [GROUP], displayName: 'acme:Developers', members: [{ value: ada.scimId }] });
  expect(group.status, JSON.stringify(group.body)).toBe(201);
  groupId = group.body.id;
  for (const name of ['pg.one', 'pg.two', 'pg.three']) expect((await bed.scim(bed.a, 'post', '/Users').send(newUser(`${name}@acme.test`))).status).toBe(201);
});
afterAll(async () => bed?.t.close());

const search = (q: string, extra = '') => bed.t.admin('get', `/admin/v1/people?q=${encodeURIComponent(q)}${extra}`);
const emails = (res: { body: { people: Array<{ email: string }> } }) => res.body.people.map((p) => p.email);

describe('GET /admin/v1/people', () => {
  it.each([
    ['ada', 'email prefix'],
    ['ADA@ACME', 'case-insensitive'],
    ['EXT-1', 'externalId prefix'],
    ['countess', 'SCIM displayName prefix'],
    [null, 'username prefix (generated from the email)'],
  ])('%s finds Ada (%s)', async (q, _why) => {
    const term = q ?? (await bed.t.admin('get', '/admin/v1/people/ada@acme.test')).body.account.username.slice(0, 5);
    const res = await search(term);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(emails(res)).toContain('ada@acme.test');
  });

  it('matches prefixes only, and LIKE wildcards literally', async () => {
    expect(emails(await search('acme.test'))).toEqual([]);
    expect(emails(await search('%'))).toEqual([]);
    expect(emails(await search('_da'))).toEqual([]);
  });

  it('pages with a cursor, ordered by email', async () => {
    const first = await search('pg.', '&limit=2');
    expect(emails(first)).toEqual(['pg.one@acme.test', 'pg.three@acme.test']);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await search('pg.', `&limit=2&cursor=${first.body.nextCursor}`);
    expect(emails(second)).toEqual(['pg.two@acme.test']);
    expect(second.body.nextCursor).toBeNull();
  });

  it('names a bad parameter', async () => {
    expect((await search('x', '&limit=0')).body.error.field).toBe('limit');
    expect((await search('x', '&cursor=nope!')).body.error.field).toBe('cursor');
    expect((await search('x', '&colour=red')).body.error.field).toBe('colour');
  });
});

describe('GET /admin/v1/people/:person', () => {
  it('shows the account, SCIM state per connection and every membership with its provenance', async () => {
    const res = await bed.t.admin('get', '/admin/v1/people/ADA@acme.test');
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.account).toMatchObject({ id: ada.userId, email: 'ada@acme.test' });
    expect(res.body.connections).toEqual([
      expect.objectContaining({ connectionId: bed.a.connectionId, connectionName: 'Okta A', scimId: ada.scimId, state: 'active', userName: 'ada@acme.test', externalId: 'EXT-123', lastIdpRequestAt: expect.any(String) }),
    ]);
    expect(res.body.organizations).toEqual([
      expect.objectContaining({ org: 'acme', role: 'member', provenance: { via: 'scim_attribute', connectionId: bed.a.connectionId, ref: null } }),
    ]);
    const teams = Object.fromEntries(res.body.teams.map((t: { team: string; provenance: unknown }) => [t.team, t.provenance]));
    expect(teams).toEqual({
      Everyone: { via: 'scim_attribute', connectionId: bed.a.connectionId, ref: null },
      Developers: { via: 'scim_group', connectionId: bed.a.connectionId, ref: groupId },
    });
    expect(res.body.sessions).toEqual([]);
    // By id and by username too.
    expect((await bed.t.admin('get', `/admin/v1/people/${ada.userId}`)).body.account.email).toBe('ada@acme.test');
    expect((await bed.t.admin('get', `/admin/v1/people/${res.body.account.username}`)).body.account.id).toBe(ada.userId);
  });

  it('ends every open session of a person on an admin\'s request, audited', async () => {
    const db = bed.t.gateway.db;
    const later = new Date(Date.now() + 3_600_000).toISOString().replace('T', ' ').slice(0, 23);
    // Two open sessions, as two sign-ins through the two connections leave them, and one already ended.
    for (const [id, connectionId, ended] of [['s-one', bed.a.connectionId, null], ['s-two', bed.b.connectionId, null], ['s-old', bed.a.connectionId, later]] as const) {
      await db.query('INSERT INTO sso_sessions (id, user_id, connection_id, created_at, expires_at, ended_at) VALUES (?, ?, ?, ?, ?, ?)', [id, ada.userId, connectionId, later, later, ended]);
    }
    expect((await bed.t.admin('get', '/admin/v1/people/ada@acme.test')).body.sessions.map((s: { id: string }) => s.id).sort()).toEqual(['s-one', 's-two']);
    const end = await bed.t.admin('post', '/admin/v1/people/ada@acme.test/sessions/end');
    expect(end.status, JSON.stringify(end.body)).toBe(200);
    expect(end.body).toEqual({ sessionsEnded: 2 });
    expect((await bed.t.admin('get', '/admin/v1/people/ada@acme.test')).body.sessions).toEqual([]);
    const [event] = await db.query("SELECT actor_type AS actorType, changes FROM audit_events WHERE action = 'sso.sessions_ended' AND target_id = ?", [ada.userId]);
    expect(event.actorType).toBe('admin_token');
    expect(JSON.parse(typeof event.changes === 'string' ? event.changes : JSON.stringify(event.changes))).toMatchObject({ sessions: { after: 2 }, reason: { after: 'admin' } });
    expect((await bed.t.admin('post', '/admin/v1/people/ada@acme.test/sessions/end')).body).toEqual({ sessionsEnded: 0 });
    expect((await bed.t.admin('post', '/admin/v1/people/nobody@acme.test/sessions/end')).status).toBe(404);
  });

  it('keeps a deactivated person findable, with the deactivation job while it has not run', async () => {
    const off = await bed.scim(bed.a, 'patch', `/Users/${ada.scimId}`).send({ schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'active', value: false }] });
    expect(off.status, JSON.stringify(off.body)).toBe(200);
    expect(emails(await search('ada'))).toContain('ada@acme.test');
    const res = await bed.t.admin('get', '/admin/v1/people/ada@acme.test');
    expect(res.body.connections[0].state).toBe('deactivated');
    // No job runtime in this test: the deactivation's job waits in the outbox.
    expect(res.body.jobs).toEqual([expect.objectContaining({ queue: 'provisioning', name: 'deactivate-user', state: 'pending' })]);
  });

  it('lists a job about the person that failed for good (as the relay records it from BullMQ), and not one that completed', async () => {
    const db = bed.t.gateway.db;
    const now = new Date().toISOString().replace('T', ' ').slice(0, 23);
    await db.query("UPDATE outbox SET relayed_at = ?, completed_at = ?, last_error = 'failed (recorded by the relay from BullMQ)' WHERE job_name = 'deactivate-user' AND payload LIKE ?", [now, now, `%${ada.userId}%`]);
    await db.query("INSERT INTO outbox (queue, job_name, job_id, payload, created_at, relayed_at, completed_at, attempts) VALUES ('provisioning', 'sync', 'done-1', ?, ?, ?, ?, 1)", [JSON.stringify({ userId: ada.userId }), now, now, now]);
    const res = await bed.t.admin('get', '/admin/v1/people/ada@acme.test');
    expect(res.body.jobs).toEqual([expect.objectContaining({ name: 'deactivate-user', state: 'failed', lastError: 'failed (recorded by the relay from BullMQ)' })]);
  });

  it('shows a SCIM deletion from the audit trail', async () => {
    const res = await bed.scim(bed.a, 'post', '/Users').send(newUser('gone@acme.test'));
    expect((await bed.scim(bed.a, 'delete', `/Users/${res.body.id}`)).status).toBe(204);
    const shown = await bed.t.admin('get', '/admin/v1/people/gone@acme.test');
    expect(shown.body.connections).toEqual([expect.objectContaining({ connectionId: bed.a.connectionId, state: 'deleted', scimId: res.body.id, userName: 'gone@acme.test' })]);
  });

  it('404s an unknown person, naming the parameter', async () => {
    const res = await bed.t.admin('get', '/admin/v1/people/nobody@acme.test');
    expect(res.status).toBe(404);
    expect(res.body.error.field).toBe('person');
  });
});
