import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { In, type EntityManager } from 'typeorm';
import { definePlugin, InputError, NotFoundError, ConflictError, isDuplicateKeyError, type Actor, type CliCommand } from '@doorman/core';
import {
  ConnectionDomainEntity,
  ConnectionOrgEntity,
  OrganizationEntity,
  OrgMembershipEntity,
  SsoConnectionEntity,
  TeamEntity,
  TeamMembershipEntity,
  UserEntity,
  type Organization,
  type SsoConnection,
} from '@doorman/model';
import { addDomainBody, createConnectionBody, createOrgBody, createTeamBody, listQuery, renameTeamBody, teamSchema, updateConnectionBody, updateOrgBody } from './schemas.ts';
import { missingSsoSettings, publicConnection } from './connections.ts';

const actorOf = (ctx: { state: { actor?: Actor } }): Actor => ctx.state.actor!;
const isUuid = (s: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s);

/** An organization by id or by name (the CLI's users type names). */
async function findOrg(tx: EntityManager, ref: string): Promise<Organization> {
  const repo = tx.getRepository(OrganizationEntity);
  const org = (isUuid(ref) ? await repo.findOneBy({ id: ref }) : null) ?? (await repo.findOneBy({ name: ref.toLowerCase() }));
  if (!org) throw new NotFoundError(`organization '${ref}' not found`, { field: 'orgId' });
  return org;
}

async function findConnection(tx: EntityManager, id: string): Promise<SsoConnection> {
  const connection = isUuid(id) ? await tx.getRepository(SsoConnectionEntity).findOneBy({ id }) : null;
  if (!connection) throw new NotFoundError(`connection '${id}' not found`);
  return connection;
}

async function connectionView(tx: EntityManager, connection: SsoConnection) {
  const [orgs, domains] = await Promise.all([
    tx.getRepository(ConnectionOrgEntity).findBy({ connectionId: connection.id }),
    tx.getRepository(ConnectionDomainEntity).find({ where: { connectionId: connection.id }, order: { domain: 'ASC' } }),
  ]);
  return publicConnection(connection, orgs.map((o) => o.orgId), domains);
}

const CLI: CliCommand[] = [
  { command: 'orgs create <name>', description: 'create an organization', method: 'POST', path: '/orgs', options: [{ flag: '--display-name <text>', field: 'displayName', description: 'display name' }, { flag: '--seat-limit <n>', field: 'seatLimit', description: 'seat limit', type: 'number' }] },
  { command: 'orgs list', description: 'list organizations', method: 'GET', path: '/orgs' },
  { command: 'orgs update <org>', description: 'change an organization', method: 'PATCH', path: '/orgs/:org', options: [{ flag: '--display-name <text>', field: 'displayName', description: 'display name' }, { flag: '--seat-limit <n>', field: 'seatLimit', description: 'seat limit', type: 'number' }] },
  { command: 'teams create <org> <name>', description: 'create a team in an organization', method: 'POST', path: '/orgs/:org/teams' },
  { command: 'teams rename <org> <team>', description: 'rename a team (by id or name)', method: 'PATCH', path: '/orgs/:org/teams/:team', options: [{ flag: '--name <name>', field: 'name', description: 'new name' }] },
  { command: 'teams list <org>', description: 'list the teams of an organization', method: 'GET', path: '/orgs/:org/teams' },
  { command: 'members list <org>', description: 'list members with role, source and teams', method: 'GET', path: '/orgs/:org/members', options: [{ flag: '--limit <n>', field: 'limit', description: 'page size', type: 'number' }, { flag: '--offset <n>', field: 'offset', description: 'skip', type: 'number' }] },
  {
    command: 'connections create <name>',
    description: 'create an SSO connection',
    method: 'POST',
    path: '/connections',
    options: [
      { flag: '--type <saml|oidc>', field: 'type', description: 'connection type' },
      { flag: '--org-ids <ids>', field: 'orgIds', description: 'comma-separated organizations (ids or names) it serves', type: 'list' },
      { flag: '--default-org-id <org>', field: 'defaultOrgId', description: 'default organization' },
      { flag: '--default-team <team>', field: 'defaultTeam', description: 'default team' },
      { flag: '--domains <list>', field: 'domains', description: 'comma-separated email domains', type: 'list' },
      { flag: '--jit-enabled <bool>', field: 'jitEnabled', description: 'just-in-time provisioning (default true)', type: 'boolean' },
      { flag: '--scim-enabled <bool>', field: 'scimEnabled', description: 'SCIM provisioning (default false)', type: 'boolean' },
      { flag: '--idp <json>', field: 'idp', description: 'IdP settings as JSON (SAML: entryPoint, idpIssuer, idpCert; OIDC: issuer, clientId, clientSecret)', type: 'json' },
    ],
  },
  { command: 'connections list', description: 'list SSO connections', method: 'GET', path: '/connections' },
  { command: 'connections show <connectionId>', description: 'show an SSO connection', method: 'GET', path: '/connections/:connectionId' },
  {
    command: 'connections update <connectionId>',
    description: 'change an SSO connection',
    method: 'PATCH',
    path: '/connections/:connectionId',
    options: [
      { flag: '--name <name>', field: 'name', description: 'name' },
      { flag: '--org-ids <ids>', field: 'orgIds', description: 'organizations it serves', type: 'list' },
      { flag: '--default-org-id <org>', field: 'defaultOrgId', description: 'default organization' },
      { flag: '--default-team <team>', field: 'defaultTeam', description: 'default team' },
      { flag: '--jit-enabled <bool>', field: 'jitEnabled', description: 'just-in-time provisioning', type: 'boolean' },
      { flag: '--scim-enabled <bool>', field: 'scimEnabled', description: 'SCIM provisioning', type: 'boolean' },
      { flag: '--idp <json>', field: 'idp', description: 'IdP settings to merge, as JSON', type: 'json' },
    ],
  },
  { command: 'connections delete <connectionId>', description: 'delete an SSO connection', method: 'DELETE', path: '/connections/:connectionId' },
  { command: 'domains add <connectionId> <domain>', description: 'add an email domain to a connection', method: 'POST', path: '/connections/:connectionId/domains', options: [{ flag: '--verified <bool>', field: 'verified', description: 'mark verified', type: 'boolean' }] },
  { command: 'domains verify <connectionId> <domain>', description: 'mark a domain verified', method: 'POST', path: '/connections/:connectionId/domains/:domain/verify' },
  { command: 'domains remove <connectionId> <domain>', description: 'remove a domain', method: 'DELETE', path: '/connections/:connectionId/domains/:domain' },
];

/**
 * The admin API for what IdPs don't do: organizations, teams, SSO connections and their domains,
 * and member listings. Always registered; every route is behind admin authentication (core).
 */
export const adminPlugin = definePlugin({
  id: 'admin',
  description: 'Admin API: organizations, teams, SSO connections, domains, members',
  cli: CLI,
  register({ http, transaction, events }) {
    const r = http.admin;

    r.post('/orgs', async (ctx) => {
      const body = createOrgBody.parse(ctx.request.body ?? {});
      ctx.body = await transaction(async (tx) => {
        const org: Organization = { id: randomUUID(), name: body.name, displayName: body.displayName ?? null, seatLimit: body.seatLimit ?? null, createdAt: new Date(), updatedAt: new Date() };
        try {
          await tx.getRepository(OrganizationEntity).insert(org);
        } catch (err) {
          if (isDuplicateKeyError(err)) throw new ConflictError(`organization '${body.name}' already exists`, { field: 'name' });
          throw err;
        }
        await events.publish(tx, actorOf(ctx), { action: 'org.created', orgId: org.id, target: { type: 'org', id: org.id }, changes: { name: { after: org.name } } });
        return tx.getRepository(OrganizationEntity).findOneByOrFail({ id: org.id });
      });
      ctx.status = 201;
    });

    r.get('/orgs', async (ctx) => {
      const q = listQuery.parse(ctx.query);
      const [orgs, total] = await transaction((tx) => tx.getRepository(OrganizationEntity).findAndCount({ order: { name: 'ASC' }, take: q.limit, skip: q.offset }));
      ctx.body = { orgs, total };
    });

    r.get('/orgs/:org', async (ctx) => {
      ctx.body = await transaction((tx) => findOrg(tx, ctx.params.org!));
    });

    r.patch('/orgs/:org', async (ctx) => {
      const body = updateOrgBody.parse(ctx.request.body ?? {});
      ctx.body = await transaction(async (tx) => {
        const org = await findOrg(tx, ctx.params.org!);
        const changes: Record<string, { before: unknown; after: unknown }> = {};
        for (const key of ['displayName', 'seatLimit'] as const) {
          if (body[key] !== undefined && body[key] !== org[key]) changes[key] = { before: org[key], after: body[key] };
        }
        if (Object.keys(changes).length) {
          await tx.getRepository(OrganizationEntity).update({ id: org.id }, { ...body });
          await events.publish(tx, actorOf(ctx), { action: 'org.updated', orgId: org.id, target: { type: 'org', id: org.id }, changes });
        }
        return tx.getRepository(OrganizationEntity).findOneByOrFail({ id: org.id });
      });
    });

    r.post('/orgs/:org/teams', async (ctx) => {
      const body = createTeamBody.parse(ctx.request.body ?? {});
      ctx.body = await transaction(async (tx) => {
        const org = await findOrg(tx, ctx.params.org!);
        const team = { id: randomUUID(), orgId: org.id, name: body.name, nameLc: body.name.toLowerCase(), createdAt: new Date() };
        try {
          await tx.getRepository(TeamEntity).insert(team);
        } catch (err) {
          if (isDuplicateKeyError(err)) throw new ConflictError(`team '${body.name}' already exists in '${org.name}'`, { field: 'name' });
          throw err;
        }
        await events.publish(tx, actorOf(ctx), { action: 'team.created', orgId: org.id, target: { type: 'team', id: team.id }, changes: { name: { after: team.name } } });
        return team;
      });
      ctx.status = 201;
    });

    http.adminRoute({
      method: 'patch',
      path: '/orgs/:org/teams/:team',
      summary: 'Rename a team',
      description: 'The team by id or (case-insensitive) name, within the organization (by id or name). Publishes `team.renamed`.',
      params: z.object({ org: z.string().min(1), team: z.string().min(1) }),
      body: renameTeamBody,
      responses: { 200: { description: 'the renamed team', schema: teamSchema } },
      handler: (ctx, { params, body }) =>
        transaction(async (tx) => {
          const org = await findOrg(tx, params.org);
          const repo = tx.getRepository(TeamEntity);
          const team = (isUuid(params.team) ? await repo.findOneBy({ id: params.team, orgId: org.id }) : null) ?? (await repo.findOneBy({ orgId: org.id, nameLc: params.team.toLowerCase() }));
          if (!team) throw new NotFoundError(`team '${params.team}' not found in '${org.name}'`, { field: 'team' });
          if (team.name === body.name) return team;
          try {
            await repo.update({ id: team.id }, { name: body.name, nameLc: body.name.toLowerCase() });
          } catch (err) {
            if (isDuplicateKeyError(err)) throw new ConflictError(`team '${body.name}' already exists in '${org.name}'`, { field: 'name' });
            throw err;
          }
          await events.publish(tx, actorOf(ctx), { action: 'team.renamed', orgId: org.id, target: { type: 'team', id: team.id }, changes: { name: { before: team.name, after: body.name } } });
          return repo.findOneByOrFail({ id: team.id });
        }),
    });

    r.get('/orgs/:org/teams', async (ctx) => {
      ctx.body = await transaction(async (tx) => {
        const org = await findOrg(tx, ctx.params.org!);
        return { teams: await tx.getRepository(TeamEntity).find({ where: { orgId: org.id }, order: { nameLc: 'ASC' } }) };
      });
    });

    r.get('/orgs/:org/members', async (ctx) => {
      const q = listQuery.parse(ctx.query);
      ctx.body = await transaction(async (tx) => {
        const org = await findOrg(tx, ctx.params.org!);
        const [memberships, total] = await tx.getRepository(OrgMembershipEntity).findAndCount({ where: { orgId: org.id }, order: { createdAt: 'ASC', id: 'ASC' }, take: q.limit, skip: q.offset });
        const userIds = memberships.map((m) => m.userId);
        const [users, teamMemberships, teams] = userIds.length
          ? await Promise.all([
              tx.getRepository(UserEntity).findBy({ id: In(userIds) }),
              tx.getRepository(TeamMembershipEntity).findBy({ orgId: org.id, userId: In(userIds) }),
              tx.getRepository(TeamEntity).findBy({ orgId: org.id }),
            ])
          : [[], [], []];
        const userById = new Map(users.map((u) => [u.id, u]));
        const teamName = new Map(teams.map((t) => [t.id, t.name]));
        return {
          total,
          members: memberships.map((m) => ({
            userId: m.userId,
            email: userById.get(m.userId)?.email,
            username: userById.get(m.userId)?.username,
            role: m.role,
            source: m.source,
            connectionId: m.connectionId,
            teams: teamMemberships.filter((t) => t.userId === m.userId).map((t) => ({ team: teamName.get(t.teamId), source: t.source, grantedBy: t.grantedBy })),
          })),
        };
      });
    });

    r.post('/connections', async (ctx) => {
      const body = createConnectionBody.parse(ctx.request.body ?? {});
      ctx.body = await transaction(async (tx) => {
        const orgs = await Promise.all(body.orgIds.map((ref) => findOrg(tx, ref)));
        const defaultOrg = body.defaultOrgId ? await findOrg(tx, body.defaultOrgId) : orgs.length === 1 ? orgs[0]! : null;
        if (defaultOrg && !orgs.some((o) => o.id === defaultOrg.id)) throw new InputError('defaultOrgId must be one of orgIds', { field: 'defaultOrgId' });
        const connection: SsoConnection = {
          id: randomUUID(),
          name: body.name,
          type: body.type,
          defaultOrgId: defaultOrg?.id ?? null,
          defaultTeam: body.defaultTeam ?? null,
          jitEnabled: body.jitEnabled ?? true,
          scimEnabled: body.scimEnabled ?? false,
          idpSettings: body.idp ?? {},
          rateLimitPerSecond: body.rateLimitPerSecond ?? null,
          createdAt: new Date(),
          updatedAt: new Date(),
        };
        assertTogglesAllowed(connection);
        await tx.getRepository(SsoConnectionEntity).insert(connection);
        await tx.getRepository(ConnectionOrgEntity).insert([...new Set(orgs.map((o) => o.id))].map((orgId) => ({ connectionId: connection.id, orgId })));
        const domains = [...new Set(body.domains ?? [])];
        if (domains.length) {
          await tx.getRepository(ConnectionDomainEntity).insert(domains.map((domain) => ({ id: randomUUID(), connectionId: connection.id, domain, verified: false, createdAt: new Date() })));
        }
        await events.publish(tx, actorOf(ctx), {
          action: 'connection.created',
          orgId: connection.defaultOrgId,
          connectionId: connection.id,
          target: { type: 'connection', id: connection.id },
          changes: { name: { after: connection.name }, type: { after: connection.type }, orgIds: { after: orgs.map((o) => o.id) }, jitEnabled: { after: connection.jitEnabled }, scimEnabled: { after: connection.scimEnabled } },
        });
        return connectionView(tx, connection);
      });
      ctx.status = 201;
    });

    r.get('/connections', async (ctx) => {
      const q = listQuery.parse(ctx.query);
      ctx.body = await transaction(async (tx) => {
        const [connections, total] = await tx.getRepository(SsoConnectionEntity).findAndCount({ order: { createdAt: 'ASC', id: 'ASC' }, take: q.limit, skip: q.offset });
        return { total, connections: await Promise.all(connections.map((c) => connectionView(tx, c))) };
      });
    });

    r.get('/connections/:connectionId', async (ctx) => {
      ctx.body = await transaction(async (tx) => connectionView(tx, await findConnection(tx, ctx.params.connectionId!)));
    });

    r.patch('/connections/:connectionId', async (ctx) => {
      const body = updateConnectionBody.parse(ctx.request.body ?? {});
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
          idpSettings: body.idp ? { ...current.idpSettings, ...body.idp } : current.idpSettings,
        };
        assertTogglesAllowed(next);
        const changes: Record<string, { before: unknown; after: unknown }> = {};
        for (const key of ['name', 'defaultOrgId', 'defaultTeam', 'jitEnabled', 'scimEnabled', 'rateLimitPerSecond'] as const) {
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
          await events.publish(tx, actorOf(ctx), { action: 'connection.updated', orgId: next.defaultOrgId, connectionId: id, target: { type: 'connection', id }, changes });
        }
        return connectionView(tx, await findConnection(tx, current.id));
      });
    });

    r.delete('/connections/:connectionId', async (ctx) => {
      await transaction(async (tx) => {
        const connection = await findConnection(tx, ctx.params.connectionId!);
        await tx.getRepository(ConnectionDomainEntity).delete({ connectionId: connection.id });
        await tx.getRepository(ConnectionOrgEntity).delete({ connectionId: connection.id });
        await tx.getRepository(SsoConnectionEntity).delete({ id: connection.id });
        await events.publish(tx, actorOf(ctx), { action: 'connection.deleted', orgId: connection.defaultOrgId, connectionId: connection.id, target: { type: 'connection', id: connection.id }, changes: { name: { before: connection.name } } });
      });
      ctx.status = 204;
    });

    r.post('/connections/:connectionId/domains', async (ctx) => {
      const body = addDomainBody.parse(ctx.request.body ?? {});
      ctx.body = await transaction(async (tx) => {
        const connection = await findConnection(tx, ctx.params.connectionId!);
        const domain = { id: randomUUID(), connectionId: connection.id, domain: body.domain, verified: body.verified ?? false, createdAt: new Date() };
        try {
          await tx.getRepository(ConnectionDomainEntity).insert(domain);
        } catch (err) {
          if (isDuplicateKeyError(err)) throw new ConflictError(`domain '${body.domain}' is already on this connection`, { field: 'domain' });
          throw err;
        }
        await events.publish(tx, actorOf(ctx), { action: 'connection.domain_added', orgId: connection.defaultOrgId, connectionId: connection.id, target: { type: 'domain', id: domain.domain }, changes: { verified: { after: domain.verified } } });
        return domain;
      });
      ctx.status = 201;
    });

    r.post('/connections/:connectionId/domains/:domain/verify', async (ctx) => {
      ctx.body = await transaction(async (tx) => {
        const connection = await findConnection(tx, ctx.params.connectionId!);
        const repo = tx.getRepository(ConnectionDomainEntity);
        const domain = await repo.findOneBy({ connectionId: connection.id, domain: ctx.params.domain!.toLowerCase() });
        if (!domain) throw new NotFoundError(`domain '${ctx.params.domain}' is not on this connection`, { field: 'domain' });
        if (!domain.verified) {
          await repo.update({ id: domain.id }, { verified: true });
          await events.publish(tx, actorOf(ctx), { action: 'connection.domain_verified', orgId: connection.defaultOrgId, connectionId: connection.id, target: { type: 'domain', id: domain.domain }, changes: { verified: { before: false, after: true } } });
        }
        return { ...domain, verified: true };
      });
    });

    r.delete('/connections/:connectionId/domains/:domain', async (ctx) => {
      await transaction(async (tx) => {
        const connection = await findConnection(tx, ctx.params.connectionId!);
        const result = await tx.getRepository(ConnectionDomainEntity).delete({ connectionId: connection.id, domain: ctx.params.domain!.toLowerCase() });
        if (!result.affected) throw new NotFoundError(`domain '${ctx.params.domain}' is not on this connection`, { field: 'domain' });
        await events.publish(tx, actorOf(ctx), { action: 'connection.domain_removed', orgId: connection.defaultOrgId, connectionId: connection.id, target: { type: 'domain', id: ctx.params.domain!.toLowerCase() } });
      });
      ctx.status = 204;
    });
  },
});

/** SCIM needs complete SSO settings; JIT may be off only while SCIM provisions people. */
function assertTogglesAllowed(connection: SsoConnection) {
  if (connection.scimEnabled) {
    const missing = missingSsoSettings(connection);
    if (missing.length) throw new InputError(`SCIM cannot be enabled until the SSO settings are complete: set idp.${missing.join(', idp.')}`, { field: `idp.${missing[0]}` });
  }
  if (!connection.jitEnabled && !connection.scimEnabled) throw new InputError('JIT provisioning can be turned off only while SCIM is enabled on the connection', { field: 'jitEnabled' });
}
