import type { DataSource, EntityManager } from 'typeorm';
import { isMysql } from '@doorman/model';

/** A datetime(3) parameter both drivers store as UTC (better-sqlite3 cannot bind a Date). */
export const sqlTime = (d: Date) => d.toISOString().replace('T', ' ').replace('Z', '');

/** A datetime read back raw: MySQL gives a Date, SQLite the text written by sqlTime. */
export const readTime = (v: unknown): Date => (v instanceof Date ? v : new Date(`${String(v).replace(' ', 'T')}Z`));
export const readTimeOrNull = (v: unknown): Date | null => (v === null || v === undefined ? null : readTime(v));

export const marks = (n: number) => new Array(n).fill('?').join(', ');

export function isMysqlTx(tx: EntityManager | DataSource): boolean {
  return isMysql('connection' in tx ? tx.connection : tx);
}

/**
 * Index hints for the delivery hot path on MySQL (docs/webhooks.md, "Query plans"): a fresh or fast
 * growing `webhook_deliveries` has stale statistics, and the optimizer then walked every delivery of
 * an endpoint (`ix_webhook_deliveries_endpoint`) for each lane check, slower as the table grows.
 * SQLite plans these queries by the index's columns without statistics, so it needs no hint.
 */
export const useIndex = (tx: EntityManager | DataSource, name: 'uq_webhook_deliveries_id' | 'ix_webhook_deliveries_lane') => (isMysqlTx(tx) ? ` FORCE INDEX (${name})` : '');
/** Joins in the order written (deliveries by id first), on MySQL; see useIndex. */
export const joinInOrder = (tx: EntityManager | DataSource) => (isMysqlTx(tx) ? 'STRAIGHT_JOIN ' : '');

/** Rows changed by an UPDATE/DELETE run through `tx.query` (the drivers report it differently). */
export function affected(result: unknown): number {
  if (Array.isArray(result)) return affected(result[1] ?? result[0]);
  const r = result as { affectedRows?: number; changes?: number } | undefined;
  return Number(r?.affectedRows ?? r?.changes ?? 0);
}

/**
 * Adds `counts[key]` to each subject's counter and returns the new values, in the caller's
 * transaction. The upsert locks each counter row until commit (keys in sorted order, so two
 * transactions never wait on each other crosswise): a subject's sequence numbers are therefore
 * given out in commit order (docs/webhooks.md).
 */
export async function bumpSubjectCounters(tx: EntityManager, counts: Map<string, number>): Promise<Map<string, number>> {
  const keys = [...counts.keys()].sort();
  const values = keys.flatMap((k) => [k, counts.get(k)!]);
  const rows = keys.map(() => '(?, ?)').join(', ');
  const upsert = isMysqlTx(tx)
    ? `INSERT INTO webhook_subjects (subject_key, last_seq) VALUES ${rows} ON DUPLICATE KEY UPDATE last_seq = last_seq + VALUES(last_seq)`
    : `INSERT INTO webhook_subjects (subject_key, last_seq) VALUES ${rows} ON CONFLICT(subject_key) DO UPDATE SET last_seq = last_seq + excluded.last_seq`;
  await tx.query(upsert, values);
  const read: Array<{ subject_key: string; last_seq: number | string }> = await tx.query(`SELECT subject_key, last_seq FROM webhook_subjects WHERE subject_key IN (${marks(keys.length)})`, keys);
  return new Map(read.map((r) => [r.subject_key, Number(r.last_seq)]));
}
