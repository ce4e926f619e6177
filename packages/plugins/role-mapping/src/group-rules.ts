/**
 * Group mapping rules (pure): what a connection's groups grant. A group is whatever the IdP pushed
 * (SCIM `/Groups`, any display name) or named in a SAML assertion; a rule says what it means.
 *
 * - The built-in rule (on unless the connection turns it off): a display name `organization:team`
 *   in an organization the connection serves → that team (Docker's convention; docs/group-mapping.md).
 * - Admin rules: a group matched by its SCIM `id` or `externalId` (exact) or its `displayName`
 *   (whole name, ignoring case, as display names are unique per connection ignoring case) → an
 *   organization, optionally a team and a role.
 *
 * One group may match several rules; each match is a target. A rule naming an organization the
 * connection no longer serves grants nothing. No I/O: the caller loads groups and rules.
 */
import type { OrgRole } from '@doorman/model';

export type GroupRuleMatch = 'id' | 'externalId' | 'displayName';

/** A group as the policy sees it; `id` null for a group known only by name (a SAML group claim). */
export interface GroupFact {
  id: string | null;
  externalId: string | null;
  displayName: string;
}

export interface GroupRule {
  id: string;
  matchBy: GroupRuleMatch;
  matchValue: string;
  orgId: string;
  team: string | null;
  role: OrgRole | null;
}

export interface GroupRuleSet {
  /** The built-in `organization:team` rule. */
  builtinOrgTeam: boolean;
  rules: GroupRule[];
}

export const DEFAULT_RULES: GroupRuleSet = Object.freeze({ builtinOrgTeam: true, rules: [] }) as GroupRuleSet;

/** What one group grants through one rule. */
export interface GroupTarget {
  orgId: string;
  team: string | null;
  role: OrgRole | null;
  /** The group's SCIM id: the provenance recorded for what it grants (null for a name-only group). */
  groupId: string | null;
  group: string;
  /** 'builtin' or the rule's id. */
  via: string;
}

export const ROLE_RANK: Readonly<Record<OrgRole, number>> = Object.freeze({ member: 0, editor: 1, owner: 2 });

/** The higher of two roles (owner > editor > member); null counts as no opinion. */
export function higherRole(a: OrgRole | null, b: OrgRole | null): OrgRole | null {
  if (a === null) return b;
  if (b === null) return a;
  return ROLE_RANK[b] > ROLE_RANK[a] ? b : a;
}

/** Splits an `organization:team` group name at the first `:`; null when either side is empty. */
export function parseGroupName(group: string): { org: string; team: string } | null {
  const i = group.indexOf(':');
  if (i < 0) return null;
  const org = group.slice(0, i).trim();
  const team = group.slice(i + 1).trim();
  return org && team ? { org, team } : null;
}

export function ruleMatches(rule: Pick<GroupRule, 'matchBy' | 'matchValue'>, group: GroupFact): boolean {
  switch (rule.matchBy) {
    case 'id':
      return group.id !== null && group.id === rule.matchValue;
    case 'externalId':
      return group.externalId !== null && group.externalId === rule.matchValue;
    case 'displayName':
      return group.displayName.trim().toLowerCase() === rule.matchValue.trim().toLowerCase();
  }
}

/**
 * The targets of `groups` under `set`, among the organizations the connection serves, and the groups
 * that map to nothing (`unmapped`, in input order, each once).
 */
export function resolveGroups(
  groups: readonly GroupFact[],
  set: GroupRuleSet,
  orgs: ReadonlyArray<{ id: string; name: string }>,
): { targets: GroupTarget[]; unmapped: GroupFact[] } {
  const served = new Set(orgs.map((o) => o.id));
  const orgByName = new Map(orgs.map((o) => [o.name.toLowerCase(), o]));
  const targets: GroupTarget[] = [];
  const unmapped: GroupFact[] = [];
  for (const group of groups) {
    let mapped = false;
    if (set.builtinOrgTeam) {
      const parsed = parseGroupName(group.displayName);
      const org = parsed ? orgByName.get(parsed.org.toLowerCase()) : undefined;
      if (parsed && org) {
        targets.push({ orgId: org.id, team: parsed.team, role: null, groupId: group.id, group: group.displayName, via: 'builtin' });
        mapped = true;
      }
    }
    for (const rule of set.rules) {
      if (!served.has(rule.orgId) || !ruleMatches(rule, group)) continue;
      targets.push({ orgId: rule.orgId, team: rule.team, role: rule.role, groupId: group.id, group: group.displayName, via: rule.id });
      mapped = true;
    }
    if (!mapped) unmapped.push(group);
  }
  return { targets, unmapped };
}

/** Whether a group maps to anything under `set` (for the unmapped-groups listing). */
export function isMapped(group: GroupFact, set: GroupRuleSet, orgs: ReadonlyArray<{ id: string; name: string }>): boolean {
  return resolveGroups([group], set, orgs).targets.length > 0;
}
