import { TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { migrationHelpers } from './columns.ts';

/**
 * `connection_activity` (owned by the people plugin): the SCIM and SSO requests Doorman refused with a
 * 4xx, per connection, for the operator's "why does Okta's Test Connector fail?" (docs/connection-activity.md).
 * Never a body, query value or credential: the route pattern, the status, the scimType, the error code
 * and a detail with request values redacted. `unrecorded` counts the refusals the per-second cap skipped
 * before this one. Also an index on `audit_events (connection_id, occurred_at)`: the activity route
 * lists a connection's accepted changes from the audit trail beside its refusals.
 */
export class ConnectionActivity1733031000000 implements MigrationInterface {
  name = 'ConnectionActivity1733031000000';

  async up(q: QueryRunner): Promise<void> {
    const { mysql, text, uuid, time, table, idx } = migrationHelpers(q);
    await table(
      'connection_activity',
      [
        { name: 'seq', type: mysql ? 'bigint' : 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
        uuid('connection_id'),
        time('occurred_at'),
        text('surface', 8, false, true),
        text('method', 8, false, true),
        text('route', 255, false, true),
        { name: 'status', type: 'int' },
        text('scim_type', 32, true, true),
        text('code', 64, false, true),
        text('detail', 1024),
        text('request_id', 64, false, true),
        { name: 'unrecorded', type: 'int', default: 0 },
      ],
      [idx('ix_connection_activity_connection', ['connection_id', 'occurred_at', 'seq']), idx('ix_connection_activity_time', ['occurred_at'])],
    );
    await q.createIndex('audit_events', new TableIndex({ name: 'ix_audit_events_connection', columnNames: ['connection_id', 'occurred_at'] }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropIndex('audit_events', 'ix_audit_events_connection');
    await q.dropTable('connection_activity');
  }
}
