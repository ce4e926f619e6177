import { createConnection } from 'mysql2/promise';
import type { DataSource, Migration } from 'typeorm';
import { isMysql } from './data-source.ts';
import { DatabaseUrlInvalid, MigrationLockTimeout } from './errors.ts';

/**
 * Runs pending migrations, serialized across processes: an api and a worker starting at once on a
 * fresh database would otherwise both see the same migration pending and the second would fail
 * half-way (`Duplicate column name`). On MySQL/MariaDB a named lock (`GET_LOCK`, per database)
 * is held on a connection of its own (outside the pool, so even a pool of one can migrate) for the whole run; whoever waits re-reads what is pending once
 * it holds the lock, so each migration runs once. SQLite is the embedded, one-process default:
 * no lock (docs/deploy.md, "Migrations").
 */
export const MIGRATION_LOCK_TIMEOUT_SECONDS = 600;

export interface MigrateOptions {
  /** Called when another process holds the lock and this one waits for it. */
  onWait?: () => void;
  timeoutSeconds?: number;
}

export async function runMigrationsLocked(ds: DataSource, options: MigrateOptions = {}): Promise<Migration[]> {
  if (!isMysql(ds)) return ds.runMigrations({ transaction: 'each' });
  const url = (ds.options as { url?: string }).url;
  if (!url) throw new DatabaseUrlInvalid('migrations: a MySQL data source needs a url to take the migration lock');
  const lock = await createConnection(url.replace(/^mariadb:/, 'mysql:'));
  try {
    const [rows] = await lock.query('SELECT DATABASE() AS db');
    // Lock names are server-wide (64 characters at most): one per database.
    const name = `doorman-migrate:${(rows as Array<{ db: string }>)[0]!.db}`.slice(0, 64);
    const take = async (seconds: number) => Number(((await lock.query('SELECT GET_LOCK(?, ?) AS got', [name, seconds]))[0] as Array<{ got: unknown }>)[0]?.got);
    const timeout = options.timeoutSeconds ?? MIGRATION_LOCK_TIMEOUT_SECONDS;
    if ((await take(0)) !== 1) {
      options.onWait?.();
      if ((await take(timeout)) !== 1) throw new MigrationLockTimeout(`migrations: another process held the migration lock '${name}' for more than ${timeout} s`);
    }
    // The lock is released when this connection ends, whatever happens below.
    return await ds.runMigrations({ transaction: 'each' });
  } finally {
    await lock.end().catch(() => lock.destroy());
  }
}
