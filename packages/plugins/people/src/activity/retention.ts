import type { DataSource } from 'typeorm';
import { isMysql } from '@doorman/model';
import { dbTime } from './recorder.ts';

/** Deletes refused-request rows older than `cutoff`, in bounded batches. Returns how many went. */
export async function purgeActivity(db: DataSource, cutoff: Date, batch = 5000): Promise<number> {
  let deleted = 0;
  for (;;) {
    const sql = isMysql(db)
      ? `DELETE FROM connection_activity WHERE occurred_at < ? ORDER BY occurred_at LIMIT ${batch}`
      : `DELETE FROM connection_activity WHERE seq IN (SELECT seq FROM connection_activity WHERE occurred_at < ? LIMIT ${batch})`;
    const result = await db.query(sql, [dbTime(cutoff)]);
    // mysql2: an OkPacket with affectedRows; better-sqlite3 through TypeORM: [rows, changes] or a RunResult.
    const n = Number((result as { affectedRows?: number })?.affectedRows ?? (Array.isArray(result) ? result[1] : (result as { changes?: number })?.changes) ?? 0);
    deleted += n;
    if (n < batch) return deleted;
  }
}
