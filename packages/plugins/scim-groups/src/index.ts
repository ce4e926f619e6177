import { z } from 'zod';
import { coreServices, definePlugin, groupDirectoryRef, roleMappingServiceRef, scimAuthenticationRef, scimDiscoveryRef, scimUserDirectoryRef, scimUserFiltersRef, userDeleted } from '@doorman/plugin-api';
import { mountScimResourceReads, type ScimRouteContext } from '@doorman/core';
import { isMysql } from '@doorman/model';
import { etagFor, GROUP_SCHEMA, resourceSchemaDocuments, resourceSchemaFor, resourceTypeDocument } from '@doorman/scim';
import { userGroupsAttributes } from './filter-columns.ts';
import { ScimGroupStore, type MembersMode, type Tenant } from './store.ts';

const scimGroupsConfigSchema = z
  .object({
    /** GET/POST/PUT responses carry `members` only while the group has at most this many (all of them with `attributes=members`). */
    maxMembersInResponse: z.coerce.number().int().min(0).max(1_000_000).default(1000),
    /** Largest page a list returns. */
    maxPageSize: z.coerce.number().int().min(1).max(10_000).default(200),
    /** Page size when the IdP sends no count. */
    defaultPageSize: z.coerce.number().int().min(1).max(10_000).default(100),
    /** Member ids named in a group.members_added / group.members_removed event (the count is always exact). */
    eventMemberSample: z.coerce.number().int().min(0).max(10_000).default(100),
  })
  .strict();
export type ScimGroupsConfig = z.infer<typeof scimGroupsConfigSchema>;

const GROUP_SCHEMA_DEF = resourceSchemaFor('Group');

const names = (v: unknown): string[] =>
  (Array.isArray(v) ? v : typeof v === 'string' ? v.split(',') : [])
    .flatMap((s) => String(s).split(','))
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean)
    .map((s) => (s.startsWith(`${GROUP_SCHEMA.toLowerCase()}:`) ? s.slice(GROUP_SCHEMA.length + 1) : s));
const namesMembers = (v: unknown) => names(v).some((n) => n === 'members' || n.startsWith('members.'));

/**
 * Members are loaded only when a response will show them: never when excluded or when `attributes`
 * leaves them out; all of them when `attributes` names them; otherwise (a single group, no
 * projection) only up to `maxMembersInResponse`. Lists show them only when asked.
 */
function membersMode(query: Record<string, unknown>, single: boolean): MembersMode {
  const attributes = query.attributes;
  if (attributes !== undefined && names(attributes).length) return namesMembers(attributes) ? 'always' : 'never';
  if (namesMembers(query.excludedAttributes)) return 'never';
  return single ? 'capped' : 'never';
}

/**
 * SCIM 2.0 Groups as IdPs push them (Okta Push Groups, Entra group provisioning): any displayName,
 * externalId, members. What a group grants is role mapping's decision, through the connection's
 * rules (docs/group-mapping.md); this plugin tells it whose groups changed.
 */
export const scimGroupsPlugin = definePlugin({
  id: 'scim-groups',
  description: 'SCIM 2.0 Groups with any name; what they grant is decided by role mapping rules',
  optionalDependencies: ['audit'],
  configSchema: scimGroupsConfigSchema,
  provides: [groupDirectoryRef],
  deps: {
    config: coreServices.config,
    gateway: coreServices.gateway,
    http: coreServices.http,
    db: coreServices.database,
    transaction: coreServices.transaction,
    events: coreServices.events,
    clock: coreServices.clock,
    provider: coreServices.provider,
    roleMapping: roleMappingServiceRef,
    users: scimUserDirectoryRef,
    discovery: scimDiscoveryRef,
    userFilters: scimUserFiltersRef,
    // The SCIM authenticator (token-auth): every route here is behind it.
    authentication: scimAuthenticationRef,
  },
  register({ config, gateway, http, db, transaction, events, clock, provider, roleMapping, users, discovery, userFilters }) {
    const baseUrl = `${gateway.publicUrl}/scim/v2`;
    discovery.addResourceType(resourceTypeDocument(GROUP_SCHEMA_DEF, baseUrl), resourceSchemaDocuments(GROUP_SCHEMA_DEF, baseUrl));
    // Users are filterable by `groups.value` / `groups.display` over this plugin's tables (filter-columns.ts).
    userFilters.addAttributes(userGroupsAttributes);
    const store = new ScimGroupStore({
      transaction,
      events,
      dialect: isMysql(db) ? 'mysql' : 'sqlite',
      baseUrl,
      now: () => clock.now(),
      maxMembersInResponse: config.maxMembersInResponse,
      eventIdSample: config.eventMemberSample,
      roleMapping,
      users,
    });
    provider.provide(groupDirectoryRef, store.members.directory());

    // A deleted SCIM user leaves every group (the deactivation job revokes what they held).
    events.on(userDeleted, async (tx, _actor, event) => {
      const scimId = event.changes?.scimId?.after;
      if (typeof scimId === 'string') await store.members.forget(tx, scimId);
    });

    const r = http.scim;
    const tenantOf = (ctx: ScimRouteContext): Tenant => ({ connectionId: ctx.state.auth.connectionId, actor: ctx.state.actor });

    // List, .search and get by id (ETag, If-None-Match) are the shared SCIM resource routes (@doorman/core).
    const { checked, respond } = mountScimResourceReads(r, {
      path: '/Groups',
      schema: GROUP_SCHEMA_DEF,
      maxPageSize: config.maxPageSize,
      defaultPageSize: config.defaultPageSize,
      list: (ctx, params, source) => store.list(tenantOf(ctx), params, membersMode(source, false)),
      get: (ctx, id) => store.get(tenantOf(ctx), id, membersMode(ctx.query, true)),
    });

    r.post('/Groups', checked(async (ctx) => {
      const created = await store.create(tenantOf(ctx), ctx.request.body, membersMode(ctx.query, true));
      ctx.set('Location', String((created.meta as { location: string }).location));
      respond(ctx, created, { status: 201, etag: etagFor(1) });
    }));
    r.put('/Groups/:id', checked(async (ctx) => {
      const { resource, version } = await store.replace(tenantOf(ctx), ctx.params.id!, ctx.request.body, ctx.get('if-match') || undefined, membersMode(ctx.query, true));
      respond(ctx, resource, { etag: etagFor(version) });
    }));
    // RFC 7644 §3.5.2: 204 unless the client asks for attributes — a per-member PATCH never echoes
    // the member list (docs/scim-client-pitfalls.md §3).
    r.patch('/Groups/:id', checked(async (ctx) => {
      const asked = ctx.query.attributes !== undefined || ctx.query.excludedAttributes !== undefined;
      const { resource, version } = await store.patch(tenantOf(ctx), ctx.params.id!, ctx.request.body, ctx.get('if-match') || undefined, asked ? membersMode(ctx.query, true) : null);
      if (!resource) {
        ctx.status = 204;
        ctx.set('ETag', etagFor(version));
        return;
      }
      respond(ctx, resource, { etag: etagFor(version) });
    }));
    r.delete('/Groups/:id', async (ctx) => {
      await store.delete(tenantOf(ctx), ctx.params.id!, ctx.get('if-match') || undefined);
      ctx.status = 204;
    });
  },
});
