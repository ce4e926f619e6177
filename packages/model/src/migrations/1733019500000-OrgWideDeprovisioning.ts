import { Table, TableColumn, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Organization-wide deprovisioning (docs/org-wide-deprovisioning.md): `sso_connections.deprovisioning_scope`
 * (default `organization`) and `sso_deprovisionings`, backfilled from the people SCIM has already
 * deactivated (one row per organization their connection serves). People deleted before this
 * migration left no row to backfill from: their memberships were already revoked by the job.
 */
export class OrgWideDeprovisioning1733019500000 implements MigrationInterface {
  name = 'OrgWideDeprovisioning1733019500000';

  async up(q: QueryRunner): Promise<void> {
    const mysql = q.connection.options.type === 'mysql' || q.connection.options.type === 'mariadb';
    const uuid = (name: string) => ({ name, type: 'varchar', length: '36', isPrimary: true, ...(mysql ? { charset: 'utf8mb4', collation: 'utf8mb4_bin' } : {}) });
    await q.addColumn('sso_connections', new TableColumn({ name: 'deprovisioning_scope', type: 'varchar', length: '16', isNullable: false, default: "'organization'" }));
    await q.createTable(
      new Table({
        name: 'sso_deprovisionings',
        columns: [
          uuid('user_id'),
          uuid('org_id'),
          uuid('connection_id'),
          { name: 'org_wide', type: 'boolean', isNullable: false },
          { name: 'reason', type: 'varchar', length: '16', isNullable: false },
          { name: 'created_at', type: 'datetime', precision: 3, isNullable: false },
        ],
        ...(mysql ? { engine: 'InnoDB' } : {}),
      }),
    );
    // The primary key (user_id, org_id, connection_id) serves the per-person checks; this one the
    // clean-up when a connection is deleted.
    await q.createIndex('sso_deprovisionings', new TableIndex({ name: 'ix_sso_deprovisionings_connection', columnNames: ['connection_id'] }));
    await q.query(
      `INSERT INTO sso_deprovisionings (user_id, org_id, connection_id, org_wide, reason, created_at)
       SELECT cu.user_id, co.org_id, cu.connection_id, 1, 'inactive', ${mysql ? 'CURRENT_TIMESTAMP(3)' : "STRFTIME('%Y-%m-%d %H:%M:%f', 'NOW')"}
       FROM connection_users cu JOIN connection_orgs co ON co.connection_id = cu.connection_id WHERE cu.active = 0`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('sso_deprovisionings');
    await q.dropColumn('sso_connections', 'deprovisioning_scope');
  }
}
