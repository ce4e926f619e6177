import type { DataSource, EntityManager } from 'typeorm';
import { isMysql } from '@doorman/model';

const RETRYABLE = new Set(['ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT', 'SQLITE_BUSY']);

export function isRetryableTransactionError(err: unknown): boolean {
  const e = err as { code?: string; driverError?: { code?: string } };
  return RETRYABLE.has(e?.code ?? '') || RETRYABLE.has(e?.driverError?.code ?? '');
}

/** The database cannot be reached or lost the connection: the request may succeed if retried later. */
const UNAVAILABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'PROTOCOL_ENQUEUE_AFTER_FATAL_ERROR',
  'ER_SERVER_SHUTDOWN',
  'ER_CON_COUNT_ERROR',
  'ER_TOO_MANY_USER_CONNECTIONS',
  'ER_CONNECTION_KILLED',
  'ER_QUERY_INTERRUPTED',
  'ER_GET_CONNECTION_TIMEOUT',
  'ER_OPTION_PREVENTS_STATEMENT', // read-only during a failover
]);
/** Contention that outlived the transaction runner's retries (lock waits, deadlocks, a busy SQLite file). */
const BUSY = new Set(['ER_LOCK_WAIT_TIMEOUT', 'ER_LOCK_DEADLOCK', 'SQLITE_BUSY', 'SQLITE_LOCKED']);
/** mysql2 errors without a code that mean the connection is gone. */
const UNAVAILABLE_MESSAGE = /connection is in closed state|Pool is closed|Connection lost|connect ETIMEDOUT|Queue limit reached|No connections available/i;

/**
 * Classifies a database error as an outage (`unavailable`) or transient contention (`busy`), else
 * undefined (a bug or bad input). Follows TypeORM's wrapping (`driverError`) and `cause` chains.
 * The error middleware answers both with 503 and `Retry-After` (README "Failure behaviour").
 */
export function databaseOutageKind(err: unknown): 'unavailable' | 'busy' | undefined {
  for (let e = err as { code?: unknown; fatal?: unknown; message?: unknown; driverError?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; depth++) {
    const code = typeof e.code === 'string' ? e.code : '';
    if (UNAVAILABLE.has(code) || e.fatal === true) return 'unavailable';
    if (BUSY.has(code)) return 'busy';
    if (typeof e.message === 'string' && UNAVAILABLE_MESSAGE.test(e.message)) return 'unavailable';
    e = (e.driverError ?? e.cause) as typeof e;
  }
  return undefined;
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
