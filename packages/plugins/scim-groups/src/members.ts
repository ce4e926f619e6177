/**
 * Group membership and its effects as set operations in SQL. Nothing here loads a group's member
 * list: each statement is driven by `group_members`' primary key (group_id, connection_user_id) and
 * the memberships' unique keys, so its cost follows the number of members named, not the size of
 * the group.
 *
 * Effects of membership in a group mapped to team T of organization O (connection C):
 * - the person holds T with `granted_by = 'group'`, `source = 'scim'`, `connection_id = C` (provenance:
 *   `grant_via = 'scim_group'`, `grant_ref` = the group's id), unless
 *   they already hold T some other way (mapping, admin, another group): one row per (team, user);
 * - the person holds O, as `member`, when they held no membership there (roles are never changed);
 *   seat limits apply as in role mapping;
 * - only active users receive memberships (deactivation revokes them; reactivation re-grants);
 * - leaving the group removes only T's row, only when this connection's group granted it and no
 *   other group mapped to T still lists the person. Org membership and account stay.
 */
import type { EntityManager } from 'typeorm';
import { InputError, NotAllowedError } from '@doorman/core';
import { compileFilter, type AttributeMap, type Dialect } from '@doorman/scim';

export interface GroupTarget {
  groupId: string;
  connectionId: string;
  orgId: string;
  teamId: string;
}

/** Which members of the group a statement acts on. */
export type MemberSelection = { ids: string[] } | { allBut: string[] } | { all: true } | { where: { sql: string; params: unknown[] } };

const marks = (n: number) => Array.from({ length: n }, () => '?').join(', ');

/** A condition on the member column `col` (qualified or not). */
function condition(sel: MemberSelection, col: string): { sql: string; params: unknown[] } {
  if ('ids' in sel) return sel.ids.length ? { sql: `${col} IN (${marks(sel.ids.length)})`, params: sel.ids } : { sql: '1 = 0', params: [] };
  if ('allBut' in sel) return sel.allBut.length ? { sql: `${col} NOT IN (${marks(sel.allBut.length)})`, params: sel.allBut } : { sql: '1 = 1', params: [] };
  if ('all' in sel) return { sql: '1 = 1', params: [] };
  return { sql: sel.where.sql.replaceAll('{member}', col), params: sel.where.params };
}

/** Filterable sub-attributes inside `members[...]`; `{member}` is replaced by the member column. */
const MEMBER_FILTER_ATTRIBUTES: AttributeMap = Object.freeze({
  value: { kind: 'column', column: '{member}', type: 'string', caseExact: true },
  'members.value': { kind: 'column', column: '{member}', type: 'string', caseExact: true },
});

/** `members[<filter>]` → a member selection; filters name `value` only (the one stored sub-attribute). */
export function memberFilterSelection(filter: string, dialect: Dialect): MemberSelection {
  let compiled;
  try {
    compiled = compileFilter(filter, MEMBER_FILTER_ATTRIBUTES, dialect, 'mf');
  } catch (err) {
    throw new InputError(`Invalid member filter [${filter}]: ${(err as Error).message}`, { scimType: 'invalidPath', field: 'path' });
  }
  // Named parameters → positional ones, in order of appearance.
  const params: unknown[] = [];
  const sql = compiled.sql.replace(/:(mf\d+)/g, (_, name: string) => {
    params.push(compiled.params[name]);
    return '?';
  });
  return { where: { sql, params } };
}

async function run(tx: EntityManager, sql: string, params: unknown[]): Promise<number> {
  const result = await tx.queryRunner!.query(sql, params, true);
  return result.affected ?? 0;
}

function uuidSql(dialect: Dialect): string {
  return dialect === 'mysql'
    ? 'UUID()'
    : "lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(2)) || '-' || hex(randomblob(6)))";
}

export class GroupMembershipSql {
  constructor(private readonly dialect: Dialect) {}

  /** Ids among `ids` that are not Users of this connection. */
  async outOfScope(tx: EntityManager, connectionId: string, ids: string[]): Promise<string[]> {
    if (!ids.length) return [];
    const rows: Array<{ id: string }> = await tx.query(`SELECT id FROM connection_users WHERE connection_id = ? AND id IN (${marks(ids.length)})`, [connectionId, ...ids]);
    if (rows.length === ids.length) return [];
    const found = new Set(rows.map((r) => r.id));
    return ids.filter((id) => !found.has(id));
  }

  /** Adds the Users `ids` (already checked to be in scope) to the group; returns up to `sample` newly added ids and the count. */
  async add(tx: EntityManager, g: GroupTarget, ids: string[], sample: number): Promise<{ count: number; ids: string[] }> {
    if (!ids.length) return { count: 0, ids: [] };
    const fresh = `FROM connection_users cu
      WHERE cu.connection_id = ? AND cu.id IN (${marks(ids.length)})
        AND NOT EXISTS (SELECT 1 FROM group_members gm WHERE gm.group_id = ? AND gm.connection_user_id = cu.id)`;
    const params = [g.connectionId, ...ids, g.groupId];
    const sampled: Array<{ id: string }> = await tx.query(`SELECT cu.id AS id ${fresh} ORDER BY cu.id LIMIT ${sample}`, params);
    if (!sampled.length) return { count: 0, ids: [] };
    const count = await run(tx, `INSERT INTO group_members (group_id, connection_user_id) SELECT ?, cu.id ${fresh}`, [g.groupId, ...params]);
    return { count, ids: sampled.map((r) => r.id) };
  }

  /**
   * Grants the memberships group membership implies to the selected members (active ones) who lack
   * them. Returns how many org and team memberships were added.
   */
  async grant(tx: EntityManager, g: GroupTarget, sel: MemberSelection): Promise<{ orgMemberships: number; teamMemberships: number }> {
    const c = condition(sel, 'gm.connection_user_id');
    const members = `FROM group_members gm JOIN connection_users cu ON cu.id = gm.connection_user_id
      WHERE gm.group_id = ? AND cu.active = 1 AND ${c.sql}`;
    const base = [g.groupId, ...c.params];
    const missingOrg = `${members} AND NOT EXISTS (SELECT 1 FROM org_memberships om WHERE om.org_id = ? AND om.user_id = cu.user_id)`;
    await this.checkSeats(tx, g.orgId, `SELECT COUNT(*) AS n ${missingOrg}`, [...base, g.orgId]);
    const now = this.dialect === 'mysql' ? 'CURRENT_TIMESTAMP(3)' : "STRFTIME('%Y-%m-%d %H:%M:%f', 'NOW')";
    const orgMemberships = await run(
      tx,
      `INSERT INTO org_memberships (id, org_id, user_id, role, source, connection_id, grant_via, grant_ref, created_at, updated_at)
       SELECT ${uuidSql(this.dialect)}, ?, cu.user_id, 'member', 'scim', ?, 'scim_group', ?, ${now}, ${now} ${missingOrg}`,
      [g.orgId, g.connectionId, g.groupId, ...base, g.orgId],
    );
    const teamMemberships = await run(
      tx,
      `INSERT INTO team_memberships (id, team_id, org_id, user_id, source, connection_id, granted_by, grant_via, grant_ref, created_at)
       SELECT ${uuidSql(this.dialect)}, ?, ?, cu.user_id, 'scim', ?, 'group', 'scim_group', ?, ${now} ${members}
         AND NOT EXISTS (SELECT 1 FROM team_memberships tm WHERE tm.team_id = ? AND tm.user_id = cu.user_id)`,
      [g.teamId, g.orgId, g.connectionId, g.groupId, ...base, g.teamId],
    );
    return { orgMemberships, teamMemberships };
  }

  /** Role mapping's rule, for a batch: the new members must fit the organization's seat limit. */
  private async checkSeats(tx: EntityManager, orgId: string, countNewSql: string, params: unknown[]) {
    const lock = this.dialect === 'mysql' ? ' FOR UPDATE' : '';
    const [org]: Array<{ name: string; seatLimit: number | string | null }> = await tx.query(`SELECT name, seat_limit AS seatLimit FROM organizations WHERE id = ?${lock}`, [orgId]);
    if (!org || org.seatLimit === null) return;
    const [adding] = await tx.query(countNewSql, params);
    if (Number(adding.n) === 0) return;
    const [used] = await tx.query(`SELECT COUNT(*) AS n FROM org_memberships WHERE org_id = ?${this.dialect === 'mysql' ? ' LOCK IN SHARE MODE' : ''}`, [orgId]);
    if (Number(used.n) + Number(adding.n) > Number(org.seatLimit)) {
      throw new NotAllowedError(`Not enough seats in organization '${org.name}'. Add more seats or contact your administrator.`);
    }
  }

  /**
   * Removes the team membership this group granted from the selected members, unless another group
   * mapped to the same team still lists them. Run before the members leave `group_members`.
   */
  async revoke(tx: EntityManager, g: GroupTarget, sel: MemberSelection): Promise<number> {
    const c = condition(sel, 'gm.connection_user_id');
    const stillGrouped = (tm: string) => `NOT EXISTS (
        SELECT 1 FROM scim_groups g2
          JOIN group_members gm2 ON gm2.group_id = g2.id
          JOIN connection_users cu2 ON cu2.id = gm2.connection_user_id
         WHERE g2.team_id = ${tm}.team_id AND g2.id <> ? AND cu2.user_id = ${tm}.user_id AND cu2.active = 1)`;
    if (this.dialect === 'mysql') {
      // A join delete: MariaDB does not turn `user_id IN (subquery)` of a single-table DELETE into a
      // semi-join, which would scan the whole team for a one-member removal.
      return run(
        tx,
        `DELETE tm FROM group_members gm
           JOIN connection_users cu ON cu.id = gm.connection_user_id
           JOIN team_memberships tm ON tm.team_id = ? AND tm.user_id = cu.user_id
          WHERE gm.group_id = ? AND ${c.sql}
            AND tm.granted_by = 'group' AND tm.connection_id = ? AND ${stillGrouped('tm')}`,
        [g.teamId, g.groupId, ...c.params, g.connectionId, g.groupId],
      );
    }
    return run(
      tx,
      `DELETE FROM team_memberships
        WHERE team_id = ? AND granted_by = 'group' AND connection_id = ?
          AND user_id IN (SELECT cu.user_id FROM group_members gm JOIN connection_users cu ON cu.id = gm.connection_user_id WHERE gm.group_id = ? AND ${c.sql})
          AND ${stillGrouped('team_memberships')}`,
      [g.teamId, g.connectionId, g.groupId, ...c.params, g.groupId],
    );
  }

  /** Revokes, then removes the selected members; returns up to `sample` removed ids and the count. */
  async remove(tx: EntityManager, g: GroupTarget, sel: MemberSelection, sample: number): Promise<{ count: number; ids: string[]; teamMemberships: number }> {
    const c = condition(sel, 'connection_user_id');
    const sampled: Array<{ id: string }> = await tx.query(
      `SELECT connection_user_id AS id FROM group_members WHERE group_id = ? AND ${c.sql} ORDER BY connection_user_id LIMIT ${sample}`,
      [g.groupId, ...c.params],
    );
    if (!sampled.length) return { count: 0, ids: [], teamMemberships: 0 };
    const teamMemberships = await this.revoke(tx, g, sel);
    const count = await run(tx, `DELETE FROM group_members WHERE group_id = ? AND ${c.sql}`, [g.groupId, ...c.params]);
    return { count, ids: sampled.map((r) => r.id), teamMemberships };
  }

  async count(tx: EntityManager, groupId: string): Promise<number> {
    const [row] = await tx.query('SELECT COUNT(*) AS n FROM group_members WHERE group_id = ?', [groupId]);
    return Number(row.n);
  }

  /** The member list (only when a response asks for it). */
  async list(tx: EntityManager, groupId: string): Promise<Array<{ id: string; userName: string; displayName: string | null }>> {
    return tx.query(
      `SELECT cu.id AS id, cu.user_name AS userName, cu.display_name AS displayName
         FROM group_members gm JOIN connection_users cu ON cu.id = gm.connection_user_id
        WHERE gm.group_id = ? ORDER BY cu.id`,
      [groupId],
    );
  }

  /** Re-grants every group membership effect of one connection user (after reactivation). */
  async grantForUser(tx: EntityManager, connectionUserId: string): Promise<number> {
    const groups: Array<{ id: string; connectionId: string; orgId: string; teamId: string }> = await tx.query(
      `SELECT g.id AS id, g.connection_id AS connectionId, g.org_id AS orgId, g.team_id AS teamId
         FROM group_members gm JOIN scim_groups g ON g.id = gm.group_id
        WHERE gm.connection_user_id = ? ORDER BY g.id`,
      [connectionUserId],
    );
    let granted = 0;
    for (const g of groups) {
      const r = await this.grant(tx, { groupId: g.id, connectionId: g.connectionId, orgId: g.orgId, teamId: g.teamId }, { ids: [connectionUserId] });
      granted += r.teamMemberships;
    }
    return granted;
  }
}
