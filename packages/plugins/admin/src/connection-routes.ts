/** The SSO connection and domain routes of the admin API. */
import { In, type EntityManager } from 'typeorm';
import { connectionOrgIds, isDuplicateKeyError, isUuid, ownerOrgIds, scopeAllows, type EventBus, type HttpSurface } from '@doorman/core';
import { connectionCreated, connectionDeleted, connectionDomainAdded, connectionDomainRemoved, connectionDomainVerified, connectionUpdated, defineError, InputError, NotFoundError, type Actor, type TransactionRunner } from '@doorman/plugin-api';
import { ConnectionDomainEntity, ConnectionOrgEntity, SsoConnectionEntity, type DeprovisioningScope, type SsoConnection, newRowId } from '@doorman/model';
import { missingSsoSettings, publicConnection } from './connections.ts';
import { findOrg } from './lookup.ts';
import { addDomainBody, createConnectionBody, idpSettingsOf, listQuery, updateConnectionBody } from './schemas.ts';
import { connectionList, connectionSchema, domainView } from './responses.ts';

/** 409: the connection already has this domain. */
const DomainExists = defineError('DMN_ADMIN_DOMAIN_EXISTS', 409);

const actorOf = (ctx: { state: { actor?: Actor } }): Actor => ctx.state.actor!;

async function findConnection(tx: EntityManager, id: string): Promise<SsoConnection> {
  const connection = isUuid(id) ? await tx.getRepository(SsoConnectionEntity).findOneBy({ id }) : null;
  if (!connection) throw new NotFoundError(`connection '${id}' not found`);
  return connection;
}

/**
 * The connections an organization owner may see: every organization each serves is theirs (the rule
 * of the `{ connection }` scope, so the list shows exactly the connections the owner can open).
 */
async function ownedConnectionIds(tx: EntityManager, owned: readonly string[]): Promise<string[]> {
  if (!owned.length) return [];
  const byDefault = await tx.getRepository(SsoConnectionEntity).find({ where: { defaultOrgId: In([...owned]) }, select: { id: true } });
  const byServed = await tx.getRepository(ConnectionOrgEntity).find({ where: { orgId: In([...owned]) }, select: { connectionId: true } });
  const candidates = [...new Set([...byDefault.map((c) => c.id), ...byServed.map((c) => c.connectionId)])];
  const allowed: string[] = [];
  for (const id of candidates) if (scopeAllows(owned, await connectionOrgIds(tx, id))) allowed.push(id);
  return allowed;
}

async function connectionView(tx: EntityManager, connection: SsoConnection) {
  const [orgs, domains] = await Promise.all([
    tx.getRepository(ConnectionOrgEntity).findBy({ connectionId: connection.id }),
    tx.getRepository(ConnectionDomainEntity).find({ where: { connectionId: connection.id }, order: { domain: 'ASC' } }),
  ]);
  return publicConnection(connection, orgs.map((o) => o.orgId), domains);
}

export function registerConnectionRoutes(http: HttpSurface, transaction: TransactionRunner, events: EventBus): void {
  http.adminRoute({
    method: 'post',
    path: '/connections',
    scope: 'deployment',
    summary: 'Create an SSO connection', body: createConnectionBody, responses: { 201: { description: 'the connection (the OIDC client secret is never returned)', schema: connectionSchema } },
    handler: async (ctx, input) => {
      const { body } = input;
      ctx.body = await transaction(async (tx) => {
        const orgs = await Promise.all(body.orgIds.map((ref) => findOrg(tx, ref)));
        const defaultOrg = body.defaultOrgId ? await findOrg(tx, body.defaultOrgId) : orgs.length === 1 ? orgs[0]! : null;
        if (defaultOrg && !orgs.some((o) => o.id === defaultOrg.id)) throw new InputError('defaultOrgId must be one of orgIds', { field: 'defaultOrgId' });
        const connection: SsoConnection = {
          id: newRowId(),
          name: body.name,
          type: body.type,
          defaultOrgId: defaultOrg?.id ?? null,
          defaultTeam: body.defaultTeam ?? null,
          jitEnabled: body.jitEnabled ?? true,
          scimEnabled: body.scimEnabled ?? false,
          idpSettings: body.idp ?? {},
          rateLimitPerSecond: body.rateLimitPerSecond ?? null,
          deprovisioningScope: (body.deprovisioningScope as DeprovisioningScope | undefined) ?? 'organization',
          createdAt: new Date(),
          updatedAt: new Date(),
        };
        assertTogglesAllowed(connection);
        await tx.getRepository(SsoConnectionEntity).insert(connection);
        await tx.getRepository(ConnectionOrgEntity).insert([...new Set(orgs.map((o) => o.id))].map((orgId) => ({ connectionId: connection.id, orgId })));
        const domains = [...new Set(body.domains ?? [])];
        if (domains.length) {
          await tx.getRepository(ConnectionDomainEntity).insert(domains.map((domain) => ({ id: newRowId(), connectionId: connection.id, domain, verified: false, createdAt: new Date() })));
        }
        await events.publish(tx, actorOf(ctx), connectionCreated({
          orgId: connection.defaultOrgId,
          connectionId: connection.id,
          target: { type: 'connection', id: connection.id },
          changes: { name: { after: connection.name }, type: { after: connection.type }, orgIds: { after: orgs.map((o) => o.id) }, jitEnabled: { after: connection.jitEnabled }, scimEnabled: { after: connection.scimEnabled } },
        }));
        return connectionView(tx, connection);
      });
      ctx.status = 201;
    },
  });

  http.adminRoute({
    method: 'get',
    path: '/connections',
    scope: 'filtered',
    summary: 'List SSO connections', query: listQuery, responses: { 200: { description: 'a page of connections', schema: connectionList } },
    handler: async (ctx, input) => {
      const q = input.query;
      ctx.body = await transaction(async (tx) => {
        const owned = ownerOrgIds(ctx);
        const where = owned === undefined ? {} : { id: In(await ownedConnectionIds(tx, owned)) };
        const [connections, total] = await tx.getRepository(SsoConnectionEntity).findAndCount({ where, order: { createdAt: 'ASC', id: 'ASC' }, take: q.limit, skip: q.offset });
        return { total, connections: await Promise.all(connections.map((c) => connectionView(tx, c))) };
      });
    },
  });

  http.adminRoute({
    method: 'get',
    path: '/connections/:connectionId',
    scope: { connection: 'connectionId' },
    summary: 'Show an SSO connection (by id or name)', responses: { 200: { description: 'the connection', schema: connectionSchema } },
    handler: async (ctx) => {
      ctx.body = await transaction(async (tx) => connectionView(tx, await findConnection(tx, ctx.params.connectionId!)));
    },
  });

  http.adminRoute({
    method: 'patch',
    path: '/connections/:connectionId',
    scope: { connection: 'connectionId' },
    summary: 'Change an SSO connection', body: updateConnectionBody, responses: { 200: { description: 'the connection', schema: connectionSchema } },
    handler: async (ctx, input) => {
      const { body } = input;
      ctx.body = await transaction(async (tx) => {
        const current = await findConnection(tx, ctx.params.connectionId!);
        const currentOrgIds = (await tx.getRepository(ConnectionOrgEntity).findBy({ connectionId: current.id })).map((o) => o.orgId);
        const orgIds = body.orgIds ? [...new Set((await Promise.all(body.orgIds.map((ref) => findOrg(tx, ref)))).map((o) => o.id))] : currentOrgIds;
        const defaultOrgId = body.defaultOrgId === undefined ? current.defaultOrgId : body.defaultOrgId === null ? null : (await findOrg(tx, body.defaultOrgId)).id;
        if (defaultOrgId && !orgIds.includes(defaultOrgId)) throw new InputError('defaultOrgId must be one of the organizations the connection serves', { field: 'defaultOrgId' });
        const next: SsoConnection = {
          ...current,
          name: body.name ?? current.name,
          defaultOrgId,
          defaultTeam: body.defaultTeam === undefined ? current.defaultTeam : body.defaultTeam,
          jitEnabled: body.jitEnabled ?? current.jitEnabled,
          scimEnabled: body.scimEnabled ?? current.scimEnabled,
          rateLimitPerSecond: body.rateLimitPerSecond === undefined ? current.rateLimitPerSecond : body.rateLimitPerSecond,
          deprovisioningScope: (body.deprovisioningScope as DeprovisioningScope | undefined) ?? current.deprovisioningScope,
          idpSettings: body.idp ? { ...current.idpSettings, ...idpSettingsOf(current.type, body.idp) } : current.idpSettings,
        };
        assertTogglesAllowed(next);
        const changes: Record<string, { before: unknown; after: unknown }> = {};
        for (const key of ['name', 'defaultOrgId', 'defaultTeam', 'jitEnabled', 'scimEnabled', 'rateLimitPerSecond', 'deprovisioningScope'] as const) {
          if (next[key] !== current[key]) changes[key] = { before: current[key], after: next[key] };
        }
        if (body.idp) changes.idpSettings = { before: Object.keys(current.idpSettings).sort(), after: Object.keys(next.idpSettings).sort() };
        if (body.orgIds && [...orgIds].sort().join() !== [...currentOrgIds].sort().join()) {
          changes.orgIds = { before: currentOrgIds, after: orgIds };
          await tx.getRepository(ConnectionOrgEntity).delete({ connectionId: current.id });
          await tx.getRepository(ConnectionOrgEntity).insert(orgIds.map((orgId) => ({ connectionId: current.id, orgId })));
        }
        if (Object.keys(changes).length) {
          const { id, createdAt, updatedAt, ...columns } = next;
          void createdAt;
          void updatedAt;
          await tx.getRepository(SsoConnectionEntity).update({ id }, columns);
          await events.publish(tx, actorOf(ctx), connectionUpdated({ orgId: next.defaultOrgId, connectionId: id, target: { type: 'connection', id }, changes }));
        }
        return connectionView(tx, await findConnection(tx, current.id));
      });
    },
  });

  http.adminRoute({
    method: 'delete',
    path: '/connections/:connectionId',
    scope: { connection: 'connectionId' },
    summary: 'Delete an SSO connection', responses: { 204: { description: 'deleted', schema: null } },
    handler: async (ctx) => {
      await transaction(async (tx) => {
        const connection = await findConnection(tx, ctx.params.connectionId!);
        await tx.getRepository(ConnectionDomainEntity).delete({ connectionId: connection.id });
        await tx.getRepository(ConnectionOrgEntity).delete({ connectionId: connection.id });
        await tx.getRepository(SsoConnectionEntity).delete({ id: connection.id });
        await events.publish(tx, actorOf(ctx), connectionDeleted({ orgId: connection.defaultOrgId, connectionId: connection.id, target: { type: 'connection', id: connection.id }, changes: { name: { before: connection.name } } }));
      });
      ctx.status = 204;
    },
  });

  http.adminRoute({
    method: 'post',
    path: '/connections/:connectionId/domains',
    scope: { connection: 'connectionId' },
    summary: 'Add an email domain to a connection', body: addDomainBody, responses: { 201: { description: 'the domain', schema: domainView } },
    handler: async (ctx, input) => {
      const { body } = input;
      ctx.body = await transaction(async (tx) => {
        const connection = await findConnection(tx, ctx.params.connectionId!);
        const domain = { id: newRowId(), connectionId: connection.id, domain: body.domain, verified: body.verified ?? false, createdAt: new Date() };
        try {
          await tx.getRepository(ConnectionDomainEntity).insert(domain);
        } catch (err) {
          if (isDuplicateKeyError(err)) throw new DomainExists(`domain '${body.domain}' is already on this connection`, { field: 'domain' });
          throw err;
        }
        await events.publish(tx, actorOf(ctx), connectionDomainAdded({ orgId: connection.defaultOrgId, connectionId: connection.id, target: { type: 'domain', id: domain.domain }, changes: { verified: { after: domain.verified } } }));
        return domain;
      });
      ctx.status = 201;
    },
  });

  http.adminRoute({
    method: 'post',
    path: '/connections/:connectionId/domains/:domain/verify',
    scope: { connection: 'connectionId' },
    summary: 'Mark a domain verified (an admin assertion)', responses: { 200: { description: 'the domain', schema: domainView } },
    handler: async (ctx) => {
      ctx.body = await transaction(async (tx) => {
        const connection = await findConnection(tx, ctx.params.connectionId!);
        const repo = tx.getRepository(ConnectionDomainEntity);
        const domain = await repo.findOneBy({ connectionId: connection.id, domain: ctx.params.domain!.toLowerCase() });
        if (!domain) throw new NotFoundError(`domain '${ctx.params.domain}' is not on this connection`, { field: 'domain' });
        if (!domain.verified) {
          await repo.update({ id: domain.id }, { verified: true });
          await events.publish(tx, actorOf(ctx), connectionDomainVerified({ orgId: connection.defaultOrgId, connectionId: connection.id, target: { type: 'domain', id: domain.domain }, changes: { verified: { before: false, after: true } } }));
        }
        return { ...domain, verified: true };
      });
    },
  });

  http.adminRoute({
    method: 'delete',
    path: '/connections/:connectionId/domains/:domain',
    scope: { connection: 'connectionId' },
    summary: 'Remove a domain', responses: { 204: { description: 'removed', schema: null } },
    handler: async (ctx) => {
      await transaction(async (tx) => {
        const connection = await findConnection(tx, ctx.params.connectionId!);
        const result = await tx.getRepository(ConnectionDomainEntity).delete({ connectionId: connection.id, domain: ctx.params.domain!.toLowerCase() });
        if (!result.affected) throw new NotFoundError(`domain '${ctx.params.domain}' is not on this connection`, { field: 'domain' });
        await events.publish(tx, actorOf(ctx), connectionDomainRemoved({ orgId: connection.defaultOrgId, connectionId: connection.id, target: { type: 'domain', id: ctx.params.domain!.toLowerCase() } }));
      });
      ctx.status = 204;
    },
  });
}

/** SCIM needs complete SSO settings; JIT may be off only while SCIM provisions people. */
function assertTogglesAllowed(connection: SsoConnection) {
  if (connection.scimEnabled) {
    const missing = missingSsoSettings(connection);
    if (missing.length) throw new InputError(`SCIM cannot be enabled until the SSO settings are complete: set idp.${missing.join(', idp.')}`, { field: `idp.${missing[0]}` });
  }
  if (!connection.jitEnabled && !connection.scimEnabled) throw new InputError('JIT provisioning can be turned off only while SCIM is enabled on the connection', { field: 'jitEnabled' });
}
