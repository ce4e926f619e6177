import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, TEST_IDP_CERT, type TestGateway } from '@doorman/core/testing';
import { SsoConnectionEntity } from '@doorman/model';
import { adminPlugin } from '../src/index.ts';

/** Connections are addressed by id or by name on every `:connectionId` route (core's router param). */
let t: TestGateway;
const SAML = { entryPoint: 'https://idp.example.com/sso', idpIssuer: 'https://idp.example.com', idpCert: TEST_IDP_CERT };
let okta: { id: string };

beforeAll(async () => {
  t = await startTestGateway({ plugins: [], builtins: [adminPlugin], redis: false });
  await t.admin('post', '/admin/v1/orgs').send({ name: 'acme' }).expect(201);
  okta = (await t.admin('post', '/admin/v1/connections').send({ name: 'Okta', type: 'saml', orgIds: ['acme'], idp: SAML }).expect(201)).body;
});
afterAll(async () => t?.close());

describe('connections by name', () => {
  it('finds a connection by its id or its name, case-insensitively', async () => {
    for (const ref of [okta.id, 'Okta', 'okta', 'OKTA']) {
      const res = await t.admin('get', `/admin/v1/connections/${encodeURIComponent(ref)}`);
      expect(res.status, ref).toBe(200);
      expect(res.body.id).toBe(okta.id);
    }
  });

  it('changes and adds domains through the name', async () => {
    await t.admin('patch', '/admin/v1/connections/Okta').send({ defaultTeam: 'platform' }).expect(200);
    await t.admin('post', '/admin/v1/connections/Okta/domains').send({ domain: 'example.com' }).expect(201);
    const row = await t.gateway.db.getRepository(SsoConnectionEntity).findOneByOrFail({ id: okta.id });
    expect(row.defaultTeam).toBe('platform');
  });

  it('answers 404 for an unknown name', async () => {
    const res = await t.admin('get', '/admin/v1/connections/Nobody');
    expect(res.status).toBe(404);
  });

  it('refuses a name several connections share, naming their ids, and changes nothing', async () => {
    const twin = (await t.admin('post', '/admin/v1/connections').send({ name: 'Entra', type: 'saml', orgIds: ['acme'], idp: SAML }).expect(201)).body;
    const other = (await t.admin('post', '/admin/v1/connections').send({ name: 'entra', type: 'saml', orgIds: ['acme'], idp: SAML }).expect(201)).body;
    const res = await t.admin('patch', '/admin/v1/connections/Entra').send({ defaultTeam: 'x' });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'DMN_NAME_AMBIGUOUS', field: 'connectionId' });
    expect(res.body.error.message).toContain(twin.id);
    expect(res.body.error.message).toContain(other.id);
    const rows = await t.gateway.db.getRepository(SsoConnectionEntity).findBy({ defaultTeam: 'x' });
    expect(rows).toEqual([]);
    // The id still works.
    await t.admin('get', `/admin/v1/connections/${twin.id}`).expect(200);
  });
});
