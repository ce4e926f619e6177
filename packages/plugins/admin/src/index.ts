import { z } from 'zod';
import { In } from 'typeorm';
import { isDuplicateKeyError, isUuid, ownerOrgIds } from '@doorman/core';
import { coreServices, defineError, definePlugin, NotFoundError, orgCreated, orgUpdated, teamCreated, teamRenamed, type Actor, type CliCommand } from '@doorman/plugin-api';
import { OrganizationEntity, OrgMembershipEntity, TeamEntity, TeamMembershipEntity, UserEntity, type Organization, newRowId } from '@doorman/model';
import { createOrgBody, createTeamBody, listQuery, renameTeamBody, updateOrgBody } from './schemas.ts';
import { registerConnectionRoutes } from './connection-routes.ts';
import { adminConfigSchema } from './config.ts';
import { registerMetadataRoute } from './metadata-route.ts';
import { findOrg } from './lookup.ts';
import { memberList, orgList, orgView, teamView } from './responses.ts';

/** 409: an organization with this name exists. */
const OrgExists = defineError('DMN_ADMIN_ORG_EXISTS', 409);
/** 409: the organization has a team with this name. */
const TeamExists = defineError('DMN_ADMIN_TEAM_EXISTS', 409);

const actorOf = (ctx: { state: { actor?: Actor } }): Actor => ctx.state.actor!;
const CLI: CliCommand[] = [
  { command: 'orgs create <name>', description: 'create an organization', method: 'POST', path: '/orgs', options: [{ flag: '--display-name <text>', field: 'displayName', description: 'display name' }, { flag: '--seat-limit <n>', field: 'seatLimit', description: 'seat limit', type: 'number' }] },
  { command: 'openapi', description: 'print the admin API OpenAPI 3.1 document', method: 'GET', path: '/openapi.json' },
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
      { flag: '--deprovisioning-scope <organization|connection>', field: 'deprovisioningScope', description: 'what a SCIM deactivation through it covers (default organization)' },
    ],
  },
  {
    command: 'saml-metadata read',
    description: 'read IdP SAML metadata (a file or a URL) into the idp settings of a SAML connection (nothing is saved)',
    method: 'POST',
    path: '/saml-metadata',
    options: [
      { flag: '--file <path>', field: 'xml', description: 'the metadata XML file', type: 'file' },
      { flag: '--url <url>', field: 'url', description: 'where the IdP publishes it (fetched by Doorman)' },
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
      { flag: '--deprovisioning-scope <organization|connection>', field: 'deprovisioningScope', description: 'what a SCIM deactivation through it covers' },
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
  configSchema: adminConfigSchema,
  deps: { http: coreServices.http, transaction: coreServices.transaction, events: coreServices.events, config: coreServices.config },
  register({ http, transaction, events, config }) {
    http.adminRoute({
      method: 'post',
      path: '/orgs',
      scope: 'deployment',
      summary: 'Create an organization', body: createOrgBody, responses: { 201: { description: 'the organization', schema: orgView } },
      handler: async (ctx, input) => {
        const { body } = input;
        ctx.body = await transaction(async (tx) => {
          const org: Organization = { id: newRowId(), name: body.name, displayName: body.displayName ?? null, seatLimit: body.seatLimit ?? null, createdAt: new Date(), updatedAt: new Date() };
          try {
            await tx.getRepository(OrganizationEntity).insert(org);
          } catch (err) {
            if (isDuplicateKeyError(err)) throw new OrgExists(`organization '${body.name}' already exists`, { field: 'name' });
            throw err;
          }
          await events.publish(tx, actorOf(ctx), orgCreated({ orgId: org.id, target: { type: 'org', id: org.id }, changes: { name: { after: org.name } } }));
          return tx.getRepository(OrganizationEntity).findOneByOrFail({ id: org.id });
        });
        ctx.status = 201;
      },
    });

    http.adminRoute({
      method: 'get',
      path: '/orgs',
      scope: 'filtered',
      summary: 'List organizations', query: listQuery, responses: { 200: { description: 'a page of organizations, by name', schema: orgList } },
      handler: async (ctx, input) => {
        const q = input.query;
        // An organization owner lists only the organizations they own (docs/console.md).
        const owned = ownerOrgIds(ctx);
        const where = owned === undefined ? {} : { id: In([...owned]) };
        const [orgs, total] = await transaction((tx) => tx.getRepository(OrganizationEntity).findAndCount({ where, order: { name: 'ASC' }, take: q.limit, skip: q.offset }));
        ctx.body = { orgs, total };
      },
    });

    http.adminRoute({
      method: 'get',
      path: '/orgs/:org',
      scope: { org: 'org' },
      summary: 'Show an organization (by id or name)', responses: { 200: { description: 'the organization', schema: orgView } },
      handler: async (ctx) => {
        ctx.body = await transaction((tx) => findOrg(tx, ctx.params.org!));
      },
    });

    http.adminRoute({
      method: 'patch',
      path: '/orgs/:org',
      scope: { org: 'org' },
      summary: 'Change an organization', body: updateOrgBody, responses: { 200: { description: 'the organization', schema: orgView } },
      handler: async (ctx, input) => {
        const { body } = input;
        ctx.body = await transaction(async (tx) => {
          const org = await findOrg(tx, ctx.params.org!);
          const changes: Record<string, { before: unknown; after: unknown }> = {};
          for (const key of ['displayName', 'seatLimit'] as const) {
            if (body[key] !== undefined && body[key] !== org[key]) changes[key] = { before: org[key], after: body[key] };
          }
          if (Object.keys(changes).length) {
            await tx.getRepository(OrganizationEntity).update({ id: org.id }, { ...body });
            await events.publish(tx, actorOf(ctx), orgUpdated({ orgId: org.id, target: { type: 'org', id: org.id }, changes }));
          }
          return tx.getRepository(OrganizationEntity).findOneByOrFail({ id: org.id });
        });
      },
    });

    http.adminRoute({
      method: 'post',
      path: '/orgs/:org/teams',
      scope: { org: 'org' },
      summary: 'Create a team', body: createTeamBody, responses: { 201: { description: 'the team', schema: teamView } },
      handler: async (ctx, input) => {
        const { body } = input;
        ctx.body = await transaction(async (tx) => {
          const org = await findOrg(tx, ctx.params.org!);
          const team = { id: newRowId(), orgId: org.id, name: body.name, nameLc: body.name.toLowerCase(), createdAt: new Date() };
          try {
            await tx.getRepository(TeamEntity).insert(team);
          } catch (err) {
            if (isDuplicateKeyError(err)) throw new TeamExists(`team '${body.name}' already exists in '${org.name}'`, { field: 'name' });
            throw err;
          }
          await events.publish(tx, actorOf(ctx), teamCreated({ orgId: org.id, target: { type: 'team', id: team.id }, changes: { name: { after: team.name } } }));
          return team;
        });
        ctx.status = 201;
      },
    });

    http.adminRoute({
      method: 'patch',
      path: '/orgs/:org/teams/:team',
      scope: { org: 'org' },
      summary: 'Rename a team',
      description: 'The team by id or (case-insensitive) name, within the organization (by id or name). Publishes `team.renamed`.',
      params: z.object({ org: z.string().min(1), team: z.string().min(1) }),
      body: renameTeamBody,
      responses: { 200: { description: 'the renamed team', schema: teamView } },
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
            if (isDuplicateKeyError(err)) throw new TeamExists(`team '${body.name}' already exists in '${org.name}'`, { field: 'name' });
            throw err;
          }
          await events.publish(tx, actorOf(ctx), teamRenamed({ orgId: org.id, target: { type: 'team', id: team.id }, changes: { name: { before: team.name, after: body.name } } }));
          return repo.findOneByOrFail({ id: team.id });
        }),
    });

    http.adminRoute({
      method: 'get',
      path: '/orgs/:org/teams',
      scope: { org: 'org' },
      summary: 'List the teams of an organization', responses: { 200: { description: 'its teams, by name', schema: z.object({ teams: z.array(teamView) }) } },
      handler: async (ctx) => {
        ctx.body = await transaction(async (tx) => {
          const org = await findOrg(tx, ctx.params.org!);
          return { teams: await tx.getRepository(TeamEntity).find({ where: { orgId: org.id }, order: { nameLc: 'ASC' } }) };
        });
      },
    });

    http.adminRoute({
      method: 'get',
      path: '/orgs/:org/members',
      scope: { org: 'org' },
      summary: 'List members with role, source and teams', query: listQuery, responses: { 200: { description: 'a page of members', schema: memberList } },
      handler: async (ctx, input) => {
        const q = input.query;
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
      },
    });

    registerConnectionRoutes(http, transaction, events);
    registerMetadataRoute(http, config);
  },
});

