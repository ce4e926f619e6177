import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';
import { migrationHelpers } from './columns.ts';

/**
 * Group mapping (docs/group-mapping.md):
 * - `group_mapping_rules` and `group_mapping_settings` (role mapping's rules per connection);
 * - `membership_grants`: the provenance of memberships, backfilled for the team memberships the
 *   existing `organization:team` groups granted;
 * - `group_members.user_id` (backfilled), so scim-groups finds a person's groups in its own tables;
 * - `scim_groups.org_id` / `team_id` dropped: a group no longer is a team, rules decide what it grants.
 */
export class GroupMapping1733023000000 implements MigrationInterface {
  name = 'GroupMapping1733023000000';

  async up(q: QueryRunner): Promise<void> {
    const { mysql, text, uuid, pk, time, table, idx } = migrationHelpers(q);

    await table(
      'group_mapping_rules',
      [pk(), uuid('connection_id'), text('match_by', 16), text('match_value', 255, false, true), uuid('org_id'), text('team', 255, true), text('role', 16, true), time('created_at')],
      [idx('ix_group_mapping_rules_connection', ['connection_id'])],
    );
    await table('group_mapping_settings', [{ ...uuid('connection_id'), isPrimary: true }, { name: 'builtin_org_team', type: 'boolean', isNullable: false }, time('updated_at')]);
    await table(
      'membership_grants',
      [
        pk(),
        uuid('user_id'),
        uuid('org_id'),
        { ...uuid('team_id'), default: "''" },
        text('kind', 16),
        uuid('connection_id', true),
        text('source_ref', 255, false, true),
        text('role', 16, true),
        time('created_at'),
      ],
      [idx('uq_membership_grants', ['user_id', 'org_id', 'team_id', 'kind', 'source_ref'], true), idx('ix_membership_grants_source', ['kind', 'source_ref', 'user_id'])],
    );

    await q.addColumn('group_members', new TableColumn(uuid('user_id', true)));
    await q.query('UPDATE group_members SET user_id = (SELECT cu.user_id FROM connection_users cu WHERE cu.id = group_members.connection_user_id)');
    await q.createIndex('group_members', idx('ix_group_members_account', ['user_id', 'group_id']));

    const uuidSql = mysql
      ? 'UUID()'
      : "lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(2)) || '-' || hex(randomblob(6)))";
    // The team memberships existing groups granted keep their provenance (the group's id).
    await q.query(
      `INSERT INTO membership_grants (id, user_id, org_id, team_id, kind, connection_id, source_ref, role)
       SELECT ${uuidSql}, tm.user_id, tm.org_id, tm.team_id, 'group', g.connection_id, g.id, NULL
         FROM scim_groups g
         JOIN group_members gm ON gm.group_id = g.id
         JOIN team_memberships tm ON tm.team_id = g.team_id AND tm.user_id = gm.user_id AND tm.granted_by = 'group'`,
    );
    await q.dropColumn('scim_groups', 'org_id');
    await q.dropColumn('scim_groups', 'team_id');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.addColumn('scim_groups', new TableColumn({ name: 'org_id', type: 'varchar', length: '36', isNullable: true }));
    await q.addColumn('scim_groups', new TableColumn({ name: 'team_id', type: 'varchar', length: '36', isNullable: true }));
    await q.dropIndex('group_members', 'ix_group_members_account');
    await q.dropColumn('group_members', 'user_id');
    await q.dropTable('membership_grants');
    await q.dropTable('group_mapping_settings');
    await q.dropTable('group_mapping_rules');
  }
}
