import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DataSource } from 'typeorm';
import { createDataSource, recordConnectionUsersChange, readConnectionUserCount } from '@doorman/model';
import { TEST_ENGINES } from '@doorman/model/testing';
import { defaultOrderPage, PageAnchors, pageStart, type OrderKey } from '../src/page-anchors.ts';

const key = (n: number): OrderKey => ({ createdAt: `t${n}`, id: `id${n}` });

describe('pageStart', () => {
  const anchors = [key(0), key(10), key(20), key(30)];
  it.each([
    [0, null, 0],
    [9, null, 9],
    [10, key(10), 0],
    [15, key(10), 5],
    [29, key(20), 9],
    [30, key(30), 0],
    // Past the last anchor: from the last one, skipping the rest.
    [57, key(30), 27],
  ])('offset %i starts from %o skipping %i', (offset, from, skip) => {
    expect(pageStart(anchors, offset, 10)).toEqual({ from, skip });
  });
  it('starts from the beginning without anchors', () => {
    expect(pageStart([], 25, 10)).toEqual({ from: null, skip: 25 });
    expect(pageStart([key(0)], 25, 10)).toEqual({ from: null, skip: 25 });
  });
});

describe.each(TEST_ENGINES)('default-order pages through anchors on $name', ({ open }) => {
  let ds: DataSource;
  let drop: () => Promise<void>;
  const connectionId = randomUUID();
  /** ids in the expected order: created_at, then id (several rows share a millisecond). */
  let expected: string[] = [];

  const insertUsers = async (n: number, base: number) => {
    const rows: Array<{ id: string; at: string }> = [];
    for (let i = 0; i < n; i++) {
      // Three rows per millisecond: ties are broken by id.
      const at = new Date(Date.UTC(2026, 0, 1) + base + Math.floor(i / 3)).toISOString().replace('T', ' ').replace('Z', '');
      rows.push({ id: randomUUID(), at });
    }
    await ds.transaction(async (tx) => {
      for (const r of rows) {
        await tx.query(
          "INSERT INTO connection_users (id, connection_id, user_id, user_name, user_name_lc, active, resource, version, created_at, updated_at) VALUES (?, ?, ?, 'x', ?, 1, '{}', 1, ?, ?)",
          [r.id, connectionId, randomUUID(), r.id, r.at, r.at],
        );
      }
      await recordConnectionUsersChange(tx, connectionId, rows.length);
    });
    const all = await ds.query('SELECT id, CAST(created_at AS CHAR) AS at FROM connection_users WHERE connection_id = ?', [connectionId]);
    expected = all
      .map((r: { id: string; at: string }) => ({ id: String(r.id), at: String(r.at) }))
      .sort((a: { id: string; at: string }, b: { id: string; at: string }) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .map((r: { id: string }) => r.id);
  };

  beforeAll(async () => {
    const db = await open();
    drop = db.drop;
    ds = createDataSource({ url: db.url });
    await ds.initialize();
    await ds.runMigrations({ transaction: 'each' });
    await insertUsers(23, 0);
    // Another connection's users never appear in this one's pages or anchors.
    await ds.query(
      "INSERT INTO connection_users (id, connection_id, user_id, user_name, user_name_lc, active, resource, version, created_at, updated_at) VALUES (?, 'other', ?, 'x', 'y', 1, '{}', 1, '2026-01-01 00:00:00.001', '2026-01-01 00:00:00.001')",
      [randomUUID(), randomUUID()],
    );
  });
  afterAll(async () => {
    await ds?.destroy();
    await drop?.();
  });

  const page = async (anchors: PageAnchors, offset: number, count: number) => {
    const { changes } = await readConnectionUserCount(ds, connectionId);
    // As under load: the first page after a change goes by OFFSET and starts a rebuild; the rest use it.
    anchors.keysFor(connectionId, changes);
    await anchors.settled();
    const start = await anchors.pageStartFor(connectionId, changes, offset);
    return { start, ids: (await defaultOrderPage(ds, connectionId, start, count, 'u.id AS id')).map((r) => String(r.id)) };
  };

  it('keeps every k-th key of the order and serves every page exactly as OFFSET would', async () => {
    const anchors = new PageAnchors(ds, { every: 5 });
    const { changes } = await readConnectionUserCount(ds, connectionId);
    // Cold start: a deep page waits for the first scan instead of paging by OFFSET meanwhile.
    const cold = new PageAnchors(ds, { every: 5 });
    expect(await cold.pageStartFor(connectionId, changes, 12)).toEqual({ from: { createdAt: expect.any(String), id: expected[10] }, skip: 2 });
    expect(anchors.keysFor(connectionId, changes)).toBeNull(); // none yet: built in the background
    await anchors.settled();
    expect(anchors.keysFor(connectionId, changes)!.map((k) => k.id)).toEqual([0, 5, 10, 15, 20].map((i) => expected[i]));
    for (let offset = 0; offset <= 25; offset++) {
      const { start, ids } = await page(anchors, offset, 4);
      expect(ids, `offset ${offset}`).toEqual(expected.slice(offset, offset + 4));
      if (offset >= 5 && offset < 25) expect(start.skip).toBeLessThan(5);
    }
  });

  it('drops anchors when users join or leave, rebuilding at most once per interval and paging by OFFSET meanwhile', async () => {
    let now = 1_000_000;
    const anchors = new PageAnchors(ds, { every: 5, rebuildIntervalMs: 1_000, now: () => now });
    expect((await page(anchors, 12, 3)).start.from).not.toBeNull();
    await insertUsers(4, -10); // earlier than everything: every position shifts by 4
    const stale = await page(anchors, 12, 3);
    expect(stale.start).toEqual({ from: null, skip: 12 });
    expect(stale.ids).toEqual(expected.slice(12, 15));
    now += 1_001;
    // Also after a failed scan: its rebuild is retried after the interval, pages go on meanwhile.
    const broken = new PageAnchors({ query: async () => Promise.reject(new Error('database down')) } as unknown as DataSource, { every: 5, now: () => now });
    expect(broken.keysFor(connectionId, 1)).toBeNull();
    await broken.settled();
    expect(broken.keysFor(connectionId, 1)).toBeNull();
    const rebuilt = await page(anchors, 12, 3);
    expect(rebuilt.start.from).not.toBeNull();
    expect(rebuilt.ids).toEqual(expected.slice(12, 15));
    expect(expected).toHaveLength(27);
  });
});
