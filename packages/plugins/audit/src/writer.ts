import type { EntityManager } from 'typeorm';
import { transactionBuffer } from '@doorman/core';
import type { Actor, DomainEvent } from '@doorman/plugin-api';
import { eventRow, sqlTime, type EventRow } from './chain.ts';
import { macEvent } from './mac.ts';

const COLUMNS = 'id, occurred_at, org_id, connection_id, actor_type, actor_id, request_id, action, target_type, target_id, changes, mac, job_id, cause_id, context';
const PLACEHOLDERS = `(${new Array(15).fill('?').join(',')})`;

/**
 * Writes published events, unsealed (hash, prev_hash and chain_seq NULL), inside the publisher's
 * transaction: the change and its events commit or roll back together. No chain lock is taken and
 * nothing is hashed here, so transactions of one organization never wait for each other; the sealer
 * links committed events into their chain later.
 *
 * Events are recorded at publish time and written in one multi-row INSERT just before COMMIT (core's
 * `transactionBuffer`, packages/core/src/commit-hooks.ts): one round trip per transaction, and seq
 * order close to commit order. A failure there fails the commit. What a rolled-back savepoint
 * published is dropped (group commit, docs/group-commit.md); outside a transaction, one INSERT at once.
 */
export class AuditWriter {
  /** Flushed before COMMIT: every event the transaction published, in one INSERT. */
  private readonly unwritten = transactionBuffer<EventRow>(insertRows);

  /** `macKey`: AUDIT_HMAC_KEY; each row gets its HMAC at publish time (src/mac.ts). None: `mac` stays NULL. */
  constructor(private readonly macKey: Buffer | null = null) {}

  private row(actor: Actor, event: DomainEvent, now: Date): EventRow {
    const row = eventRow(actor, event, now);
    if (this.macKey) row.mac = macEvent(this.macKey, row);
    return row;
  }

  /** Called by the event bus at publish time. */
  async record(tx: EntityManager, actor: Actor, event: DomainEvent, now: Date): Promise<void> {
    await this.unwritten.add(tx, this.row(actor, event, now));
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
