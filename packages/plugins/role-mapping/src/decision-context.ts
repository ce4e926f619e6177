/**
 * The inputs of a role-mapping decision, as recorded on each change's audit event (`context`), so that
 * explain can say why a membership was added, a role set or a team joined (docs/people-and-explain.md,
 * "Causal links"). Pure: built from the policy's input and decision. Attribute values and group names
 * are the IdP's (never secrets); nothing of the request body beyond the mapping attributes is kept.
 */
import { resolveGroups } from './group-rules.ts';
import type { MappingDecision, MappingInput, MembershipChange } from './policy.ts';

/** Which input decided a change. */
export type DecidingRule =
  | 'dockerOrg'
  | 'defaultOrganization'
  | 'dockerRole'
  | 'groupRole'
  | 'defaultRole'
  | 'dockerTeam'
  | 'defaultTeam'
  | 'group'
  | 'noLongerGranted';

export interface DecisionContext {
  rule: DecidingRule;
  flow: 'scim' | 'jit';
  /** JIT: the person's first provisioning through the connection (SCIM: always false). */
  firstTime: boolean;
  inputs: { dockerRole: string | null; dockerOrg: string | null; dockerTeam: string | null; groups: string[] };
  /** The group (and the rule reading it: `builtin` or a group mapping rule's id) when a group decided it. */
  group?: { id: string | null; name: string; via: string };
  /** The organization's limits as read for the decision: seats, owners. */
  org?: { id: string; name: string; seatLimit: number | null; seatsUsed: number; ownerCount: number };
  mappedRole: string;
  role: string;
}

const opt = <K extends string, V>(key: K, value: V | undefined) => (value === undefined ? {} : ({ [key]: value } as Record<K, V>));

/** A function giving each change of `decision` its context. */
export function decisionContexts(input: MappingInput, decision: MappingDecision): (change: MembershipChange) => DecisionContext {
  const groups = input.groups ?? [];
  const targets = resolveGroups(groups, input.rules ?? { builtinOrgTeam: true, rules: [] }, input.orgs).targets;
  const inputs = {
    dockerRole: input.attributes.dockerRole ?? null,
    dockerOrg: input.attributes.dockerOrg ?? null,
    dockerTeam: input.attributes.dockerTeam ?? null,
    groups: [...(input.attributes.groups ?? []), ...groups.map((g) => g.displayName)],
  };
  const roleFromAttribute = inputs.dockerRole !== null && inputs.dockerRole.trim() !== '' && (input.flow === 'scim' || input.firstTime);
  /** The group target behind a change: by the SCIM group id, else (a JIT claim) by team name, else (a role) any role-giving group there. */
  const groupOf = (orgId: string, by: { groupId?: string; team?: string; role?: boolean }) => {
    const inOrg = targets.filter((t) => t.orgId === orgId);
    const t = by.groupId
      ? inOrg.find((x) => x.groupId === by.groupId)
      : by.team !== undefined
        ? inOrg.find((x) => x.team !== null && x.team.toLowerCase() === by.team!.toLowerCase())
        : inOrg.find((x) => x.role !== null);
    return t ? { id: t.groupId, name: t.group, via: t.via } : undefined;
  };
  const orgOf = (orgId: string) => {
    const o = input.orgs.find((x) => x.id === orgId);
    return o ? { id: o.id, name: o.name, seatLimit: o.seatLimit, seatsUsed: o.seatsUsed, ownerCount: o.ownerCount } : undefined;
  };
  const roleRule = (orgId: string): DecidingRule => {
    if (orgId === decision.effectiveOrgId && roleFromAttribute) return 'dockerRole';
    return targets.some((t) => t.orgId === orgId && t.role !== null) ? 'groupRole' : 'defaultRole';
  };
  return (change) => {
    const base = { flow: input.flow, firstTime: input.flow === 'jit' ? input.firstTime : false, inputs, mappedRole: decision.mappedRole, role: decision.role };
    const org = orgOf(change.orgId);
    const withOrg = org ? { org } : {};
    switch (change.kind) {
      case 'addOrgMembership': {
        if (change.groupId) return { ...base, rule: 'group', ...opt('group', groupOf(change.orgId, { groupId: change.groupId })), ...withOrg };
        return { ...base, rule: inputs.dockerOrg ? 'dockerOrg' : 'defaultOrganization', ...withOrg };
      }
      case 'changeRole': {
        const rule = roleRule(change.orgId);
        return { ...base, rule, ...opt('group', rule === 'groupRole' ? groupOf(change.orgId, { role: true }) : undefined), ...withOrg };
      }
      case 'createTeam':
      case 'addTeamMembership': {
        const team = change.kind === 'createTeam' ? change.name : change.teamName;
        const group = groupOf(change.orgId, change.kind === 'addTeamMembership' && change.groupId ? { groupId: change.groupId } : { team });
        const byGroup = change.kind === 'addTeamMembership' ? change.grantedBy === 'group' : group !== undefined && (inputs.dockerTeam ?? input.connection.defaultTeam)?.toLowerCase() !== team.toLowerCase();
        if (byGroup) return { ...base, rule: 'group', ...opt('group', group), ...withOrg };
        return { ...base, rule: inputs.dockerTeam ? 'dockerTeam' : 'defaultTeam', ...withOrg };
      }
      default:
        return { ...base, rule: 'noLongerGranted', ...withOrg };
    }
  };
}
