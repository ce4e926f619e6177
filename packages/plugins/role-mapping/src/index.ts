import { z } from 'zod';
import { connectionUpdated, definePlugin, roleMappingServiceRef } from '@doorman/plugin-api';
import { roleMappingDeps } from './deps.ts';
import { CLI_COMMANDS, registerAdminRoutes } from './http.ts';
import { registerRuleRoutes, RULE_CLI_COMMANDS } from './rules-http.ts';
import { createRoleMappingService } from './service.ts';
import { syncAllJob, syncConnectionJob, syncIntent } from './jobs.ts';
import { createSyncAllProcessor, createSyncConnectionProcessor } from './sync.ts';

export { syncAllJob, syncConnectionJob, SYNC_QUEUE, type SyncConnectionData } from './jobs.ts';

const CRON = /^(\S+\s+){4,5}\S+$/;

const configSchema = z
  .object({
    /** When to re-apply the mapping to every SCIM user of every SCIM-enabled connection; '' disables. */
    syncCron: z
      .string()
      .trim()
      .refine((s) => s === '' || CRON.test(s), 'a cron pattern with 5 or 6 fields (e.g. "0 3 * * *"), or empty to disable')
      .default('0 3 * * *'),
    /** Users read per batch by the sync job. */
    syncBatchSize: z.coerce.number().int().min(1).max(10_000).default(500),
    /** Most people a group change re-decides in the SCIM request's own transaction; more go to the sync job. */
    groupInlineLimit: z.coerce.number().int().min(0).max(10_000).default(100),
  })
  .strict();
export type RoleMappingConfig = z.infer<typeof configSchema>;

/** Users a sync applies at once (each in its own transaction, so this many pool connections). */
const SYNC_CONCURRENCY = 4;

const DEFAULTS_CHANGED = ['defaultOrgId', 'defaultTeam'] as const;

export const roleMappingPlugin = definePlugin({
  id: 'role-mapping',
  description: 'Turns dockerRole/dockerOrg/dockerTeam and groups (through per-connection mapping rules) into org and team memberships (SCIM and JIT), with dry runs and a sync job',
  configSchema,
  cli: [...CLI_COMMANDS, ...RULE_CLI_COMMANDS],
  provides: [roleMappingServiceRef],
  deps: roleMappingDeps,
  register(env) {
    const getDirectory = () => env.groupDirectory() ?? null;
    const service = createRoleMappingService({
      events: env.events,
      directory: getDirectory,
      inlineLimit: env.config.groupInlineLimit,
      async enqueueGroupSync(tx, connectionId, groupIds) {
        const intent = syncIntent(connectionId, 'groups-changed', env.clock.now(), groupIds);
        await env.jobs.enqueue(tx, intent);
        return intent.id;
      },
    });
    env.provider.provide(roleMappingServiceRef, service);

    registerAdminRoutes(env, { directory: getDirectory });
    registerRuleRoutes(env, { directory: getDirectory });

    const deps = {
      db: env.db,
      transaction: env.transaction,
      service,
      events: env.events,
      jobs: env.jobs,
      clock: env.clock,
      batchSize: env.config.syncBatchSize,
      concurrency: SYNC_CONCURRENCY,
      directory: getDirectory,
      sessions: env.sessions,
    };
    env.jobs.define({
      ...syncConnectionJob,
      process: createSyncConnectionProcessor(deps),
      // Retries cover a database outage and a manual/default-changed run meeting a running sync.
      attempts: 8,
      backoffMs: 60_000,
    });
    env.jobs.define({ ...syncAllJob, process: createSyncAllProcessor(deps), attempts: 3, backoffMs: 60_000 });
    if (env.config.syncCron) {
      env.jobs.schedule(syncAllJob.schedule('role-mapping-sync-all', env.config.syncCron));
    }

    // A new default org or team changes what every user of the connection should hold: sync, in
    // the transaction that made the change (the job exists iff the change committed).
    env.events.on(connectionUpdated, async (tx, _actor, event) => {
      const changes = event.changes ?? {};
      const changed = DEFAULTS_CHANGED.some((k) => k in changes && changes[k]?.before !== changes[k]?.after);
      const connectionId = event.connectionId ?? (event.target?.type === 'connection' ? event.target.id : null);
      if (!changed || !connectionId) return;
      await env.jobs.enqueue(tx, syncIntent(connectionId, 'default-changed', env.clock.now()));
    });
  },
});
