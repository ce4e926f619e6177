import type { DataSource } from 'typeorm';
import { affected, isMysqlTx, sqlTime } from './sql.ts';

/**
 * Deletes events, finished deliveries and attempts older than the cutoff, in bounded batches. Events
 * are deleted only once positioned (the pull API has had them), and only when no delivery of
 * theirs is still unfinished.
 */
export async function purgeExpired(db: DataSource, cutoff: Date, batchSize = 1000): Promise<{ events: number; deliveries: number; attempts: number }> {
  const at = sqlTime(cutoff);
  const mysql = isMysqlTx(db);
  const batched = async (sql: string, params: unknown[]) => {
    let total = 0;
    for (;;) {
      const n = affected(await db.query(mysql ? `${sql} LIMIT ${batchSize}` : `${sql.replace(/^DELETE FROM (\w+) WHERE/, `DELETE FROM $1 WHERE seq IN (SELECT seq FROM $1 WHERE`)} LIMIT ${batchSize})`, params));
      total += n;
      if (n < batchSize) return total;
    }
  };
  const attempts = await batched('DELETE FROM webhook_attempts WHERE started_at < ?', [at]);
  const deliveries = await batched("DELETE FROM webhook_deliveries WHERE created_at < ? AND status IN ('delivered', 'dead')", [at]);
  const events = await batched(
    "DELETE FROM webhook_events WHERE occurred_at < ? AND position IS NOT NULL AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = webhook_events.id)",
    [at],
  );
  return { events, deliveries, attempts };
}
