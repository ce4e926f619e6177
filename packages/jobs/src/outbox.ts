import type { DataSource, EntityManager } from 'typeorm';
import { isMysql, OutboxMessageEntity, type JsonDocument } from '@doorman/model';

/** A pending outbox row as the relay reads it. */
export interface PendingIntent {
  /** Primary key; a string because MySQL BIGINTs come back as strings. */
  seq: string;
  queue: string;
  jobName: string;
  jobId: string;
  payload: JsonDocument;
  attempts: number;
}

interface RawRow {
  seq: number | string;
  queue: string;
  job_name: string;
  job_id: string;
  payload: string | JsonDocument;
  attempts: number;
}

const toIntent = (r: RawRow): PendingIntent => ({
  seq: String(r.seq),
  queue: r.queue,
  jobName: r.job_name,
  jobId: r.job_id,
  payload: typeof r.payload === 'string' ? JSON.parse(r.payload) : r.payload,
  attempts: r.attempts,
});

const COLUMNS = 'seq, queue, job_name, job_id, payload, attempts';

/**
 * Runs `work` on up to `limit` pending rows, in one transaction that keeps them locked.
 * On MySQL/MariaDB (10.6+) `FOR UPDATE SKIP LOCKED` lets several relays share the backlog without
 * taking the same rows; READ COMMITTED keeps the locking read from gap-locking the index, so SCIM
 * transactions inserting new intents never wait for a relay. SQLite has one writer: a plain select.
 */
export async function withClaimedIntents<T>(db: DataSource, limit: number, work: (rows: PendingIntent[], tx: EntityManager) => Promise<T>): Promise<T> {
  if (isMysql(db)) {
    return db.transaction('READ COMMITTED', async (tx) => {
      const raw: RawRow[] = await tx.query(
        `SELECT ${COLUMNS} FROM outbox WHERE relayed_at IS NULL ORDER BY seq LIMIT ? FOR UPDATE SKIP LOCKED`,
        [limit],
      );
      return work(raw.map(toIntent), tx);
    });
  }
  return db.transaction(async (tx) => {
    const raw: RawRow[] = await tx.query(`SELECT ${COLUMNS} FROM outbox WHERE relayed_at IS NULL ORDER BY seq LIMIT ?`, [limit]);
    return work(raw.map(toIntent), tx);
  });
}

/** Pending rows without locking them (the inline driver, which runs in one process). */
export async function readPendingIntents(db: DataSource, limit: number): Promise<PendingIntent[]> {
  const raw: RawRow[] = await db.query(`SELECT ${COLUMNS} FROM outbox WHERE relayed_at IS NULL ORDER BY seq LIMIT ?`, [limit]);
  return raw.map(toIntent);
}

export async function markRelayed(tx: EntityManager, seqs: string[], at: Date, lastError: string | null = null): Promise<void> {
  if (!seqs.length) return;
  await tx
    .createQueryBuilder()
    .update(OutboxMessageEntity)
    .set({ relayedAt: at, lastError })
    .where('seq IN (:...seqs)', { seqs })
    .execute();
}

export async function recordRelayFailure(tx: EntityManager, seqs: string[], error: string): Promise<void> {
  if (!seqs.length) return;
  await tx
    .createQueryBuilder()
    .update(OutboxMessageEntity)
    .set({ attempts: () => 'attempts + 1', lastError: error.slice(0, 1024) })
    .where('seq IN (:...seqs)', { seqs })
    .execute();
}

/** Deletes rows relayed before `cutoff` (bounded per call on MySQL). Returns how many went. */
export async function deleteRelayedBefore(db: DataSource, cutoff: Date): Promise<number> {
  const qb = db.createQueryBuilder().delete().from(OutboxMessageEntity).where('relayed_at IS NOT NULL AND relayed_at < :cutoff', { cutoff });
  if (isMysql(db)) {
    const [sql, params] = qb.getQueryAndParameters();
    const result = await db.query(`${sql} LIMIT 5000`, params);
    return Number(result?.affectedRows ?? 0);
  }
  const result = await qb.execute();
  return Number(result.affected ?? 0);
}

export async function countPendingIntents(db: DataSource): Promise<number> {
  const [row] = await db.query('SELECT COUNT(*) AS n FROM outbox WHERE relayed_at IS NULL');
  return Number(row?.n ?? 0);
}
