import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createDataSource, membershipProvenance, MIGRATIONS, MembershipProvenance1733022000000 } from '../src/index.ts';
import { TEST_ENGINES } from '../src/testing.ts';

describe('membershipProvenance (pure)', () => {
  it.each([
    [{ source: 'scim', connectionId: 'c', grantVia: 'scim_group', grantRef: 'g1' }, { via: 'scim_group', connectionId: 'c', ref: 'g1' }],
    [{ source: 'scim', connectionId: 'c' }, { via: 'scim_attribute', connectionId: 'c', ref: null }],
    [{ source: 'scim', connectionId: 'c', grantedBy: 'group' }, { via: 'scim_group', connectionId: 'c', ref: null }],
    [{ source: 'jit', connectionId: 'c', grantedBy: 'mapping' }, { via: 'jit', connectionId: 'c', ref: null }],
    [{ source: 'jit', connectionId: 'c', grantedBy: 'group' }, { via: 'jit', connectionId: 'c', ref: null }],
    [{ source: 'manual', connectionId: null }, { via: 'admin', connectionId: null, ref: null }],
    [{ source: 'scim', connectionId: 'c', grantedBy: 'admin' }, { via: 'admin', connectionId: 'c', ref: null }],
    // An unknown recorded value (a newer writer) falls back on the legacy columns rather than lying.
    [{ source: 'jit', connectionId: 'c', grantVia: 'telepathy' }, { via: 'jit', connectionId: 'c', ref: null }],
  ] as const)('%o → %o', (row, expected) => {
    expect(membershipProvenance(row)).toEqual(expected);
  });
});

describe.each(TEST_ENGINES)('MembershipProvenance migration on $name', ({ open }) => {
  it('backfills grant_via from source/granted_by and grant_ref from the listing group', async () => {
    const db = await open();
    const ds = createDataSource({ url: db.url });
    await ds.initialize();
    try {
      await ds.runMigrations({ transaction: 'each' });
      const later = MIGRATIONS.slice(MIGRATIONS.indexOf(MembershipProvenance1733022000000));
      for (let k = 0; k < later.length; k++) await ds.undoLastMigration({ transaction: 'each' });

      const [org, team, user, conn, group, cu] = Array.from({ length: 6 }, () => randomUUID());
      await ds.query("INSERT INTO connection_users (id, connection_id, user_id, user_name, user_name_lc, active, resource, version) VALUES (?, ?, ?, 'x', 'x', 1, '{}', 1)", [cu, conn, user]);
      await ds.query("INSERT INTO scim_groups (id, connection_id, display_name, display_name_lc, org_id, team_id, version) VALUES (?, ?, 'acme:eng', 'acme:eng', ?, ?, 1)", [group, conn, org, team]);
      await ds.query('INSERT INTO group_members (group_id, connection_user_id) VALUES (?, ?)', [group, cu]);
      const om = (source: string, u = user) => ds.query("INSERT INTO org_memberships (id, org_id, user_id, role, source, connection_id) VALUES (?, ?, ?, 'member', ?, ?)", [randomUUID(), randomUUID(), u, source, conn]);
      await om('scim');
      await om('jit');
      await om('manual');
      const tm = (grantedBy: string, source: string, teamId = randomUUID()) =>
        ds.query('INSERT INTO team_memberships (id, team_id, org_id, user_id, source, connection_id, granted_by) VALUES (?, ?, ?, ?, ?, ?, ?)', [randomUUID(), teamId, org, user, source, conn, grantedBy]);
      await tm('group', 'scim', team);
      await tm('mapping', 'scim');
      await tm('mapping', 'jit');
      await tm('admin', 'manual');

      await ds.runMigrations({ transaction: 'each' });
      const orgRows = await ds.query('SELECT source, grant_via AS via FROM org_memberships ORDER BY source');
      expect(orgRows).toEqual([{ source: 'jit', via: 'jit' }, { source: 'manual', via: 'admin' }, { source: 'scim', via: 'scim_attribute' }]);
      const teamRows = await ds.query('SELECT granted_by AS g, source, grant_via AS via, grant_ref AS ref FROM team_memberships ORDER BY granted_by, source');
      expect(teamRows).toEqual([
        { g: 'admin', source: 'manual', via: 'admin', ref: null },
        { g: 'group', source: 'scim', via: 'scim_group', ref: group },
        { g: 'mapping', source: 'jit', via: 'jit', ref: null },
        { g: 'mapping', source: 'scim', via: 'scim_attribute', ref: null },
      ]);
    } finally {
      await ds.destroy();
      await db.drop();
    }
  });
});
