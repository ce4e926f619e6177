import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/** `console_sessions`: server-side sessions of the admin console (packages/plugins/console). */
export class ConsoleSessions1733025000000 implements MigrationInterface {
  name = 'ConsoleSessions1733025000000';

  async up(q: QueryRunner): Promise<void> {
    const mysql = q.connection.options.type === 'mysql' || q.connection.options.type === 'mariadb';
    const ts = { type: 'datetime', precision: 3 } as const;
    await q.createTable(
      new Table({
        name: 'console_sessions',
        columns: [
          { name: 'id_hash', type: 'varchar', length: '64', isPrimary: true, ...(mysql ? { charset: 'ascii', collation: 'ascii_bin' } : {}) },
          { name: 'token_id', type: 'varchar', length: '36' },
          { name: 'created_at', ...ts },
          { name: 'last_seen_at', ...ts },
          { name: 'expires_at', ...ts },
          { name: 'ended_at', ...ts, isNullable: true },
        ],
        ...(mysql ? { engine: 'InnoDB' } : {}),
      }),
    );
    await q.createIndex('console_sessions', new TableIndex({ name: 'idx_console_sessions_expires', columnNames: ['expires_at'] }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('console_sessions');
  }
}
