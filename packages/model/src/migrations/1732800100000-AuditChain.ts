import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * The audit hash chain's heads: one row per chain (an organization, or the deployment), locked while
 * an event is appended so two transactions never fork a chain. Dialect-neutral like the initial migration.
 */
export class AuditChain1732800100000 implements MigrationInterface {
  name = 'AuditChain1732800100000';

  async up(q: QueryRunner): Promise<void> {
    const mysql = q.connection.options.type === 'mysql' || q.connection.options.type === 'mariadb';
    const exact = mysql ? { charset: 'utf8mb4', collation: 'utf8mb4_bin' } : {};
    await q.createTable(
      new Table({
        name: 'audit_chain_heads',
        columns: [
          { name: 'chain_key', type: 'varchar', length: '64', isPrimary: true, ...exact },
          { name: 'last_seq', type: mysql ? 'bigint' : 'integer', isNullable: false, default: 0 },
          { name: 'last_hash', type: 'varchar', length: '64', isNullable: true, ...exact },
          { name: 'updated_at', type: 'datetime', precision: 3, isNullable: false, default: mysql ? 'CURRENT_TIMESTAMP(3)' : "(STRFTIME('%Y-%m-%d %H:%M:%f', 'NOW'))" },
        ],
        ...(mysql ? { engine: 'InnoDB' } : {}),
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('audit_chain_heads');
  }
}
