import { randomBytes } from 'node:crypto';
import { createConnection } from 'mysql2/promise';
import { describe, expect, it } from 'vitest';
import { createDataSource, DatabaseOpenError, openDatabase } from '../src/index.ts';
import { TEST_MYSQL_ADMIN_URL } from '../src/testing.ts';

/** What an operator reads when DATABASE_URL does not lead to a usable database. */
describe('opening DATABASE_URL', () => {
  it('names DATABASE_URL, with the password hidden, when the server cannot be reached', async () => {
    const url = 'mysql://doorman:hunter2-secret@127.0.0.1:1/doorman';
    const error = await openDatabase(createDataSource({ url }), { url }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatabaseOpenError);
    expect((error as Error).message).toMatch(/DATABASE_URL \(mysql:\/\/doorman:\*\*\*@127\.0\.0\.1:1\/doorman\)/);
    expect((error as Error).message).not.toContain('hunter2');
  });

  it('says how to create a MySQL database that does not exist, and creates it when allowed', async () => {
    const name = `doorman_t_missing_${randomBytes(4).toString('hex')}`;
    const url = `${TEST_MYSQL_ADMIN_URL.replace(/\/$/, '')}/${name}`;
    const refused = await openDatabase(createDataSource({ url }), { url }).catch((e: unknown) => e);
    expect((refused as Error).message).toContain(`the database '${name}' of DATABASE_URL`);
    expect((refused as Error).message).toContain(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4`);
    expect((refused as Error).message).toContain('DATABASE_CREATE=true');

    const ds = createDataSource({ url });
    let created: string | undefined;
    try {
      await openDatabase(ds, { url, create: true, onCreate: (db) => (created = db) });
      expect(created).toBe(name);
      expect(await ds.query('SELECT DATABASE() AS db')).toEqual([{ db: name }]);
    } finally {
      if (ds.isInitialized) await ds.destroy();
      const admin = await createConnection(TEST_MYSQL_ADMIN_URL);
      await admin.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await admin.end();
    }
  });
});
