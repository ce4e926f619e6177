import type { DataSource, EntityManager, EntitySubscriberInterface, QueryRunner, TransactionCommitEvent, TransactionRollbackEvent } from 'typeorm';
import type { Actor, DomainEvent } from '@doorman/plugin-api';
import { eventRow, sqlTime, type EventRow } from './chain.ts';
import { macEvent } from './mac.ts';

interface Pending {
  row: EventRow;
  /** Transaction depth at publish time: a rolled-back savepoint drops what was published inside it. */
  depth: number;
}
const depthOf = (qr: QueryRunner) => (qr as unknown as { transactionDepth?: number }).transactionDepth ?? 1;

const COLUMNS = 'id, occurred_at, org_id, connection_id, actor_type, actor_id, request_id, action, target_type, target_id, changes, mac, job_id, cause_id, context';
const PLACEHOLDERS = `(${new Array(15).fill('?').join(',')})`;

/**
 * Writes published events, unsealed (hash, prev_hash and chain_seq NULL), inside the publisher's
 * transaction: the change and its events commit or roll back together. No chain lock is taken and
 * nothing is hashed here, so transactions of one organization never wait for each other; the sealer
 * links committed events into their chain later.
 *
 * Events are recorded at publish time and written in one multi-row INSERT just before COMMIT (TypeORM's
 * beforeTransactionCommit hook): one round trip per transaction, and seq order close to commit order.
 * A failure there fails the commit. Savepoint-aware: what a rolled-back savepoint published is dropped.
 */
export class AuditWriter implements EntitySubscriberInterface {
  private readonly pending = new WeakMap<QueryRunner, Pending[]>();

  /** `macKey`: AUDIT_HMAC_KEY; each row gets its HMAC at publish time (src/mac.ts). None: `mac` stays NULL. */
  constructor(
    db: DataSource,
    private readonly macKey: Buffer | null = null,
  ) {
    db.subscribers.push(this);
  }

  private row(actor: Actor, event: DomainEvent, now: Date): EventRow {
    const row = eventRow(actor, event, now);
    if (this.macKey) row.mac = macEvent(this.macKey, row);
    return row;
  }

  /** Called by the event bus at publish time. */
  async record(tx: EntityManager, actor: Actor, event: DomainEvent, now: Date): Promise<void> {
    const row = this.row(actor, event, now);
    const qr = tx.queryRunner;
    if (!qr?.isTransactionActive) {
      // Published outside a transaction: one INSERT is atomic on its own.
      await insertRows(tx, [row]);
      return;
    }
    const list = this.pending.get(qr) ?? [];
    list.push({ row, depth: depthOf(qr) });
    this.pending.set(qr, list);
  }

  async beforeTransactionCommit(event: TransactionCommitEvent): Promise<void> {
    const qr = event.queryRunner;
    const list = this.pending.get(qr);
    if (!list?.length) return;
    const depth = depthOf(qr);
    if (depth > 1) {
      // A savepoint is released: its events now belong to the enclosing level.
      for (const p of list) if (p.depth >= depth) p.depth = depth - 1;
      return;
    }
    this.pending.delete(qr);
    await insertRows(qr.manager, list.map((p) => p.row));
  }

  beforeTransactionRollback(event: TransactionRollbackEvent): void {
    const qr = event.queryRunner;
    const depth = depthOf(qr);
    const list = this.pending.get(qr);
    if (!list) return;
    if (depth <= 1) this.pending.delete(qr);
    else this.pending.set(qr, list.filter((p) => p.depth < depth));
  }

  /** Writes one event now, unsealed, in `tx`. */
  async append(tx: EntityManager, actor: Actor, event: DomainEvent, now: Date): Promise<void> {
    await insertRows(tx, [this.row(actor, event, now)]);
  }
}

/** One multi-row INSERT of unsealed events. */
export async function insertRows(tx: EntityManager, rows: EventRow[]): Promise<void> {
  const params: unknown[] = [];
  for (const r of rows) {
    params.push(r.id, sqlTime(r.occurredAt), r.orgId, r.connectionId, r.actorType, r.actorId, r.requestId, r.action, r.targetType, r.targetId, r.changes === null ? null : JSON.stringify(r.changes), r.mac ?? null,
      r.jobId ?? null, r.causeId ?? null, r.context === null || r.context === undefined ? null : JSON.stringify(r.context));
  }
  await tx.query(`INSERT INTO audit_events (${COLUMNS}) VALUES ${rows.map(() => PLACEHOLDERS).join(',')}`, params);
}
