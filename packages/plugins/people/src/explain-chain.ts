/**
 * Explain: the causal chain behind a person's memberships, built from their audit events and current
 * memberships (docs/people-and-explain.md, "Explain"). PURE: no I/O, no clock; the route loads the
 * events (src/explain.ts) and this module orders, groups, filters and words them.
 *
 * Events are grouped by what caused them: a job's events by job id, a request's by request id, anything
 * else alone. Within a group the IdP request (or the deactivation, the refused sign-in, the job) comes
 * first, then the role-mapping decision (the inputs recorded on the first change's `context`), the
 * changes, and the sessions ended. Every step names its audit event id (a decision step names the event
 * that records it), so the chain can be checked against the hash chain (`doorman audit verify`).
 */
import type { GrantVia } from '@doorman/model';
import {
  groupCreated,
  groupDeleted,
  groupMembersAdded,
  groupMembersRemoved,
  groupUpdated,
  jitProvisioned,
  memberAdded,
  memberRemoved,
  memberRoleChanged,
  ssoSessionsEnded,
  ssoSignInDenied,
  ssoSignedIn,
  teamCreated,
  teamMemberAdded,
  teamMemberRemoved,
  userCreated,
  userDeactivated,
  userDeleted,
  userDeprovisioned,
  userLinked,
  userReactivated,
  userUpdated,
} from '@doorman/plugin-api';

export interface ExplainEvent {
  id: string;
  seq: number;
  occurredAt: string;
  action: string;
  orgId: string | null;
  connectionId: string | null;
  actorType: string;
  actorId: string | null;
  requestId: string | null;
  jobId: string | null;
  causeId: string | null;
  targetType: string | null;
  targetId: string | null;
  changes: Record<string, { before?: unknown; after?: unknown }> | null;
  context: Record<string, unknown> | null;
  sealed: boolean;
}

export type StepKind = 'idp_request' | 'admin_request' | 'decision' | 'change' | 'job' | 'sessions_ended' | 'deactivation' | 'refused_sign_in' | 'not_served';

export interface ExplainStep {
  n: number;
  kind: StepKind;
  at: string;
  eventId: string;
  action: string;
  summary: string;
  connectionId: string | null;
  orgId: string | null;
  teamId: string | null;
  requestId: string | null;
  jobId: string | null;
  /** The event this step follows from: its recorded cause, else the first step of its group. */
  follows: string | null;
  details: Record<string, unknown>;
  sealed: boolean;
}

interface Provenance {
  via: GrantVia;
  connectionId: string | null;
  ref: string | null;
}
export interface ExplainInput {
  person: { id: string; email: string };
  events: ExplainEvent[];
  memberships: {
    orgs: Array<{ orgId: string; org: string | null; role: string; provenance: Provenance; since: string }>;
    teams: Array<{ teamId: string; team: string | null; orgId: string; org: string | null; provenance: Provenance; since: string }>;
  };
  names: { connections: Record<string, string>; orgs: Record<string, string>; teams: Record<string, string>; groups?: Record<string, string> };
  /** org/team asked about; `servingConnections`: the connections that serve the organization. */
  filter?: { orgId?: string; teamId?: string; servingConnections?: string[] };
}

export interface Explanation {
  person: { id: string; email: string };
  org: { id: string; name: string | null } | null;
  team: { id: string; name: string | null } | null;
  /** The answer now: memberships (filtered) with their provenance. */
  now: {
    organizations: ExplainInput['memberships']['orgs'];
    teams: ExplainInput['memberships']['teams'];
    summary: string;
  };
  chain: ExplainStep[];
  /** The numbers (`n`) of the chain's steps that keep the person out: refusals, deactivations, organizations not served. */
  whyNot: number[];
}

const ROOTS: Record<string, StepKind> = {
  [userCreated.action]: 'idp_request',
  [userLinked.action]: 'idp_request',
  [userUpdated.action]: 'idp_request',
  [userReactivated.action]: 'idp_request',
  [groupCreated.action]: 'idp_request',
  [groupUpdated.action]: 'idp_request',
  [groupMembersAdded.action]: 'idp_request',
  [groupMembersRemoved.action]: 'idp_request',
  [groupDeleted.action]: 'idp_request',
  [ssoSignedIn.action]: 'idp_request',
  [jitProvisioned.action]: 'idp_request',
  [userDeactivated.action]: 'deactivation',
  [userDeleted.action]: 'deactivation',
  [ssoSignInDenied.action]: 'refused_sign_in',
  [userDeprovisioned.action]: 'job',
};
const CHANGES = new Set<string>([memberAdded, memberRoleChanged, memberRemoved, teamCreated, teamMemberAdded, teamMemberRemoved].map((d) => d.action));
const ORDER: Record<StepKind, number> = { job: 0, deactivation: 1, refused_sign_in: 1, idp_request: 1, admin_request: 1, not_served: 2, decision: 3, change: 4, sessions_ended: 5 };

const after = (e: ExplainEvent, k: string) => e.changes?.[k]?.after;
const before = (e: ExplainEvent, k: string) => e.changes?.[k]?.before;
const str = (v: unknown) => (v === null || v === undefined || v === '' ? null : String(v));
const teamOf = (e: ExplainEvent) => str(after(e, 'teamId') ?? before(e, 'teamId')) ?? (e.targetType === 'team' ? e.targetId : null);

function kindOf(e: ExplainEvent): StepKind | null {
  if (ROOTS[e.action]) return ROOTS[e.action]!;
  if (CHANGES.has(e.action)) return 'change';
  if (e.action === ssoSessionsEnded.action) return 'sessions_ended';
  return null;
}

/** Builds the explanation. Events of other people, or of no interest to a membership, are ignored. */
export function buildExplanation(input: ExplainInput): Explanation {
  const { names, filter = {} } = input;
  const conn = (id: string | null) => (id ? (names.connections[id] ?? id) : 'no connection');
  const org = (id: string | null) => (id ? (names.orgs[id] ?? id) : '?');
  // A group by its display name: as named by the events themselves, else as stored.
  const groupNames: Record<string, string> = { ...names.groups };
  for (const e of input.events) {
    const n = str(after(e, 'displayName') ?? before(e, 'displayName'));
    if (e.targetType === 'group' && e.targetId && n) groupNames[e.targetId] = n;
  }
  const group = (id: string | null) => (id ? `'${groupNames[id] ?? id}'` : '?');
  const serving = filter.servingConnections ? new Set(filter.servingConnections) : null;
  const relevant = (e: ExplainEvent, kind: StepKind): boolean => {
    if (!filter.orgId) return true;
    if (kind === 'change') {
      if (e.orgId !== filter.orgId) return false;
      if (!filter.teamId) return true;
      const team = teamOf(e);
      return team === null ? e.action.startsWith('member.') : team === filter.teamId;
    }
    // Person-level events (SCIM user, sign-in, deactivation): those of connections that serve the organization.
    return e.orgId === filter.orgId || (e.connectionId !== null && (serving?.has(e.connectionId) ?? false));
  };

  const sorted = [...input.events].sort((a, b) => a.seq - b.seq);
  const groups = new Map<string, ExplainEvent[]>();
  for (const e of sorted) {
    if (!kindOf(e)) continue;
    const key = e.jobId ? `job:${e.jobId}` : e.requestId ? `request:${e.requestId}` : `event:${e.id}`;
    groups.set(key, [...(groups.get(key) ?? []), e]);
  }

  const chain: ExplainStep[] = [];
  const whyNot: number[] = [];
  const push = (s: Omit<ExplainStep, 'n'>) => {
    const step = { n: chain.length + 1, ...s };
    chain.push(step);
    if (s.kind === 'refused_sign_in' || s.kind === 'deactivation' || s.kind === 'not_served') whyNot.push(step.n);
    return step;
  };
  const base = (e: ExplainEvent, kind: StepKind, follows: string | null, summary: string, details: Record<string, unknown> = {}): Omit<ExplainStep, 'n'> => ({
    kind,
    at: e.occurredAt,
    eventId: e.id,
    action: e.action,
    summary,
    connectionId: e.connectionId,
    orgId: e.orgId,
    teamId: kind === 'change' ? teamOf(e) : null,
    requestId: e.requestId,
    jobId: e.jobId,
    follows: e.causeId ?? follows,
    details,
    sealed: e.sealed,
  });

  for (const events of groups.values()) {
    const kept = events.map((e) => ({ e, kind: kindOf(e)! })).filter((x) => relevant(x.e, x.kind));
    if (!kept.length) continue;
    kept.sort((a, b) => ORDER[a.kind] - ORDER[b.kind] || a.e.seq - b.e.seq);
    const root = kept[0]!.kind === 'change' ? null : kept[0]!.e.id;
    let decided = false;
    for (const { e, kind } of kept) {
      const follows = e.id === root ? null : root;
      if (kind === 'change' && !decided && e.context) {
        decided = true;
        push({ ...base(e, 'decision', follows, decisionSummary(e.context, org), decisionDetails(e.context)), orgId: e.orgId, teamId: null });
      }
      if (kind === 'change' && e.actorType === 'admin_token' && !root) {
        push(base(e, 'admin_request', null, `admin request (token ${e.actorId ?? '?'})`));
      }
      push(base(e, kind, follows, summarize(e, kind, conn, org, group), detailsOf(e, kind)));
      if (kind === 'refused_sign_in' && e.context?.field === 'dockerOrg') {
        push(base(e, 'not_served', e.id, `the dockerOrg sent is not an organization ${conn(e.connectionId)} serves`, { detail: e.context.detail ?? null }));
      }
    }
  }

  const orgs = input.memberships.orgs.filter((m) => !filter.orgId || m.orgId === filter.orgId);
  const teams = input.memberships.teams.filter((m) => (!filter.orgId || m.orgId === filter.orgId) && (!filter.teamId || m.teamId === filter.teamId));
  return {
    person: input.person,
    org: filter.orgId ? { id: filter.orgId, name: names.orgs[filter.orgId] ?? null } : null,
    team: filter.teamId ? { id: filter.teamId, name: names.teams[filter.teamId] ?? null } : null,
    now: { organizations: orgs, teams, summary: nowSummary(input, orgs, teams, conn) },
    chain,
    whyNot,
  };
}

function nowSummary(input: ExplainInput, orgs: ExplainInput['memberships']['orgs'], teams: ExplainInput['memberships']['teams'], conn: (id: string | null) => string): string {
  const { filter = {}, names } = input;
  const grant = (p: Provenance) => (p.via === 'admin' ? 'by an admin' : `by ${conn(p.connectionId)} (${p.via.replace('_', ' ')}${p.ref ? ` ${p.ref}` : ''})`);
  if (filter.teamId) {
    const t = teams[0];
    const name = names.teams[filter.teamId] ?? filter.teamId;
    return t ? `in team ${name}, granted ${grant(t.provenance)} since ${t.since}` : `not in team ${name}`;
  }
  if (filter.orgId) {
    const m = orgs[0];
    const name = names.orgs[filter.orgId] ?? filter.orgId;
    return m ? `in ${name} as ${m.role}, granted ${grant(m.provenance)} since ${m.since}` : `not in ${name}`;
  }
  if (!orgs.length) return 'in no organization';
  return orgs.map((m) => `${m.org ?? m.orgId} as ${m.role}`).join(', ');
}

type Name = (id: string | null) => string;
function summarize(e: ExplainEvent, kind: StepKind, conn: Name, org: Name, group: Name): string {
  const via = conn(e.connectionId);
  const req = e.requestId ? ` (request ${e.requestId})` : '';
  const team = str(after(e, 'team') ?? before(e, 'team'));
  switch (e.action) {
    case userCreated.action:
    case userLinked.action:
    case userUpdated.action:
    case userReactivated.action: {
      const verb = { [userCreated.action]: 'provisioned', [userLinked.action]: 'linked to the existing account', [userUpdated.action]: 'updated', [userReactivated.action]: 'reactivated' }[e.action];
      return `SCIM: ${via} ${verb}${req}`;
    }
    case groupMembersAdded.action:
      return `SCIM: ${via} added ${after(e, 'count') ?? '?'} member(s) to group ${group(e.targetId)}${req}`;
    case groupMembersRemoved.action:
      return `SCIM: ${via} removed ${after(e, 'count') ?? '?'} member(s) from group ${group(e.targetId)}${req}`;
    case groupCreated.action:
    case groupUpdated.action:
    case groupDeleted.action:
      return `SCIM: ${via} ${e.action.slice(6)} group ${group(e.targetId)}${req}`;
    case ssoSignedIn.action:
      return `SSO sign-in through ${via}${req}`;
    case jitProvisioned.action:
      return `JIT provisioning at sign-in through ${via}${after(e, 'firstTime') ? ' (first time)' : ''}${req}`;
    case userDeactivated.action:
      return `SCIM: ${via} deactivated the person${req}`;
    case userDeleted.action:
      return `SCIM: ${via} deleted the person${req}`;
    case ssoSignInDenied.action:
      return `sign-in refused through ${via}: ${str(after(e, 'reason')) ?? 'refused'}${req}`;
    case userDeprovisioned.action:
      return `job ${e.jobId ?? '(no id)'}: removed ${after(e, 'memberships') ?? 0} membership(s), ended ${after(e, 'sessions') ?? 0} session(s) from ${via}`;
    case ssoSessionsEnded.action:
      return `${after(e, 'sessions') ?? '?'} SSO session(s) ended (${str(after(e, 'scope')) ?? 'connection'} scope)`;
    case memberAdded.action:
      return `membership added: ${org(e.orgId)} as ${str(after(e, 'role'))}${rule(e)}`;
    case memberRoleChanged.action:
      return `role set in ${org(e.orgId)}: ${str(before(e, 'role'))} → ${str(after(e, 'role'))}${rule(e)}`;
    case memberRemoved.action:
      return `membership removed: ${org(e.orgId)} (was ${str(before(e, 'role'))})${e.jobId ? ` by job ${e.jobId}` : ''}`;
    case teamCreated.action:
      return `team created: ${org(e.orgId)}/${str(after(e, 'name'))}`;
    case teamMemberAdded.action:
      return `team added: ${org(e.orgId)}/${team}${rule(e)}`;
    case teamMemberRemoved.action:
      return `team removed: ${org(e.orgId)}/${team}${e.jobId ? ` by job ${e.jobId}` : ''}`;
    default:
      return `${e.action}${kind === 'change' ? '' : req}`;
  }
}

const rule = (e: ExplainEvent) => {
  const c = e.context;
  if (!c?.rule) return '';
  const g = c.group as { name?: string; via?: string } | undefined;
  return ` (rule ${String(c.rule)}${g?.name ? `: group ${g.name}${g.via && g.via !== 'builtin' ? ` via rule ${g.via}` : ''}` : ''})`;
};

function decisionSummary(c: Record<string, unknown>, org: (id: string | null) => string): string {
  const inputs = (c.inputs ?? {}) as Record<string, unknown>;
  const shown = ['dockerRole', 'dockerOrg', 'dockerTeam'].map((k) => `${k}=${inputs[k] ?? '—'}`);
  const groups = Array.isArray(inputs.groups) && inputs.groups.length ? `, groups=[${inputs.groups.join(', ')}]` : '';
  const o = c.org as { id?: string; seatLimit?: number | null; seatsUsed?: number; ownerCount?: number } | undefined;
  // Counts are read only where the policy needs them (a seat limit; an owner demoted): shown only then.
  const counts = o ? [o.seatLimit != null ? `seats ${o.seatsUsed ?? '?'}/${o.seatLimit}` : null, o.ownerCount ? `owners ${o.ownerCount}` : null].filter(Boolean) : [];
  const limits = o && counts.length ? `; ${org(o.id ?? null)}: ${counts.join(', ')}` : '';
  const when = c.flow === 'jit' ? (c.firstTime ? 'JIT, first sign-in' : 'JIT, later sign-in') : 'SCIM';
  return `role mapping (${when}): ${shown.join(', ')}${groups}; mapped role ${String(c.mappedRole ?? '?')}${limits}`;
}

function decisionDetails(c: Record<string, unknown>): Record<string, unknown> {
  return { flow: c.flow ?? null, firstTime: c.firstTime ?? null, inputs: c.inputs ?? null, mappedRole: c.mappedRole ?? null, role: c.role ?? null, org: c.org ?? null };
}

function detailsOf(e: ExplainEvent, kind: StepKind): Record<string, unknown> {
  if (kind === 'change') return { rule: e.context?.rule ?? null, ...(e.context?.group ? { group: e.context.group } : {}), changes: e.changes };
  if (kind === 'refused_sign_in') return { reason: after(e, 'reason') ?? null, detail: e.context?.detail ?? null, field: e.context?.field ?? null, protocol: after(e, 'protocol') ?? null };
  if (kind === 'idp_request' && e.action.startsWith('user.')) {
    // The attributes that mattered to the mapping, as the IdP sent them (changed fields only).
    const keys = ['userName', 'active', 'dockerRole', 'dockerOrg', 'dockerTeam', 'externalId'];
    return Object.fromEntries(keys.filter((k) => e.changes?.[k]).map((k) => [k, e.changes![k]]));
  }
  if (kind === 'idp_request' && e.action.startsWith('group.')) return { groupId: e.targetId, members: after(e, 'members') ?? before(e, 'members') ?? null };
  return e.changes ?? {};
}
