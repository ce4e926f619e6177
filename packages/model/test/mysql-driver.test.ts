import { describe, expect, it } from 'vitest';
import type { Pool, PoolConnection } from 'mysql2';
import { createDataSource } from '../src/index.ts';
import { reusePromiseWrapper } from '../src/mysql-driver.ts';
import { createTestMysqlDatabase } from '../src/testing.ts';

describe('reusePromiseWrapper', () => {
  it('makes one wrapper per connection for calls without a promise implementation, a new one for calls with', () => {
    let made = 0;
    const connection = { promise: (impl?: PromiseConstructor) => ({ n: ++made, impl }) };
    reusePromiseWrapper(connection);
    const first = connection.promise();
    expect(connection.promise()).toBe(first);
    expect(made).toBe(1);
    expect(connection.promise(Promise)).toEqual({ n: 2, impl: Promise });
    expect(connection.promise()).toBe(first);
  });
});

describe("the MySQL data source's driver (TypeORM over mysql2)", () => {
  it('hands TypeORM the same promise wrapper for every statement on a pooled connection, and its statements run', async () => {
    const db = await createTestMysqlDatabase();
    const ds = createDataSource({ url: db.url, poolSize: 2 });
    try {
      await ds.initialize();
      const pool = (ds.driver as unknown as { pool: Pool }).pool;
      const connection = await new Promise<PoolConnection>((resolve, reject) => pool.getConnection((err, c) => (err ? reject(err) : resolve(c))));
      const wrapper = connection.promise();
      expect(connection.promise()).toBe(wrapper);
      const [rows] = await wrapper.query('SELECT 1 + 1 AS two');
      expect(rows).toEqual([{ two: 2 }]);
      connection.release();
      // Through TypeORM's query runner, in and out of a transaction, on every connection of the pool.
      expect(await ds.query('SELECT 2 AS n')).toEqual([{ n: 2 }]);
      const results = await Promise.all([1, 2, 3, 4].map((n) => ds.transaction(async (tx) => tx.query('SELECT ? AS n', [n]))));
      expect(results).toEqual([[{ n: 1 }], [{ n: 2 }], [{ n: 3 }], [{ n: 4 }]]);
      await expect(ds.query('SELECT * FROM no_such_table')).rejects.toThrow(/no_such_table/);
    } finally {
      if (ds.isInitialized) await ds.destroy();
      await db.drop();
    }
  });
});
