import DataLoader from 'dataloader';
import type { DataSource } from 'typeorm';
import { readConnectionUserCounts, type ConnectionUserCount } from '@doorman/model';

/**
 * The user counter behind unfiltered list totals (`connection_user_counts`, summed over its shards),
 * read for every unfiltered list page that arrives in the same turn of the event loop with one
 * statement (flushed on setImmediate, as the same-turn lookups by id are): under an IdP's or a
 * dashboard's burst of list pages, each page then costs one round trip (its rows) instead of two.
 * No caching: every page reads the counter after it arrived, as `readConnectionUserCount` does.
 */
export function connectionCountLoader(db: DataSource): DataLoader<string, ConnectionUserCount, string> {
  return new DataLoader<string, ConnectionUserCount, string>(
    (connectionIds) => readConnectionUserCounts(db, connectionIds),
    { cache: false, maxBatchSize: 100, batchScheduleFn: (flush) => setImmediate(flush) },
  );
}
