/**
 * Admin routes for group mapping (docs/group-mapping.md): rules per connection, the built-in
 * `organization:team` rule's switch, a rule change's dry run, and the groups the IdP pushed with what
 * they map to (unmapped ones included). Saving a change re-decides the people it concerns through
 * the sync job (progress on the job dashboard).
 */
import { z } from 'zod';
import { NotFoundError, type Actor, type CliCommand, type PluginEnv } from '@doorman/core';
import { GroupMappingRuleEntity, ORG_ROLES } from '@doorman/model';
import { parseBody } from './http.ts';
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
import { syncIntent } from './sync.ts';

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

export function registerRuleRoutes(env: PluginEnv<unknown>, deps: Pick<ServiceDeps, 'directory'>): void {
  const r = env.http.admin;
  const actorOf = (ctx: { state: { actor?: Actor } }): Actor => ctx.state.actor!;

  /** Saves `change`, records the event and, when groups are concerned, the sync job for their people. */
  const save = (ctx: { state: { actor?: Actor } }, connectionId: string, build: (tx: Parameters<Parameters<typeof env.transaction>[0]>[0]) => Promise<{ change: RuleChange; event: Record<string, { before?: unknown; after?: unknown }>; action: string }>) =>
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
      await env.events.publish(tx, actorOf(ctx), { action, connectionId, target: { type: 'connection', id: connectionId }, changes: { ...event, groupsConcerned: { after: concerned.length } } });
      return { jobId, groupsConcerned: concerned.length };
    });

  r.get('/connections/:connectionId/group-rules', async (ctx) => {
    const connectionId = ctx.params.connectionId!;
    ctx.body = await env.transaction(async (tx) => {
      const orgs = await servedOrgs(tx, connectionId);
      const set = await loadRuleSet(tx, connectionId);
      const name = new Map(orgs.map((o) => [o.id, o.name]));
      return { connectionId, builtinOrgTeam: set.builtinOrgTeam, rules: set.rules.map((rule) => ({ ...rule, org: name.get(rule.orgId) ?? null })) };
    });
  });

  r.post('/connections/:connectionId/group-rules', async (ctx) => {
    const body = parseBody(ruleBody, ctx.request.body);
    const connectionId = ctx.params.connectionId!;
    let created: Awaited<ReturnType<typeof validateRule>> | undefined;
    const result = await save(ctx, connectionId, async (tx) => {
      created = await validateRule(tx, connectionId, newRule(body));
      const { org: _org, ...rule } = created;
      void _org;
      await insertRule(tx, connectionId, rule);
      return { change: { create: rule }, action: 'group_rule.created', event: { rule: { after: rule } } };
    });
    ctx.status = 201;
    ctx.body = { rule: created, ...result };
  });

  r.delete('/connections/:connectionId/group-rules/:ruleId', async (ctx) => {
    const connectionId = ctx.params.connectionId!;
    const ruleId = ctx.params.ruleId!;
    const result = await save(ctx, connectionId, async (tx) => {
      await servedOrgs(tx, connectionId); // 404 for an unknown connection before an unknown rule
      const rule = await findRule(tx, connectionId, ruleId);
      await tx.getRepository(GroupMappingRuleEntity).delete({ id: rule.id });
      return { change: { delete: rule }, action: 'group_rule.deleted', event: { rule: { before: rule } } };
    });
    ctx.body = { deleted: ruleId, ...result };
  });

  r.put('/connections/:connectionId/group-rules/builtin', async (ctx) => {
    const body = parseBody(builtinBody, ctx.request.body);
    const connectionId = ctx.params.connectionId!;
    const result = await save(ctx, connectionId, async (tx) => {
      const before = (await loadRuleSet(tx, connectionId)).builtinOrgTeam;
      await servedOrgs(tx, connectionId);
      await saveBuiltin(tx, connectionId, body.enabled, env.clock.now());
      return { change: { builtinOrgTeam: body.enabled }, action: 'group_rules.builtin_changed', event: { builtinOrgTeam: { before, after: body.enabled } } };
    });
    ctx.body = { builtinOrgTeam: body.enabled, ...result };
  });

  r.post('/connections/:connectionId/group-rules/preview', async (ctx) => {
    const body = parseBody(rulePreviewBody, ctx.request.body);
    const connectionId = ctx.params.connectionId!;
    // Read-only: a transaction only for one consistent snapshot; nothing is locked or written.
    ctx.body = await env.transaction(async (tx) => {
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
    });
  });

  const listGroups = async (connectionId: string) =>
    env.transaction(async (tx) => {
      const orgs = await servedOrgs(tx, connectionId);
      return groupsWithTargets(deps.directory(), tx, connectionId, await loadRuleSet(tx, connectionId), orgs);
    });
  r.get('/connections/:connectionId/groups', async (ctx) => {
    ctx.body = { groups: await listGroups(ctx.params.connectionId!) };
  });
  r.get('/connections/:connectionId/groups/unmapped', async (ctx) => {
    const groups = await listGroups(ctx.params.connectionId!);
    ctx.body = { groups: groups.filter((g) => !g.targets.length).map(({ targets: _t, ...g }) => g) };
  });
  void NotFoundError;
}
