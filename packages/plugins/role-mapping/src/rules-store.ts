/**
 * Group mapping rules and settings per connection (role mapping's tables), the groups a rule change
 * concerns, and its dry run: how many people would gain or lose which membership.
 * docs/group-mapping.md.
 */
import type { EntityManager } from 'typeorm';
import { defineError, InputError, isRefusal, NotFoundError, type DirectoryGroup, type GroupDirectory } from '@doorman/plugin-api';
import { GroupMappingRuleEntity, GroupMappingSettingsEntity, SsoConnectionEntity, type GroupMappingRule, type OrgRole, newRowId } from '@doorman/model';
import { isMembershipChange } from './apply-changes.ts';
import { parseGroupName, resolveGroups, ruleMatches, type GroupRule, type GroupRuleMatch, type GroupRuleSet } from './group-rules.ts';
import { isValidTeamName } from './policy.ts';
import { grantHolders, previewMapping, storedAttributes, type ServiceDeps } from './service.ts';

/** 409: a rule already maps this group to this organization and team. */
const RuleExists = defineError('DMN_ROLE_MAPPING_RULE_EXISTS', 409);

export interface NewRule {
  matchBy: GroupRuleMatch;
  matchValue: string;
  /** An organization id or name. */
  org: string;
  team: string | null;
  role: OrgRole | null;
}

type ServedOrg = { id: string; name: string };

export async function servedOrgs(tx: EntityManager, connectionId: string): Promise<ServedOrg[]> {
  const connection = await tx.getRepository(SsoConnectionEntity).findOne({ where: { id: connectionId }, select: { id: true } });
  if (!connection) throw new NotFoundError(`SSO connection '${connectionId}' not found`, { field: 'connectionId' });
  return tx.query('SELECT o.id AS id, o.name AS name FROM connection_orgs co JOIN organizations o ON o.id = co.org_id WHERE co.connection_id = ? ORDER BY o.id', [connectionId]);
}

export async function loadRuleSet(tx: EntityManager, connectionId: string): Promise<GroupRuleSet> {
  const [settings, rows] = await Promise.all([
    tx.getRepository(GroupMappingSettingsEntity).findOneBy({ connectionId }),
    tx.getRepository(GroupMappingRuleEntity).find({ where: { connectionId }, order: { id: 'ASC' } }),
  ]);
  return { builtinOrgTeam: settings?.builtinOrgTeam ?? true, rules: rows.map(toRule) };
}

const toRule = (r: GroupMappingRule): GroupRule => ({ id: r.id, matchBy: r.matchBy, matchValue: r.matchValue, orgId: r.orgId, team: r.team, role: r.role });

/** Checks a new rule against the connection (organization served, team name usable) and returns it, not yet saved. */
export async function validateRule(tx: EntityManager, connectionId: string, input: NewRule): Promise<GroupRule & { org: string }> {
  const orgs = await servedOrgs(tx, connectionId);
  const org = orgs.find((o) => o.id === input.org) ?? orgs.find((o) => o.name.toLowerCase() === input.org.trim().toLowerCase());
  if (!org) throw new InputError(`organization '${input.org}' is not one this connection serves`, { field: 'org' });
  let team = input.team?.trim() || null;
  if (team !== null) {
    const [existing]: Array<{ name: string }> = await tx.query('SELECT name FROM teams WHERE org_id = ? AND name_lc = ?', [org.id, team.toLowerCase()]);
    if (existing) team = existing.name;
    else if (!isValidTeamName(team)) {
      throw new InputError(`team '${team}' does not exist and is not a valid name for a new team (1-100 letters, digits, spaces, '.', '_' or '-')`, { field: 'team' });
    }
  }
  return { id: newRowId(), matchBy: input.matchBy, matchValue: input.matchValue.trim(), orgId: org.id, team, role: input.role, org: org.name };
}

export async function insertRule(tx: EntityManager, connectionId: string, rule: GroupRule): Promise<void> {
  const same = await tx.getRepository(GroupMappingRuleEntity).find({ where: { connectionId, matchBy: rule.matchBy, orgId: rule.orgId } });
  const dup = same.find((r) => r.matchValue.toLowerCase() === rule.matchValue.toLowerCase() && (r.team ?? '').toLowerCase() === (rule.team ?? '').toLowerCase());
  if (dup) throw new RuleExists(`rule ${dup.id} already maps this group to this organization and team`, { field: 'group' });
  await tx.getRepository(GroupMappingRuleEntity).insert({ ...rule, connectionId });
}

export async function findRule(tx: EntityManager, connectionId: string, ruleId: string): Promise<GroupRule> {
  const row = await tx.getRepository(GroupMappingRuleEntity).findOneBy({ id: ruleId, connectionId });
  if (!row) throw new NotFoundError(`group rule '${ruleId}' not found on this connection`, { field: 'ruleId' });
  return toRule(row);
}

export async function saveBuiltin(tx: EntityManager, connectionId: string, enabled: boolean, now: Date): Promise<void> {
  const repo = tx.getRepository(GroupMappingSettingsEntity);
  if (await repo.findOneBy({ connectionId })) await repo.update({ connectionId }, { builtinOrgTeam: enabled, updatedAt: now });
  else await repo.insert({ connectionId, builtinOrgTeam: enabled, updatedAt: now });
}

/** The change a rule request makes to the rule set (exactly one of the three). */
export type RuleChange = { create: GroupRule } | { delete: GroupRule } | { builtinOrgTeam: boolean };

export function applyRuleChange(set: GroupRuleSet, change: RuleChange): GroupRuleSet {
  if ('create' in change) return { ...set, rules: [...set.rules, change.create] };
  if ('delete' in change) return { ...set, rules: set.rules.filter((r) => r.id !== change.delete.id) };
  return { ...set, builtinOrgTeam: change.builtinOrgTeam };
}

/** The connection's groups a rule change can affect: those the changed rule (or the built-in rule) matches. */
export function groupsConcerned(groups: readonly DirectoryGroup[], change: RuleChange, orgs: readonly ServedOrg[]): DirectoryGroup[] {
  if ('builtinOrgTeam' in change) {
    const names = new Set(orgs.map((o) => o.name.toLowerCase()));
    return groups.filter((g) => {
      const parsed = parseGroupName(g.displayName);
      return parsed !== null && names.has(parsed.org.toLowerCase());
    });
  }
  const rule = 'create' in change ? change.create : change.delete;
  return groups.filter((g) => ruleMatches(rule, g));
}

/** Every group of the connection with what it maps to under `set` (empty `targets`: unmapped). */
export async function groupsWithTargets(directory: GroupDirectory | null, tx: EntityManager, connectionId: string, set: GroupRuleSet, orgs: readonly ServedOrg[]) {
  const groups = directory ? await directory.listGroups(tx, connectionId) : [];
  const orgName = new Map(orgs.map((o) => [o.id, o.name]));
  return groups.map((g) => ({
    ...g,
    targets: resolveGroups([g], set, orgs).targets.map((t) => ({ org: orgName.get(t.orgId) ?? t.orgId, orgId: t.orgId, team: t.team, role: t.role, via: t.via })),
  }));
}

export interface RulePreview {
  /** People the change concerns (members of the groups concerned and holders of their grants). */
  people: number;
  /** Of those, people whose memberships would change. */
  changedPeople: number;
  gains: Array<{ org: string; team: string | null; role?: OrgRole; people: number }>;
  losses: Array<{ org: string; team: string | null; people: number }>;
  roleChanges: Array<{ org: string; from: OrgRole; to: OrgRole; people: number }>;
  /** People the policy would refuse (a bad stored attribute, seats, last owner), first 20. */
  refused: Array<{ userId: string; message: string }>;
  groups: Array<{ id: string; displayName: string }>;
}

/** Dry run of a rule change: decides every person concerned with the proposed rules, read-only. */
export async function previewRuleChange(
  deps: Pick<ServiceDeps, 'directory'>,
  tx: EntityManager,
  connectionId: string,
  proposed: GroupRuleSet,
  groups: DirectoryGroup[],
): Promise<RulePreview> {
  const groupIds = groups.map((g) => g.id);
  const directory = deps.directory();
  const people = new Set<string>();
  if (groupIds.length) {
    for (const id of directory ? await directory.membersOf(tx, connectionId, groupIds, '', 1_000_000) : []) people.add(id);
    for (const id of await grantHolders(tx, groupIds, '', 1_000_000)) people.add(id);
  }
  const count = new Map<string, { entry: Record<string, unknown>; people: number }>();
  const bump = (k: string, entry: Record<string, unknown>) => {
    const c = count.get(k) ?? { entry, people: 0 };
    c.people += 1;
    count.set(k, c);
  };
  const result: RulePreview = { people: 0, changedPeople: 0, gains: [], losses: [], roleChanges: [], refused: [], groups: groups.map((g) => ({ id: g.id, displayName: g.displayName })) };
  for (const userId of [...people].sort()) {
    const stored = await storedAttributes(tx, connectionId, userId);
    if (!stored?.active) continue;
    result.people += 1;
    try {
      const r = await previewMapping(deps, tx, { connectionId, userId, attributes: stored.attributes, flow: 'scim', rules: proposed });
      const changes = r.changes.filter(isMembershipChange);
      if (changes.length) result.changedPeople += 1;
      for (const c of changes) {
        if (c.kind === 'addOrgMembership') bump(`g\0${c.org}\0`, { kind: 'gain', org: c.org, team: null, role: c.role });
        else if (c.kind === 'addTeamMembership') bump(`g\0${c.org}\0${c.team}`, { kind: 'gain', org: c.org, team: c.team });
        else if (c.kind === 'removeOrgMembership') bump(`l\0${c.org}\0`, { kind: 'loss', org: c.org, team: null });
        else if (c.kind === 'removeTeamMembership') bump(`l\0${c.org}\0${c.team}`, { kind: 'loss', org: c.org, team: c.team });
        else if (c.kind === 'changeRole') bump(`r\0${c.org}\0${c.from}\0${c.to}`, { kind: 'role', org: c.org, from: c.from, to: c.to });
      }
    } catch (err) {
      if (!isRefusal(err)) throw err;
      if (result.refused.length < 20) result.refused.push({ userId, message: err.message });
    }
  }
  for (const { entry, people: n } of count.values()) {
    const { kind, ...rest } = entry;
    if (kind === 'gain') result.gains.push({ ...(rest as { org: string; team: string | null; role?: OrgRole }), people: n });
    else if (kind === 'loss') result.losses.push({ ...(rest as { org: string; team: string | null }), people: n });
    else result.roleChanges.push({ ...(rest as { org: string; from: OrgRole; to: OrgRole }), people: n });
  }
  return result;
}
