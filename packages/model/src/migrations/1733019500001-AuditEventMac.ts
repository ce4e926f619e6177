import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * `audit_events.mac`: the per-event HMAC written by the producer with a key kept outside the database
 * (AUDIT_HMAC_KEY; docs/audit-anchoring.md). Existing events keep NULL: they were sealed by then (or
 * are sealed at the previous version's shutdown) and their chain covers them.
 */
export class AuditEventMac1733019500001 implements MigrationInterface {
  name = 'AuditEventMac1733019500001';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumn('audit_events', new TableColumn({ name: 'mac', type: 'varchar', length: '64', isNullable: true }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('audit_events', 'mac');
  }
}
