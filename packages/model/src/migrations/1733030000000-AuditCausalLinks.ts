import { TableColumn, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { migrationHelpers } from './columns.ts';

/**
 * Causal links on audit events (docs/people-and-explain.md, "Causal links"): `job_id` (the job that
 * wrote the event), `cause_id` (the audit event it follows from) and `context` (the decision's inputs,
 * JSON). `request_id` already existed. Existing events keep NULL in all three, and their hash and HMAC
 * stay as they were (the new fields are covered only when set: audit's eventFields). The request index
 * lets explain gather an IdP request's other events (a SCIM group change that moved a person) by index.
 */
export class AuditCausalLinks1733030000000 implements MigrationInterface {
  name = 'AuditCausalLinks1733030000000';

  async up(q: QueryRunner): Promise<void> {
    const { text } = migrationHelpers(q);
    await q.addColumns('audit_events', [
      new TableColumn(text('job_id', 255, true, true)),
      new TableColumn(text('cause_id', 64, true, true)),
      new TableColumn({ name: 'context', type: 'text', isNullable: true }),
    ]);
    await q.createIndex('audit_events', new TableIndex({ name: 'ix_audit_events_request', columnNames: ['request_id', 'seq'] }));
    await q.createIndex('audit_events', new TableIndex({ name: 'ix_audit_events_cause', columnNames: ['cause_id'] }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropIndex('audit_events', 'ix_audit_events_cause');
    await q.dropIndex('audit_events', 'ix_audit_events_request');
    for (const c of ['context', 'cause_id', 'job_id']) await q.dropColumn('audit_events', c);
  }
}
