import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AuditSealer1732800200000 } from '../src/migrations/1732800200000-AuditSealer.ts';
import { createDataSource, MIGRATIONS, ConnectionUserEntity, ConsoleSessionEntity, OrganizationEntity, readConnectionUserCount, recordConnectionUsersChange, recountConnectionUsers, UserEntity } from '../src/index.ts';
import { TEST_ENGINES } from '../src/testing.ts';

describe.each(TEST_ENGINES)('migrations on $name', ({ name, open }) => {
  it('run up, enforce the unique keys, and run down to an empty schema', async () => {
    const db = await open();
    const ds = createDataSource({ url: db.url });
    await ds.initialize();
    try {
      const applied = await ds.runMigrations({ transaction: 'each' });
      expect(applied.map((m) => m.name)).toEqual(MIGRATIONS.map((m) => m.name));
      expect(await ds.showMigrations()).toBe(false);

      // AuditSealer backfills chain_seq of events written before it, per chain in seq order;
      // ConnectionUserCounts counts each connection's existing users; OutboxCompletion takes rows
      // relayed before it as finished. Down to AuditChain, whatever later migrations exist.
      const later = MIGRATIONS.slice(MIGRATIONS.indexOf(AuditSealer1732800200000)).map((m) => m.name);
      for (let k = 0; k < later.length; k++) await ds.undoLastMigration({ transaction: 'each' });
      await ds.query("INSERT INTO outbox (queue, job_name, job_id, payload, relayed_at, attempts) VALUES ('q', 'j', 'relayed', '{}', '2026-01-02 03:04:05.000', 0), ('q', 'j', 'pending', '{}', NULL, 0)");
      for (const [connectionId, n] of [['conn-a', 3], ['conn-b', 1]] as const) {
        for (let k = 0; k < n; k++) {
          await ds.query("INSERT INTO connection_users (id, connection_id, user_id, user_name, user_name_lc, active, resource, version) VALUES (?, ?, ?, 'x', ?, 1, '{}', 1)", [
            randomUUID(),
            connectionId,
            randomUUID(),
            `${connectionId}-${k}`,
          ]);
        }
      }
      const event = (orgId: string | null, hash: string) => [randomUUID(), orgId, 'system', 'user.updated', hash];
      for (const row of [event('o1', 'a1'), event(null, 'd1'), event('o1', 'a2'), event('o2', 'b1'), event('o1', 'a3')]) {
        await ds.query('INSERT INTO audit_events (id, org_id, actor_type, action, hash) VALUES (?, ?, ?, ?, ?)', row);
      }
      await ds.query("INSERT INTO audit_chain_heads (chain_key, last_seq, last_hash) VALUES ('org:o1', 5, 'a3'), ('org:o2', 4, 'b1'), ('deployment', 2, 'd1'), ('org:o3', 9, 'x')");
      expect((await ds.runMigrations({ transaction: 'each' })).map((m) => m.name)).toEqual(later);
      const outbox: Array<{ job_id: string; done: number }> = await ds.query('SELECT job_id, (completed_at IS NOT NULL AND completed_at = relayed_at) AS done FROM outbox ORDER BY job_id');
      expect(outbox.map((r) => [r.job_id, Number(r.done)])).toEqual([['pending', 0], ['relayed', 1]]);
      expect(await readConnectionUserCount(ds, 'conn-a')).toEqual({ users: 3, changes: 3 });
      expect(await readConnectionUserCount(ds, 'conn-b')).toEqual({ users: 1, changes: 1 });
      expect(await readConnectionUserCount(ds, 'conn-none')).toEqual({ users: 0, changes: 0 });
      // Counted changes land on random shards and add up; a delete lowers users and raises changes.
      for (let k = 0; k < 40; k++) await ds.transaction((tx) => recordConnectionUsersChange(tx, 'conn-b', +1));
      await ds.transaction((tx) => recordConnectionUsersChange(tx, 'conn-b', -1));
      expect(await readConnectionUserCount(ds, 'conn-b')).toEqual({ users: 40, changes: 42 });
      const shards = await ds.query("SELECT COUNT(*) AS n FROM connection_user_counts WHERE connection_id = 'conn-b'");
      expect(Number(shards[0].n)).toBeGreaterThan(1);
      // A drifted counter (conn-b has one row, the counter says 40) is recounted from the rows.
      expect(await ds.transaction((tx) => recountConnectionUsers(tx, 'conn-b'))).toEqual({ before: 40, after: 1 });
      expect(await readConnectionUserCount(ds, 'conn-b')).toEqual({ users: 1, changes: 43 });
      expect(await ds.transaction((tx) => recountConnectionUsers(tx, 'conn-none'))).toEqual({ before: 0, after: 0 });
      const numbered = await ds.query('SELECT hash, chain_seq AS chainSeq FROM audit_events ORDER BY seq');
      expect(numbered.map((r: { hash: string; chainSeq: unknown }) => [r.hash, Number(r.chainSeq)])).toEqual([['a1', 1], ['d1', 1], ['a2', 2], ['b1', 1], ['a3', 3]]);
      const heads = await ds.query('SELECT chain_key AS k, last_chain_seq AS n, purged_chain_seq AS p FROM audit_chain_heads ORDER BY chain_key');
      expect(heads.map((r: { k: string; n: unknown; p: unknown }) => [r.k, Number(r.n), Number(r.p)])).toEqual([['deployment', 1, 0], ['org:o1', 3, 0], ['org:o2', 1, 0], ['org:o3', 0, 0]]);
      // New events may be written unsealed.
      await ds.query("INSERT INTO audit_events (id, org_id, actor_type, action) VALUES (?, 'o1', 'system', 'user.updated')", [randomUUID()]);
      await ds.query("UPDATE audit_events SET hash = 'sealed', chain_seq = 4 WHERE hash IS NULL");

      const orgs = ds.getRepository(OrganizationEntity);
      await orgs.insert({ id: randomUUID(), name: 'acme', displayName: null, seatLimit: null });
      await expect(orgs.insert({ id: randomUUID(), name: 'acme', displayName: null, seatLimit: null })).rejects.toThrow();

      // One account per email, case-insensitively (through the lower-cased twin column).
      const users = ds.getRepository(UserEntity);
      await users.insert({ id: randomUUID(), email: 'A@x.com', emailLc: 'a@x.com', username: 'a1', fullName: null });
      await expect(users.insert({ id: randomUUID(), email: 'a@X.com', emailLc: 'a@x.com', username: 'a2', fullName: null })).rejects.toThrow();

      // externalId is case-exact: two values differing only in case are distinct.
      const cu = ds.getRepository(ConnectionUserEntity);
      const base = { connectionId: 'c1', userId: 'u', userName: 'x', userNameLc: 'x', active: true, resource: { k: 'ü' }, version: 1 } as const;
      await cu.insert({ ...base, id: randomUUID(), userId: 'u1', userNameLc: 'x1', externalId: 'ABC' });
      await cu.insert({ ...base, id: randomUUID(), userId: 'u2', userNameLc: 'x2', externalId: 'abc' });
      expect(await cu.countBy({ externalId: 'ABC' })).toBe(1);
      expect((await cu.findOneByOrFail({ externalId: 'abc' })).resource).toEqual({ k: 'ü' });

      // Console sessions (1733025000000): keyed by the cookie's hash.
      const sessions = ds.getRepository(ConsoleSessionEntity);
      const now = new Date();
      await sessions.insert({ idHash: 'a'.repeat(64), tokenId: 'bootstrap', createdAt: now, lastSeenAt: now, expiresAt: now, endedAt: null });
      await expect(sessions.insert({ idHash: 'a'.repeat(64), tokenId: 'x', createdAt: now, lastSeenAt: now, expiresAt: now, endedAt: null })).rejects.toThrow();
      expect((await sessions.findOneByOrFail({ idHash: 'a'.repeat(64) })).expiresAt.getTime()).toBe(now.getTime());

      for (let i = 0; i < applied.length; i++) await ds.undoLastMigration({ transaction: 'each' });
      const tables = await ds.query(
        name === 'mysql' ? 'SELECT table_name AS t FROM information_schema.tables WHERE table_schema = DATABASE()' : "SELECT name AS t FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'",
      );
      expect(tables.map((r: { t: string }) => r.t)).toEqual(['migrations']);
    } finally {
      await ds.destroy();
      await db.drop();
    }
  }, 120_000); // DDL for every table, up and down twice: slow on a loaded MariaDB
});
