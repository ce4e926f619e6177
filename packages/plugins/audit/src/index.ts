import { createPublicKey } from 'node:crypto';
import { z } from 'zod';
import { ConfigError, resolveFilterRef } from '@doorman/core';
import { auditPurged, auditSettingsRef, coreServices, definePlugin, InputError, SYSTEM_ACTOR } from '@doorman/plugin-api';
import { checkpointSchema, CheckpointKeyInvalid, createCheckpoint, parseSigningKey, parseVerifyKey, verifyCheckpoint, writeCheckpointFile } from './checkpoint.ts';
import { macKeyOf } from './mac.ts';
import { auditConfigSchema } from './config.ts';
import { verifyChain } from './chain.ts';
import { checkpointResultSchema, eventPage, verifyResultSchema } from './api-schemas.ts';
import { exportQuerySchema, exportStream, listEvents, listQuerySchema, verifyBodySchema, verifyQuerySchema } from './query.ts';
import { purgeExpired } from './retention.ts';
import { ChainSealer } from './sealer.ts';
import { AuditWriter } from './writer.ts';
import { exportCheckpointJob, purgeExpiredJob, sealChainsJob } from './jobs.ts';

const DAY_MS = 86_400_000;

const filterOptions = [
  { flag: '--org <org>', field: 'orgId', description: 'organization id or name' },
  { flag: '--connection <connection>', field: 'connectionId', description: 'SSO connection id or name' },
  { flag: '--action <action>', field: 'action', description: 'action, or a prefix such as member.*' },
  { flag: '--actor-type <type>', field: 'actorType', description: 'scim_token, admin_token, sso_user or system' },
  { flag: '--actor <id>', field: 'actorId', description: 'actor id' },
  { flag: '--target <id>', field: 'targetId', description: 'target id' },
  { flag: '--from <time>', field: 'from', description: 'events at or after this ISO time' },
  { flag: '--to <time>', field: 'to', description: 'events before this ISO time' },
] as const;

/**
 * The audit trail: every domain event published by another plugin is written, in the publisher's
 * transaction, to `audit_events` (unsealed); a sealer then links committed events into their
 * organization's hash chain, off the commit path.
 */
export const auditPlugin = definePlugin({
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
        { flag: '--limit <n>', field: 'limit', description: 'events per page (max 1000)', type: 'number' },
        { flag: '--cursor <cursor>', field: 'cursor', description: 'nextCursor of the previous page' },
      ],
    },
    {
      command: 'audit verify',
      description: "Verify an organization's hash chain (the deployment chain without --org), or every chain against a signed checkpoint file",
      method: 'POST',
      path: '/audit/verify',
      options: [
        { flag: '--org <org>', field: 'orgId', description: 'organization id or name' },
        { flag: '--checkpoint <file>', field: 'checkpoint', description: 'a signed checkpoint file (docs/audit-anchoring.md)', type: 'file' },
        { flag: '--public-key <file>', field: 'publicKey', description: "the checkpoint key's Ed25519 public key (PEM), when not configured", type: 'file' },
      ],
    },
    {
      command: 'audit checkpoint',
      description: 'Seal, sign the chain heads and print the checkpoint (also written to AUDIT_CHECKPOINT_DIR when set)',
      method: 'POST',
      path: '/audit/checkpoints',
    },
    {
      command: 'audit export',
      description: 'Export audit events, oldest first, as NDJSON or CSV',
      method: 'GET',
      path: '/audit/export',
      options: [...filterOptions, { flag: '--format <ndjson|csv>', field: 'format', description: 'ndjson (default) or csv' }],
    },
  ],
  provides: [auditSettingsRef],
  deps: {
    config: coreServices.config,
    gateway: coreServices.gateway,
    logger: coreServices.logger,
    db: coreServices.database,
    transaction: coreServices.transaction,
    http: coreServices.http,
    events: coreServices.events,
    jobs: coreServices.jobs,
    clock: coreServices.clock,
    provider: coreServices.provider,
    lifecycle: coreServices.lifecycle,
  },
  register(env) {
    const { db, http, events, jobs, clock, config, logger } = env;
    // Keys kept outside the database (docs/audit-anchoring.md).
    if (!config.hmacKey && env.gateway.mode === 'production') throw new ConfigError(['AUDIT_HMAC_KEY: required in production mode (at least 32 characters, the same on every replica)']);
    // info, not warn: development only (production refuses to start), and the CLI prints warnings on every command.
    if (!config.hmacKey) logger.info('AUDIT_HMAC_KEY is not set: audit events are not protected between commit and sealing. Set it in production.');
    const macKey = config.hmacKey ? macKeyOf(config.hmacKey) : null;
    const signingKey = config.checkpointKey ? parseSigningKey(config.checkpointKey) : null;
    const verifyKey = config.checkpointPublicKey ? parseVerifyKey(config.checkpointPublicKey) : signingKey ? createPublicKey(signingKey) : null;
    const refused = new Set<number>();
    const writer = new AuditWriter(macKey);
    const sealer = new ChainSealer(db, env.transaction, config.sealBatchSize, {
      macKey,
      onRefused: ({ seq, orgId, check }) => {
        if (refused.has(seq)) return; // once per event, not every tick
        refused.add(seq);
        logger.error({ seq, orgId, check }, `audit sealer: event seq ${seq} ${check === 'missing' ? 'has no HMAC' : 'does not match its HMAC'}; its chain is not sealed past it: verify the chain`);
      },
    });
    const verifyOptions = () => ({ now: clock.now(), unsealedAlertMs: config.unsealedAlertSeconds * 1000, macKey });
    const log = (ctx: { state: { logger?: typeof logger } }) => ctx.state.logger ?? logger;
    env.provider.provide(auditSettingsRef, { retentionDays: config.retentionDays });

    events.subscribe(async (tx, actor, event) => {
      await writer.record(tx, actor, event, clock.now());
    });

    // Every process seals on a short timer; the head row lock keeps replicas from stepping on each other.
    sealer.start(config.sealIntervalMs, logger);
    env.lifecycle.onShutdown(async () => {
      await sealer.stop();
      // What committed just before shutdown is sealed now rather than by the next process.
      await sealer.sealAll().catch((err) => logger.warn({ err }, 'audit sealer: final seal at shutdown failed'));
    });

    // `--org acme`, `--connection Okta`: names resolve to ids; an id is used as given (it may be deleted).
    const withIds = async <T extends { orgId?: string; connectionId?: string }>(q: T): Promise<T> => ({
      ...q,
      orgId: await resolveFilterRef(db, 'org', q.orgId, 'orgId'),
      connectionId: await resolveFilterRef(db, 'connection', q.connectionId, 'connectionId'),
    });

    const inRange = <T extends { from?: Date; to?: Date }>(q: T): T => {
      if (q.from && q.to && q.from >= q.to) throw new InputError('to: must be later than from', { field: 'to' });
      return q;
    };

    http.adminRoute({
      method: 'get',
      path: '/audit',
      scope: 'deployment',
      summary: 'List audit events, newest first',
      query: listQuerySchema,
      responses: { 200: { description: 'a page of events; nextCursor is null on the last page', schema: eventPage } },
      handler: async (_ctx, { query }) => listEvents(db, await withIds(inRange(query))),
    });

    http.adminRoute({
      method: 'get',
      path: '/audit/verify',
      scope: 'deployment',
      summary: "Verify an organization's hash chain (the deployment chain without orgId)",
      query: verifyQuerySchema,
      responses: { 200: { description: 'ok, or where the chain breaks', schema: verifyResultSchema } },
      handler: async (ctx, { query }) => {
        const { orgId } = await withIds(query);
        // Seal first, so the verification covers every committed event. If that fails, the verification
        // still runs and reports what stayed unsealed too long.
        await sealer.sealChain(orgId || null).catch((err) => log(ctx).warn({ err }, 'audit sealer failed before verify'));
        return verifyChain(db, orgId || null, verifyOptions());
      },
    });

    // The same, or (with `checkpoint`) every chain of a signed checkpoint against the database.
    http.adminRoute({
      method: 'post',
      path: '/audit/verify',
      scope: 'deployment',
      summary: 'Verify a chain ({ orgId }), or every chain of a signed checkpoint ({ checkpoint, publicKey? }) against the database',
      body: verifyBodySchema,
      responses: { 200: { description: 'a chain verification, or a checkpoint verification', schema: z.union([verifyResultSchema, checkpointResultSchema]) } },
      handler: async (ctx, { body }) => {
        if (body.checkpoint === undefined) {
          const { orgId } = await withIds({ orgId: body.orgId });
          await sealer.sealChain(orgId || null).catch((err) => log(ctx).warn({ err }, 'audit sealer failed before verify'));
          return verifyChain(db, orgId || null, verifyOptions());
        }
        let key = verifyKey;
        if (body.publicKey) {
          try {
            key = parseVerifyKey(body.publicKey);
          } catch (err) {
            throw new CheckpointKeyInvalid(`publicKey: ${(err as Error).message}`, { field: 'publicKey' });
          }
        }
        if (!key) throw new InputError('publicKey: no checkpoint key is configured (AUDIT_CHECKPOINT_KEY or AUDIT_CHECKPOINT_PUBLIC_KEY): give the public key', { field: 'publicKey' });
        let checkpoint: unknown = body.checkpoint;
        if (typeof checkpoint === 'string') {
          try {
            checkpoint = JSON.parse(checkpoint);
          } catch {
            throw new InputError('checkpoint: not JSON (give the checkpoint file as written)', { field: 'checkpoint' });
          }
        }
        await sealer.sealAll().catch((err) => log(ctx).warn({ err }, 'audit sealer failed before verify'));
        return verifyCheckpoint(db, checkpoint, key, verifyOptions());
      },
    });

    /** Seals, signs every chain head, and writes the checkpoint file when a directory is set. */
    const exportCheckpoint = async () => {
      if (!signingKey) throw new InputError('AUDIT_CHECKPOINT_KEY is not set: no key to sign checkpoints with', { field: 'checkpointKey' });
      await sealer.sealAll();
      const checkpoint = await createCheckpoint(db, signingKey, clock.now());
      const file = config.checkpointDir ? await writeCheckpointFile(config.checkpointDir, checkpoint) : null;
      return { checkpoint, file };
    };
    http.adminRoute({
      method: 'post',
      path: '/audit/checkpoints',
      scope: 'deployment',
      summary: 'Seal, sign every chain head (Ed25519) and write the checkpoint file when AUDIT_CHECKPOINT_DIR is set',
      responses: { 201: { description: 'the signed checkpoint (X-Checkpoint-File: where it was written)', schema: checkpointSchema } },
      handler: async (ctx) => {
        const { checkpoint, file } = await exportCheckpoint();
        if (file) ctx.set('X-Checkpoint-File', file);
        return checkpoint;
      },
    });
    jobs.define({
      ...exportCheckpointJob,
      async process(_data, job) {
        const { checkpoint, file } = await exportCheckpoint();
        job.logger.info({ file, chains: checkpoint.chains.length, keyId: checkpoint.keyId }, 'audit checkpoint written');
        return { file, chains: checkpoint.chains.length };
      },
    });
    if (signingKey && config.checkpointDir) {
      jobs.schedule(exportCheckpointJob.schedule('audit-export-checkpoint', config.checkpointCron));
    } else if (env.gateway.mode === 'production') {
      logger.info('AUDIT_CHECKPOINT_KEY and AUDIT_CHECKPOINT_DIR are not both set: no signed checkpoints anchor the audit chains outside the database');
    }

    http.adminRoute({
      method: 'get',
      path: '/audit/export',
      scope: 'deployment',
      summary: 'Export audit events, oldest first, as NDJSON (one event per line) or CSV',
      query: exportQuerySchema,
      responses: { 200: { description: 'a download (Content-Disposition: attachment)', schema: z.string(), contentType: ['application/x-ndjson', 'text/csv'] } },
      handler: async (ctx, { query }) => {
        const { format, ...filters } = await withIds(inRange(query));
        // An export is evidence: seal what has committed, so it carries hashes (unsealed events still appear).
        await (filters.orgId ? sealer.sealChain(filters.orgId) : sealer.sealAll()).catch((err) => log(ctx).warn({ err }, 'audit sealer failed before export'));
        const stream = exportStream(db, filters, format);
        stream.on('error', (err) => log(ctx).error({ err }, 'audit export failed mid-stream'));
        const stamp = clock.now().toISOString().replace(/[:.]/g, '-');
        ctx.set('Content-Disposition', `attachment; filename="audit-${stamp}.${format}"`);
        ctx.type = format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8';
        ctx.body = stream;
      },
    });

    jobs.define({
      ...sealChainsJob,
      async process(_data, job) {
        const result = await sealer.sealAll();
        if (result.sealed > 0) job.logger.debug(result, 'audit events sealed');
        return result;
      },
    });
    jobs.schedule(sealChainsJob.schedule('audit-seal-chains', config.sealCron));

    jobs.define({
      ...purgeExpiredJob,
      async process(_data, job) {
        if (config.retentionDays === 0) return { deleted: 0 };
        const cutoff = new Date(clock.now().getTime() - config.retentionDays * DAY_MS);
        const result = await purgeExpired(db, env.transaction, cutoff, config.purgeBatchSize);
        if (result.skipped.length) job.logger.warn({ chains: result.skipped }, 'audit retention skipped chains whose oldest events were removed outside retention: verify them');
        if (result.deleted > 0) {
          // The purge itself is recorded, on the deployment chain.
          await env.transaction((tx) =>
            writer.append(tx, SYSTEM_ACTOR, auditPurged({
              changes: { deleted: { after: result.deleted }, chains: { after: result.chains }, cutoff: { after: cutoff.toISOString() } },
            }), clock.now()),
          );
        }
        job.logger.info({ ...result, cutoff: cutoff.toISOString() }, 'audit retention purge done');
        return result;
      },
    });
    if (config.retentionDays > 0) {
      jobs.schedule(purgeExpiredJob.schedule('audit-purge-expired', config.purgeCron));
    }
  },
});
