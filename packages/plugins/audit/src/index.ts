import { z } from 'zod';
import { definePlugin, SYSTEM_ACTOR } from '@doorman/core';
import { auditConfigSchema, type AuditConfig } from './config.ts';
import { ChainWriter, verifyChain } from './chain.ts';
import { exportQuerySchema, exportStream, listEvents, listQuerySchema, parseQuery, verifyQuerySchema } from './query.ts';
import { purgeExpired } from './retention.ts';

const DAY_MS = 86_400_000;

const filterOptions = [
  { flag: '--org', field: 'orgId', description: 'organization id' },
  { flag: '--connection', field: 'connectionId', description: 'SSO connection id' },
  { flag: '--action', field: 'action', description: 'action, or a prefix such as member.*' },
  { flag: '--actor-type', field: 'actorType', description: 'scim_token, admin_token, sso_user or system' },
  { flag: '--actor', field: 'actorId', description: 'actor id' },
  { flag: '--target', field: 'targetId', description: 'target id' },
  { flag: '--from', field: 'from', description: 'events at or after this ISO time' },
  { flag: '--to', field: 'to', description: 'events before this ISO time' },
] as const;

/**
 * The audit trail: every domain event published by another plugin is written, in the publisher's
 * transaction, to `audit_events` as a link of its organization's hash chain.
 */
export const auditPlugin = definePlugin<AuditConfig>({
  id: 'audit',
  description: 'Tamper-evident audit trail of every provisioning change, with query, export, verification and retention',
  configSchema: auditConfigSchema,
  cli: [
    {
      command: 'audit list',
      description: 'List audit events, newest first',
      method: 'GET',
      path: '/audit',
      options: [
        ...filterOptions,
        { flag: '--limit', field: 'limit', description: 'events per page (max 1000)', type: 'number' },
        { flag: '--cursor', field: 'cursor', description: 'nextCursor of the previous page' },
      ],
    },
    {
      command: 'audit verify',
      description: "Verify an organization's hash chain (the deployment chain without --org)",
      method: 'GET',
      path: '/audit/verify',
      options: [{ flag: '--org', field: 'orgId', description: 'organization id' }],
    },
    {
      command: 'audit export',
      description: 'Export audit events, oldest first, as NDJSON or CSV',
      method: 'GET',
      path: '/audit/export',
      options: [...filterOptions, { flag: '--format', field: 'format', description: 'ndjson (default) or csv' }],
    },
  ],
  register(env) {
    const { db, http, events, jobs, clock, config, logger } = env;
    const writer = new ChainWriter(db);

    events.subscribe(async (tx, actor, event) => {
      await writer.record(tx, actor, event, clock.now());
    });

    http.admin.get('/audit', async (ctx) => {
      ctx.body = await listEvents(db, parseQuery(listQuerySchema, ctx.query));
    });

    http.admin.get('/audit/verify', async (ctx) => {
      const { orgId } = parseQuery(verifyQuerySchema, ctx.query);
      ctx.body = await verifyChain(db, orgId || null);
    });

    http.admin.get('/audit/export', async (ctx) => {
      const { format, ...filters } = parseQuery(exportQuerySchema, ctx.query);
      const stream = exportStream(db, filters, format);
      stream.on('error', (err) => (ctx.state.logger ?? logger).error({ err }, 'audit export failed mid-stream'));
      const stamp = clock.now().toISOString().replace(/[:.]/g, '-');
      ctx.set('Content-Disposition', `attachment; filename="audit-${stamp}.${format}"`);
      ctx.type = format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8';
      ctx.body = stream;
    });

    jobs.define({
      queue: 'audit',
      name: 'purge-expired',
      schema: z.object({}).loose(),
      async process(_data, job) {
        if (config.retentionDays === 0) return { deleted: 0 };
        const cutoff = new Date(clock.now().getTime() - config.retentionDays * DAY_MS);
        const result = await purgeExpired(db, env.transaction, cutoff, config.purgeBatchSize);
        if (result.deleted > 0) {
          // The purge itself is recorded, on the deployment chain.
          await env.transaction((tx) =>
            writer.append(tx, SYSTEM_ACTOR, {
              action: 'audit.purged',
              changes: { deleted: { after: result.deleted }, throughSeq: { after: result.throughSeq }, cutoff: { after: cutoff.toISOString() } },
            }, clock.now()),
          );
        }
        job.logger.info({ ...result, cutoff: cutoff.toISOString() }, 'audit retention purge done');
        return result;
      },
    });
    if (config.retentionDays > 0) {
      jobs.schedule({ id: 'audit-purge-expired', queue: 'audit', name: 'purge-expired', pattern: config.purgeCron, data: {} });
    }
  },
});
