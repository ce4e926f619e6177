/** OrgWideDeprovisioning1733019500000 on MariaDB and SQLite: the scope column's default, the table, the backfill, down. */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createDataSource, SsoDeprovisioningEntity } from '../src/index.ts';
import { TEST_ENGINES } from '../src/testing.ts';

const NAME = 'OrgWideDeprovisioning1733019500000';

describe.each(TEST_ENGINES)('OrgWideDeprovisioning on $name', ({ open }) => {
  it('backfills one row per organization of each person SCIM already deactivated, and runs down', async () => {
    const db = await open();
    const ds = createDataSource({ url: db.url });
    await ds.initialize();
    try {
      await ds.runMigrations({ transaction: 'each' });
      // Undo down to (and including) this migration, write the data it backfills from, run up again.
      for (;;) {
        const [last] = await ds.query('SELECT name FROM migrations ORDER BY id DESC LIMIT 1');
        await ds.undoLastMigration({ transaction: 'each' });
        if (last.name === NAME) break;
      }
      await ds.query(
        "INSERT INTO sso_connections (id, name, type, jit_enabled, scim_enabled, idp_settings) VALUES ('c1', 'A', 'saml', 1, 1, '{}'), ('c2', 'B', 'saml', 1, 1, '{}')",
      );
      await ds.query("INSERT INTO connection_orgs (connection_id, org_id) VALUES ('c1', 'o1'), ('c1', 'o2'), ('c2', 'o3')");
      const cu = (id: string, conn: string, user: string, active: number) =>
        ds.query("INSERT INTO connection_users (id, connection_id, user_id, user_name, user_name_lc, active, resource, version) VALUES (?, ?, ?, 'x', ?, ?, '{}', 1)", [id, conn, user, randomUUID(), active]);
      await cu(randomUUID(), 'c1', 'u-off', 0);
      await cu(randomUUID(), 'c1', 'u-on', 1);
      await cu(randomUUID(), 'c2', 'u-on', 0);
      await ds.runMigrations({ transaction: 'each' });

      const rows = await ds.getRepository(SsoDeprovisioningEntity).find({ order: { userId: 'ASC', orgId: 'ASC' } });
      expect(rows.map((r) => [r.userId, r.orgId, r.connectionId, r.orgWide, r.reason])).toEqual([
        ['u-off', 'o1', 'c1', true, 'inactive'],
        ['u-off', 'o2', 'c1', true, 'inactive'],
        ['u-on', 'o3', 'c2', true, 'inactive'],
      ]);
      const scopes = await ds.query('SELECT deprovisioning_scope AS s FROM sso_connections ORDER BY id');
      expect(scopes.map((r: { s: string }) => r.s)).toEqual(['organization', 'organization']);
      // One row per (person, organization, connection).
      await expect(ds.query("INSERT INTO sso_deprovisionings (user_id, org_id, connection_id, org_wide, reason, created_at) VALUES ('u-off', 'o1', 'c1', 1, 'deleted', '2026-01-01 00:00:00.000')")).rejects.toThrow();

      for (;;) {
        const [last] = await ds.query('SELECT name FROM migrations ORDER BY id DESC LIMIT 1');
        await ds.undoLastMigration({ transaction: 'each' });
        if (last.name === NAME) break;
      }
      const cols = await ds.query('SELECT * FROM sso_connections ORDER BY id');
      expect(Object.keys(cols[0])).not.toContain('deprovisioning_scope');
    } finally {
      await ds.destroy();
      await db.drop();
    }
  });
});
