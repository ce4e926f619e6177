/**
 * Group membership as set operations on this plugin's own tables (`scim_groups`, `group_members`).
 * Nothing here loads a group's member list: each statement is driven by `group_members`' primary key
 * (group_id, connection_user_id), so its cost follows the number of members named, not the size of
 * the group. What membership grants is role mapping's business (docs/group-mapping.md): the store
 * tells it which accounts' groups changed.
 */
import type { EntityManager } from 'typeorm';
import { InputError, type DirectoryGroup, type GroupDirectory } from '@doorman/plugin-api';
import { compileFilter, type AttributeMap, type Dialect } from '@doorman/scim';

/** Which members of the group a statement acts on. */
export type MemberSelection = { ids: string[] } | { allBut: string[] } | { all: true } | { where: { sql: string; params: unknown[] } };

/** Ids per statement (well under SQLite's bind-variable limit). */
const CHUNK = 1000;
const marks = (n: number) => Array.from({ length: n }, () => '?').join(', ');

/** A condition on the member column `col`. */
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

export interface MemberChange {
  count: number;
  /** Up to `sample` SCIM ids, for the event. */
  ids: string[];
  /** The accounts concerned (users.id): their groups changed. */
  userIds: string[];
}

export class GroupMembers {
  constructor(private readonly dialect: Dialect) {}

  /** Adds members (SCIM id + account, already checked to be users of the connection); existing ones stay. */
  async add(tx: EntityManager, groupId: string, members: Array<{ id: string; userId: string }>, sample: number): Promise<MemberChange> {
    const out: MemberChange = { count: 0, ids: [], userIds: [] };
    for (let i = 0; i < members.length; i += CHUNK) {
      const chunk = members.slice(i, i + CHUNK);
      const present: Array<{ id: string }> = await tx.query(
        `SELECT connection_user_id AS id FROM group_members WHERE group_id = ? AND connection_user_id IN (${marks(chunk.length)})`,
        [groupId, ...chunk.map((m) => m.id)],
      );
      const have = new Set(present.map((r) => r.id));
      const fresh = chunk.filter((m) => !have.has(m.id));
      if (fresh.length) {
        await tx.query(`INSERT INTO group_members (group_id, connection_user_id, user_id) VALUES ${fresh.map(() => '(?, ?, ?)').join(', ')}`, fresh.flatMap((m) => [groupId, m.id, m.userId]));
      }
      out.count += fresh.length;
      for (const m of [...fresh].sort((a, b) => (a.id < b.id ? -1 : 1))) if (out.ids.length < sample) out.ids.push(m.id);
    }
    // Everyone named, new or not: naming an existing member again repairs what they should hold.
    out.userIds = members.map((m) => m.userId);
    return out;
  }

  /** Removes the selected members; returns the count, a sample of SCIM ids and the accounts. */
  async remove(tx: EntityManager, groupId: string, sel: MemberSelection, sample: number): Promise<MemberChange> {
    const c = condition(sel, 'connection_user_id');
    const rows: Array<{ id: string; userId: string | null }> = await tx.query(
      `SELECT connection_user_id AS id, user_id AS userId FROM group_members WHERE group_id = ? AND ${c.sql} ORDER BY connection_user_id`,
      [groupId, ...c.params],
    );
    if (!rows.length) return { count: 0, ids: [], userIds: [] };
    const count = await run(tx, `DELETE FROM group_members WHERE group_id = ? AND ${c.sql}`, [groupId, ...c.params]);
    return { count, ids: rows.slice(0, sample).map((r) => r.id), userIds: rows.flatMap((r) => (r.userId ? [r.userId] : [])) };
  }

  async count(tx: EntityManager, groupId: string): Promise<number> {
    const [row] = await tx.query('SELECT COUNT(*) AS n FROM group_members WHERE group_id = ?', [groupId]);
    return Number(row.n);
  }

  /** The members' SCIM ids, ascending (only when a response shows them). */
  async list(tx: EntityManager, groupId: string): Promise<string[]> {
    const rows: Array<{ id: string }> = await tx.query('SELECT connection_user_id AS id FROM group_members WHERE group_id = ? ORDER BY connection_user_id', [groupId]);
    return rows.map((r) => r.id);
  }

  /** A SCIM user was deleted: they leave every group (their memberships go with the deactivation job). */
  async forget(tx: EntityManager, connectionUserId: string): Promise<void> {
    await tx.query('DELETE FROM group_members WHERE connection_user_id = ?', [connectionUserId]);
  }

  /** What role mapping reads about groups (`groupDirectoryRef`). */
  directory(): GroupDirectory {
    const mysql = this.dialect === 'mysql';
    const group = (r: { id: string; externalId: string | null; displayName: string }): DirectoryGroup => ({ id: r.id, externalId: r.externalId, displayName: r.displayName });
    return {
      async groupsOfUser(tx, connectionId, userId, lock) {
        // The membership rows are read with a share lock when asked (a group change committing
        // meanwhile is seen, one starting later waits); the group's names come from scalar
        // subqueries, which a locking read does not lock, so group rows are not held.
        const rows: Array<{ id: string; connectionId: string | null; externalId: string | null; displayName: string | null }> = await tx.query(
          `SELECT gm.group_id AS id,
                  (SELECT g.connection_id FROM scim_groups g WHERE g.id = gm.group_id) AS connectionId,
                  (SELECT g.external_id FROM scim_groups g WHERE g.id = gm.group_id) AS externalId,
                  (SELECT g.display_name FROM scim_groups g WHERE g.id = gm.group_id) AS displayName
             FROM group_members gm WHERE gm.user_id = ?${lock && mysql ? ' LOCK IN SHARE MODE' : ''}`,
          [userId],
        );
        return rows
          .filter((r) => r.connectionId === connectionId && r.displayName !== null)
          .map((r) => group({ id: r.id, externalId: r.externalId, displayName: r.displayName! }))
          .sort((a, b) => (a.id < b.id ? -1 : 1));
      },
      async groups(tx, connectionId, groupIds) {
        if (!groupIds.length) return [];
        const rows = await tx.query(
          `SELECT id, external_id AS externalId, display_name AS displayName FROM scim_groups WHERE connection_id = ? AND id IN (${marks(groupIds.length)}) ORDER BY id`,
          [connectionId, ...groupIds],
        );
        return rows.map(group);
      },
      async listGroups(tx, connectionId) {
        const rows: Array<{ id: string; externalId: string | null; displayName: string; members: number | string }> = await tx.query(
          `SELECT g.id AS id, g.external_id AS externalId, g.display_name AS displayName,
                  (SELECT COUNT(*) FROM group_members gm WHERE gm.group_id = g.id) AS members
             FROM scim_groups g WHERE g.connection_id = ? ORDER BY g.display_name_lc, g.id`,
          [connectionId],
        );
        return rows.map((r) => ({ ...group(r), members: Number(r.members) }));
      },
      async membersOf(tx, connectionId, groupIds, after, limit) {
        if (!groupIds.length) return [];
        const rows: Array<{ userId: string }> = await tx.query(
          `SELECT DISTINCT gm.user_id AS userId FROM group_members gm JOIN scim_groups g ON g.id = gm.group_id
            WHERE g.connection_id = ? AND gm.group_id IN (${marks(groupIds.length)}) AND gm.user_id > ?
            ORDER BY gm.user_id LIMIT ${Number(limit)}`,
          [connectionId, ...groupIds, after],
        );
        return rows.map((r) => r.userId);
      },
    };
  }
}
