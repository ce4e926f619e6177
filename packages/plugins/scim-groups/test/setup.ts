import { startTestGateway, type TestGateway } from '@doorman/core/testing';
import { adminPlugin } from '@doorman/plugin-admin';
import { tokenAuthPlugin } from '@doorman/plugin-token-auth';
import { roleMappingPlugin } from '@doorman/plugin-role-mapping';
import { scimUsersPlugin } from '@doorman/plugin-scim-users';
import { scimGroupsPlugin } from '../src/index.ts';

export const SAML = { entryPoint: 'https://idp.example.com/sso', idpIssuer: 'https://idp.example.com', idpCert: 'MIIC'.padEnd(64, 'A') };
export const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

export interface Tenant {
  connectionId: string;
  token: string;
}

export interface GroupTestBed {
  t: TestGateway;
  orgs: Record<string, string>;
  a: Tenant;
  b: Tenant;
  scim(tenant: Tenant, method: 'get' | 'post' | 'put' | 'patch' | 'delete', path: string): ReturnType<TestGateway['admin']>;
  /** Creates a SCIM user in the tenant; returns its SCIM id and account id. */
  user(tenant: Tenant, userName: string): Promise<{ id: string; userId: string }>;
}

/**
 * token-auth, role-mapping, scim-users and scim-groups on a fresh MariaDB database; two tenants:
 * A ("Okta", serving acme and globex, default acme/Everyone) and B ("Entra", serving initech).
 */
export async function startGroupTestBed(settings: Record<string, unknown> = {}): Promise<GroupTestBed> {
  const t = await startTestGateway({
    plugins: [tokenAuthPlugin, roleMappingPlugin, scimUsersPlugin, scimGroupsPlugin],
    builtins: [adminPlugin],
    pluginSettings: { 'scim-groups': settings },
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
  const scim: GroupTestBed['scim'] = (tenant, method, path) => t.http[method](`/scim/v2${path}`).set('Authorization', `Bearer ${tenant.token}`).set('Content-Type', 'application/scim+json');
  return {
    t,
    orgs,
    a,
    b,
    scim,
    async user(tenant, userName) {
      const res = await scim(tenant, 'post', '/Users').send({ schemas: [USER], userName, emails: [{ value: userName, primary: true }], active: true });
      if (res.status !== 201) throw new Error(`user: ${JSON.stringify(res.body)}`);
      const [row] = await t.gateway.db.query('SELECT user_id AS userId FROM connection_users WHERE id = ?', [res.body.id]);
      return { id: res.body.id, userId: row.userId };
    },
  };
}
