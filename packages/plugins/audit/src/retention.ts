import type { DataSource } from 'typeorm';
import { chainEvents, chainKeyOf, chainTransactionRunner, lockHead, sqlTime, type ChainTransaction } from './chain.ts';

export interface PurgeResult {
  deleted: number;
  /** Chains that lost events. */
  chains: number;
  /** Chains whose oldest remaining event does not follow what was purged (tampered): left as they are. */
  skipped: string[];
}

/**
 * Deletes sealed events older than `cutoff`, chain by chain, oldest chain_seq first, `batchSize` per
 * transaction under the chain head lock. A chain only ever loses a prefix by chain_seq (a batch stops at
 * the first event that is not old enough), and the head records how far it was purged, so every chain
 * stays verifiable from its first remaining event. Unsealed events are never purged. A chain whose first
 * remaining event is not the one right after the purged ones (events were removed by someone else) is
 * skipped, so retention never hides that.
 */
export async function purgeExpired(db: DataSource, transaction: ChainTransaction, cutoff: Date, batchSize = 1000): Promise<PurgeResult> {
  const run = chainTransactionRunner(db, transaction);
  const chains: Array<{ orgId: string | null }> = await db.query(
    'SELECT DISTINCT org_id AS orgId FROM audit_events WHERE occurred_at < ? AND chain_seq IS NOT NULL',
    [sqlTime(cutoff)],
  );
  const result: PurgeResult = { deleted: 0, chains: 0, skipped: [] };
  for (const { orgId } of chains) {
    const key = chainKeyOf(orgId);
    let chainDeleted = 0;
    for (;;) {
      const batch = await run(async (tx) => {
        const head = await lockHead(tx, key, false);
        if (!head) return { deleted: 0, more: false, skipped: true };
        const rows = await chainEvents(tx, orgId)
          .select(['e.seq', 'e.chainSeq', 'e.occurredAt'])
          .andWhere('e.chainSeq > :purged', { purged: head.purgedChainSeq })
          .andWhere('e.chainSeq <= :last', { last: head.lastChainSeq })
          .orderBy('e.chainSeq', 'ASC')
          .limit(batchSize)
          .getMany();
        const old: typeof rows = [];
        for (const r of rows) {
          if (new Date(r.occurredAt) >= cutoff || Number(r.chainSeq) !== head.purgedChainSeq + old.length + 1) break;
          old.push(r);
        }
        if (!old.length) return { deleted: 0, more: false, skipped: rows.length > 0 && Number(rows[0].chainSeq) !== head.purgedChainSeq + 1 };
        const seqs = old.map((r) => Number(r.seq));
        await tx.query(`DELETE FROM audit_events WHERE seq IN (${seqs.map(() => '?').join(',')})`, seqs);
        await tx.query('UPDATE audit_chain_heads SET purged_chain_seq = ? WHERE chain_key = ?', [Number(old[old.length - 1].chainSeq), key]);
        return { deleted: old.length, more: old.length === rows.length && rows.length === batchSize, skipped: false };
      });
      chainDeleted += batch.deleted;
      if (batch.skipped) result.skipped.push(key);
      if (!batch.more) break;
    }
    result.deleted += chainDeleted;
    if (chainDeleted) result.chains++;
  }
  return result;
}
