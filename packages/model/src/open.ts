import { createConnection } from 'mysql2/promise';
import type { DataSource } from 'typeorm';
import { redactUrl } from './data-source.ts';
import { DatabaseOpenError } from './errors.ts';

/**
 * Opens the data source named by DATABASE_URL with errors an operator can act on: the setting is
 * named (password hidden), and a MySQL database that does not exist comes with the statements that
 * create it, or is created when `create` is set (DATABASE_CREATE=true).
 */
export { DatabaseOpenError };

const DATABASE_NAME = /^[A-Za-z0-9_$-]{1,64}$/;

function mysqlTarget(url: string) {
  const parsed = new URL(url.replace(/^mariadb:/, 'mysql:'));
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  const server = new URL(parsed.href);
  server.pathname = '/';
  return { database, serverUrl: server.href, user: decodeURIComponent(parsed.username) || 'doorman' };
}

const isMissingDatabase = (err: unknown) => {
  const e = err as { code?: string; errno?: number; driverError?: { code?: string } };
  return e?.code === 'ER_BAD_DB_ERROR' || e?.errno === 1049 || e?.driverError?.code === 'ER_BAD_DB_ERROR';
};

export async function createMysqlDatabase(url: string): Promise<void> {
  const { database, serverUrl } = mysqlTarget(url);
  if (!DATABASE_NAME.test(database)) throw new DatabaseOpenError(`DATABASE_URL (${redactUrl(url)}): '${database}' is not a database name Doorman creates`);
  const connection = await createConnection(serverUrl);
  try {
    await connection.query(`CREATE DATABASE IF NOT EXISTS \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  } finally {
    await connection.end();
  }
}

export interface OpenSettings {
  url: string;
  /** Create a missing MySQL database (needs the CREATE privilege). */
  create?: boolean;
  onCreate?: (database: string) => void;
}

export async function openDatabase(ds: DataSource, settings: OpenSettings): Promise<void> {
  const { url } = settings;
  try {
    await ds.initialize();
    return;
  } catch (err) {
    if (!/^(mysql|mariadb):/.test(url) || !isMissingDatabase(err)) {
      throw new DatabaseOpenError(`cannot open the database of DATABASE_URL (${redactUrl(url)}): ${(err as Error).message}`, { cause: err });
    }
  }
  const { database, user } = mysqlTarget(url);
  if (!settings.create) {
    throw new DatabaseOpenError(
      [
        `the database '${database}' of DATABASE_URL (${redactUrl(url)}) does not exist. Create it, as a MySQL administrator:`,
        `    CREATE DATABASE \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;`,
        `    GRANT ALL PRIVILEGES ON \`${database}\`.* TO '${user}'@'%';`,
        `or set DATABASE_CREATE=true to let Doorman create it (the user then needs the CREATE privilege).`,
      ].join('\n'),
    );
  }
  try {
    await createMysqlDatabase(url);
  } catch (err) {
    if (err instanceof DatabaseOpenError) throw err;
    throw new DatabaseOpenError(`DATABASE_CREATE: cannot create the database '${database}' of DATABASE_URL (${redactUrl(url)}): ${(err as Error).message}`, { cause: err });
  }
  settings.onCreate?.(database);
  try {
    await ds.initialize();
  } catch (err) {
    throw new DatabaseOpenError(`cannot open the database of DATABASE_URL (${redactUrl(url)}): ${(err as Error).message}`, { cause: err });
  }
}
