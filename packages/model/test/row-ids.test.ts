import { describe, expect, it } from 'vitest';
import { createDataSource, insertAccount, isUuidV7, newRowId } from '../src/index.ts';
import { TEST_ENGINES } from '../src/testing.ts';

describe('newRowId', () => {
  it('makes RFC 9562 version-7 UUIDs whose leading 48 bits are the creation time in milliseconds', () => {
    const before = Date.now();
    const id = newRowId();
    const after = Date.now();
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const millis = parseInt(id.replace(/-/g, '').slice(0, 12), 16);
    expect(millis).toBeGreaterThanOrEqual(before);
    expect(millis).toBeLessThanOrEqual(after);
    expect(isUuidV7(id)).toBe(true);
    expect(isUuidV7('9b2f3c1e-5d4a-4e6f-8a7b-0c1d2e3f4a5b')).toBe(false);
  });

  it('increases strictly within one process, also inside one millisecond, and stays unique', () => {
    const ids = Array.from({ length: 10_000 }, () => newRowId());
    expect(new Set(ids).size).toBe(ids.length);
    for (let i = 1; i < ids.length; i++) expect(ids[i]! > ids[i - 1]!).toBe(true);
  });
});

describe.each(TEST_ENGINES)('row ids on $name', ({ open }) => {
  it('sort in creation order under the key column collation, so new rows go to the end of the primary key', async () => {
    const db = await open();
    const ds = createDataSource({ url: db.url });
    await ds.initialize();
    try {
      await ds.runMigrations({ transaction: 'each' });
      const created: string[] = [];
      for (let i = 0; i < 50; i++) {
        const account = await ds.transaction((tx) => insertAccount(tx, { email: `ordered${i}@x.test`, fullName: null, now: new Date() }));
        created.push(account.id);
      }
      const rows: Array<{ id: string }> = await ds.query('SELECT id FROM users ORDER BY id');
      expect(rows.map((r) => r.id)).toEqual(created);
      expect(created.every(isUuidV7)).toBe(true);
    } finally {
      await ds.destroy();
      await db.drop();
    }
  });
});
