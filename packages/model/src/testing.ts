import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection } from 'mysql2/promise';
import { createDataSource } from './data-source.ts';
import type { DataSource } from 'typeorm';

/** The MariaDB/MySQL server the integration tests use (the machine's, by default). */
export const TEST_MYSQL_ADMIN_URL = process.env.TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

export interface MysqlTestDatabase extends TestDatabase {
  /** One statement on the database, for a test to set up what no API can (e.g. an SSO session without an IdP). */
  query<T = unknown>(sql: string, params?: unknown[]): Promise<T[]>;
}

/** A fresh, empty MySQL database for one test file, so test files never share state. */
export async function createTestMysqlDatabase(): Promise<MysqlTestDatabase> {
  const name = `doorman_t_${randomBytes(6).toString('hex')}`;
  const admin = await createConnection(TEST_MYSQL_ADMIN_URL);
  await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  await admin.end();
  return {
    url: `${TEST_MYSQL_ADMIN_URL.replace(/\/$/, '')}/${name}`,
    async query<T>(sql: string, params: unknown[] = []) {
      const c = await createConnection(`${TEST_MYSQL_ADMIN_URL.replace(/\/$/, '')}/${name}`);
      try {
        const [rows] = await c.query(sql, params);
        return (Array.isArray(rows) ? rows : []) as T[];
      } finally {
        await c.end();
      }
    },
    async drop() {
      const c = await createConnection(TEST_MYSQL_ADMIN_URL);
      await c.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await c.end();
    },
  };
}

/** A migrated data source on a fresh MySQL database; `close()` also drops the database. */
export async function openTestDataSource(): Promise<{ ds: DataSource; url: string; close(): Promise<void> }> {
  const db = await createTestMysqlDatabase();
  const ds = createDataSource({ url: db.url, poolSize: 20 });
  await ds.initialize();
  await ds.runMigrations({ transaction: 'each' });
  return {
    ds,
    url: db.url,
    async close() {
      if (ds.isInitialized) await ds.destroy();
      await db.drop();
    },
  };
}

/** A fresh SQLite file in its own temporary folder; `drop()` removes the folder. */
export async function createTestSqliteDatabase(): Promise<TestDatabase> {
  const dir = mkdtempSync(join(tmpdir(), 'doorman-sqlite-'));
  return { url: `sqlite:${join(dir, 'test.db')}`, drop: async () => rmSync(dir, { recursive: true, force: true }) };
}

/** Both engines a dialect-neutral test runs on, for `describe.each`: a fresh database of each per call. */
export const TEST_ENGINES = [
  { name: 'mysql', open: createTestMysqlDatabase },
  { name: 'sqlite', open: createTestSqliteDatabase },
] as const;
