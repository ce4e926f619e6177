/**
 * The read plumbing of the role-mapping service: each statement is a round trip, and SCIM writes are
 * bound by round trips, so its reads (state.ts) are UNION ALLs of raw SELECTs ("members") with one
 * row shape, tagged by `kind`.
 *
 * MariaDB runs a union's members in order, so a locking member (the user row, then the user's
 * memberships) holds its locks before the next member runs, exactly as separate statements would;
 * and the first plain (snapshot) read, which fixes the transaction's snapshot, happens after the user
 * lock was granted. On MySQL/MariaDB each member is parenthesised with its own locking clause: a FOR
 * UPDATE after the last member would lock only that member's rows. SQLite has no row locks and no
 * parenthesised members.
 */
import type { EntityManager } from 'typeorm';
import { isMysql } from '@doorman/model';

export const placeholders = (n: number) => Array.from({ length: n }, () => '?').join(', ');

/** Lock clauses, empty on SQLite (no row locks there; its transactions are serialised). */
export function locks(tx: EntityManager) {
  const mysql = isMysql(tx.connection);
  return { mysql, forUpdate: mysql ? ' FOR UPDATE' : '', forShare: mysql ? ' LOCK IN SHARE MODE' : '' };
}

const COLUMNS = [
  'kind',
  'id',
  'org_id',
  'team_id',
  'team_org_id',
  'name',
  'org_name',
  'role',
  'source',
  'connection_id',
  'granted_by',
  'seat_limit',
  'seats_used',
  'owner_count',
  'default_org_id',
  'default_team',
  'default_team_key',
  'team_name',
  'flag',
  'user_id',
] as const;
type Column = (typeof COLUMNS)[number];
/** A row of a union: every column, NULL where its member sets none. */
export type Row = Record<Column, string | number | null>;

export interface Member {
  sql: string;
  params: unknown[];
  lock?: 'update' | 'share';
}

/** One SELECT of the union: `kind` tags its rows, columns it does not set read NULL. */
export function member(kind: string, select: Partial<Record<Exclude<Column, 'kind'>, string>>, rest: string, params: unknown[], lock?: Member['lock']): Member {
  const list = COLUMNS.map((c) => `${c === 'kind' ? `'${kind}'` : (select[c] ?? 'NULL')} AS ${c}`).join(', ');
  return { sql: `SELECT ${list} ${rest}`, params, lock };
}

/** Runs the members as one statement, in order (each with its lock clause on MySQL/MariaDB). */
export async function unionAll<T = Row>(tx: EntityManager, members: Member[]): Promise<T[]> {
  const mysql = isMysql(tx.connection);
  const clause = { update: ' FOR UPDATE', share: ' LOCK IN SHARE MODE' };
  const sql = members.map((m) => (mysql ? `(${m.sql}${m.lock ? clause[m.lock] : ''})` : m.sql)).join(' UNION ALL ');
  return tx.query(sql, members.flatMap((m) => m.params));
}

export const str = (v: string | number | null) => (v === null ? null : String(v));
export const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
