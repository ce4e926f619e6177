/**
 * Role mapping policy: the PURE decision of which organization and team memberships a user should
 * get from the Docker-style attributes `dockerRole`, `dockerOrg`, `dockerTeam` and from the groups
 * they are in, read through the connection's group mapping rules (group-rules.ts). Behaviour and
 * precedence: docs/docker-behaviour.md §3–§4, docs/group-mapping.md, docs/role-precedence.md.
 *
 * No I/O, no clock, no randomness: the caller loads the state (`MappingInput`), this module returns
 * the changes to make (`MappingDecision`), and a service applies them in one transaction. The same
 * function backs the admin dry-runs. Applying the returned changes and deciding again with the same
 * input yields no changes (idempotent).
 *
 * Ownership and provenance: the mapping only removes or changes what it granted itself, that is
 * - org memberships with `connectionId === connection.id` and `source !== 'manual'`;
 * - team memberships with `connectionId === connection.id` and `grantedBy === 'mapping'`;
 * - team memberships granted by groups (`grantedBy === 'group'`) once no group grants them any more
 *   (`current.grants`, the membership_grants rows);
 * and only in organizations the connection serves, and never while another source still grants it.
 * Everything else (admin-added, manual, JIT group claims, another connection's) is never removed and
 * its role is never changed.
 */
import type { MembershipSource, OrgRole } from '@doorman/model';
import { DEFAULT_RULES, higherRole, resolveGroups, type GroupFact, type GroupRuleSet } from './group-rules.ts';
import { blankToNull, isValidTeamName, lastOwnerError, parseDockerRole, seatCheck, TEAM_NAME_RULE } from './policy-values.ts';
import { InputError } from '@doorman/plugin-api';

export { isValidTeamName, parseDockerRole, ROLE_VALUES, TEAM_NAME_PATTERN } from './policy-values.ts';
export { parseGroupName } from './group-rules.ts';

export type MappingFlow = 'scim' | 'jit';
export type TeamGrant = 'mapping' | 'group' | 'admin';

/** One provenance row: group `groupId` (of connection `connectionId`) grants the org (`teamId` null) or a team. */
export interface CurrentGrant {
  orgId: string;
  teamId: string | null;
  connectionId: string | null;
  groupId: string;
  role: OrgRole | null;
}

export interface MappingInput {
  flow: MappingFlow;
  /** JIT only: the user is being provisioned for the first time (ignored for SCIM). */
  firstTime: boolean;
  connection: { id: string; defaultOrgId: string | null; defaultTeam: string | null };
  /** The organizations the connection serves (its tenants). */
  orgs: Array<{ id: string; name: string; seatLimit: number | null; seatsUsed: number; ownerCount: number }>;
  /** Existing teams of those organizations: at least every team the attributes, groups, rules, grants, the default team or the user's memberships name. */
  teams: Array<{ id: string; orgId: string; name: string }>;
  /** The user's current memberships (all of them; the policy filters by ownership). */
  current: {
    orgs: Array<{ orgId: string; role: OrgRole; source: MembershipSource; connectionId: string | null }>;
    teams: Array<{ teamId: string; orgId: string; connectionId: string | null; grantedBy: TeamGrant }>;
    /** The user's group grants, of every connection. */
    grants?: CurrentGrant[];
  };
  /** `groups`: group names known only by name (SAML group claims, dry runs). */
  attributes: { dockerRole?: string | null; dockerOrg?: string | null; dockerTeam?: string | null; groups?: string[] };
  /** The connection's SCIM groups that list the person: what they grant is recorded as provenance. */
  groups?: GroupFact[];
  /** The connection's group mapping rules (default: the built-in rule only). */
  rules?: GroupRuleSet;
}

/**
 * One change to apply. Memberships added are granted by this connection (`connectionId` =
 * connection.id, `source` = the flow); `teamId: null` on a team change means the team created by
 * the preceding `createTeam` with the same org and name.
 */
export type MembershipChange =
  | { kind: 'createTeam'; orgId: string; name: string }
  /** `groupId`: the SCIM group that brings the person into this organization (recorded as grant_ref). */
  | { kind: 'addOrgMembership'; orgId: string; role: OrgRole; groupId?: string }
  | { kind: 'changeRole'; orgId: string; from: OrgRole; to: OrgRole }
  | { kind: 'removeOrgMembership'; orgId: string }
  | { kind: 'addTeamMembership'; orgId: string; teamName: string; teamId: string | null; grantedBy: 'mapping' | 'group'; groupId?: string }
  /** Removes the team membership (never a group-granted one another group still grants, never an admin-granted one). */
  | { kind: 'removeTeamMembership'; orgId: string; teamId: string }
  /** Records that group `groupId` grants the org (`teamName` null) or the team. */
  | { kind: 'addGrant'; orgId: string; teamId: string | null; teamName: string | null; groupId: string; role: OrgRole | null }
  | { kind: 'removeGrant'; orgId: string; teamId: string | null; groupId: string };

export interface MappingDecision {
  /** `dockerOrg`'s organization, else the connection's default organization. */
  effectiveOrgId: string;
  /** The user's role in the effective organization once `changes` are applied. */
  role: OrgRole;
  /** The role the mapping asks for in the effective organization (docs/role-precedence.md); may differ from `role`. */
  mappedRole: OrgRole;
  /** The team the mapping places the user in (dockerTeam or the default team), or null. */
  team: string | null;
  /**
   * Ordered: org adds and role changes, then team creations and team adds, then grant changes,
   * then team removals, then org removals. Apply them in this order.
   */
  changes: MembershipChange[];
  /** Groups that grant nothing: no rule maps them, or their team name is not valid for a new team. */
  ignoredGroups: string[];
}

type Org = MappingInput['orgs'][number];
type CurrentOrg = MappingInput['current']['orgs'][number];
type CurrentTeam = MappingInput['current']['teams'][number];

const key = (orgId: string, teamName: string) => `${orgId}\u0000${teamName.toLowerCase()}`;
/** A grant's identity: org, team key ('' for the org itself), group. */
const grantKey = (orgId: string, teamKey: string, groupId: string) => `${orgId}\u0001${teamKey}\u0001${groupId}`;

/**
 * The role the mapping asks for in one organization (docs/role-precedence.md): in the effective
 * organization an explicit `dockerRole` wins; otherwise the highest role any group's rule gives there;
 * otherwise `member`.
 */
export function desiredRole(explicit: OrgRole | null, isEffectiveOrg: boolean, groupRole: OrgRole | null): OrgRole {
  if (isEffectiveOrg && explicit !== null) return explicit;
  return groupRole ?? 'member';
}

export function decideMemberships(input: MappingInput): MappingDecision {
  const { connection, attributes } = input;
  const jit = input.flow === 'jit';

  // ---- 1. Validate and resolve the attributes ------------------------------------------------
  const explicitRole = blankToNull(attributes.dockerRole) === null ? null : parseDockerRole(attributes.dockerRole);

  const orgById = new Map(input.orgs.map((o) => [o.id, o]));
  const orgByName = new Map(input.orgs.map((o) => [o.name.toLowerCase(), o]));

  const dockerOrg = blankToNull(attributes.dockerOrg);
  let effective: Org;
  if (dockerOrg !== null) {
    const found = orgByName.get(dockerOrg.toLowerCase());
    if (!found) {
      throw new InputError(`dockerOrg '${dockerOrg}' is not an organization served by this SSO connection.`, { scimType: 'invalidValue', field: 'dockerOrg' });
    }
    effective = found;
  } else {
    if (connection.defaultOrgId === null) {
      throw new InputError('connection has no default organization; set dockerOrg', { scimType: 'invalidValue', field: 'dockerOrg' });
    }
    const found = orgById.get(connection.defaultOrgId);
    if (!found) {
      throw new InputError(
        `the connection's default organization '${connection.defaultOrgId}' is not one of the organizations it serves; set dockerOrg or fix the connection`,
        { scimType: 'invalidValue', field: 'dockerOrg' },
      );
    }
    effective = found;
  }

  const teamByKey = new Map(input.teams.map((t) => [key(t.orgId, t.name), t]));
  const teamById = new Map(input.teams.map((t) => [t.id, t]));

  // Groups, through the rules. A group that maps to nothing, or only to a team name that is not
  // valid for a new team, is reported in ignoredGroups (docs/group-mapping.md).
  const facts: GroupFact[] = [...(input.groups ?? []), ...(attributes.groups ?? []).map((displayName) => ({ id: null, externalId: null, displayName }))];
  const resolved = resolveGroups(facts, input.rules ?? DEFAULT_RULES, input.orgs);
  const targets = resolved.targets.filter((t) => t.team === null || teamByKey.has(key(t.orgId, t.team)) || isValidTeamName(t.team));
  const granting = new Set(targets.map((t) => t.group));
  const ignoredGroups: string[] = [];
  for (const g of facts) if (!granting.has(g.displayName) && !ignoredGroups.includes(g.displayName)) ignoredGroups.push(g.displayName);

  const groupTeams: Array<{ orgId: string; name: string }> = [];
  const groupRole = new Map<string, OrgRole | null>();
  for (const t of targets) {
    groupRole.set(t.orgId, higherRole(groupRole.get(t.orgId) ?? null, t.role));
    if (t.team !== null && !groupTeams.some((g) => key(g.orgId, g.name) === key(t.orgId, t.team!))) groupTeams.push({ orgId: t.orgId, name: t.team });
  }
  const mappedRole = desiredRole(explicitRole, true, groupRole.get(effective.id) ?? null);

  // The mapping team: dockerTeam; else the default team, but only when dockerOrg is unset and no
  // group claim maps to a team (group mappings in an assertion replace the default team, as in
  // Docker's JIT). SCIM groups add teams beside the default team (docs/group-mapping.md).
  const dockerTeam = blankToNull(attributes.dockerTeam);
  const claimTeams = targets.some((t) => t.team !== null && t.groupId === null);
  let mappingTeam: string | null = null;
  let usesDefaultTeam = false;
  if (dockerTeam !== null) {
    if (!teamByKey.has(key(effective.id, dockerTeam)) && !isValidTeamName(dockerTeam)) {
      throw new InputError(`Invalid dockerTeam '${dockerTeam}': ${TEAM_NAME_RULE}.`, { scimType: 'invalidValue', field: 'dockerTeam' });
    }
    mappingTeam = dockerTeam;
  } else if (dockerOrg === null && !claimTeams) {
    const def = blankToNull(connection.defaultTeam);
    if (def !== null) {
      if (!teamByKey.has(key(effective.id, def)) && !isValidTeamName(def)) {
        throw new InputError(`Invalid default team '${def}' on the SSO connection: ${TEAM_NAME_RULE}.`, { scimType: 'invalidValue', field: 'defaultTeam' });
      }
      mappingTeam = def;
      usesDefaultTeam = true;
    }
  }

  // ---- 2. Organization memberships ------------------------------------------------------------
  const adds: MembershipChange[] = [];
  const currentOrg = new Map<string, CurrentOrg>();
  for (const m of input.current.orgs) if (!currentOrg.has(m.orgId)) currentOrg.set(m.orgId, m);
  const ownsOrg = (m: CurrentOrg) => m.connectionId === connection.id && m.source !== 'manual';
  const addedOrgs = new Set<string>();

  // The first SCIM group granting each org / team: the provenance recorded on a new membership row.
  const firstGroup = (orgId: string, team: string | null) =>
    targets.find((t) => t.orgId === orgId && t.groupId !== null && (team === null || (t.team !== null && t.team.toLowerCase() === team.toLowerCase())))?.groupId ?? undefined;
  const placeInOrg = (org: Org, wanted: OrgRole, explicit: boolean, groupId?: string): OrgRole => {
    const existing = currentOrg.get(org.id);
    if (existing) {
      // Only SCIM changes roles, and only on memberships this connection granted.
      if (jit || !ownsOrg(existing) || existing.role === wanted) return existing.role;
      if (existing.role === 'owner' && org.ownerCount <= 1) {
        // An explicit dockerRole demoting the last owner is refused; a role that only groups gave
        // stays until another owner exists, so a group change never fails on it (docs/role-precedence.md).
        if (explicit) throw lastOwnerError(org, 'demote', wanted);
        return existing.role;
      }
      adds.push({ kind: 'changeRole', orgId: org.id, from: existing.role, to: wanted });
      return wanted;
    }
    // JIT applies the role only when it first provisions the user; later sign-ins add as member.
    const role = !jit || input.firstTime ? wanted : 'member';
    seatCheck(org);
    adds.push({ kind: 'addOrgMembership', orgId: org.id, role, ...(groupId ? { groupId } : {}) });
    addedOrgs.add(org.id);
    return role;
  };
  // Whether groups speak (or spoke) about the role there: then a last owner's demotion is soft.
  const groupsSpeak = (orgId: string) => groupRole.has(orgId) || (input.current.grants ?? []).some((g) => g.orgId === orgId && g.connectionId === connection.id && g.role !== null);
  const role = placeInOrg(effective, mappedRole, explicitRole !== null || !groupsSpeak(effective.id));
  for (const orgId of new Set(targets.map((t) => t.orgId))) {
    if (orgId !== effective.id) placeInOrg(orgById.get(orgId)!, desiredRole(explicitRole, false, groupRole.get(orgId) ?? null), false, firstGroup(orgId, null));
  }

  // ---- 3. Team memberships (adds) --------------------------------------------------------------
  const heldTeamIds = new Set(input.current.teams.map((t) => t.teamId));
  const createdTeams = new Set<string>();
  const plannedTeams = new Set<string>();
  const addTeam = (orgId: string, name: string, grantedBy: 'mapping' | 'group') => {
    const k = key(orgId, name);
    if (plannedTeams.has(k)) return;
    plannedTeams.add(k);
    const team = teamByKey.get(k);
    if (team && heldTeamIds.has(team.id)) return;
    if (!team && !createdTeams.has(k)) {
      adds.push({ kind: 'createTeam', orgId, name });
      createdTeams.add(k);
    }
    const groupId = grantedBy === 'group' ? firstGroup(orgId, name) : undefined;
    adds.push({ kind: 'addTeamMembership', orgId, teamName: team?.name ?? name, teamId: team?.id ?? null, grantedBy, ...(groupId ? { groupId } : {}) });
  };
  // In JIT the default team comes with a new org membership only ("if the user is not already part
  // of the organization, add them to the default organization and team"); dockerTeam and groups
  // are added on every sign-in.
  if (mappingTeam !== null && !(jit && usesDefaultTeam && !addedOrgs.has(effective.id))) addTeam(effective.id, mappingTeam, 'mapping');
  for (const g of groupTeams) addTeam(g.orgId, g.name, 'group');

  // ---- 4. Provenance: what each SCIM group grants ---------------------------------------------
  const desiredGrants = new Map<string, Extract<MembershipChange, { kind: 'addGrant' }>>();
  for (const t of targets) {
    if (t.groupId === null) continue;
    const orgKey = grantKey(t.orgId, '', t.groupId);
    const prev = desiredGrants.get(orgKey);
    desiredGrants.set(orgKey, { kind: 'addGrant', orgId: t.orgId, teamId: null, teamName: null, groupId: t.groupId, role: higherRole(prev?.role ?? null, t.role) });
    if (t.team !== null) {
      const team = teamByKey.get(key(t.orgId, t.team));
      desiredGrants.set(grantKey(t.orgId, t.team.toLowerCase(), t.groupId), { kind: 'addGrant', orgId: t.orgId, teamId: team?.id ?? null, teamName: team?.name ?? t.team, groupId: t.groupId, role: null });
    }
  }
  const grants = input.current.grants ?? [];
  const teamKeyOf = (g: CurrentGrant) => (g.teamId === null ? '' : (teamById.get(g.teamId)?.name.toLowerCase() ?? null));
  const currentGrantKeys = new Set<string>();
  const grantChanges: MembershipChange[] = [];
  const grantDelta = new Map<string, number>(); // per target (`orgId|teamId`): grants added minus removed
  const target = (orgId: string, teamId: string | null) => `${orgId}|${teamId ?? ''}`;
  for (const g of grants) {
    if (g.connectionId !== connection.id) continue;
    const tk = teamKeyOf(g);
    if (tk === null) continue; // a team we were not told about cannot be compared: leave it alone
    const k = grantKey(g.orgId, tk, g.groupId);
    const want = desiredGrants.get(k);
    if (want && want.role === g.role) {
      currentGrantKeys.add(k);
    } else if (!jit && orgById.has(g.orgId)) {
      grantChanges.push({ kind: 'removeGrant', orgId: g.orgId, teamId: g.teamId, groupId: g.groupId });
      grantDelta.set(target(g.orgId, g.teamId), (grantDelta.get(target(g.orgId, g.teamId)) ?? 0) - 1);
    }
  }
  for (const [k, want] of desiredGrants) {
    if (currentGrantKeys.has(k)) continue;
    grantChanges.push(want);
    if (want.teamId !== null || want.teamName === null) grantDelta.set(target(want.orgId, want.teamId), (grantDelta.get(target(want.orgId, want.teamId)) ?? 0) + 1);
  }
  // A removeGrant and addGrant of one key (a changed role) is a replacement: order removals first.
  grantChanges.sort((a, b) => (a.kind === b.kind ? 0 : a.kind === 'removeGrant' ? -1 : 1));
  adds.push(...grantChanges);

  if (jit) {
    // JIT never removes a team or org membership.
    return { effectiveOrgId: effective.id, role, mappedRole, team: mappingTeam, changes: adds, ignoredGroups };
  }

  // ---- 5. SCIM: remove what no source grants any more -----------------------------------------
  const grantsBefore = (orgId: string, teamId: string | null) => grants.filter((g) => g.orgId === orgId && g.teamId === teamId).length;
  const grantsAfter = (orgId: string, teamId: string | null) => grantsBefore(orgId, teamId) + (grantDelta.get(target(orgId, teamId)) ?? 0);
  const desiredTeams = new Set<string>(groupTeams.map((g) => key(g.orgId, g.name)));
  if (mappingTeam !== null) desiredTeams.add(key(effective.id, mappingTeam));
  const desiredOrgs = new Set<string>([effective.id, ...targets.map((t) => t.orgId)]);

  const removals: MembershipChange[] = [];
  const ownsTeam = (t: CurrentTeam) => t.connectionId === connection.id && t.grantedBy === 'mapping';
  const removedTeamIds = new Set<string>();
  for (const t of input.current.teams) {
    if (!orgById.has(t.orgId) || removedTeamIds.has(t.teamId)) continue;
    const team = teamById.get(t.teamId);
    // A team we were not told about cannot be compared; leave it alone (conservative).
    if (!team || desiredTeams.has(key(team.orgId, team.name))) continue;
    if (grantsAfter(t.orgId, t.teamId) > 0) continue; // another group still grants it
    const groupGranted = t.grantedBy === 'group' && grantsBefore(t.orgId, t.teamId) > 0;
    if (!ownsTeam(t) && !groupGranted) continue;
    removedTeamIds.add(t.teamId);
    removals.push({ kind: 'removeTeamMembership', orgId: t.orgId, teamId: t.teamId });
  }

  for (const m of currentOrg.values()) {
    const org = orgById.get(m.orgId);
    if (!org || !ownsOrg(m) || desiredOrgs.has(m.orgId)) continue;
    if (grantsAfter(m.orgId, null) > 0) continue; // another connection's group still grants it
    // Keep the org membership while the user holds a team membership there that stays (admin,
    // another source): removing the org would take that team away too.
    if (input.current.teams.some((t) => t.orgId === m.orgId && !removedTeamIds.has(t.teamId))) continue;
    if (m.role === 'owner' && org.ownerCount <= 1) throw lastOwnerError(org, 'remove');
    removals.push({ kind: 'removeOrgMembership', orgId: m.orgId });
  }

  return { effectiveOrgId: effective.id, role, mappedRole, team: mappingTeam, changes: [...adds, ...removals], ignoredGroups };
}
