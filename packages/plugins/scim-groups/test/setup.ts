import { startScimTestBed, USER, type ScimTestBed, type Tenant } from '@doorman/plugin-scim-users/testing';
import { scimGroupsPlugin } from '../src/index.ts';

export { SAML, USER, PATCH_OP, type Tenant } from '@doorman/plugin-scim-users/testing';
export const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';

export interface GroupTestBed extends ScimTestBed {
  /** Creates a SCIM user in the tenant; returns its SCIM id and account id. */
  user(tenant: Tenant, userName: string): Promise<{ id: string; userId: string }>;
  /** Runs the sync job recorded in the outbox under `jobId` (as a worker would); returns its result and progress reports. */
  runSyncJob(jobId: string): Promise<{ result: any; progress: unknown[] }>;
}

/** The scim-users test bed (two tenants) with scim-groups enabled. */
export async function startGroupTestBed(settings: Record<string, unknown> = {}, others: Record<string, Record<string, unknown>> = {}): Promise<GroupTestBed> {
  const bed = await startScimTestBed({ plugins: [scimGroupsPlugin], pluginSettings: { ...others, 'scim-groups': settings } });
  const { t, scim } = bed;
  return {
    ...bed,
    async user(tenant, userName) {
      const res = await scim(tenant, 'post', '/Users').send({ schemas: [USER], userName, emails: [{ value: userName, primary: true }], active: true });
      if (res.status !== 201) throw new Error(`user: ${JSON.stringify(res.body)}`);
      const [row] = await t.gateway.db.query('SELECT user_id AS userId FROM connection_users WHERE id = ?', [res.body.id]);
      return { id: res.body.id, userId: row.userId };
    },
    async runSyncJob(jobId) {
      const [row] = await t.gateway.db.query('SELECT payload FROM outbox WHERE job_id = ?', [jobId]);
      if (!row) throw new Error(`no outbox intent ${jobId}`);
      const job = t.gateway.jobs.definitions.get('sync/sync-connection')!;
      const progress: unknown[] = [];
      const payload = typeof row.payload === 'string' ? JSON.parse(row.payload) : row.payload;
      const result = await job.process(job.schema.parse(payload), { id: jobId, attemptsMade: 0, logger: t.gateway.logger, updateProgress: async (p) => void progress.push(p) });
      return { result, progress };
    },
  };
}
