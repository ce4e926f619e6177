import { Table, TableIndex, type MigrationInterface, type QueryRunner, type TableColumnOptions } from 'typeorm';

/**
 * The webhooks plugin's tables (docs/webhooks.md): recorded events with a per-subject sequence and a
 * commit-order position, the per-subject counters, the position head, endpoints, deliveries and the
 * delivery attempt log. Dialect-neutral like the initial migration.
 */
export class Webhooks1733024000000 implements MigrationInterface {
  name = 'Webhooks1733024000000';

  async up(q: QueryRunner): Promise<void> {
    const mysql = q.connection.options.type === 'mysql' || q.connection.options.type === 'mariadb';
    const exact = mysql ? { charset: 'utf8mb4', collation: 'utf8mb4_bin' } : {};
    const text = (name: string, length: number, nullable = false): TableColumnOptions => ({ name, type: 'varchar', length: String(length), isNullable: nullable, ...exact });
    const big = (name: string, nullable = false): TableColumnOptions => ({ name, type: mysql ? 'bigint' : 'integer', isNullable: nullable });
    const int = (name: string, nullable = false): TableColumnOptions => ({ name, type: 'int', isNullable: nullable });
    const time = (name: string, nullable = false): TableColumnOptions => ({ name, type: 'datetime', precision: 3, isNullable: nullable });
    const json = (name: string, nullable = false): TableColumnOptions => ({ name, type: mysql ? 'longtext' : 'text', isNullable: nullable });
    const seq = (): TableColumnOptions => ({ ...big('seq'), isPrimary: true, isGenerated: true, generationStrategy: 'increment' });
    const table = (name: string, columns: TableColumnOptions[], indices: TableIndex[] = []) =>
      q.createTable(new Table({ name, columns, indices, ...(mysql ? { engine: 'InnoDB' } : {}) }));
    const idx = (name: string, columnNames: string[], isUnique = false) => new TableIndex({ name, columnNames, isUnique });

    await table(
      'webhook_events',
      [
        seq(), text('id', 36), text('type', 64), time('occurred_at'), text('org_id', 36, true), text('connection_id', 36, true),
        text('subject_type', 32), text('subject_id', 255), big('subject_seq'), text('actor_type', 16), json('data'), big('position', true),
      ],
      [idx('uq_webhook_events_id', ['id'], true), idx('uq_webhook_events_position', ['position'], true), idx('ix_webhook_events_unpositioned', ['position', 'seq']), idx('ix_webhook_events_time', ['occurred_at'])],
    );
    await table('webhook_subjects', [{ ...text('subject_key', 128), isPrimary: true }, big('last_seq')]);
    await table('webhook_event_head', [{ ...int('id'), isPrimary: true }, big('last_position')]);
    await q.query('INSERT INTO webhook_event_head (id, last_position) VALUES (1, 0)');
    await table(
      'webhook_endpoints',
      [
        { ...text('id', 36), isPrimary: true }, text('url', 2048), text('description', 255, true), json('event_types', true), text('org_id', 36, true),
        { name: 'enabled', type: 'boolean', isNullable: false }, text('secret', 128), text('previous_secret', 128, true), time('previous_secret_expires_at', true),
        int('consecutive_dead'), text('disabled_reason', 255, true), time('created_at'), time('updated_at'),
      ],
    );
    await table(
      'webhook_deliveries',
      [
        seq(), text('id', 36), text('endpoint_id', 36), text('event_id', 36), text('subject_key', 128), big('subject_seq'), text('kind', 16), text('status', 16),
        int('attempts'), time('next_attempt_at'), time('kicked_at', true), int('last_status_code', true), time('created_at'), time('updated_at'), time('finished_at', true),
      ],
      [
        idx('uq_webhook_deliveries_id', ['id'], true),
        idx('ix_webhook_deliveries_lane', ['subject_key', 'status', 'subject_seq']),
        idx('ix_webhook_deliveries_due', ['status', 'next_attempt_at']),
        idx('ix_webhook_deliveries_endpoint', ['endpoint_id', 'seq']),
        idx('ix_webhook_deliveries_event', ['event_id']),
      ],
    );
    await table(
      'webhook_attempts',
      [seq(), text('delivery_id', 36), text('endpoint_id', 36), int('attempt'), time('started_at'), int('status_code', true), int('latency_ms'), text('error', 255, true), text('response_snippet', 1024, true)],
      [idx('ix_webhook_attempts_delivery', ['delivery_id', 'seq']), idx('ix_webhook_attempts_time', ['started_at'])],
    );
  }

  async down(q: QueryRunner): Promise<void> {
    for (const name of ['webhook_attempts', 'webhook_deliveries', 'webhook_endpoints', 'webhook_event_head', 'webhook_subjects', 'webhook_events']) await q.dropTable(name);
  }
}
