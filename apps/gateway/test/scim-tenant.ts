import { TEST_SAML_SETTINGS } from '@doorman/core/testing';
import type supertest from 'supertest';

/** Shared by the fault and embedded-default tests. */
export const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';

/** An organization and a SCIM-enabled SAML connection serving it, with a SCIM token, through the admin API. */
export async function createScimTenant(http: ReturnType<typeof supertest>, adminToken: string, name: string): Promise<{ connectionId: string; orgId: string; token: string }> {
  const admin = (path: string) => http.post(path).set('Authorization', `Bearer ${adminToken}`);
  const org = await admin('/admin/v1/orgs').send({ name });
  const idp = TEST_SAML_SETTINGS;
  const conn = await admin('/admin/v1/connections').send({ name: `${name} IdP`, type: 'saml', orgIds: [org.body.id], defaultOrgId: org.body.id, scimEnabled: true, idp });
  if (conn.status !== 201) throw new Error(`connection: ${JSON.stringify(conn.body)}`);
  const tok = await admin(`/admin/v1/connections/${conn.body.id}/scim-tokens`).send({ name: 't' });
  return { connectionId: conn.body.id, orgId: org.body.id, token: tok.body.secret ?? tok.body.token };
}
