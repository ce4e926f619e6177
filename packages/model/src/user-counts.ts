import { randomInt } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { isMysql } from './data-source.ts';

/** Rows per connection in `connection_user_counts`: concurrent creates rarely meet on one. */
export const USER_COUNT_SHARDS = 16;

/**
 * Records that `delta` SCIM users joined (+) or left (−) a connection, inside the transaction that
 * inserted or deleted their `connection_users` rows. Every such insert and delete must call this:
 * unfiltered list totals and list-page anchors read the counter, not the table. Call it late in the
 * transaction: it holds one shard row's lock until commit.
 */
export async function recordConnectionUsersChange(tx: EntityManager, connectionId: string, delta: number, changes = Math.abs(delta)): Promise<void> {
  await tx.query(connectionUsersChangeSql(isMysql(tx.connection)), [connectionId, randomInt(USER_COUNT_SHARDS), delta, changes]);
}

/** The counter upsert; parameters: connection id, shard, users delta, changes. (Seeders outside TypeORM use it too.) */
export function connectionUsersChangeSql(mysql: boolean): string {
  const upsert = mysql
    ? 'ON DUPLICATE KEY UPDATE users = users + VALUES(users), changes = changes + VALUES(changes)'
    : 'ON CONFLICT (connection_id, shard) DO UPDATE SET users = users + excluded.users, changes = changes + excluded.changes';
  return `INSERT INTO connection_user_counts (connection_id, shard, users, changes) VALUES (?, ?, ?, ?) ${upsert}`;
}

export interface ConnectionUserCount {
  /** SCIM users in the connection's scope. */
  users: number;
  /** Inserts and deletes ever counted: changes whenever the connection's set of users does. */
  changes: number;
}

/** One indexed read of at most USER_COUNT_SHARDS rows; `forUpdate` (MySQL) locks them for the rest of the transaction. */
export async function readConnectionUserCount(db: EntityManager | DataSource, connectionId: string, forUpdate = false): Promise<ConnectionUserCount> {
  const [row] = await db.query(`SELECT COALESCE(SUM(users), 0) AS users, COALESCE(SUM(changes), 0) AS changes FROM connection_user_counts WHERE connection_id = ?${forUpdate ? ' FOR UPDATE' : ''}`, [
    connectionId,
  ]);
  return { users: Number(row?.users ?? 0), changes: Number(row?.changes ?? 0) };
}

/** The counters of several connections in one statement (unknown ids read as zero), in the order asked. */
export async function readConnectionUserCounts(db: EntityManager | DataSource, connectionIds: readonly string[]): Promise<ConnectionUserCount[]> {
  const ids = [...new Set(connectionIds)];
  if (ids.length === 0) return [];
  const rows: Array<{ connection_id: string; users: number | string; changes: number | string }> = await db.query(
    `SELECT connection_id, COALESCE(SUM(users), 0) AS users, COALESCE(SUM(changes), 0) AS changes FROM connection_user_counts WHERE connection_id IN (${ids.map(() => '?').join(', ')}) GROUP BY connection_id`,
    ids,
  );
  const byId = new Map(rows.map((r) => [String(r.connection_id), { users: Number(r.users), changes: Number(r.changes) }]));
  return connectionIds.map((id) => byId.get(id) ?? { users: 0, changes: 0 });
}

/**
 * Recounts a connection's SCIM users from `connection_users` and rewrites its counter (one shard row),
 * for an operator whose counter drifted (rows changed outside Doorman, a partial restore). Run it in a
 * transaction: on MySQL the shard rows and the connection's index range are locked, so concurrent
 * creates and deletes wait (or one side deadlocks and is retried). `changes` only ever grows, so list
 * anchors built before the recount are dropped.
 */
export async function recountConnectionUsers(tx: EntityManager, connectionId: string): Promise<{ before: number; after: number }> {
  const mysql = isMysql(tx.connection);
  const counter = await readConnectionUserCount(tx, connectionId, mysql);
  const [actual] = await tx.query(`SELECT COUNT(*) AS n FROM connection_users WHERE connection_id = ?${mysql ? ' LOCK IN SHARE MODE' : ''}`, [connectionId]);
  const before = counter.users;
  const after = Number(actual?.n ?? 0);
  await tx.query('DELETE FROM connection_user_counts WHERE connection_id = ?', [connectionId]);
  await tx.query('INSERT INTO connection_user_counts (connection_id, shard, users, changes) VALUES (?, 0, ?, ?)', [connectionId, after, counter.changes + 1]);
  return { before, after };
}
