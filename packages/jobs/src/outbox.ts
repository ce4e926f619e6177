import type { DataSource, EntityManager } from 'typeorm';
import { isMysql, OutboxMessageEntity, type JsonDocument } from '@doorman/model';

/**
 * Runs work in one transaction. On SQLite it must be the gateway's serialising runner (core's
 * `createTransactionRunner`): SQLite has one connection, and a transaction opened beside another
 * fails with `cannot start a transaction within a transaction` (docs/job-durability.md).
 */
export type Transact = <T>(work: (tx: EntityManager) => Promise<T>) => Promise<T>;

/** The plain TypeORM transaction, for callers without a runner (MySQL tests, benchmarks). */
export const plainTransact = (db: DataSource): Transact => (work) => db.transaction(work);

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
export async function withClaimedIntents<T>(
  db: DataSource,
  transact: Transact,
  limit: number,
  work: (rows: PendingIntent[], tx: EntityManager) => Promise<T>,
): Promise<T> {
  if (isMysql(db)) {
    return db.transaction('READ COMMITTED', async (tx) => {
      const raw: RawRow[] = await tx.query(
        `SELECT ${COLUMNS} FROM outbox WHERE relayed_at IS NULL ORDER BY seq LIMIT ? FOR UPDATE SKIP LOCKED`,
        [limit],
      );
      return work(raw.map(toIntent), tx);
    });
  }
  return transact(async (tx) => {
    const raw: RawRow[] = await tx.query(`SELECT ${COLUMNS} FROM outbox WHERE relayed_at IS NULL ORDER BY seq LIMIT ?`, [limit]);
    return work(raw.map(toIntent), tx);
  });
}

/** Pending rows without locking them (the inline driver, which runs in one process). */
export async function readPendingIntents(db: DataSource, limit: number): Promise<PendingIntent[]> {
  const raw: RawRow[] = await db.query(`SELECT ${COLUMNS} FROM outbox WHERE relayed_at IS NULL ORDER BY seq LIMIT ?`, [limit]);
  return raw.map(toIntent);
}

/** Marks rows handed to BullMQ; `finished` also marks them completed (the inline driver, merged duplicates). */
export async function markRelayed(tx: EntityManager, seqs: string[], at: Date, lastError: string | null = null, finished = false): Promise<void> {
  if (!seqs.length) return;
  await tx
    .createQueryBuilder()
    .update(OutboxMessageEntity)
    .set({ relayedAt: at, lastError, ...(finished ? { completedAt: at } : {}) })
    .where('seq IN (:...seqs)', { seqs })
    .execute();
}

/**
 * Records that jobs finished (completed, or failed for good with `lastError`), by their outbox job id.
 * Until then their rows are kept, so a relay can re-send a job an emptied Redis lost.
 */
export async function markCompleted(tx: EntityManager | DataSource, jobIds: string[], at: Date, lastError: string | null = null): Promise<void> {
  if (!jobIds.length) return;
  await tx
    .createQueryBuilder()
    .update(OutboxMessageEntity)
    .set({ completedAt: at, ...(lastError === null ? {} : { lastError: lastError.slice(0, 1024) }) })
    .where('job_id IN (:...jobIds) AND completed_at IS NULL AND relayed_at IS NOT NULL', { jobIds })
    .execute();
}

/** Relayed rows whose job has not finished, relayed before `cutoff`, after `afterSeq` in seq order. */
export async function readUnfinishedIntents(db: DataSource, cutoff: Date, afterSeq: string, limit: number): Promise<PendingIntent[]> {
  // Through the driver's escaping, which turns the Date into each dialect's datetime form.
  const [sql, params] = db.driver.escapeQueryWithParameters(
    `SELECT ${COLUMNS} FROM outbox WHERE completed_at IS NULL AND relayed_at IS NOT NULL AND relayed_at < :cutoff AND seq > :afterSeq ORDER BY seq LIMIT ${Number(limit)}`,
    { cutoff, afterSeq: Number(afterSeq) },
  );
  const raw: RawRow[] = await db.query(sql, params);
  return raw.map(toIntent);
}

/** Hands rows back to the relay (their job is gone from Redis): the next pass adds them again. */
export async function markUnrelayed(transact: Transact, seqs: string[]): Promise<void> {
  if (!seqs.length) return;
  await transact((tx) =>
    tx.createQueryBuilder().update(OutboxMessageEntity).set({ relayedAt: null }).where('seq IN (:...seqs) AND completed_at IS NULL', { seqs }).execute(),
  );
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

/** Deletes rows whose job finished before `cutoff` (bounded per call on MySQL). Returns how many went. */
export async function deleteCompletedBefore(db: DataSource, transact: Transact, cutoff: Date): Promise<number> {
  const qb = db.createQueryBuilder().delete().from(OutboxMessageEntity).where('completed_at IS NOT NULL AND completed_at < :cutoff', { cutoff });
  if (isMysql(db)) {
    const [sql, params] = qb.getQueryAndParameters();
    const result = await db.query(`${sql} LIMIT 5000`, params);
    return Number(result?.affectedRows ?? 0);
  }
  const result = await transact((tx) => tx.createQueryBuilder().delete().from(OutboxMessageEntity).where('completed_at IS NOT NULL AND completed_at < :cutoff', { cutoff }).execute());
  return Number(result.affected ?? 0);
}

export async function countPendingIntents(db: DataSource): Promise<number> {
  const [row] = await db.query('SELECT COUNT(*) AS n FROM outbox WHERE relayed_at IS NULL');
  return Number(row?.n ?? 0);
}

/** Rows relayed to BullMQ whose job has not finished yet (waiting, active, retrying, or lost with Redis). */
export async function countUnfinishedIntents(db: DataSource): Promise<number> {
  const [row] = await db.query('SELECT COUNT(*) AS n FROM outbox WHERE completed_at IS NULL AND relayed_at IS NOT NULL');
  return Number(row?.n ?? 0);
}
