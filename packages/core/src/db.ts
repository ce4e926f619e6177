import type { DataSource, EntityManager } from 'typeorm';
import { isMysql } from '@doorman/model';

const RETRYABLE = new Set(['ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT', 'SQLITE_BUSY']);

export function isRetryableTransactionError(err: unknown): boolean {
  const e = err as { code?: string; driverError?: { code?: string } };
  return RETRYABLE.has(e?.code ?? '') || RETRYABLE.has(e?.driverError?.code ?? '');
}

/** Re-exported from @doorman/model, where account creation needs it too. */
export { isDuplicateKeyError } from '@doorman/model';

/**
 * Runs `work` in one transaction. MySQL deadlocks are retried (a few times, with jitter) because
 * InnoDB resolves them by aborting one side. SQLite has one connection, so its transactions are
 * serialised in process.
 */
export function createTransactionRunner(ds: DataSource) {
  let sqliteQueue: Promise<unknown> = Promise.resolve();
  const mysql = isMysql(ds);
  return async function transaction<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    if (!mysql) {
      const run = sqliteQueue.then(() => ds.transaction(work));
      sqliteQueue = run.catch(() => undefined);
      return run;
    }
    for (let attempt = 1; ; attempt++) {
      try {
        return await ds.transaction(work);
      } catch (err) {
        if (attempt >= 5 || !isRetryableTransactionError(err)) throw err;
        await new Promise((r) => setTimeout(r, 5 * attempt + Math.random() * 20));
      }
    }
  };
}
