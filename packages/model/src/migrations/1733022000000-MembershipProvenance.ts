import { TableColumn, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Provenance of every organization and team membership (docs/people-and-explain.md): how it was
 * granted (`grant_via`: scim_attribute, scim_group, jit, admin) and by what (`grant_ref`: the SCIM
 * group id for scim_group, a rule id or other source reference for later kinds); the connection is
 * the existing `connection_id`. Both nullable, so a writer that does not set them still works: readers
 * fall back on `source`/`granted_by` (see `membershipProvenance`). Existing rows are backfilled from
 * those columns, a group-granted team membership with the first group that lists the person.
 *
 * Also the indexes of the admin people search (a prefix of email, userName, externalId or name across
 * every connection): the existing ones are per connection (users' email and username have theirs).
 */
export class MembershipProvenance1733022000000 implements MigrationInterface {
  name = 'MembershipProvenance1733022000000';

  async up(q: QueryRunner): Promise<void> {
    const mysql = q.connection.options.type === 'mysql' || q.connection.options.type === 'mariadb';
    const text = (name: string, length: number, caseExact: boolean) =>
      new TableColumn({ name, type: 'varchar', length: String(length), isNullable: true, ...(mysql ? { charset: 'utf8mb4', collation: caseExact ? 'utf8mb4_bin' : 'utf8mb4_unicode_ci' } : {}) });
    for (const table of ['org_memberships', 'team_memberships']) {
      await q.addColumn(table, text('grant_via', 16, true));
      await q.addColumn(table, text('grant_ref', 255, true));
    }
    await q.query(`UPDATE org_memberships SET grant_via = CASE source WHEN 'jit' THEN 'jit' WHEN 'manual' THEN 'admin' ELSE 'scim_attribute' END`);
    await q.query(
      `UPDATE team_memberships SET grant_via = CASE WHEN granted_by = 'admin' OR source = 'manual' THEN 'admin' WHEN granted_by = 'group' THEN 'scim_group' WHEN source = 'jit' THEN 'jit' ELSE 'scim_attribute' END`,
    );
    await q.query(
      `UPDATE team_memberships SET grant_ref = (
         SELECT MIN(g.id) FROM scim_groups g JOIN group_members gm ON gm.group_id = g.id JOIN connection_users cu ON cu.id = gm.connection_user_id
          WHERE g.team_id = team_memberships.team_id AND g.connection_id = team_memberships.connection_id AND cu.user_id = team_memberships.user_id)
        WHERE granted_by = 'group'`,
    );
    await q.createIndex('users', new TableIndex({ name: 'ix_users_full_name', columnNames: ['full_name'] }));
    await q.createIndex('connection_users', new TableIndex({ name: 'ix_connection_users_user_name_any', columnNames: ['user_name_lc'] }));
    await q.createIndex('connection_users', new TableIndex({ name: 'ix_connection_users_external_id_any', columnNames: ['external_id'] }));
    await q.createIndex('connection_users', new TableIndex({ name: 'ix_connection_users_display_name_any', columnNames: ['display_name_lc'] }));
    await q.createIndex('team_memberships', new TableIndex({ name: 'ix_team_memberships_grant', columnNames: ['grant_ref'] }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropIndex('team_memberships', 'ix_team_memberships_grant');
    for (const [table, index] of [
      ['connection_users', 'ix_connection_users_display_name_any'],
      ['connection_users', 'ix_connection_users_external_id_any'],
      ['connection_users', 'ix_connection_users_user_name_any'],
      ['users', 'ix_users_full_name'],
    ] as const) {
      await q.dropIndex(table, index);
    }
    for (const table of ['team_memberships', 'org_memberships']) {
      await q.dropColumn(table, 'grant_ref');
      await q.dropColumn(table, 'grant_via');
    }
  }
}
