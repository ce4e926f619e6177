import { TableColumn, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Takes the audit hash chain off the commit path: producers insert events "unsealed" (hash,
 * prev_hash and chain_seq NULL) and a sealer links committed events into their chain later.
 * - `audit_events.hash` becomes nullable; `chain_seq` (position in its chain, set by the sealer) is added
 *   with an index per chain (org_id, chain_seq) and one to find unsealed rows (chain_seq, org_id).
 * - `audit_chain_heads` gets `last_chain_seq` (the chain's last sealed position) and `purged_chain_seq`
 *   (retention removed the chain's events up to this position; 0 = none).
 * Existing rows were all sealed at insert under a lock, so their seq order within a chain is their chain
 * order: chain_seq is backfilled by counting each chain's rows in seq order (in batches, in TypeScript,
 * which keeps the migration dialect-neutral). Dialect-neutral like the initial migration.
 */
export class AuditSealer1732800200000 implements MigrationInterface {
  name = 'AuditSealer1732800200000';

  async up(q: QueryRunner): Promise<void> {
    const mysql = q.connection.options.type === 'mysql' || q.connection.options.type === 'mariadb';
    const bigint = mysql ? 'bigint' : 'integer';

    const events = await q.getTable('audit_events');
    const hash = events!.findColumnByName('hash')!;
    const nullableHash = hash.clone();
    nullableHash.isNullable = true;
    // MariaDB reports a nullable column's default as the text NULL, which TypeORM would write back quoted.
    nullableHash.default = undefined;
    await q.changeColumn('audit_events', hash, nullableHash);
    await q.addColumn('audit_events', new TableColumn({ name: 'chain_seq', type: bigint, isNullable: true }));
    await q.addColumn('audit_chain_heads', new TableColumn({ name: 'last_chain_seq', type: bigint, isNullable: false, default: 0 }));
    await q.addColumn('audit_chain_heads', new TableColumn({ name: 'purged_chain_seq', type: bigint, isNullable: false, default: 0 }));

    // Backfill: each chain numbered 1, 2, … in seq order; its head then points at its last number.
    const counters = new Map<string, number>();
    for (let after = 0; ; ) {
      const rows: Array<{ seq: number | string; orgId: string | null }> = await q.query(
        'SELECT seq, org_id AS orgId FROM audit_events WHERE seq > ? ORDER BY seq LIMIT 1000',
        [after],
      );
      if (!rows.length) break;
      const params: unknown[] = [];
      const cases: string[] = [];
      for (const r of rows) {
        const key = r.orgId ? `org:${r.orgId}` : 'deployment';
        const n = (counters.get(key) ?? 0) + 1;
        counters.set(key, n);
        cases.push('WHEN ? THEN ?');
        params.push(Number(r.seq), n);
      }
      const seqs = rows.map((r) => Number(r.seq));
      await q.query(`UPDATE audit_events SET chain_seq = CASE seq ${cases.join(' ')} END WHERE seq IN (${seqs.map(() => '?').join(',')})`, [...params, ...seqs]);
      after = seqs[seqs.length - 1];
    }
    for (const [key, last] of counters) await q.query('UPDATE audit_chain_heads SET last_chain_seq = ? WHERE chain_key = ?', [last, key]);

    await q.createIndex('audit_events', new TableIndex({ name: 'ix_audit_events_chain', columnNames: ['org_id', 'chain_seq'] }));
    await q.createIndex('audit_events', new TableIndex({ name: 'ix_audit_events_unsealed', columnNames: ['chain_seq', 'org_id'] }));
  }

  /** Fails while unsealed events exist (hash becomes NOT NULL again): seal them first. */
  async down(q: QueryRunner): Promise<void> {
    await q.dropIndex('audit_events', 'ix_audit_events_unsealed');
    await q.dropIndex('audit_events', 'ix_audit_events_chain');
    await q.dropColumn('audit_chain_heads', 'purged_chain_seq');
    await q.dropColumn('audit_chain_heads', 'last_chain_seq');
    await q.dropColumn('audit_events', 'chain_seq');
    const events = await q.getTable('audit_events');
    const hash = events!.findColumnByName('hash')!;
    const required = hash.clone();
    required.isNullable = false;
    required.default = undefined;
    await q.changeColumn('audit_events', hash, required);
  }
}
