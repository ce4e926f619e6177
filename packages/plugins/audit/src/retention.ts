import type { DataSource, EntityManager } from 'typeorm';
import { AuditEventEntity } from '@doorman/model';

/**
 * Deletes events older than `cutoff`, oldest first, `batchSize` per transaction. Only a prefix of the
 * table by seq is ever deleted (a batch stops at the first event that is not old enough), so every
 * chain loses only its oldest events and stays verifiable from its first remaining event.
 */
export async function purgeExpired(
  db: DataSource,
  transaction: <T>(work: (tx: EntityManager) => Promise<T>) => Promise<T>,
  cutoff: Date,
  batchSize = 1000,
): Promise<{ deleted: number; throughSeq: number | null }> {
  let deleted = 0;
  let throughSeq: number | null = null;
  for (;;) {
    const rows = await db.getRepository(AuditEventEntity).find({ select: { seq: true, occurredAt: true }, order: { seq: 'ASC' }, take: batchSize });
    const stop = rows.findIndex((r) => new Date(r.occurredAt) >= cutoff);
    const old = stop === -1 ? rows : rows.slice(0, stop);
    if (!old.length) break;
    const seqs = old.map((r) => Number(r.seq));
    // Exactly the rows read (not a range), so an event committed meanwhile is never caught.
    await transaction((tx) => tx.getRepository(AuditEventEntity).createQueryBuilder().delete().where('seq IN (:...seqs)', { seqs }).execute());
    deleted += old.length;
    throughSeq = seqs[seqs.length - 1];
    if (stop !== -1 || rows.length < batchSize) break;
  }
  return { deleted, throughSeq };
}
