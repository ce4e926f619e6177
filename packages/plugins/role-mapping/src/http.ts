/** Admin routes: the mapping dry run and the on-demand sync. */
import { z } from 'zod';
import { NotFoundError, ScimDisabled, type CliCommand } from '@doorman/plugin-api';
import type { RoleMappingEnv } from './deps.ts';
import { SsoConnectionEntity, UserEntity } from '@doorman/model';
import { isMembershipChange } from './apply-changes.ts';
import { previewMapping, type ServiceDeps } from './service.ts';
import { syncIntent } from './jobs.ts';


const attributeFields = {
  dockerRole: z.string().max(64).nullable().optional(),
  dockerOrg: z.string().max(255).nullable().optional(),
  dockerTeam: z.string().max(255).nullable().optional(),
  groups: z.array(z.string().max(1024)).max(1000).optional(),
};

/**
 * `attributes` nested, or the same four fields flat at the top level (what the CLI sends).
 * `userId` or `email` names an existing user; with neither, the preview is for a person with no
 * memberships yet.
 */
export const previewBody = z
  .object({
    userId: z.string().min(1).max(36).optional(),
    email: z.email().max(320).optional(),
    attributes: z.object(attributeFields).strict().optional(),
    ...attributeFields,
    flow: z.enum(['scim', 'jit']).default('scim'),
    firstTime: z.boolean().optional(),
  })
  .strict()
  .refine((b) => !(b.userId && b.email), { path: ['email'], message: 'give userId or email, not both' })
  .refine((b) => !(b.attributes && Object.keys(attributeFields).some((k) => b[k as keyof typeof attributeFields] !== undefined)), {
    path: ['attributes'],
    message: 'give the attributes either under "attributes" or at the top level, not both',
  });

export const syncBody = z.object({}).strict();

export const CLI_COMMANDS: readonly CliCommand[] = [
  {
    command: 'role-mapping preview <connectionId>',
    description: 'Show what the given IdP attributes would change for a user (dry run, writes nothing)',
    method: 'POST',
    path: '/connections/:connectionId/role-mapping/preview',
    options: [
      { flag: '--email <email>', field: 'email', description: "the user's email (omit for a person not provisioned yet)" },
      { flag: '--user-id <id>', field: 'userId', description: "the user's id, instead of --email" },
      { flag: '--docker-role <role>', field: 'dockerRole', description: 'member, editor or owner' },
      { flag: '--docker-org <org>', field: 'dockerOrg', description: 'organization name overriding the default organization' },
      { flag: '--docker-team <team>', field: 'dockerTeam', description: 'team within the effective organization' },
      { flag: '--groups <list>', field: 'groups', description: "group names (read through the connection's rules)", type: 'list' },
      { flag: '--flow <scim|jit>', field: 'flow', description: 'scim (default) or jit' },
      { flag: '--first-time', field: 'firstTime', description: 'JIT: treat as the first sign-in', type: 'boolean' },
    ],
  },
  {
    command: 'sync <connectionId>',
    description: "Re-apply role mapping to every SCIM user of a connection now (background job)",
    method: 'POST',
    path: '/connections/:connectionId/sync',
  },
];

const role = z.enum(['member', 'editor', 'owner']);
const place = { orgId: z.string(), org: z.string() };
/** The preview's answer (docs/admin-api.md): the changes applying the attributes would make. */
export const previewResponse = z.object({
  changes: z.array(
    z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('addOrgMembership'), ...place, role }),
      z.object({ kind: z.literal('changeRole'), ...place, from: role, to: role }),
      z.object({ kind: z.literal('removeOrgMembership'), ...place, role: role.nullable() }),
      z.object({ kind: z.literal('createTeam'), ...place, team: z.string(), teamId: z.string().nullable() }),
      z.object({ kind: z.literal('addTeamMembership'), ...place, team: z.string(), teamId: z.string().nullable(), grantedBy: z.enum(['mapping', 'group']) }),
      z.object({ kind: z.literal('removeTeamMembership'), ...place, team: z.string(), teamId: z.string() }),
    ]),
  ),
  ignoredGroups: z.array(z.string()).meta({ description: "groups the connection's rules map to nothing (docs/group-mapping.md)" }),
  role: role.meta({ description: 'the role the user would hold in the effective organization' }),
  mappedRole: role.meta({ description: 'the role the attributes ask for' }),
  effectiveOrg: z.object({ id: z.string(), name: z.string() }),
  team: z.string().nullable(),
  firstTime: z.boolean(),
  userId: z.string().nullable(),
});

export function registerAdminRoutes(env: RoleMappingEnv, deps: Pick<ServiceDeps, 'directory'>): void {
  env.http.adminRoute({
    method: 'post',
    path: '/connections/:connectionId/role-mapping/preview',
    scope: { connection: 'connectionId' },
    summary: 'Preview what IdP attributes would change for a user (dry run, writes nothing)',
    body: previewBody,
    responses: { 200: { description: 'the changes, and the resulting role and organization', schema: previewResponse } },
    handler: async (ctx, { body }) => {
      const connectionId = ctx.params.connectionId!;
      const attributes = body.attributes ?? { dockerRole: body.dockerRole, dockerOrg: body.dockerOrg, dockerTeam: body.dockerTeam, groups: body.groups };
      const tx = env.db.manager;
      let userId: string | null = body.userId ?? null;
      if (body.email !== undefined) {
        const user = await tx.getRepository(UserEntity).findOne({ where: { emailLc: body.email.toLowerCase() }, select: { id: true } });
        if (!user) throw new NotFoundError(`no user with email '${body.email}'`, { field: 'email' });
        userId = user.id;
      }
      // Read-only: nothing is locked or written, so no transaction is needed.
      const result = await previewMapping(deps, tx, { connectionId, userId, attributes, flow: body.flow, firstTime: body.firstTime });
      // Grants are provenance bookkeeping (docs/group-mapping.md), not changes a person sees.
      return { ...result, changes: result.changes.filter(isMembershipChange), userId };
    },
  });

  env.http.adminRoute({
    method: 'post',
    path: '/connections/:connectionId/sync',
    scope: { connection: 'connectionId' },
    summary: "Re-apply role mapping to every SCIM user of a connection now (background job)",
    body: syncBody,
    responses: { 202: { description: 'the sync job was queued', schema: z.object({ jobId: z.string() }) } },
    handler: async (ctx) => {
      const connectionId = ctx.params.connectionId!;
      const jobId = await env.transaction(async (tx) => {
        const connection = await tx.getRepository(SsoConnectionEntity).findOne({ where: { id: connectionId }, select: { id: true, scimEnabled: true } });
        if (!connection) throw new NotFoundError(`SSO connection '${connectionId}' not found`, { field: 'connectionId' });
        if (!connection.scimEnabled) throw new ScimDisabled('SCIM is disabled on this connection: there is nothing to sync');
        const intent = syncIntent(connectionId, 'manual', env.clock.now());
        await env.jobs.enqueue(tx, intent);
        return intent.id;
      });
      return { jobId };
    },
  });
}
