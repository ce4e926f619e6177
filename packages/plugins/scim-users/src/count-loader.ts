import DataLoader from 'dataloader';
import type { DataSource } from 'typeorm';
import type { ConnectionUserCount } from '@doorman/model';

/**
 * The user counter behind unfiltered list totals (`connection_user_counts`, summed over its shards),
 * read for every unfiltered list page that arrives in the same turn of the event loop with one
 * statement (flushed on setImmediate, as the same-turn lookups by id are): under an IdP's or a
 * dashboard's burst of list pages, each page then costs one round trip (its rows) instead of two.
 * No caching: every page reads the counter after it arrived, as `readConnectionUserCount` does.
 */
export function connectionCountLoader(db: DataSource): DataLoader<string, ConnectionUserCount, string> {
  return new DataLoader<string, ConnectionUserCount, string>(
    async (connectionIds) => {
      const ids = [...new Set(connectionIds)];
      const rows: Array<{ connection_id: string; users: number | string; changes: number | string }> = await db.query(
        `SELECT connection_id, COALESCE(SUM(users), 0) AS users, COALESCE(SUM(changes), 0) AS changes FROM connection_user_counts WHERE connection_id IN (${ids.map(() => '?').join(', ')}) GROUP BY connection_id`,
        ids,
      );
      const byId = new Map(rows.map((r) => [String(r.connection_id), { users: Number(r.users), changes: Number(r.changes) }]));
      return connectionIds.map((id) => byId.get(id) ?? { users: 0, changes: 0 });
    },
    { cache: false, maxBatchSize: 100, batchScheduleFn: (flush) => setImmediate(flush) },
  );
}
