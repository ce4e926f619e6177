import { expect } from 'vitest';
import type { AnyPluginDefinition } from '@doorman/core';
import { startTestGateway, TEST_IDP_CERT, type TestGateway } from '@doorman/core/testing';
import { adminPlugin } from '@doorman/plugin-admin';
import { tokenAuthPlugin } from '@doorman/plugin-token-auth';
import { roleMappingPlugin } from '@doorman/plugin-role-mapping';
import { scimUsersPlugin } from '../src/index.ts';

export const SAML = { entryPoint: 'https://idp.example.com/sso', idpIssuer: 'https://idp.example.com', idpCert: TEST_IDP_CERT };
export const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const DOCKER = 'urn:ietf:params:scim:schemas:extension:docker:2.0:User';
export const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

export interface Tenant {
  connectionId: string;
  token: string;
}

export interface ScimTestBed {
  t: TestGateway;
  orgs: Record<string, string>;
  a: Tenant;
  b: Tenant;
  scim(tenant: Tenant, method: 'get' | 'post' | 'put' | 'patch' | 'delete', path: string): ReturnType<TestGateway['admin']>;
}

/**
 * A gateway with token-auth, role-mapping and scim-users (plus `extra` plugins, e.g. scim-groups);
 * orgs acme, globex and initech; two tenants: A ("Okta", serving acme and globex, default
 * acme/Everyone) and B ("Entra", serving initech). Exported as `@doorman/plugin-scim-users/testing`.
 */
export async function startScimTestBed(extra: { plugins?: AnyPluginDefinition[]; pluginSettings?: Record<string, Record<string, unknown>> } = {}): Promise<ScimTestBed> {
  const t = await startTestGateway({
    plugins: [tokenAuthPlugin, roleMappingPlugin, scimUsersPlugin, ...(extra.plugins ?? [])],
    builtins: [adminPlugin],
    pluginSettings: extra.pluginSettings,
  });
  const orgs: Record<string, string> = {};
  for (const name of ['acme', 'globex', 'initech']) {
    const res = await t.admin('post', '/admin/v1/orgs').send({ name });
    orgs[name] = res.body.id;
  }
  const tenant = async (name: string, orgIds: string[], defaultTeam: string | null, defaultOrgId?: string): Promise<Tenant> => {
    const c = await t.admin('post', '/admin/v1/connections').send({ name, type: 'saml', orgIds, defaultOrgId, defaultTeam, scimEnabled: true, idp: SAML });
    if (c.status !== 201) throw new Error(`connection: ${JSON.stringify(c.body)}`);
    const tok = await t.admin('post', `/admin/v1/connections/${c.body.id}/scim-tokens`).send({ name: 'test' });
    if (tok.status !== 201) throw new Error(`token: ${JSON.stringify(tok.body)}`);
    return { connectionId: c.body.id, token: tok.body.secret ?? tok.body.token };
  };
  const a = await tenant('Okta A', ['acme', 'globex'], 'Everyone', 'acme');
  const b = await tenant('Entra B', ['initech'], null, 'initech');
  return {
    t,
    orgs,
    a,
    b,
    scim: (tenant, method, path) => t.http[method](`/scim/v2${path}`).set('Authorization', `Bearer ${tenant.token}`).set('Content-Type', 'application/scim+json'),
  };
}

export const newUser = (userName: string, extra: Record<string, unknown> = {}) => ({
  schemas: [USER],
  userName,
  name: { givenName: 'Ada', familyName: 'Lovelace' },
  emails: [{ value: userName, type: 'work', primary: true }],
  active: true,
  ...extra,
});

/** Asserts an RFC 7644 §3.12 error response. */
export const scimError = (res: { status: number; body: any; headers: any }, status: number, scimType?: string) => {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.headers['content-type']).toMatch(/application\/scim\+json/);
  expect(res.body.schemas).toEqual(['urn:ietf:params:scim:api:messages:2.0:Error']);
  expect(res.body.status).toBe(String(status));
  if (scimType) expect(res.body.scimType).toBe(scimType);
};
