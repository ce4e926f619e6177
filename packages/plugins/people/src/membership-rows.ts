import type { DataSource } from 'typeorm';

/*
 * A person's organization and team memberships with their provenance columns, as the person page
 * (show.ts) and the explain chain (explain.ts) both read them: one statement each, by user id. Rows
 * are untyped like `db.query`'s; each caller types the columns it reads.
 */

export function orgMembershipRows(db: DataSource, userId: string): Promise<any[]> {
  return db.query(
    `SELECT m.org_id AS orgId, o.name AS org, m.role AS role, m.source AS source, m.connection_id AS connectionId, m.grant_via AS grantVia, m.grant_ref AS grantRef, m.created_at AS since
       FROM org_memberships m LEFT JOIN organizations o ON o.id = m.org_id WHERE m.user_id = ? ORDER BY o.name`,
    [userId],
  );
}

export function teamMembershipRows(db: DataSource, userId: string): Promise<any[]> {
  return db.query(
    `SELECT m.team_id AS teamId, t.name AS team, m.org_id AS orgId, o.name AS org, m.source AS source, m.connection_id AS connectionId,
            m.granted_by AS grantedBy, m.grant_via AS grantVia, m.grant_ref AS grantRef, m.created_at AS since
       FROM team_memberships m LEFT JOIN teams t ON t.id = m.team_id LEFT JOIN organizations o ON o.id = m.org_id WHERE m.user_id = ? ORDER BY o.name, t.name`,
    [userId],
  );
}
