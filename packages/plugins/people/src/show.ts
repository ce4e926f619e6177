import type { DataSource } from 'typeorm';
import { isUuid } from '@doorman/core';
import { NotFoundError, userDeleted } from '@doorman/plugin-api';
import { membershipProvenance, type GrantVia, type MembershipSource } from '@doorman/model';
import { orgMembershipRows, teamMembershipRows } from './membership-rows.ts';
import { toIso } from './search.ts';

/**
 * One person as the operator asks about them (docs/people-and-explain.md): the account; per
 * connection that knows them the SCIM state (active, deactivated, or deleted — deleted rows survive
 * only in the audit trail), userName, externalId and the last request an IdP made about them; every
 * organization and team membership with its provenance; open sessions; jobs about them that have
 * not finished or failed for good (the outbox keeps a job's row until it finished, docs/job-durability.md).
 */
export async function findPersonId(db: DataSource, ref: string): Promise<string> {
  const rows: Array<{ id: string }> = isUuid(ref)
    ? await db.query('SELECT id FROM users WHERE id = ?', [ref])
    : await db.query('SELECT id FROM users WHERE email_lc = ? UNION SELECT id FROM users WHERE username = ?', [ref.toLowerCase(), ref]);
  if (!rows[0]) throw new NotFoundError(`no person '${ref}' (give an account id, email or username)`, { field: 'person' });
  return rows[0].id;
}

type Time = Date | string;
const iso = (t: Time | null) => (t === null ? null : toIso(t));

export async function showPerson(db: DataSource, userId: string, now: Date) {
  const [[account], scim, lastSeen, deleted, orgs, teams, sessions, jobs] = await Promise.all([
    db.query('SELECT id, email, username, full_name AS fullName, created_at AS createdAt, updated_at AS updatedAt FROM users WHERE id = ?', [userId]),
    db.query(
      `SELECT cu.id AS scimId, cu.connection_id AS connectionId, c.name AS connectionName, cu.user_name AS userName, cu.external_id AS externalId,
              cu.active AS active, cu.created_at AS createdAt, cu.updated_at AS updatedAt
         FROM connection_users cu LEFT JOIN sso_connections c ON c.id = cu.connection_id WHERE cu.user_id = ? ORDER BY cu.created_at`,
      [userId],
    ),
    db.query(
      `SELECT connection_id AS connectionId, MAX(occurred_at) AS at FROM audit_events
        WHERE target_id = ? AND actor_type IN ('scim_token', 'sso_user') AND connection_id IS NOT NULL GROUP BY connection_id`,
      [userId],
    ),
    db.query(
      `SELECT e.connection_id AS connectionId, c.name AS connectionName, e.occurred_at AS at, e.changes AS changes FROM audit_events e
         LEFT JOIN sso_connections c ON c.id = e.connection_id WHERE e.target_id = ? AND e.action = ? ORDER BY e.seq`,
      [userId, userDeleted.action],
    ),
    orgMembershipRows(db, userId),
    teamMembershipRows(db, userId),
    db.query('SELECT id, connection_id AS connectionId, created_at AS createdAt, expires_at AS expiresAt FROM sso_sessions WHERE user_id = ? AND ended_at IS NULL ORDER BY created_at', [userId]),
    // Job payloads name the account (and the SCIM row): the outbox is small (finished rows leave within the hour).
    // A job that failed for good keeps its row (completed, with the error) as long: BullMQ's failed set,
    // which Redis may lose, is recorded here by the relay (docs/job-durability.md).
    db.query(
      `SELECT queue, job_name AS name, job_id AS jobId, created_at AS createdAt, relayed_at AS relayedAt, completed_at AS completedAt, attempts, last_error AS lastError
         FROM outbox WHERE (completed_at IS NULL OR last_error IS NOT NULL) AND payload LIKE ? ORDER BY seq`,
      [`%${userId}%`],
    ),
  ]);
  if (!account) throw new NotFoundError(`no person '${userId}'`, { field: 'person' });
  const seen = new Map<string, Time>(lastSeen.map((r: { connectionId: string; at: Time }) => [r.connectionId, r.at]));
  const known = new Set(scim.map((r: { connectionId: string }) => r.connectionId));
  return {
    account: { id: account.id, email: account.email, username: account.username, fullName: account.fullName, createdAt: toIso(account.createdAt), updatedAt: toIso(account.updatedAt) },
    connections: [
      ...scim.map((r: { scimId: string; connectionId: string; connectionName: string | null; userName: string; externalId: string | null; active: number | boolean; updatedAt: Time }) => ({
        connectionId: r.connectionId,
        connectionName: r.connectionName,
        scimId: r.scimId,
        state: Number(r.active) ? ('active' as const) : ('deactivated' as const),
        userName: r.userName,
        externalId: r.externalId,
        lastIdpRequestAt: iso(seen.get(r.connectionId) ?? r.updatedAt),
      })),
      // Deleted over SCIM: only the audit trail remembers (one entry per connection, the latest deletion).
      ...[...new Map<string, { connectionId: string; connectionName: string | null; at: Time; changes: unknown }>(deleted.map((r: { connectionId: string }) => [r.connectionId, r])).values()]
        .filter((r) => !known.has(r.connectionId))
        .map((r) => ({
          connectionId: r.connectionId,
          connectionName: r.connectionName,
          scimId: scimIdOf(r.changes),
          state: 'deleted' as const,
          userName: userNameOf(r.changes),
          externalId: null,
          lastIdpRequestAt: iso(seen.get(r.connectionId) ?? r.at),
        })),
    ],
    organizations: orgs.map((m: { orgId: string; org: string | null; role: string; source: MembershipSource; connectionId: string | null; grantVia: GrantVia | null; grantRef: string | null; since: Time }) => ({
      orgId: m.orgId,
      org: m.org,
      role: m.role,
      provenance: membershipProvenance(m),
      since: toIso(m.since),
    })),
    teams: teams.map(
      (m: { teamId: string; team: string | null; orgId: string; org: string | null; source: MembershipSource; connectionId: string | null; grantedBy: 'mapping' | 'group' | 'admin'; grantVia: GrantVia | null; grantRef: string | null; since: Time }) => ({
        teamId: m.teamId,
        team: m.team,
        orgId: m.orgId,
        org: m.org,
        provenance: membershipProvenance(m),
        since: toIso(m.since),
      }),
    ),
    sessions: sessions
      .filter((s: { expiresAt: Time }) => new Date(toIso(s.expiresAt)) > now)
      .map((s: { id: string; connectionId: string; createdAt: Time; expiresAt: Time }) => ({ id: s.id, connectionId: s.connectionId, createdAt: toIso(s.createdAt), expiresAt: toIso(s.expiresAt) })),
    jobs: jobs.map((j: { queue: string; name: string; jobId: string; createdAt: Time; relayedAt: Time | null; completedAt: Time | null; attempts: number; lastError: string | null }) => ({
      queue: j.queue,
      name: j.name,
      jobId: j.jobId,
      state: j.completedAt ? ('failed' as const) : j.lastError ? ('failing' as const) : j.relayedAt ? ('queued' as const) : ('pending' as const),
      attempts: Number(j.attempts),
      lastError: j.lastError,
      createdAt: toIso(j.createdAt),
    })),
  };
}

function parsed(changes: unknown): Record<string, { before?: unknown; after?: unknown }> {
  if (typeof changes === 'string') {
    try {
      return JSON.parse(changes);
    } catch {
      return {};
    }
  }
  return (changes as Record<string, { before?: unknown; after?: unknown }>) ?? {};
}
const scimIdOf = (changes: unknown) => String(parsed(changes).scimId?.after ?? '') || null;
const userNameOf = (changes: unknown) => String(parsed(changes).userName?.before ?? '');
