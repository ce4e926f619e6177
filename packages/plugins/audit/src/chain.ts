import { createHash, randomUUID } from 'node:crypto';
import type { DataSource, EntityManager, EntitySubscriberInterface, QueryRunner, TransactionCommitEvent, TransactionRollbackEvent } from 'typeorm';
import type { Actor, DomainEvent } from '@doorman/core';
import { AuditChainHeadEntity, AuditEventEntity, isMysql, type AuditEvent, type JsonDocument } from '@doorman/model';
import { cleanField, sanitizeChanges } from './redact.ts';

/**
 * Each organization's events form one hash chain; events without an organization form the
 * deployment's chain. A row per chain in `audit_chain_heads` holds the last seq and hash.
 */
export const chainKeyOf = (orgId: string | null | undefined): string => (orgId ? `org:${orgId}` : 'deployment');

/** The fields the hash covers (everything but `seq` and `hash`). */
export type HashedFields = Omit<AuditEvent, 'seq' | 'hash'>;

/** JSON with object keys sorted at every depth: one byte sequence per value. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(value as object)
    .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
}

/** SHA-256 (hex) over a versioned, canonical serialization of the event and the previous hash. */
export function hashEvent(e: HashedFields): string {
  const payload = canonicalJson([
    'doorman-audit/1',
    e.id,
    new Date(e.occurredAt).toISOString(),
    e.orgId ?? null,
    e.connectionId ?? null,
    e.actorType,
    e.actorId ?? null,
    e.requestId ?? null,
    e.action,
    e.targetType ?? null,
    e.targetId ?? null,
    e.changes ?? null,
    e.prevHash ?? null,
  ]);
  return createHash('sha256').update(payload, 'utf8').digest('hex');
}

/** `YYYY-MM-DD HH:MM:SS.mmm` in UTC, as both dialects store DATETIME(3). */
export const sqlTime = (d: Date) => d.toISOString().replace('T', ' ').replace('Z', '');

/** Turns a published domain event into the row to store (secrets removed, fields clipped to their columns). */
export function eventRow(actor: Actor, event: DomainEvent, now: Date): Omit<HashedFields, 'prevHash'> {
  return {
    id: randomUUID(),
    occurredAt: now,
    orgId: cleanField(event.orgId, 36),
    connectionId: cleanField(event.connectionId, 36),
    actorType: actor.type,
    actorId: cleanField(actor.id, 255),
    requestId: cleanField(actor.requestId, 64),
    action: cleanField(event.action, 64) ?? 'unknown',
    targetType: cleanField(event.target?.type, 32),
    targetId: cleanField(event.target?.id, 255),
    changes: sanitizeChanges(event.changes as Record<string, unknown> | null | undefined),
  };
}

type EventRow = Omit<HashedFields, 'prevHash'>;
interface Pending {
  row: EventRow;
  /** Transaction depth at publish time: a rolled-back savepoint drops what was published inside it. */
  depth: number;
}
const depthOf = (qr: QueryRunner) => (qr as unknown as { transactionDepth?: number }).transactionDepth ?? 1;

/**
 * Appends events to their chains inside the publisher's transaction.
 *
 * Concurrency: the chain head row is locked (SELECT … FOR UPDATE) while an event is linked to it and
 * stays locked until the transaction commits, so a second transaction appending to the same chain
 * waits and then links to the committed event: a chain cannot fork, and a rolled-back event never
 * becomes anyone's prev_hash. To hold that lock as briefly as possible, events are only recorded at
 * publish time and written just before COMMIT (TypeORM's beforeTransactionCommit hook): lock, one
 * multi-row INSERT, head UPDATE, COMMIT. A failure there fails the commit, so the change and its events
 * still commit or roll back together. Several chains in one transaction are locked in key order
 * (no deadlocks between two such transactions). Heads are created on first use with an upsert.
 */
export class ChainWriter implements EntitySubscriberInterface {
  private readonly knownHeads = new Set<string>();
  private readonly pending = new WeakMap<QueryRunner, Pending[]>();
  private readonly mysql: boolean;

  constructor(private readonly db: DataSource) {
    this.mysql = isMysql(db);
    db.subscribers.push(this);
  }

  /** Called by the event bus at publish time. */
  async record(tx: EntityManager, actor: Actor, event: DomainEvent, now: Date): Promise<void> {
    const row = eventRow(actor, event, now);
    const qr = tx.queryRunner;
    if (!qr?.isTransactionActive) {
      // Published outside a transaction: the lock and the append still need one.
      await this.db.transaction((inner) => this.appendRows(inner, [row]));
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
    await this.appendRows(qr.manager, list.map((p) => p.row));
  }

  beforeTransactionRollback(event: TransactionRollbackEvent): void {
    const qr = event.queryRunner;
    const depth = depthOf(qr);
    const list = this.pending.get(qr);
    if (!list) return;
    if (depth <= 1) this.pending.delete(qr);
    else this.pending.set(qr, list.filter((p) => p.depth < depth));
  }

  /** Appends one event now, in `tx` (which must be a transaction). */
  async append(tx: EntityManager, actor: Actor, event: DomainEvent, now: Date): Promise<AuditEvent> {
    const [stored] = await this.appendRows(tx, [eventRow(actor, event, now)]);
    return stored;
  }

  private async ensureHead(tx: EntityManager, key: string): Promise<void> {
    await tx.query(
      this.mysql
        ? 'INSERT INTO audit_chain_heads (chain_key, last_seq, last_hash) VALUES (?, 0, NULL) ON DUPLICATE KEY UPDATE chain_key = chain_key'
        : 'INSERT INTO audit_chain_heads (chain_key, last_seq, last_hash) VALUES (?, 0, NULL) ON CONFLICT(chain_key) DO NOTHING',
      [key],
    );
  }

  private async lockHead(tx: EntityManager, key: string): Promise<{ lastHash: string | null }> {
    // SQLite transactions are serialised by the transaction runner; it has no row locks.
    const select = `SELECT last_hash AS lastHash FROM audit_chain_heads WHERE chain_key = ?${this.mysql ? ' FOR UPDATE' : ''}`;
    if (!this.knownHeads.has(key)) await this.ensureHead(tx, key);
    let rows: Array<{ lastHash: string | null }> = await tx.query(select, [key]);
    if (!rows.length) {
      // The head was removed behind our back (this plugin never deletes one): recreate it.
      await this.ensureHead(tx, key);
      rows = await tx.query(select, [key]);
    }
    this.knownHeads.add(key);
    return rows[0];
  }

  private async appendRows(tx: EntityManager, rows: EventRow[]): Promise<AuditEvent[]> {
    const byChain = new Map<string, EventRow[]>();
    for (const row of rows) {
      const key = chainKeyOf(row.orgId);
      byChain.set(key, [...(byChain.get(key) ?? []), row]);
    }
    const stored: AuditEvent[] = [];
    for (const key of [...byChain.keys()].sort()) {
      const head = await this.lockHead(tx, key);
      let prevHash = head.lastHash ?? null;
      const linked = byChain.get(key)!.map((row) => {
        const e: HashedFields = { ...row, prevHash };
        prevHash = hashEvent(e);
        return { ...e, hash: prevHash };
      });
      const result = await tx.getRepository(AuditEventEntity).insert(linked.map((e) => ({ ...e, changes: e.changes as JsonDocument | null })));
      const seqs = result.identifiers.map((id) => Number(id?.seq));
      const lastSeq = seqs[seqs.length - 1];
      await tx.query('UPDATE audit_chain_heads SET last_seq = ?, last_hash = ?, updated_at = ? WHERE chain_key = ?', [lastSeq, prevHash, sqlTime(new Date()), key]);
      linked.forEach((e, i) => stored.push({ ...e, seq: seqs[i] }));
    }
    return stored;
  }
}

export type VerifyResult =
  | { ok: true; checked: number; lastSeq: number | null; headHash: string | null }
  | { ok: false; checked: number; brokenAtSeq: number; reason: string };

/**
 * Walks one chain in seq order and reports the first broken link: a row whose content no longer
 * matches its hash (edited), or whose prev_hash is not the previous row's hash (a row removed,
 * inserted or edited before it). The first remaining event's prev_hash is trusted, because retention
 * purges the oldest events. Only events up to the chain head read at the start are checked, so
 * appends during verification do not matter; the head must match the last event (tail removed).
 */
export async function verifyChain(db: DataSource | EntityManager, orgId: string | null, batchSize = 1000): Promise<VerifyResult> {
  const heads = await db.getRepository(AuditChainHeadEntity).find({ where: { chainKey: chainKeyOf(orgId) } });
  const head = heads[0] ? { lastSeq: Number(heads[0].lastSeq), lastHash: heads[0].lastHash } : null;
  const repo = db.getRepository(AuditEventEntity);
  let checked = 0;
  let after = 0;
  let expectedPrev: string | null | undefined;
  let last: { seq: number; hash: string } | null = null;
  for (;;) {
    const qb = repo
      .createQueryBuilder('e')
      .where(orgId ? 'e.orgId = :orgId' : 'e.orgId IS NULL', { orgId })
      .andWhere('e.seq > :after', { after })
      .orderBy('e.seq', 'ASC')
      .limit(batchSize);
    if (head) qb.andWhere('e.seq <= :lastSeq', { lastSeq: head.lastSeq });
    const rows = await qb.getMany();
    for (const r of rows) {
      const seq = Number(r.seq);
      if (expectedPrev !== undefined && (r.prevHash ?? null) !== expectedPrev) {
        return { ok: false, checked, brokenAtSeq: seq, reason: 'prev_hash does not match the previous event: an event before it was removed or altered' };
      }
      if (hashEvent(r) !== r.hash) return { ok: false, checked, brokenAtSeq: seq, reason: 'event content does not match its hash: the event was altered' };
      expectedPrev = r.hash;
      last = { seq, hash: r.hash };
      checked++;
    }
    if (rows.length < batchSize) break;
    after = Number(rows[rows.length - 1].seq);
  }
  if (head && head.lastSeq > 0) {
    if (last && (last.seq !== head.lastSeq || last.hash !== head.lastHash)) {
      return { ok: false, checked, brokenAtSeq: head.lastSeq, reason: `the chain head points to seq ${head.lastSeq}, but the last event is seq ${last.seq}: events at the end were removed or altered` };
    }
    if (!last) {
      // Retention deletes a prefix of the whole table, so a chain may be emptied only by purging past its head.
      const [{ minSeq }] = await db.query('SELECT MIN(seq) AS minSeq FROM audit_events');
      if (minSeq !== null && Number(minSeq) <= head.lastSeq) {
        return { ok: false, checked, brokenAtSeq: head.lastSeq, reason: `the chain head points to seq ${head.lastSeq}, but the chain has no events left: they were removed` };
      }
    }
  }
  return { ok: true, checked, lastSeq: last?.seq ?? null, headHash: head?.lastHash ?? last?.hash ?? null };
}
