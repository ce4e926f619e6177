/**
 * Role mapping policy: the PURE decision of which organization and team memberships a user should
 * get from the Docker-style attributes `dockerRole`, `dockerOrg`, `dockerTeam` and from
 * `organization:team` group names (docs: docker-scim-spec.md §3, §2.7, §4).
 *
 * No I/O, no clock, no randomness: the caller loads the state (`MappingInput`), this module returns
 * the changes to make (`MappingDecision`), and a service applies them in one transaction. The same
 * function backs the admin dry-run. Applying the returned changes and deciding again with the same
 * attributes yields no changes (idempotent).
 *
 * Ownership: the mapping only removes or changes what it granted itself, that is
 * - org memberships with `connectionId === connection.id` and `source !== 'manual'`;
 * - team memberships with `connectionId === connection.id` and `grantedBy === 'mapping'`;
 * and only in organizations the connection serves. Everything else (admin-added, manual, granted
 * by a group, granted by another connection) is never removed and its role is never changed.
 */
import type { MembershipSource, OrgRole } from '@doorman/model';
import { InputError, NotAllowedError } from '@doorman/core/errors';

export type MappingFlow = 'scim' | 'jit';
export type TeamGrant = 'mapping' | 'group' | 'admin';

export interface MappingInput {
  flow: MappingFlow;
  /** JIT only: the user is being provisioned for the first time (ignored for SCIM). */
  firstTime: boolean;
  connection: { id: string; defaultOrgId: string | null; defaultTeam: string | null };
  /** The organizations the connection serves (its tenants). */
  orgs: Array<{ id: string; name: string; seatLimit: number | null; seatsUsed: number; ownerCount: number }>;
  /** Existing teams of those organizations: at least every team the attributes, groups, the default team or the user's memberships name. */
  teams: Array<{ id: string; orgId: string; name: string }>;
  /** The user's current memberships (all of them; the policy filters by ownership). */
  current: {
    orgs: Array<{ orgId: string; role: OrgRole; source: MembershipSource; connectionId: string | null }>;
    teams: Array<{ teamId: string; orgId: string; connectionId: string | null; grantedBy: TeamGrant }>;
  };
  attributes: { dockerRole?: string | null; dockerOrg?: string | null; dockerTeam?: string | null; groups?: string[] };
}

/**
 * One change to apply. Memberships added are granted by this connection (`connectionId` =
 * connection.id, `source` = the flow); `teamId: null` means the team created by the preceding
 * `createTeam` with the same org and name.
 */
export type MembershipChange =
  | { kind: 'createTeam'; orgId: string; name: string }
  | { kind: 'addOrgMembership'; orgId: string; role: OrgRole }
  | { kind: 'changeRole'; orgId: string; from: OrgRole; to: OrgRole }
  | { kind: 'removeOrgMembership'; orgId: string }
  | { kind: 'addTeamMembership'; orgId: string; teamName: string; teamId: string | null; grantedBy: 'mapping' | 'group' }
  /** Removes the team membership that this connection's mapping granted (never a group- or admin-granted one). */
  | { kind: 'removeTeamMembership'; orgId: string; teamId: string };

export interface MappingDecision {
  /** `dockerOrg`'s organization, else the connection's default organization. */
  effectiveOrgId: string;
  /** The user's role in the effective organization once `changes` are applied. */
  role: OrgRole;
  /** The role the attributes ask for (`dockerRole`, default `member`); may differ from `role`. */
  mappedRole: OrgRole;
  /** The team the mapping places the user in (dockerTeam or the default team), or null. */
  team: string | null;
  /**
   * Ordered: org adds and role changes, then team creations and team adds, then team removals,
   * then org removals. Apply them in this order.
   */
  changes: MembershipChange[];
  /** Group names that were not used: malformed, an organization the connection does not serve, or an invalid team name. */
  ignoredGroups: string[];
}

export const ROLE_VALUES: readonly OrgRole[] = ['member', 'editor', 'owner'];

/**
 * Team names the mapping may create: 1–100 characters, starting with a letter or digit, then
 * letters, digits, space, `.`, `_` or `-` (no `:` so that `organization:team` stays unambiguous).
 * An existing team is matched by name case-insensitively whatever its name looks like.
 */
export const TEAM_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._ -]{0,99}$/;
const TEAM_NAME_RULE =
  "team names are 1-100 characters, start with a letter or digit, and contain only letters, digits, spaces, '.', '_' and '-'";

export function isValidTeamName(name: string): boolean {
  return TEAM_NAME_PATTERN.test(name);
}

const blankToNull = (v: string | null | undefined): string | null => {
  const t = v?.trim();
  return t ? t : null;
};

/** `dockerRole` → role: trimmed, case-insensitive, unset/empty → `member`; anything else is an InputError. */
export function parseDockerRole(raw: string | null | undefined): OrgRole {
  const value = blankToNull(raw);
  if (value === null) return 'member';
  const role = value.toLowerCase() as OrgRole;
  if (!ROLE_VALUES.includes(role)) {
    throw new InputError(`Invalid dockerRole '${value}': allowed values are ${ROLE_VALUES.join(', ')}.`, {
      scimType: 'invalidValue',
      field: 'dockerRole',
    });
  }
  return role;
}

/** Splits an `organization:team` group name at the first `:`; null when either side is empty. */
export function parseGroupName(group: string): { org: string; team: string } | null {
  const i = group.indexOf(':');
  if (i < 0) return null;
  const org = group.slice(0, i).trim();
  const team = group.slice(i + 1).trim();
  return org && team ? { org, team } : null;
}

type Org = MappingInput['orgs'][number];
type CurrentOrg = MappingInput['current']['orgs'][number];
type CurrentTeam = MappingInput['current']['teams'][number];

const key = (orgId: string, teamName: string) => `${orgId}\u0000${teamName.toLowerCase()}`;

function seatCheck(org: Org): void {
  if (org.seatLimit !== null && org.seatsUsed >= org.seatLimit) {
    throw new NotAllowedError(
      `Not enough seats in organization '${org.name}'. Add more seats or contact your administrator.`,
    );
  }
}

function lastOwnerError(org: Org, what: 'demote' | 'remove', to?: OrgRole): InputError {
  const action =
    what === 'demote'
      ? `change the role of the last owner of organization '${org.name}' to ${to}`
      : `remove the last owner of organization '${org.name}'`;
  return new InputError(
    `Cannot ${action}: an organization must keep at least one owner. Make another member an owner first.`,
    { scimType: 'invalidValue', field: what === 'demote' ? 'dockerRole' : 'dockerOrg' },
  );
}

export function decideMemberships(input: MappingInput): MappingDecision {
  const { connection, attributes } = input;
  const jit = input.flow === 'jit';

  // ---- 1. Validate and resolve the attributes ------------------------------------------------
  const mappedRole = parseDockerRole(attributes.dockerRole);

  const orgById = new Map(input.orgs.map((o) => [o.id, o]));
  const orgByName = new Map(input.orgs.map((o) => [o.name.toLowerCase(), o]));

  const dockerOrg = blankToNull(attributes.dockerOrg);
  let effective: Org;
  if (dockerOrg !== null) {
    const found = orgByName.get(dockerOrg.toLowerCase());
    if (!found) {
      throw new InputError(`dockerOrg '${dockerOrg}' is not an organization served by this SSO connection.`, {
        scimType: 'invalidValue',
        field: 'dockerOrg',
      });
    }
    effective = found;
  } else {
    if (connection.defaultOrgId === null) {
      throw new InputError('connection has no default organization; set dockerOrg', {
        scimType: 'invalidValue',
        field: 'dockerOrg',
      });
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

  // Groups: `organization:team` in a served organization; everything else is ignored and reported.
  const ignoredGroups: string[] = [];
  const groupTeams: Array<{ orgId: string; name: string }> = [];
  const seenGroups = new Set<string>();
  for (const group of attributes.groups ?? []) {
    const parsed = parseGroupName(group);
    const org = parsed ? orgByName.get(parsed.org.toLowerCase()) : undefined;
    if (!parsed || !org || (!teamByKey.has(key(org.id, parsed.team)) && !isValidTeamName(parsed.team))) {
      if (!ignoredGroups.includes(group)) ignoredGroups.push(group);
      continue;
    }
    const k = key(org.id, parsed.team);
    if (seenGroups.has(k)) continue;
    seenGroups.add(k);
    groupTeams.push({ orgId: org.id, name: parsed.team });
  }

  // The mapping team: dockerTeam; else the default team, but only when dockerOrg is unset and no
  // group mapping applies (valid group mappings replace the default team, as in Docker's JIT).
  const dockerTeam = blankToNull(attributes.dockerTeam);
  let mappingTeam: string | null = null;
  let usesDefaultTeam = false;
  if (dockerTeam !== null) {
    if (!teamByKey.has(key(effective.id, dockerTeam)) && !isValidTeamName(dockerTeam)) {
      throw new InputError(`Invalid dockerTeam '${dockerTeam}': ${TEAM_NAME_RULE}.`, {
        scimType: 'invalidValue',
        field: 'dockerTeam',
      });
    }
    mappingTeam = dockerTeam;
  } else if (dockerOrg === null && groupTeams.length === 0) {
    const def = blankToNull(connection.defaultTeam);
    if (def !== null) {
      if (!teamByKey.has(key(effective.id, def)) && !isValidTeamName(def)) {
        throw new InputError(`Invalid default team '${def}' on the SSO connection: ${TEAM_NAME_RULE}.`, {
          scimType: 'invalidValue',
          field: 'defaultTeam',
        });
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

  let role: OrgRole;
  const existing = currentOrg.get(effective.id);
  if (existing) {
    role = existing.role;
    // Only SCIM changes roles, and only on memberships this connection granted.
    if (!jit && ownsOrg(existing) && existing.role !== mappedRole) {
      if (existing.role === 'owner' && effective.ownerCount <= 1) throw lastOwnerError(effective, 'demote', mappedRole);
      adds.push({ kind: 'changeRole', orgId: effective.id, from: existing.role, to: mappedRole });
      role = mappedRole;
    }
  } else {
    // JIT applies dockerRole only when it first provisions the user; later sign-ins add as member.
    role = !jit || input.firstTime ? mappedRole : 'member';
    seatCheck(effective);
    adds.push({ kind: 'addOrgMembership', orgId: effective.id, role });
    addedOrgs.add(effective.id);
  }

  // Organizations named by groups: membership as `member` when missing; roles there are untouched.
  for (const g of groupTeams) {
    if (currentOrg.has(g.orgId) || addedOrgs.has(g.orgId)) continue;
    seatCheck(orgById.get(g.orgId)!);
    adds.push({ kind: 'addOrgMembership', orgId: g.orgId, role: 'member' });
    addedOrgs.add(g.orgId);
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
    adds.push({ kind: 'addTeamMembership', orgId, teamName: team?.name ?? name, teamId: team?.id ?? null, grantedBy });
  };
  // In JIT the default team comes with a new org membership only ("if the user is not already part
  // of the organization, add them to the default organization and team"); dockerTeam and groups
  // are added on every sign-in.
  if (mappingTeam !== null && !(jit && usesDefaultTeam && !addedOrgs.has(effective.id))) {
    addTeam(effective.id, mappingTeam, 'mapping');
  }
  for (const g of groupTeams) addTeam(g.orgId, g.name, 'group');

  if (jit) {
    // JIT never removes a team or org membership.
    return { effectiveOrgId: effective.id, role, mappedRole, team: mappingTeam, changes: adds, ignoredGroups };
  }

  // ---- 4. SCIM: remove what this connection's mapping granted and no longer wants ---------------
  const desiredTeams = new Set<string>(groupTeams.map((g) => key(g.orgId, g.name)));
  if (mappingTeam !== null) desiredTeams.add(key(effective.id, mappingTeam));
  const desiredOrgs = new Set<string>([effective.id, ...groupTeams.map((g) => g.orgId)]);

  const removals: MembershipChange[] = [];
  const ownsTeam = (t: CurrentTeam) => t.connectionId === connection.id && t.grantedBy === 'mapping';
  const removedTeamIds = new Set<string>();
  for (const t of input.current.teams) {
    if (!ownsTeam(t) || !orgById.has(t.orgId)) continue;
    const team = teamById.get(t.teamId);
    // A team we were not told about cannot be compared; leave it alone (conservative).
    if (!team || desiredTeams.has(key(team.orgId, team.name))) continue;
    if (removedTeamIds.has(t.teamId)) continue;
    removedTeamIds.add(t.teamId);
    removals.push({ kind: 'removeTeamMembership', orgId: t.orgId, teamId: t.teamId });
  }

  for (const m of currentOrg.values()) {
    const org = orgById.get(m.orgId);
    if (!org || !ownsOrg(m) || desiredOrgs.has(m.orgId)) continue;
    // Keep the org membership while the user holds a team membership there that the mapping did
    // not grant (admin- or group-granted): removing the org would take that team away too.
    const keepsOtherTeams = input.current.teams.some(
      (t) => t.orgId === m.orgId && !(ownsTeam(t) && removedTeamIds.has(t.teamId)),
    );
    if (keepsOtherTeams) continue;
    if (m.role === 'owner' && org.ownerCount <= 1) throw lastOwnerError(org, 'remove');
    removals.push({ kind: 'removeOrgMembership', orgId: m.orgId });
  }

  return {
    effectiveOrgId: effective.id,
    role,
    mappedRole,
    team: mappingTeam,
    changes: [...adds, ...removals],
    ignoredGroups,
  };
}
