import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, TEST_SAML_SETTINGS, type TestGateway } from '@doorman/core/testing';
import { BUILTIN_PLUGINS, PLUGIN_CATALOG } from '../src/catalog.ts';

/**
 * A database write that fails is logged without its query parameters: forced failures (a trigger
 * that refuses the write, in this test's own database) on every write path that carries a secret
 * or a person's data, then the captured log lines are searched for what the request carried.
 */
let t: TestGateway;
const SAML = TEST_SAML_SETTINGS;
const CLIENT_SECRET = 'oidc-client-secret-do-not-log-7f3a9c';
const PERSON = { userName: 'zelda.private@example.org', given: 'Zeldaprivate', family: 'Hyrulesecret', patched: 'Patchedprivate' };
let connectionId: string;
let scimToken: string;
let userId: string;

async function refuseWrites(table: string, event: 'INSERT' | 'UPDATE') {
  await t.gateway.db.query(`CREATE TRIGGER refuse_${event.toLowerCase()}_${table} BEFORE ${event} ON ${table} FOR EACH ROW SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'forced failure'`);
}
async function allowWrites() {
  const triggers = (await t.gateway.db.query('SELECT TRIGGER_NAME AS name FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()')) as Array<{ name: string }>;
  for (const { name } of triggers) await t.gateway.db.query(`DROP TRIGGER ${name}`);
}

beforeAll(async () => {
  t = await startTestGateway({ plugins: PLUGIN_CATALOG.filter((p) => p.id !== 'jit-provisioning'), builtins: BUILTIN_PLUGINS, redis: false });
  await t.admin('post', '/admin/v1/orgs').send({ name: 'acme' }).expect(201);
  const connection = await t.admin('post', '/admin/v1/connections').send({ name: 'Okta', type: 'saml', orgIds: ['acme'], scimEnabled: true, idp: SAML }).expect(201);
  connectionId = connection.body.id;
  scimToken = (await t.admin('post', `/admin/v1/connections/${connectionId}/scim-tokens`).send({}).expect(201)).body.token;
  const user = await t.http
    .post('/scim/v2/Users')
    .set('Authorization', `Bearer ${scimToken}`)
    .send({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'someone@example.org', active: true })
    .expect(201);
  userId = user.body.id;
});
afterEach(allowWrites);
afterAll(async () => t?.close());

/** Runs `request` with the log capture reset, and returns what was logged. */
async function logsOf(request: () => Promise<{ status: number }>) {
  t.logs.length = 0;
  const res = await request();
  expect(res.status).toBe(500);
  const text = t.logs.join('');
  // The failure itself is logged (so the assertions below look at a real error line).
  expect(text).toContain('forced failure');
  expect(text).not.toMatch(/"(parameters|sql)"/);
  expect(text).not.toMatch(/[0-9a-f]{64}/); // no token hash
  return text;
}

describe('a failed database write logs the error, never its parameters', () => {
  it('OIDC connection created with a client secret', async () => {
    await refuseWrites('sso_connections', 'INSERT');
    const text = await logsOf(() =>
      t.admin('post', '/admin/v1/connections').send({ name: 'Entra', type: 'oidc', orgIds: ['acme'], idp: { issuer: 'https://login.example.com', clientId: 'app', clientSecret: CLIENT_SECRET } }),
    );
    expect(text).not.toContain(CLIENT_SECRET);
  });

  it('connection updated with a client secret', async () => {
    const oidc = await t.admin('post', '/admin/v1/connections').send({ name: 'Auth0', type: 'oidc', orgIds: ['acme'], idp: { issuer: 'https://login.example.com', clientId: 'app' } }).expect(201);
    await refuseWrites('sso_connections', 'UPDATE');
    const text = await logsOf(() => t.admin('patch', `/admin/v1/connections/${oidc.body.id}`).send({ idp: { clientSecret: CLIENT_SECRET } }));
    expect(text).not.toContain(CLIENT_SECRET);
  });

  it('SCIM token and admin token issued', async () => {
    await refuseWrites('scim_tokens', 'INSERT');
    await logsOf(() => t.admin('post', `/admin/v1/connections/${connectionId}/scim-tokens`).send({ name: 'second' }));
    await refuseWrites('admin_tokens', 'INSERT');
    await logsOf(() => t.admin('post', '/admin/v1/admin-tokens').send({ name: 'ops' }));
  });

  it('SCIM user created', async () => {
    await refuseWrites('connection_users', 'INSERT');
    const text = await logsOf(() =>
      t.http
        .post('/scim/v2/Users')
        .set('Authorization', `Bearer ${scimToken}`)
        .send({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: PERSON.userName, name: { givenName: PERSON.given, familyName: PERSON.family }, active: true }),
    );
    for (const value of [PERSON.userName, PERSON.given, PERSON.family]) expect(text).not.toContain(value);
  });

  it('SCIM user patched', async () => {
    await refuseWrites('connection_users', 'UPDATE');
    const text = await logsOf(() =>
      t.http
        .patch(`/scim/v2/Users/${userId}`)
        .set('Authorization', `Bearer ${scimToken}`)
        .send({ schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'name.givenName', value: PERSON.patched }] }),
    );
    expect(text).not.toContain(PERSON.patched);
  });
});
