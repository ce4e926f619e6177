import { z } from 'zod';
import { coreServices, defineError, definePlugin, NotFoundError, roleMappingServiceRef, scimAuthenticationRef, scimDiscoveryRef, scimUserDirectoryRef, scimUserFiltersRef, scimUsersRecounted, SYSTEM_ACTOR, type CliCommand } from '@doorman/plugin-api';
import { mountScimResourceReads, type ScimRouteContext } from '@doorman/core';
import { createScimUserDirectory } from './directory.ts';
import { isMysql, recountConnectionUsers, SsoConnectionEntity } from '@doorman/model';
import { resourceSchemaFor } from '@doorman/scim';
import { deactivateUserJob } from './jobs.ts';
import { Histogram } from 'prom-client';
import { ScimUserStore, type Tenant } from './store.ts';
import { batchedDeprovisioner, DEPROVISION_BATCH } from './deprovision-batch.ts';
import { mountDiscovery } from './discovery.ts';
import { userFilterAttributes } from './filter-columns.ts';

export { deactivateUserJob, PROVISIONING_QUEUE, type DeactivateUserPayload } from './jobs.ts';

/** 501: POST /.search at the root (across resource types), which Doorman does not advertise. */
const SearchUnsupported = defineError('DMN_SCIM_SEARCH_UNSUPPORTED', 501);

export const scimUsersConfigSchema = z
  .object({
    /** Largest page a list returns (count is capped to it); advertised as filter.maxResults. */
    maxPageSize: z.coerce.number().int().min(1).max(10_000).default(200),
    /** Page size when the IdP sends no count. */
    defaultPageSize: z.coerce.number().int().min(1).max(10_000).default(100),
    /** Rows between the anchors that let a deep startIndex skip straight to its page (see page-anchors.ts). */
    listAnchorEvery: z.coerce.number().int().min(2).max(1_000_000).default(1_000),
    /** PUTs/PATCHes arriving together share one transaction (docs/group-commit.md); false: one each. */
    groupCommit: z.stringbool().default(true),
    /**
     * Creates arriving together share one transaction and one INSERT per table (docs/group-commit.md,
     * "Creates"; 1.29× of one transaction each in an A/B run, bench/README.md); needs groupCommit too.
     */
    createGroupCommit: z.stringbool().default(true),
  })
  .strict();
export type ScimUsersConfig = z.infer<typeof scimUsersConfigSchema>;

const USER_SCHEMA_DEF = resourceSchemaFor('User');

const CLI: readonly CliCommand[] = [
  {
    command: 'scim-users recount <connectionId>',
    description: "Recount a connection's SCIM users and repair the counter behind unfiltered list totals",
    method: 'POST',
    path: '/connections/:connectionId/scim-users/recount',
  },
];

/**
 * SCIM 2.0 Users (RFC 7643/7644) as Okta and Entra ID provision against it, plus the discovery
 * endpoints. The token (token-auth) decides the tenant; role mapping turns the Docker extension
 * attributes into memberships; deactivation runs as a job through the outbox.
 */
export const scimUsersPlugin = definePlugin({
  id: 'scim-users',
  description: 'SCIM 2.0 Users service with discovery endpoints',
  optionalDependencies: ['audit'],
  configSchema: scimUsersConfigSchema,
  cli: CLI,
  provides: [scimUserDirectoryRef, scimDiscoveryRef, scimUserFiltersRef],
  deps: {
    config: coreServices.config,
    gateway: coreServices.gateway,
    http: coreServices.http,
    db: coreServices.database,
    transaction: coreServices.transaction,
    events: coreServices.events,
    jobs: coreServices.jobs,
    clock: coreServices.clock,
    metrics: coreServices.metrics,
    provider: coreServices.provider,
    roleMapping: roleMappingServiceRef,
    // The SCIM authenticator (token-auth): every route here is behind it; discovery advertises its schemes.
    authentication: scimAuthenticationRef,
  },
  register({ config, gateway, http, db, transaction, events, jobs, clock, metrics, provider, roleMapping, authentication }) {
    const baseUrl = `${gateway.publicUrl}/scim/v2`;
    provider.provide(scimUserDirectoryRef, createScimUserDirectory());
    // Attributes over other plugins' tables (scim-groups: `groups`) are theirs to add.
    const filterAttributes = userFilterAttributes();
    provider.provide(scimUserFiltersRef, filterAttributes.filters);
    const dialect = isMysql(db) ? 'mysql' : 'sqlite';
    // How many gets by id / userName lookups shared each statement: 1 means no coalescing happened.
    const batchSizes = new Histogram({
      name: 'doorman_scim_users_lookup_batch_size',
      help: 'SCIM Users lookups (by id, by userName) read by one batched statement',
      labelNames: ['lookup'] as const,
      buckets: [1, 2, 4, 8, 16, 32, 64, 100],
      registers: [metrics],
    });
    const batchSeries = { id: batchSizes.labels('id'), userName: batchSizes.labels('userName') };
    // How many PUTs/PATCHes shared each transaction (docs/group-commit.md).
    const writeGroups = new Histogram({
      name: 'doorman_scim_users_write_group_size',
      help: 'SCIM Users PUT/PATCH requests committed by one shared transaction (group commit)',
      buckets: [1, 2, 4, 8, 16, 32, 64],
      registers: [metrics],
    });
    const createGroups = new Histogram({
      name: 'doorman_scim_users_create_group_size',
      help: 'SCIM Users creates committed by one shared transaction (group commit)',
      buckets: [1, 2, 4, 8, 16, 32, 64],
      registers: [metrics],
    });
    const store = new ScimUserStore({
      db,
      transaction,
      events,
      jobs,
      roleMapping,
      dialect,
      baseUrl,
      now: () => clock.now(),
      listAnchorEvery: config.listAnchorEvery,
      filterAttributes: filterAttributes.current,
      onLookupBatch: (lookup, size) => batchSeries[lookup].observe(size),
      groupCommit: config.groupCommit,
      createGroupCommit: config.groupCommit && config.createGroupCommit,
      onWriteGroup: (size) => writeGroups.observe(size),
      onCreateGroup: (size) => createGroups.observe(size),
    });

    // A burst of deactivations is applied in batches (deprovision-batch.ts): up to 50 jobs run at once.
    const deprovision = batchedDeprovisioner(transaction, { roleMapping, events, dialect, now: () => clock.now() });
    jobs.define({
      ...deactivateUserJob,
      attempts: 10,
      backoffMs: 2000,
      concurrency: DEPROVISION_BATCH,
      process: (data, job) => deprovision({ ...data, jobId: job.id }),
    });

    // Operators: the counter behind unfiltered totals is kept by every create and delete; this
    // repairs it if rows were changed outside Doorman (a partial restore, manual SQL).
    http.adminRoute({
      method: 'post',
      path: '/connections/:connectionId/scim-users/recount',
      scope: { connection: 'connectionId' },
      summary: "Recount a connection's SCIM users (repairs the counter behind unfiltered totals)",
      responses: {
        200: {
          description: 'the count before and after',
          schema: z.object({ connectionId: z.string(), usersBefore: z.number().int(), users: z.number().int(), repaired: z.boolean() }),
        },
      },
      handler: async (ctx) => {
        const connectionId = ctx.params.connectionId!;
        const result = await transaction(async (tx) => {
          if (!(await tx.getRepository(SsoConnectionEntity).existsBy({ id: connectionId }))) {
            throw new NotFoundError(`SSO connection '${connectionId}' not found`, { field: 'connectionId' });
          }
          const counts = await recountConnectionUsers(tx, connectionId);
          if (counts.before !== counts.after) {
            await events.publish(tx, ctx.state.actor ?? SYSTEM_ACTOR, scimUsersRecounted({
              connectionId,
              target: { type: 'connection', id: connectionId },
              changes: { users: { before: counts.before, after: counts.after } },
            }));
          }
          return counts;
        });
        return { connectionId, usersBefore: result.before, users: result.after, repaired: result.before !== result.after };
      },
    });

    const r = http.scim;
    const tenantOf = (ctx: ScimRouteContext): Tenant => ({ connectionId: ctx.state.auth.connectionId, actor: ctx.state.actor });
    // /ResourceTypes and /Schemas list what the enabled plugins register (Group: scim-groups).
    provider.provide(scimDiscoveryRef, mountDiscovery(http, { baseUrl, maxResults: config.maxPageSize, maxPayloadSize: gateway.bodyLimitBytes, authenticationSchemes: authentication.schemes }));

    // List, .search and get by id (ETag, If-None-Match) are the shared SCIM resource routes (@doorman/core).
    const { checked, respond } = mountScimResourceReads(r, {
      path: '/Users',
      schema: USER_SCHEMA_DEF,
      maxPageSize: config.maxPageSize,
      defaultPageSize: config.defaultPageSize,
      list: (ctx, params) => store.list(tenantOf(ctx), params),
      get: (ctx, id) => store.get(tenantOf(ctx), id),
    });

    // RFC 7644 §3.4.3 allows a search at the service root across resource types; Doorman serves
    // searches per type only, and says so (501) rather than answering as if nothing matched.
    r.post('/.search', () => {
      throw new SearchUnsupported('search across resource types is not supported: POST /Users/.search or /Groups/.search');
    });

    r.post('/Users', checked(async (ctx) => {
      const created = await store.create(tenantOf(ctx), ctx.request.body);
      ctx.set('Location', String((created.meta as { location: string }).location));
      respond(ctx, created, { status: 201 });
    }));
    r.put('/Users/:id', checked(async (ctx) => {
      respond(ctx, await store.replace(tenantOf(ctx), ctx.params.id!, ctx.request.body, ctx.get('if-match') || undefined));
    }));
    r.patch('/Users/:id', checked(async (ctx) => {
      respond(ctx, await store.patch(tenantOf(ctx), ctx.params.id!, ctx.request.body, ctx.get('if-match') || undefined));
    }));
    r.delete('/Users/:id', async (ctx) => {
      await store.delete(tenantOf(ctx), ctx.params.id!, ctx.get('if-match') || undefined);
      ctx.status = 204;
    });
  },
});
