import { expect } from 'vitest';
import { InputError, NotAllowedError } from '@doorman/plugin-api';
import type { OrgRole } from '@doorman/model';
import { type MappingDecision, type MappingInput, type MembershipChange } from '../src/policy.ts';

// ---- Fixture -------------------------------------------------------------------------------------
// Connection c1 serves moby (default org, default team "everyone") and whale. acme is another tenant.
export const C1 = 'c1';
export const MOBY = 'o-moby';
export const WHALE = 'o-whale';
export const ACME = 'o-acme';
export const T_EVERYONE = 't-everyone';
export const T_DEV = 't-dev';
export const T_DESK = 't-desk';
export const T_RND = 't-rnd';

export type Current = MappingInput['current'];
export type Attrs = MappingInput['attributes'];
export type OrgPatch = Partial<Omit<MappingInput['orgs'][number], 'id' | 'name'>>;

export interface Opts {
  flow?: 'scim' | 'jit';
  firstTime?: boolean;
  attributes?: Attrs;
  current?: Partial<Current>;
  connection?: Partial<MappingInput['connection']>;
  moby?: OrgPatch;
  whale?: OrgPatch;
}

export function make(o: Opts = {}): MappingInput {
  return {
    flow: o.flow ?? 'scim',
    firstTime: o.firstTime ?? false,
    connection: { id: C1, defaultOrgId: MOBY, defaultTeam: 'everyone', ...o.connection },
    orgs: [
      { id: MOBY, name: 'moby', seatLimit: null, seatsUsed: 10, ownerCount: 2, ...o.moby },
      { id: WHALE, name: 'whale', seatLimit: 50, seatsUsed: 10, ownerCount: 1, ...o.whale },
    ],
    teams: [
      { id: T_EVERYONE, orgId: MOBY, name: 'everyone' },
      { id: T_DEV, orgId: MOBY, name: 'developers' },
      { id: T_RND, orgId: MOBY, name: 'R&D' },
      { id: T_DESK, orgId: WHALE, name: 'desktop' },
    ],
    current: { orgs: [], teams: [], ...o.current },
    attributes: o.attributes ?? {},
  };
}

export const owned = (orgId: string, role: OrgRole, source: 'scim' | 'jit' = 'scim') => ({ orgId, role, source, connectionId: C1 });
export const manual = (orgId: string, role: OrgRole) => ({ orgId, role, source: 'manual' as const, connectionId: null });
export const otherConn = (orgId: string, role: OrgRole) => ({ orgId, role, source: 'scim' as const, connectionId: 'c2' });
export const mappingTeam = (teamId: string, orgId = MOBY) => ({ teamId, orgId, connectionId: C1, grantedBy: 'mapping' as const });
export const groupTeam = (teamId: string, orgId = MOBY) => ({ teamId, orgId, connectionId: C1, grantedBy: 'group' as const });
export const adminTeam = (teamId: string, orgId = MOBY) => ({ teamId, orgId, connectionId: null, grantedBy: 'admin' as const });

export const addOrg = (orgId: string, role: OrgRole): MembershipChange => ({ kind: 'addOrgMembership', orgId, role });
export const changeRole = (orgId: string, from: OrgRole, to: OrgRole): MembershipChange => ({ kind: 'changeRole', orgId, from, to });
export const removeOrg = (orgId: string): MembershipChange => ({ kind: 'removeOrgMembership', orgId });
export const createTeam = (orgId: string, name: string): MembershipChange => ({ kind: 'createTeam', orgId, name });
export const addTeam = (orgId: string, teamName: string, teamId: string | null, grantedBy: 'mapping' | 'group' = 'mapping'): MembershipChange => ({
  kind: 'addTeamMembership',
  orgId,
  teamName,
  teamId,
  grantedBy,
});
export const removeTeam = (teamId: string, orgId = MOBY): MembershipChange => ({ kind: 'removeTeamMembership', orgId, teamId });

/** Applies a decision the way the service will (test double of the applier), then later calls are "later sign-ins". */
export function apply(input: MappingInput, decision: MappingDecision): MappingInput {
  const next: MappingInput = structuredClone(input);
  next.firstTime = false;
  const org = (id: string) => next.orgs.find((o) => o.id === id)!;
  for (const c of decision.changes) {
    switch (c.kind) {
      case 'createTeam':
        next.teams.push({ id: `new:${c.orgId}:${c.name.toLowerCase()}`, orgId: c.orgId, name: c.name });
        break;
      case 'addOrgMembership':
        next.current.orgs.push({ orgId: c.orgId, role: c.role, source: input.flow, connectionId: C1 });
        org(c.orgId).seatsUsed += 1;
        if (c.role === 'owner') org(c.orgId).ownerCount += 1;
        break;
      case 'changeRole': {
        const m = next.current.orgs.find((x) => x.orgId === c.orgId)!;
        expect(m.role).toBe(c.from);
        m.role = c.to;
        if (c.from === 'owner') org(c.orgId).ownerCount -= 1;
        if (c.to === 'owner') org(c.orgId).ownerCount += 1;
        break;
      }
      case 'removeOrgMembership': {
        const m = next.current.orgs.find((x) => x.orgId === c.orgId)!;
        next.current.orgs = next.current.orgs.filter((x) => x !== m);
        org(c.orgId).seatsUsed -= 1;
        if (m.role === 'owner') org(c.orgId).ownerCount -= 1;
        // Removing the org membership drops the user's remaining team memberships there.
        next.current.teams = next.current.teams.filter((t) => t.orgId !== c.orgId);
        break;
      }
      case 'addTeamMembership': {
        const team = c.teamId
          ? next.teams.find((t) => t.id === c.teamId)!
          : next.teams.find((t) => t.orgId === c.orgId && t.name.toLowerCase() === c.teamName.toLowerCase())!;
        expect(team).toBeDefined();
        expect(next.current.orgs.some((m) => m.orgId === c.orgId)).toBe(true); // org membership first
        next.current.teams.push({ teamId: team.id, orgId: c.orgId, connectionId: C1, grantedBy: c.grantedBy });
        break;
      }
      case 'removeTeamMembership':
        next.current.teams = next.current.teams.filter(
          (t) => !(t.teamId === c.teamId && t.connectionId === C1 && t.grantedBy === 'mapping'),
        );
        break;
    }
  }
  return next;
}

// ---- The table -----------------------------------------------------------------------------------
export interface Row {
  name: string;
  input: MappingInput;
  changes?: MembershipChange[];
  role?: OrgRole;
  effectiveOrgId?: string;
  ignoredGroups?: string[];
  error?: { type: typeof InputError | typeof NotAllowedError; field?: string; message: string | RegExp };
}

export const SEATS_MOBY = "Not enough seats in organization 'moby'. Add more seats or contact your administrator.";
export const SEATS_WHALE = "Not enough seats in organization 'whale'. Add more seats or contact your administrator.";
