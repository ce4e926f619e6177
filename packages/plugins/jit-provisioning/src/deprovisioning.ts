/**
 * Organization-wide deprovisioning (docs/org-wide-deprovisioning.md). When a SCIM connection
 * deactivates or deletes a person, in that change's own transaction (the domain event):
 * - one `sso_deprovisionings` row per organization the connection serves is written, carrying the
 *   connection's `deprovisioningScope` (`organization`, the default, or `connection`);
 * - the person's live SSO sessions covered by it end: with `organization`, every session opened
 *   through ANY connection that serves one of those organizations; with `connection`, the sessions
 *   opened through that connection.
 * Every session check and every sign-in reads those rows (one indexed query), so the refusal holds
 * whatever the deactivation job's state. Reactivation (or re-creation) by the same connection removes
 * its rows. The role-mapping sync reconciles inactive people through `ssoSessionServiceRef`.
 */
import type { EntityManager } from 'typeorm';
import { type EventBus } from '@doorman/core';
import { connectionDeleted, ssoSessionsEnded, SYSTEM_ACTOR, userCreated, userDeactivated, userDeleted, userLinked, userReactivated, type Actor, type SsoSessionService } from '@doorman/plugin-api';
import { isMysql, SsoSessionEntity } from '@doorman/model';

/** `YYYY-MM-DD HH:MM:SS.mmm` UTC: how both dialects store DATETIME(3) (better-sqlite3 binds no Date). */
const sqlTime = (d: Date) => d.toISOString().replace('T', ' ').replace('Z', '');

/** SQL condition: a deprovisioning row `d` covers sign-in/sessions through connection `?` (bound twice). */
const COVERS_CONNECTION = `(d.connection_id = ? OR (d.org_wide = 1 AND d.org_id IN (SELECT co.org_id FROM connection_orgs co WHERE co.connection_id = ?)))`;

export interface DeprovisionedBy {
  orgId: string;
  orgName: string | null;
  connectionId: string;
  connectionName: string | null;
}

/** The deprovisioning that refuses this person's sign-in through `connectionId`, if any (one indexed query). */
export async function deprovisionedFor(tx: EntityManager, userId: string, connectionId: string): Promise<DeprovisionedBy | null> {
  const rows: Array<Record<string, string | null>> = await tx.query(
    `SELECT d.org_id AS orgId, o.name AS orgName, d.connection_id AS connectionId, c.name AS connectionName
     FROM sso_deprovisionings d LEFT JOIN organizations o ON o.id = d.org_id LEFT JOIN sso_connections c ON c.id = d.connection_id
     WHERE d.user_id = ? AND ${COVERS_CONNECTION} ORDER BY d.created_at LIMIT 1`,
    [userId, connectionId, connectionId],
  );
  const r = rows[0];
  return r ? { orgId: r.orgId!, orgName: r.orgName ?? null, connectionId: r.connectionId!, connectionName: r.connectionName ?? null } : null;
}

/**
 * The session row behind a cookie, and whether its person has been deprovisioned from what the
 * session's connection serves: ONE statement (the session by primary key, an EXISTS over the
 * deprovisioning primary key), run on every session check.
 */
export const SESSION_CHECK_SQL = `SELECT s.id AS id, s.user_id AS userId, s.connection_id AS connectionId, s.expires_at AS expiresAt, s.ended_at AS endedAt,
  EXISTS (SELECT 1 FROM sso_deprovisionings d WHERE d.user_id = s.user_id AND (d.connection_id = s.connection_id OR (d.org_wide = 1 AND d.org_id IN (SELECT co.org_id FROM connection_orgs co WHERE co.connection_id = s.connection_id)))) AS deprovisioned
  FROM sso_sessions s WHERE s.id = ?`;

/** Records (idempotently) that `connectionId` deactivated/deleted the person, and ends the sessions it covers. */
export async function recordDeprovisioning(
  tx: EntityManager,
  events: EventBus,
  request: { userId: string; connectionId: string; reason: 'inactive' | 'deleted'; now: Date; actor?: Actor },
): Promise<{ sessionsEnded: number }> {
  const { userId, connectionId, reason, now } = request;
  const [conn]: Array<{ scope: string | null }> = await tx.query('SELECT deprovisioning_scope AS scope FROM sso_connections WHERE id = ?', [connectionId]);
  const orgWide = (conn?.scope ?? 'organization') !== 'connection';
  const mysql = isMysql(tx.connection);
  // Rows for organizations the connection no longer serves go; the served ones are upserted (the scope may have changed).
  await tx.query('DELETE FROM sso_deprovisionings WHERE user_id = ? AND connection_id = ? AND org_id NOT IN (SELECT org_id FROM connection_orgs WHERE connection_id = ?)', [
    userId,
    connectionId,
    connectionId,
  ]);
  await tx.query(
    `INSERT INTO sso_deprovisionings (user_id, org_id, connection_id, org_wide, reason, created_at)
     SELECT ?, co.org_id, co.connection_id, ?, ?, ? FROM connection_orgs co WHERE co.connection_id = ?
     ${mysql ? 'ON DUPLICATE KEY UPDATE org_wide = VALUES(org_wide), reason = VALUES(reason)' : 'ON CONFLICT (user_id, org_id, connection_id) DO UPDATE SET org_wide = excluded.org_wide, reason = excluded.reason'}`,
    [userId, orgWide ? 1 : 0, reason, sqlTime(now), connectionId],
  );
  const scope = orgWide
    ? 'connection_id = :connectionId OR connection_id IN (SELECT c2.connection_id FROM connection_orgs c1 JOIN connection_orgs c2 ON c2.org_id = c1.org_id WHERE c1.connection_id = :connectionId)'
    : 'connection_id = :connectionId';
  const result = await tx
    .createQueryBuilder()
    .update(SsoSessionEntity)
    .set({ endedAt: now })
    .where('user_id = :userId AND ended_at IS NULL', { userId })
    .andWhere(`(${scope})`, { connectionId })
    .execute();
  const sessionsEnded = result.affected ?? 0;
  if (sessionsEnded > 0) {
    await events.publish(tx, request.actor ?? SYSTEM_ACTOR, ssoSessionsEnded({
      connectionId,
      target: { type: 'user', id: userId },
      changes: { sessions: { after: sessionsEnded }, reason: { after: reason }, scope: { after: orgWide ? 'organization' : 'connection' } },
    }));
  }
  return { sessionsEnded };
}

/** The connection reactivated or re-created the person: its deprovisioning no longer applies. */
export async function clearDeprovisioning(tx: EntityManager, userId: string, connectionId: string): Promise<void> {
  await tx.query('DELETE FROM sso_deprovisionings WHERE user_id = ? AND connection_id = ?', [userId, connectionId]);
}

/**
 * Subscribes to the domain events that change whether a person may hold a session: SCIM Users'
 * (published by scim-users in the transaction that made the change; this plugin never imports it,
 * the definitions are the contract's) and a connection's deletion (admin).
 */
export function subscribeDeprovisioning(events: EventBus, now: () => Date): void {
  events.on(connectionDeleted, async (tx, _actor, event) => {
    await tx.query('DELETE FROM sso_deprovisionings WHERE connection_id = ?', [event.connectionId]);
  });
  events.on([userDeactivated, userDeleted, userReactivated, userCreated, userLinked], async (tx, actor, event) => {
    const userId = event.target.type === 'user' ? event.target.id : null;
    const connectionId = event.connectionId;
    if (!userId || !connectionId) return;
    // Sessions ended here follow from the SCIM event (docs/people-and-explain.md, "Causal links").
    const by: Actor = event.id ? { ...actor, cause: event.id } : actor;
    switch (event.action) {
      case userDeactivated.action:
        await recordDeprovisioning(tx, events, { userId, connectionId, reason: 'inactive', now: now(), actor: by });
        return;
      case userDeleted.action:
        await recordDeprovisioning(tx, events, { userId, connectionId, reason: 'deleted', now: now(), actor: by });
        return;
      case userReactivated.action:
        await clearDeprovisioning(tx, userId, connectionId);
        return;
      case userCreated.action:
      case userLinked.action:
        // Created (or linked) inactive: deprovisioned from the start; active: any earlier row of this connection goes.
        if (event.changes?.active?.after === false) await recordDeprovisioning(tx, events, { userId, connectionId, reason: 'inactive', now: now(), actor: by });
        else await clearDeprovisioning(tx, userId, connectionId);
        return;
      default:
    }
  });
}

/** What the role-mapping sync calls for each inactive SCIM user (through `ssoSessionServiceRef`). */
export function ssoSessionService(events: EventBus, now: () => Date): SsoSessionService {
  return {
    deprovision: (tx, request) => recordDeprovisioning(tx, events, { ...request, now: now() }),
    async endSessions(tx, { userId, actor }) {
      const at = now();
      const result = await tx
        .createQueryBuilder()
        .update(SsoSessionEntity)
        .set({ endedAt: at })
        .where('user_id = :userId AND ended_at IS NULL AND expires_at > :at', { userId, at: sqlTime(at) })
        .execute();
      const sessionsEnded = result.affected ?? 0;
      // Audited even when nothing was open: the admin's action is the fact recorded.
      await events.publish(tx, actor, ssoSessionsEnded({
        target: { type: 'user', id: userId },
        changes: { sessions: { after: sessionsEnded }, reason: { after: 'admin' }, scope: { after: 'all' } },
      }));
      return { sessionsEnded };
    },
  };
}
