/**
 * Admin routes for group mapping (docs/group-mapping.md): rules per connection, the built-in
 * `organization:team` rule's switch, a rule change's dry run, and the groups the IdP pushed with what
 * they map to (unmapped ones included). Saving a change re-decides the people it concerns through
 * the sync job (progress on the job dashboard).
 */
import { z } from 'zod';
import { groupRuleCreated, groupRuleDeleted, groupRulesBuiltinChanged, type Actor, type CliCommand } from '@doorman/plugin-api';
import type { RoleMappingEnv } from './deps.ts';
import { GroupMappingRuleEntity, ORG_ROLES } from '@doorman/model';
import {
  applyRuleChange,
  findRule,
  groupsConcerned,
  groupsWithTargets,
  insertRule,
  loadRuleSet,
  previewRuleChange,
  saveBuiltin,
  servedOrgs,
  validateRule,
  type RuleChange,
} from './rules-store.ts';
import type { ServiceDeps } from './service.ts';
import { syncIntent } from './jobs.ts';

const ruleFields = {
  groupId: z.string().trim().min(1).max(255).optional(),
  groupExternalId: z.string().trim().min(1).max(255).optional(),
  groupName: z.string().trim().min(1).max(255).optional(),
  org: z.string().trim().min(1).max(255),
  team: z.string().trim().min(1).max(255).optional(),
  role: z.enum(ORG_ROLES as [string, ...string[]]).optional(),
};
const exactlyOneGroup = (b: { groupId?: string; groupExternalId?: string; groupName?: string }) =>
  [b.groupId, b.groupExternalId, b.groupName].filter((v) => v !== undefined).length === 1;
const GROUP_MESSAGE = 'give exactly one of groupId, groupExternalId, groupName';

export const ruleBody = z.object(ruleFields).strict().refine(exactlyOneGroup, { path: ['group'], message: GROUP_MESSAGE });
export const builtinBody = z.object({ enabled: z.boolean() }).strict();
/** A dry run of one change: a new rule (the rule's fields), `deleteRuleId`, or `builtinOrgTeam`. */
export const rulePreviewBody = z
  .object({ ...ruleFields, org: ruleFields.org.optional(), deleteRuleId: z.string().trim().min(1).max(36).optional(), builtinOrgTeam: z.boolean().optional() })
  .strict()
  .refine((b) => [b.org !== undefined, b.deleteRuleId !== undefined, b.builtinOrgTeam !== undefined].filter(Boolean).length === 1, {
    path: ['org'],
    message: 'give one change: a new rule (org and one group field), deleteRuleId, or builtinOrgTeam',
  })
  .refine((b) => b.org === undefined || exactlyOneGroup(b), { path: ['group'], message: GROUP_MESSAGE });

/** The events a rule change publishes. */
type RuleEvent = typeof groupRuleCreated | typeof groupRuleDeleted | typeof groupRulesBuiltinChanged;
type RuleFields = { groupId?: string; groupExternalId?: string; groupName?: string; org?: string; team?: string; role?: string };
const newRule = (b: RuleFields) => ({
  matchBy: b.groupId !== undefined ? ('id' as const) : b.groupExternalId !== undefined ? ('externalId' as const) : ('displayName' as const),
  matchValue: (b.groupId ?? b.groupExternalId ?? b.groupName)!,
  org: b.org!,
  team: b.team ?? null,
  role: (b.role ?? null) as 'member' | 'editor' | 'owner' | null,
});

const ruleOptions = [
  { flag: '--group-name <name>', field: 'groupName', description: "the group's displayName (whole name, any case)" },
  { flag: '--group-id <id>', field: 'groupId', description: "the group's SCIM id" },
  { flag: '--group-external-id <externalId>', field: 'groupExternalId', description: "the group's externalId (Entra: objectId)" },
  { flag: '--org <org>', field: 'org', description: 'organization (id or name) the group grants' },
  { flag: '--team <team>', field: 'team', description: 'team in that organization (created when missing)' },
  { flag: '--role <member|editor|owner>', field: 'role', description: 'member, editor or owner' },
] as const;

export const RULE_CLI_COMMANDS: readonly CliCommand[] = [
  { command: 'group-rules list <connectionId>', description: "List a connection's group mapping rules", method: 'GET', path: '/connections/:connectionId/group-rules' },
  {
    command: 'group-rules create <connectionId>',
    description: 'Map a group to an organization, optionally a team and a role (re-decides its members through the sync job)',
    method: 'POST',
    path: '/connections/:connectionId/group-rules',
    options: ruleOptions,
  },
  { command: 'group-rules delete <connectionId> <ruleId>', description: 'Delete a group mapping rule (re-decides its members)', method: 'DELETE', path: '/connections/:connectionId/group-rules/:ruleId' },
  {
    command: 'group-rules preview <connectionId>',
    description: 'Dry run: how many people would gain or lose which membership if this rule were created (or --delete-rule-id deleted)',
    method: 'POST',
    path: '/connections/:connectionId/group-rules/preview',
    options: [
      ...ruleOptions,
      { flag: '--delete-rule-id <ruleId>', field: 'deleteRuleId', description: 'preview deleting this rule instead' },
      { flag: '--builtin-org-team <bool>', field: 'builtinOrgTeam', description: 'preview turning the built-in organization:team rule on or off', type: 'boolean' },
    ],
  },
  {
    command: 'group-rules builtin <connectionId>',
    description: 'Turn the built-in organization:team rule on or off',
    method: 'PUT',
    path: '/connections/:connectionId/group-rules/builtin',
    options: [{ flag: '--enabled <bool>', field: 'enabled', description: 'true or false', type: 'boolean' }],
  },
  { command: 'groups list <connectionId>', description: 'List the groups the IdP pushed and what each maps to', method: 'GET', path: '/connections/:connectionId/groups' },
  { command: 'groups unmapped <connectionId>', description: 'List the groups no rule maps', method: 'GET', path: '/connections/:connectionId/groups/unmapped' },
];

const role = z.enum(ORG_ROLES as [string, ...string[]]);
const ruleView = z.object({
  id: z.string(),
  matchBy: z.enum(['id', 'externalId', 'displayName']),
  matchValue: z.string(),
  orgId: z.string(),
  org: z.string().nullable(),
  team: z.string().nullable(),
  role: role.nullable(),
});
const saved = { jobId: z.string().nullable().describe('the sync job re-deciding the people concerned (null: no group concerned)'), groupsConcerned: z.number().int() };
const groupView = { id: z.string(), externalId: z.string().nullable(), displayName: z.string(), members: z.number().int() };
const previewView = z.object({
  people: z.number().int(),
  changedPeople: z.number().int(),
  gains: z.array(z.object({ org: z.string(), team: z.string().nullable(), role: role.optional(), people: z.number().int() })),
  losses: z.array(z.object({ org: z.string(), team: z.string().nullable(), people: z.number().int() })),
  roleChanges: z.array(z.object({ org: z.string(), from: role, to: role, people: z.number().int() })),
  refused: z.array(z.object({ userId: z.string(), message: z.string() })),
  groups: z.array(z.object({ id: z.string(), displayName: z.string() })),
});
const json = (description: string, schema: z.ZodType) => ({ description, schema });

export function registerRuleRoutes(env: RoleMappingEnv, deps: Pick<ServiceDeps, 'directory'>): void {
  const actorOf = (ctx: { state: { actor?: Actor } }): Actor => ctx.state.actor!;

  /** Saves `change`, records the event and, when groups are concerned, the sync job for their people. */
  const save = (ctx: { state: { actor?: Actor } }, connectionId: string, build: (tx: Parameters<Parameters<typeof env.transaction>[0]>[0]) => Promise<{ change: RuleChange; event: Record<string, { before?: unknown; after?: unknown }>; action: RuleEvent }>) =>
    env.transaction(async (tx) => {
      const { change, event, action } = await build(tx);
      const orgs = await servedOrgs(tx, connectionId);
      const directory = deps.directory();
      const concerned = groupsConcerned(directory ? await directory.listGroups(tx, connectionId) : [], change, orgs);
      let jobId: string | null = null;
      if (concerned.length) {
        const intent = syncIntent(connectionId, 'rules-changed', env.clock.now(), concerned.map((g) => g.id));
        await env.jobs.enqueue(tx, intent);
        jobId = intent.id;
      }
      await env.events.publish(tx, actorOf(ctx), action({ connectionId, target: { type: 'connection', id: connectionId }, changes: { ...event, groupsConcerned: { after: concerned.length } } }));
      return { jobId, groupsConcerned: concerned.length };
    });

  const withOrgNames = async (tx: Parameters<Parameters<typeof env.transaction>[0]>[0], connectionId: string) => {
    const orgs = await servedOrgs(tx, connectionId);
    return new Map(orgs.map((o) => [o.id, o.name]));
  };

  env.http.adminRoute({
    method: 'get',
    path: '/connections/:connectionId/group-rules',
    scope: { connection: 'connectionId' },
    summary: "A connection's group mapping rules and the built-in organization:team switch",
    responses: { 200: json('the rules', z.object({ connectionId: z.string(), builtinOrgTeam: z.boolean(), rules: z.array(ruleView) })) },
    handler: (_ctx, { params }) =>
      env.transaction(async (tx) => {
        const name = await withOrgNames(tx, params.connectionId);
        const set = await loadRuleSet(tx, params.connectionId);
        return { connectionId: params.connectionId, builtinOrgTeam: set.builtinOrgTeam, rules: set.rules.map((rule) => ({ ...rule, org: name.get(rule.orgId) ?? null })) };
      }),
  });

  env.http.adminRoute({
    method: 'post',
    path: '/connections/:connectionId/group-rules',
    scope: { connection: 'connectionId' },
    summary: 'Map a group (by id, externalId or name) to an organization, optionally a team and a role',
    description: 'Saving records a sync job that re-decides the members of the groups the rule matches (docs/group-mapping.md).',
    body: ruleBody,
    responses: { 201: json('the rule and the sync job', z.object({ rule: ruleView, ...saved })) },
    async handler(ctx, { params, body }) {
      let created: Awaited<ReturnType<typeof validateRule>> | undefined;
      const result = await save(ctx, params.connectionId, async (tx) => {
        created = await validateRule(tx, params.connectionId, newRule(body));
        const { org: _org, ...rule } = created;
        void _org;
        await insertRule(tx, params.connectionId, rule);
        return { change: { create: rule }, action: groupRuleCreated, event: { rule: { after: rule } } };
      });
      return { rule: created!, ...result };
    },
  });

  env.http.adminRoute({
    method: 'delete',
    path: '/connections/:connectionId/group-rules/:ruleId',
    scope: { connection: 'connectionId' },
    summary: 'Delete a group mapping rule (re-decides the people it concerned through the sync job)',
    responses: { 200: json('the deleted rule id and the sync job', z.object({ deleted: z.string(), ...saved })) },
    async handler(ctx, { params }) {
      const result = await save(ctx, params.connectionId, async (tx) => {
        await servedOrgs(tx, params.connectionId); // 404 for an unknown connection before an unknown rule
        const rule = await findRule(tx, params.connectionId, params.ruleId);
        await tx.getRepository(GroupMappingRuleEntity).delete({ id: rule.id });
        return { change: { delete: rule }, action: groupRuleDeleted, event: { rule: { before: rule } } };
      });
      return { deleted: params.ruleId, ...result };
    },
  });

  env.http.adminRoute({
    method: 'put',
    path: '/connections/:connectionId/group-rules/builtin',
    scope: { connection: 'connectionId' },
    summary: 'Turn the built-in organization:team rule on or off for a connection',
    body: builtinBody,
    responses: { 200: json('the setting and the sync job', z.object({ builtinOrgTeam: z.boolean(), ...saved })) },
    async handler(ctx, { params, body }) {
      const result = await save(ctx, params.connectionId, async (tx) => {
        await servedOrgs(tx, params.connectionId);
        const before = (await loadRuleSet(tx, params.connectionId)).builtinOrgTeam;
        await saveBuiltin(tx, params.connectionId, body.enabled, env.clock.now());
        return { change: { builtinOrgTeam: body.enabled }, action: groupRulesBuiltinChanged, event: { builtinOrgTeam: { before, after: body.enabled } } };
      });
      return { builtinOrgTeam: body.enabled, ...result };
    },
  });

  env.http.adminRoute({
    method: 'post',
    path: '/connections/:connectionId/group-rules/preview',
    scope: { connection: 'connectionId' },
    summary: 'Dry run of a rule change: how many people would gain or lose which membership',
    description: 'One change: a new rule (the create fields), deleteRuleId, or builtinOrgTeam. Reads only.',
    body: rulePreviewBody,
    responses: { 200: json('what the change would do', previewView) },
    handler: (_ctx, { params, body }) =>
      // Read-only: a transaction only for one consistent snapshot; nothing is locked or written.
      env.transaction(async (tx) => {
        const { connectionId } = params;
        const orgs = await servedOrgs(tx, connectionId);
        const current = await loadRuleSet(tx, connectionId);
        let change: RuleChange;
        if (body.deleteRuleId !== undefined) change = { delete: await findRule(tx, connectionId, body.deleteRuleId) };
        else if (body.builtinOrgTeam !== undefined) change = { builtinOrgTeam: body.builtinOrgTeam };
        else {
          const { org: _org, ...rule } = await validateRule(tx, connectionId, newRule(body));
          void _org;
          change = { create: rule };
        }
        const directory = deps.directory();
        const concerned = groupsConcerned(directory ? await directory.listGroups(tx, connectionId) : [], change, orgs);
        return previewRuleChange(deps, tx, connectionId, applyRuleChange(current, change), concerned);
      }),
  });

  const listGroups = (connectionId: string) =>
    env.transaction(async (tx) => {
      const orgs = await servedOrgs(tx, connectionId);
      return groupsWithTargets(deps.directory(), tx, connectionId, await loadRuleSet(tx, connectionId), orgs);
    });
  env.http.adminRoute({
    method: 'get',
    path: '/connections/:connectionId/groups',
    scope: { connection: 'connectionId' },
    summary: 'The groups the IdP pushed, with their member counts and what each maps to',
    responses: {
      200: json(
        'the groups',
        z.object({ groups: z.array(z.object({ ...groupView, targets: z.array(z.object({ org: z.string(), orgId: z.string(), team: z.string().nullable(), role: role.nullable(), via: z.string() })) })) }),
      ),
    },
    handler: async (_ctx, { params }) => ({ groups: await listGroups(params.connectionId) }),
  });
  env.http.adminRoute({
    method: 'get',
    path: '/connections/:connectionId/groups/unmapped',
    scope: { connection: 'connectionId' },
    summary: 'The groups no rule maps (stored, listed, granting nothing)',
    responses: { 200: json('the unmapped groups', z.object({ groups: z.array(z.object(groupView)) })) },
    handler: async (_ctx, { params }) => ({ groups: (await listGroups(params.connectionId)).filter((g) => !g.targets.length).map(({ targets: _t, ...g }) => g) }),
  });
}
