import type { DataSource } from 'typeorm';
import { findOrgId, InputError, isUuid, NotFoundError } from '@doorman/core';
import { ssoSignInDenied } from '@doorman/plugin-api';
import { membershipProvenance, type GrantVia, type MembershipSource } from '@doorman/model';
import { buildExplanation, type ExplainEvent } from './explain-chain.ts';
import { orgMembershipRows, teamMembershipRows } from './membership-rows.ts';
import { toIso } from './search.ts';

/**
 * `GET /people/:person/explain`: loads what the chain builder (explain-chain.ts) needs, each read an
 * index lookup (docs/people-and-explain.md, "How explain reads"):
 * - the person's events: `target_id` = the account id, or the email for refused sign-ins
 *   (ix_audit_events_target), newest `MAX_EVENTS`;
 * - the IdP requests behind them that targeted something else (a SCIM group): by `request_id`
 *   (ix_audit_events_request, migration 1733030000000), and the events they name as cause (by id);
 * - memberships, names, and the connections serving the organization asked about.
 */
const MAX_EVENTS = 2000;
const EVENT_COLUMNS = `id, seq, occurred_at AS occurredAt, action, org_id AS orgId, connection_id AS connectionId, actor_type AS actorType, actor_id AS actorId,
  request_id AS requestId, job_id AS jobId, cause_id AS causeId, target_type AS targetType, target_id AS targetId, changes, context, chain_seq AS chainSeq`;

type Row = Record<string, unknown>;
const json = (v: unknown) => {
  if (v === null || v === undefined || v === '') return null;
  if (typeof v !== 'string') return v as Record<string, never>;
  try {
    return JSON.parse(v);
  } catch {
    return null;
  }
};
const toEvent = (r: Row): ExplainEvent => ({
  id: String(r.id),
  seq: Number(r.seq),
  occurredAt: toIso(r.occurredAt as Date | string),
  action: String(r.action),
  orgId: (r.orgId as string | null) ?? null,
  connectionId: (r.connectionId as string | null) ?? null,
  actorType: String(r.actorType),
  actorId: (r.actorId as string | null) ?? null,
  requestId: (r.requestId as string | null) ?? null,
  jobId: (r.jobId as string | null) ?? null,
  causeId: (r.causeId as string | null) ?? null,
  targetType: (r.targetType as string | null) ?? null,
  targetId: (r.targetId as string | null) ?? null,
  changes: json(r.changes),
  context: json(r.context),
  sealed: r.chainSeq !== null && r.chainSeq !== undefined,
});
const marks = (n: number) => new Array(n).fill('?').join(',');

/** An organization by id or name (any case); 404 naming `org` when there is none. */
async function resolveOrg(db: DataSource, ref: string): Promise<{ id: string; name: string }> {
  const id = await findOrgId(db, ref);
  const rows: Array<{ id: string; name: string }> = id ? await db.query('SELECT id, name FROM organizations WHERE id = ?', [id]) : [];
  if (!rows[0]) throw new NotFoundError(`no organization '${ref}' (give an organization id or name)`, { field: 'org' });
  return rows[0];
}

/** A team by id or name, within `org` when given; a name found in several organizations needs `org`. */
async function resolveTeam(db: DataSource, ref: string, orgId: string | null): Promise<{ id: string; name: string; orgId: string }> {
  const byId = isUuid(ref);
  const rows: Array<{ id: string; name: string; orgId: string }> = await db.query(
    `SELECT id, name, org_id AS orgId FROM teams WHERE ${byId ? 'id = ?' : 'name_lc = ?'}${orgId ? ' AND org_id = ?' : ''} LIMIT 2`,
    [byId ? ref : ref.toLowerCase(), ...(orgId ? [orgId] : [])],
  );
  if (!rows[0]) throw new NotFoundError(`no team '${ref}'${orgId ? ' in that organization' : ''} (give a team id or name)`, { field: 'team' });
  if (rows.length > 1) throw new InputError(`team: '${ref}' names a team in several organizations; give org too`, { field: 'team' });
  return rows[0];
}

export async function explainPerson(db: DataSource, userId: string, query: { org?: string; team?: string }) {
  const [account]: Array<{ id: string; email: string }> = await db.query('SELECT id, email FROM users WHERE id = ?', [userId]);
  if (!account) throw new NotFoundError(`no person '${userId}'`, { field: 'person' });
  const org = query.org ? await resolveOrg(db, query.org) : null;
  const team = query.team ? await resolveTeam(db, query.team, org?.id ?? null) : null;
  const orgId = org?.id ?? team?.orgId ?? null;

  // Two index range scans (ix_audit_events_target), each the newest MAX_EVENTS.
  const [own, refused]: Row[][] = await Promise.all([
    db.query(`SELECT ${EVENT_COLUMNS} FROM audit_events WHERE target_id = ? ORDER BY seq DESC LIMIT ${MAX_EVENTS}`, [userId]),
    db.query(`SELECT ${EVENT_COLUMNS} FROM audit_events WHERE target_id IN (?, ?) AND action = ? ORDER BY seq DESC LIMIT ${MAX_EVENTS}`, [account.email, account.email.toLowerCase(), ssoSignInDenied.action]),
  ]);
  const byId = new Map<string, ExplainEvent>();
  for (const r of [...own, ...refused]) byId.set(String(r.id), toEvent(r));
  // The requests' events about something else (a SCIM group change that moved the person), and named causes.
  const requests = [...new Set([...byId.values()].filter((e) => !e.jobId && e.requestId).map((e) => e.requestId!))].slice(0, 500);
  const causes = [...new Set([...byId.values()].map((e) => e.causeId).filter((c): c is string => c !== null && !byId.has(c)))].slice(0, 500);
  const [related, named]: Row[][] = await Promise.all([
    requests.length ? db.query(`SELECT ${EVENT_COLUMNS} FROM audit_events WHERE request_id IN (${marks(requests.length)}) AND target_type = 'group' LIMIT ${MAX_EVENTS}`, requests) : [],
    causes.length ? db.query(`SELECT ${EVENT_COLUMNS} FROM audit_events WHERE id IN (${marks(causes.length)})`, causes) : [],
  ]);
  for (const r of [...related, ...named]) byId.set(String(r.id), toEvent(r));
  const events = [...byId.values()];

  const [orgRows, teamRows, serving]: Row[][] = await Promise.all([
    orgMembershipRows(db, userId),
    teamMembershipRows(db, userId),
    orgId ? db.query('SELECT connection_id AS connectionId FROM connection_orgs WHERE org_id = ?', [orgId]) : [],
  ]);
  const names = await namesOf(db, events, orgRows, teamRows);
  if (org) names.orgs[org.id] = org.name;
  if (team) names.teams[team.id] = team.name;
  type M = { source: MembershipSource; connectionId: string | null; grantVia: GrantVia | null; grantRef: string | null; grantedBy?: 'mapping' | 'group' | 'admin' };
  return buildExplanation({
    person: { id: account.id, email: account.email },
    events,
    memberships: {
      orgs: orgRows.map((m) => ({ orgId: String(m.orgId), org: (m.org as string | null) ?? null, role: String(m.role), provenance: membershipProvenance(m as unknown as M), since: toIso(m.since as Date) })),
      teams: teamRows.map((m) => ({
        teamId: String(m.teamId),
        team: (m.team as string | null) ?? null,
        orgId: String(m.orgId),
        org: (m.org as string | null) ?? null,
        provenance: membershipProvenance(m as unknown as M),
        since: toIso(m.since as Date),
      })),
    },
    names,
    filter: orgId ? { orgId, ...(team ? { teamId: team.id } : {}), servingConnections: serving.map((r) => String(r.connectionId)) } : {},
  });
}

/** Names of the connections, organizations and teams the events and memberships mention (by primary key). */
async function namesOf(db: DataSource, events: ExplainEvent[], orgRows: Row[], teamRows: Row[]) {
  const connections = [...new Set(events.map((e) => e.connectionId).filter((c): c is string => c !== null))];
  const orgs = [...new Set(events.map((e) => e.orgId).filter((c): c is string => c !== null))];
  const groups = [...new Set(events.filter((e) => e.targetType === 'group' && e.targetId).map((e) => e.targetId!))];
  const out = { connections: {} as Record<string, string>, orgs: {} as Record<string, string>, teams: {} as Record<string, string>, groups: {} as Record<string, string> };
  const [c, o, g]: Array<Array<{ id: string; name: string }>> = await Promise.all([
    connections.length ? db.query(`SELECT id, name FROM sso_connections WHERE id IN (${marks(connections.length)})`, connections) : [],
    orgs.length ? db.query(`SELECT id, name FROM organizations WHERE id IN (${marks(orgs.length)})`, orgs) : [],
    groups.length ? db.query(`SELECT id, display_name AS name FROM scim_groups WHERE id IN (${marks(groups.length)})`, groups) : [],
  ]);
  for (const r of g) out.groups[r.id] = r.name;
  for (const r of c) out.connections[r.id] = r.name;
  for (const r of o) out.orgs[r.id] = r.name;
  for (const m of orgRows) if (m.org) out.orgs[String(m.orgId)] = String(m.org);
  for (const m of teamRows) if (m.team) out.teams[String(m.teamId)] = String(m.team);
  return out;
}
