import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createDataSource, MIGRATIONS } from '../src/index.ts';
import { GroupMapping1733023000000 } from '../src/migrations/1733023000000-GroupMapping.ts';
import { TEST_ENGINES } from '../src/testing.ts';

describe.each(TEST_ENGINES)('GroupMapping migration on $name', ({ open }) => {
  it("backfills group_members.user_id and the grants of existing organization:team groups, then drops the group's team", async () => {
    const db = await open();
    const ds = createDataSource({ url: db.url });
    await ds.initialize();
    try {
      await ds.runMigrations({ transaction: 'each' });
      const later = MIGRATIONS.slice(MIGRATIONS.indexOf(GroupMapping1733023000000));
      for (let k = 0; k < later.length; k++) await ds.undoLastMigration({ transaction: 'each' });

      const [org, team, user, other, conn, group, cu, cu2] = Array.from({ length: 8 }, () => randomUUID());
      for (const [id, u] of [[cu, user], [cu2, other]]) {
        await ds.query("INSERT INTO connection_users (id, connection_id, user_id, user_name, user_name_lc, active, resource, version) VALUES (?, ?, ?, ?, ?, 1, '{}', 1)", [id, conn, u, id, id]);
      }
      await ds.query("INSERT INTO scim_groups (id, connection_id, display_name, display_name_lc, org_id, team_id, version) VALUES (?, ?, 'acme:eng', 'acme:eng', ?, ?, 1)", [group, conn, org, team]);
      await ds.query('INSERT INTO group_members (group_id, connection_user_id) VALUES (?, ?), (?, ?)', [group, cu, group, cu2]);
      // `user` holds the team through the group; `other` through an admin (no group grant recorded).
      await ds.query("INSERT INTO team_memberships (id, team_id, org_id, user_id, source, connection_id, granted_by) VALUES (?, ?, ?, ?, 'scim', ?, 'group'), (?, ?, ?, ?, 'manual', NULL, 'admin')", [
        randomUUID(), team, org, user, conn, randomUUID(), team, org, other,
      ]);

      expect((await ds.runMigrations({ transaction: 'each' })).map((m) => m.name)).toEqual(later.map((m) => m.name));
      const members = await ds.query('SELECT connection_user_id AS cu, user_id AS u FROM group_members ORDER BY u');
      expect(members).toEqual([{ cu, u: user }, { cu: cu2, u: other }].sort((a, b) => (a.u < b.u ? -1 : 1)));
      const grants = await ds.query('SELECT user_id AS u, org_id AS o, team_id AS t, kind, connection_id AS c, source_ref AS ref FROM membership_grants');
      expect(grants).toEqual([{ u: user, o: org, t: team, kind: 'group', c: conn, ref: group }]);
      const columns = await ds.query(ds.options.type === 'mysql' ? 'SHOW COLUMNS FROM scim_groups' : 'PRAGMA table_info(scim_groups)');
      expect(columns.map((c: { Field?: string; name?: string }) => c.Field ?? c.name)).not.toContain('team_id');
    } finally {
      await ds.destroy();
      await db.drop();
    }
  });
});
