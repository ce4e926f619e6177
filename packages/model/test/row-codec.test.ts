import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createDataSource, ConnectionUserEntity, insertRows, OutboxMessageEntity, rowCodec, type ConnectionUser } from '../src/index.ts';
import { TEST_ENGINES } from '../src/testing.ts';

describe.each(TEST_ENGINES)('rowCodec on $name', ({ open }) => {
  it('reads and updates rows exactly as the repository does', async () => {
    const db = await open();
    const ds = createDataSource({ url: db.url });
    await ds.initialize();
    try {
      await ds.runMigrations({ transaction: 'each' });
      const repo = ds.getRepository(ConnectionUserEntity);
      const codec = rowCodec(ds, ConnectionUserEntity);
      const id = randomUUID();
      const at = new Date('2026-03-04T05:06:07.089Z');
      await repo.insert({
        id,
        connectionId: 'c1',
        userId: 'u1',
        userName: 'Ada@X.test',
        userNameLc: 'ada@x.test',
        externalId: null,
        displayName: 'Ada',
        active: true,
        resource: { name: { givenName: 'Ada' }, tags: ['ü', 1] },
        version: 3,
        createdAt: at,
        updatedAt: at,
      });
      const read = async () => codec.hydrate((await ds.query(`SELECT ${codec.select('u')} FROM connection_users u WHERE u.id = ?`, [id]))[0]);
      expect(await read()).toEqual(await repo.findOneByOrFail({ id }));
      const narrow = codec.hydrate((await ds.query(`SELECT ${codec.select(undefined, ['id', 'active', 'createdAt'])} FROM connection_users WHERE id = ?`, [id]))[0]);
      expect(narrow).toEqual({ id, active: true, createdAt: at });

      const later = new Date('2026-03-04T05:06:08.001Z');
      const set = codec.assignments({ active: false, resource: { k: 'v' }, displayName: null, version: 4, updatedAt: later } satisfies Partial<ConnectionUser>);
      await ds.query(`UPDATE connection_users SET ${set.sql} WHERE id = ?`, [...set.params, id]);
      const after = await repo.findOneByOrFail({ id });
      expect(after).toMatchObject({ active: false, resource: { k: 'v' }, displayName: null, version: 4, updatedAt: later, createdAt: at, userName: 'Ada@X.test' });
      expect(await read()).toEqual(after);
      expect(() => codec.assignments({ nope: 1 } as never)).toThrow(/no column nope/);

      // insertRows: one statement, values converted per dialect, defaults for what is left out.
      const rows = [1, 2].map((n) => ({ id: randomUUID(), connectionId: 'c2', userId: `u${n}`, userName: `u${n}@x.test`, userNameLc: `u${n}@x.test`, active: n === 1, resource: { n }, version: 1, createdAt: at, updatedAt: at }));
      await ds.transaction((tx) => insertRows(tx, ConnectionUserEntity, rows));
      for (const r of rows) expect(await repo.findOneByOrFail({ id: r.id })).toMatchObject({ ...r, externalId: null, displayName: null });
      await ds.transaction((tx) => insertRows(tx, OutboxMessageEntity, { queue: 'q', jobName: 'j', jobId: 'job-1', payload: { a: [1] }, attempts: 0, relayedAt: null, completedAt: null, lastError: null }));
      const outbox = await ds.getRepository(OutboxMessageEntity).findOneByOrFail({ jobId: 'job-1' });
      expect(outbox).toMatchObject({ payload: { a: [1] }, attempts: 0, relayedAt: null });
      expect(outbox.createdAt).toBeInstanceOf(Date);
      expect(Number(outbox.seq)).toBeGreaterThan(0);
      await expect(ds.transaction((tx) => insertRows(tx, ConnectionUserEntity, [rows[0]!, { id: 'x' }]))).rejects.toThrow(/same properties/);

      // updateEach: one statement, each row its own values (converted per dialect), other rows untouched.
      const third = { ...rows[0]!, id: randomUUID(), userId: 'u3', userName: 'u3@x.test', userNameLc: 'u3@x.test' };
      await ds.transaction((tx) => insertRows(tx, ConnectionUserEntity, third));
      const each = codec.updateEach('id', [
        { id: rows[0]!.id, active: false, displayName: null, resource: { k: 1 }, version: 2, updatedAt: later },
        { id: rows[1]!.id, active: true, displayName: 'Two', resource: { k: [2, 'ü'] }, version: 7, updatedAt: at },
      ]);
      expect(each.sql.match(/CASE/g)).toHaveLength(5);
      await ds.query(each.sql, each.params);
      expect(await repo.findOneByOrFail({ id: rows[0]!.id })).toMatchObject({ active: false, displayName: null, resource: { k: 1 }, version: 2, updatedAt: later, userName: 'u1@x.test' });
      expect(await repo.findOneByOrFail({ id: rows[1]!.id })).toMatchObject({ active: true, displayName: 'Two', resource: { k: [2, 'ü'] }, version: 7, updatedAt: at, userName: 'u2@x.test' });
      expect(await repo.findOneByOrFail({ id: third.id })).toMatchObject({ active: true, resource: { n: 1 }, version: 1 });
      expect(() => codec.updateEach('id', [{ id: 'a', version: 1 }, { id: 'b', active: true }])).toThrow(/same properties/);
      expect(() => codec.updateEach('id', [{ version: 1 }])).toThrow(/same properties/);
    } finally {
      await ds.destroy();
      await db.drop();
    }
  });
});
