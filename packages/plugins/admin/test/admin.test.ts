import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, TEST_IDP_CERT, type TestGateway } from '@doorman/core/testing';
import type { DomainEvent } from '@doorman/plugin-api';
import { ConnectionOrgEntity, OrganizationEntity, SsoConnectionEntity, TeamEntity } from '@doorman/model';
import { adminPlugin } from '../src/index.ts';

let t: TestGateway;
const published: DomainEvent[] = [];
const SAML = { entryPoint: 'https://idp.example.com/sso', idpIssuer: 'https://idp.example.com', idpCert: TEST_IDP_CERT };

beforeAll(async () => {
  t = await startTestGateway({ plugins: [], builtins: [adminPlugin] });
  t.gateway.events.subscribe(async (_tx, _actor, e) => {
    published.push(e);
  });
});
afterAll(async () => t?.close());

const count = async () => ({
  orgs: await t.gateway.db.getRepository(OrganizationEntity).count(),
  teams: await t.gateway.db.getRepository(TeamEntity).count(),
  connections: await t.gateway.db.getRepository(SsoConnectionEntity).count(),
  links: await t.gateway.db.getRepository(ConnectionOrgEntity).count(),
});

describe('admin API', () => {
  it('refuses requests without a valid admin token (401) and writes nothing', async () => {
    const before = await count();
    for (const auth of [undefined, 'Bearer nope', 'Basic abc']) {
      const req = t.http.post('/admin/v1/orgs').send({ name: 'acme' });
      const res = await (auth ? req.set('Authorization', auth) : req);
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('DMN_UNAUTHENTICATED');
    }
    expect(await count()).toEqual(before);
  });

  it('creates organizations and teams, naming bad fields and refusing duplicates', async () => {
    const created = await t.admin('post', '/admin/v1/orgs').send({ name: 'acme', seatLimit: 10 });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'acme', seatLimit: 10 });
    expect(published.at(-1)).toMatchObject({ action: 'org.created', orgId: created.body.id });

    const before = await count();
    const cases: Array<[Record<string, unknown>, number, string]> = [
      [{ name: 'Has Spaces' }, 400, 'name'],
      [{ name: 'acme', seatLimit: 0 }, 400, 'seatLimit'],
      [{ name: 'acme', extra: 1 }, 400, ''],
      [{ name: 'acme' }, 409, 'name'],
    ];
    for (const [body, status, field] of cases) {
      const res = await t.admin('post', '/admin/v1/orgs').send(body);
      expect(res.status, JSON.stringify(body)).toBe(status);
      if (field) expect(res.body.error.field).toBe(field);
    }
    expect(await count()).toEqual(before);

    const team = await t.admin('post', '/admin/v1/orgs/acme/teams').send({ name: 'Engineering' });
    expect(team.status).toBe(201);
    expect((await t.admin('post', '/admin/v1/orgs/acme/teams').send({ name: 'engineering' })).status).toBe(409);
    expect((await t.admin('post', '/admin/v1/orgs/nope/teams').send({ name: 'x' })).status).toBe(404);
    expect((await t.admin('get', '/admin/v1/orgs/acme/teams')).body.teams.map((x: { name: string }) => x.name)).toEqual(['Engineering']);
  });

  it('creates connections, validating org scope and the SCIM/JIT toggles, and never returns the client secret', async () => {
    await t.admin('post', '/admin/v1/orgs').send({ name: 'globex' });
    const before = await count();
    const bad: Array<[Record<string, unknown>, number, string]> = [
      [{ name: 'c', type: 'saml', orgIds: [] }, 400, 'orgIds'],
      [{ name: 'c', type: 'ldap', orgIds: ['acme'] }, 400, 'type'],
      [{ name: 'c', type: 'saml', orgIds: ['acme'], defaultOrgId: 'globex' }, 400, 'defaultOrgId'],
      [{ name: 'c', type: 'saml', orgIds: ['nope'] }, 404, 'orgId'],
      [{ name: 'c', type: 'saml', orgIds: ['acme'], scimEnabled: true, idp: { entryPoint: SAML.entryPoint } }, 400, 'idp.idpIssuer'],
      [{ name: 'c', type: 'saml', orgIds: ['acme'], jitEnabled: false }, 400, 'jitEnabled'],
      [{ name: 'c', type: 'saml', orgIds: ['acme'], domains: ['not a domain'] }, 400, 'domains.0'],
    ];
    for (const [body, status, field] of bad) {
      const res = await t.admin('post', '/admin/v1/connections').send(body);
      expect(res.status, JSON.stringify(body)).toBe(status);
      expect(res.body.error.field).toBe(field);
    }
    expect(await count()).toEqual(before);

    const saml = await t.admin('post', '/admin/v1/connections').send({ name: 'Okta', type: 'saml', orgIds: ['acme', 'globex'], defaultOrgId: 'acme', defaultTeam: 'Engineering', domains: ['Example.COM'], scimEnabled: true, idp: SAML });
    expect(saml.status).toBe(201);
    expect(saml.body).toMatchObject({ type: 'saml', scimEnabled: true, jitEnabled: true, ssoSettingsComplete: true, domains: [{ domain: 'example.com', verified: false }] });
    expect(saml.body.orgIds).toHaveLength(2);

    const oidc = await t.admin('post', '/admin/v1/connections').send({ name: 'Entra', type: 'oidc', orgIds: ['globex'], idp: { issuer: 'https://login.example.com', clientId: 'cid', clientSecret: 'super-secret-value' } });
    expect(oidc.status).toBe(201);
    expect(oidc.body.defaultOrgId).toBeTruthy();
    expect(JSON.stringify(oidc.body)).not.toContain('super-secret-value');
    expect(oidc.body.idpSettings.clientSecretSet).toBe(true);
    const listed = await t.admin('get', '/admin/v1/connections');
    expect(JSON.stringify(listed.body)).not.toContain('super-secret-value');
    expect(JSON.stringify(published)).not.toContain('super-secret-value');

    const patched = await t.admin('patch', `/admin/v1/connections/${saml.body.id}`).send({ defaultTeam: 'Platform' });
    expect(patched.status).toBe(200);
    expect(published.at(-1)).toMatchObject({ action: 'connection.updated', changes: { defaultTeam: { before: 'Engineering', after: 'Platform' } } });
    expect((await t.admin('patch', `/admin/v1/connections/${saml.body.id}`).send({ defaultOrgId: 'nope' })).status).toBe(404);
    expect((await t.admin('patch', `/admin/v1/connections/${oidc.body.id}`).send({ jitEnabled: false })).body.error.field).toBe('jitEnabled');

    expect((await t.admin('post', `/admin/v1/connections/${saml.body.id}/domains/example.com/verify`)).body.verified).toBe(true);
    expect((await t.admin('post', `/admin/v1/connections/${saml.body.id}/domains`).send({ domain: 'example.com' })).status).toBe(409);
    expect((await t.admin('get', '/admin/v1/connections/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await t.admin('delete', `/admin/v1/connections/${oidc.body.id}`)).status).toBe(204);
    expect((await t.admin('get', `/admin/v1/connections/${oidc.body.id}`)).status).toBe(404);
  });

  it('lists members with role and source', async () => {
    const res = await t.admin('get', '/admin/v1/orgs/acme/members');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ total: 0, members: [] });
    expect((await t.admin('get', '/admin/v1/orgs/acme/members?limit=0')).body.error.field).toBe('limit');
  });
});
