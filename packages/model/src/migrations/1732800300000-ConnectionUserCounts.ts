import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * `connection_user_counts`: each connection's number of SCIM users, kept in the transaction that adds
 * or removes one, so an unfiltered list answers `totalResults` without COUNT(*) over 100,000 rows.
 * Sharded (`shard` 0–15, a random one per change) so concurrent creates in one connection do not queue
 * on one row; `changes` counts every insert and delete and versions the connection's default order
 * (list-page anchors are valid while it is unchanged). Backfilled from the existing rows.
 */
export class ConnectionUserCounts1732800300000 implements MigrationInterface {
  name = 'ConnectionUserCounts1732800300000';

  async up(q: QueryRunner): Promise<void> {
    const mysql = q.connection.options.type === 'mysql' || q.connection.options.type === 'mariadb';
    await q.createTable(
      new Table({
        name: 'connection_user_counts',
        columns: [
          { name: 'connection_id', type: 'varchar', length: '36', isPrimary: true, ...(mysql ? { charset: 'utf8mb4', collation: 'utf8mb4_bin' } : {}) },
          { name: 'shard', type: 'int', isPrimary: true },
          { name: 'users', type: mysql ? 'bigint' : 'integer', default: 0 },
          { name: 'changes', type: mysql ? 'bigint' : 'integer', default: 0 },
        ],
        ...(mysql ? { engine: 'InnoDB' } : {}),
      }),
    );
    await q.query(
      'INSERT INTO connection_user_counts (connection_id, shard, users, changes) SELECT connection_id, 0, COUNT(*), COUNT(*) FROM connection_users GROUP BY connection_id',
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('connection_user_counts');
  }
}
