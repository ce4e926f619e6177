import { TableColumn, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * An outbox row now lives until its job has COMPLETED, not merely until BullMQ accepted it, so the
 * relay can re-send what an emptied Redis lost (docs/job-durability.md):
 * - `outbox.completed_at`: when the job finished (completed, or failed for good); NULL while it may still run.
 * - `ix_outbox_unfinished (completed_at, relayed_at)`: the relay's reconciliation finds relayed rows whose
 *   job has not finished, and retention finds finished rows, through it.
 * - `ix_outbox_job (job_id)`: workers record completions by job id.
 * Rows relayed before this migration are taken as finished (their jobs ran under the old rules).
 */
export class OutboxCompletion1733020000000 implements MigrationInterface {
  name = 'OutboxCompletion1733020000000';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumn('outbox', new TableColumn({ name: 'completed_at', type: 'datetime', precision: 3, isNullable: true }));
    await q.query('UPDATE outbox SET completed_at = relayed_at WHERE relayed_at IS NOT NULL');
    await q.createIndex('outbox', new TableIndex({ name: 'ix_outbox_unfinished', columnNames: ['completed_at', 'relayed_at'] }));
    await q.createIndex('outbox', new TableIndex({ name: 'ix_outbox_job', columnNames: ['job_id'] }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropIndex('outbox', 'ix_outbox_job');
    await q.dropIndex('outbox', 'ix_outbox_unfinished');
    await q.dropColumn('outbox', 'completed_at');
  }
}
