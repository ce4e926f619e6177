import { startScimTestBed, USER, type ScimTestBed, type Tenant } from '@doorman/plugin-scim-users/testing';
import { scimGroupsPlugin } from '../src/index.ts';

export { SAML, USER, PATCH_OP, type Tenant } from '@doorman/plugin-scim-users/testing';
export const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';

export interface GroupTestBed extends ScimTestBed {
  /** Creates a SCIM user in the tenant; returns its SCIM id and account id. */
  user(tenant: Tenant, userName: string): Promise<{ id: string; userId: string }>;
}

/** The scim-users test bed (two tenants) with scim-groups enabled. */
export async function startGroupTestBed(settings: Record<string, unknown> = {}): Promise<GroupTestBed> {
  const bed = await startScimTestBed({ plugins: [scimGroupsPlugin], pluginSettings: { 'scim-groups': settings } });
  const { t, scim } = bed;
  return {
    ...bed,
    async user(tenant, userName) {
      const res = await scim(tenant, 'post', '/Users').send({ schemas: [USER], userName, emails: [{ value: userName, primary: true }], active: true });
      if (res.status !== 201) throw new Error(`user: ${JSON.stringify(res.body)}`);
      const [row] = await t.gateway.db.query('SELECT user_id AS userId FROM connection_users WHERE id = ?', [res.body.id]);
      return { id: res.body.id, userId: row.userId };
    },
  };
}
