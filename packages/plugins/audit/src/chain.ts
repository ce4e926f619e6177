import { createHash } from 'node:crypto';
import { DataSource, type EntityManager, type SelectQueryBuilder } from 'typeorm';
import { isRetryableTransactionError } from '@doorman/core';
import { type Actor, type DomainEvent } from '@doorman/plugin-api';
import { AuditEventEntity, isMysql, type AuditEvent, newRowId } from '@doorman/model';
import { cleanField, sanitizeChanges } from './redact.ts';
import { checkMac } from './mac.ts';

/**
 * Each organization's events form one hash chain; events without an organization form the
 * deployment's chain. A row per chain in `audit_chain_heads` holds the chain's last sealed event
 * (seq, chain_seq, hash) and how far retention purged it.
 */
export const chainKeyOf = (orgId: string | null | undefined): string => (orgId ? `org:${orgId}` : 'deployment');

/** The fields the hash covers (everything but `seq`, `chainSeq` and `hash`). */
export type HashedFields = Omit<AuditEvent, 'seq' | 'hash' | 'chainSeq'>;

/**
 * JSON with object keys sorted at every depth: one byte sequence per value. Every event is serialized
 * this way three times (its MAC when written; the sealer's MAC check and chain hash), so it is written
 * as plain loops without intermediate arrays; the bytes are those of the original map/filter/join form
 * (test/units.test.ts compares them), which stored hashes and MACs depend on.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      // Array.prototype.join writes a hole, and an item JSON cannot represent, as nothing.
      if (i in value) out += (canonicalJson(value[i]) as string | undefined) ?? '';
    }
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  let out = '{';
  for (const k of keys) {
    const item = record[k];
    if (item === undefined) continue;
    if (out.length > 1) out += ',';
    out += `${JSON.stringify(k)}:${canonicalJson(item)}`;
  }
  return `${out}}`;
}

/** The causal links (docs/people-and-explain.md): set on events written since migration 1733030000000. */
export const hasLinks = (e: Pick<HashedFields, 'jobId' | 'causeId' | 'context'>): boolean => Boolean(e.jobId ?? e.causeId ?? e.context);

/**
 * The event's own fields in their canonical order: what the chain hash and the per-event MAC both cover.
 * The causal links are appended only when one is set, so an event written before they existed hashes
 * to the same bytes as it did then (its chain still verifies); the hash and MAC then use version 2 of
 * their serialization, so emptying the links of a newer event changes its bytes and is detected.
 */
export function eventFields(e: Omit<HashedFields, 'prevHash' | 'mac'>, changes: unknown): unknown[] {
  const fields: unknown[] = [
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
    changes,
  ];
  if (hasLinks(e)) {
    const context = e.context === null || e.context === undefined ? null : JSON.parse(JSON.stringify(e.context));
    fields.push({ jobId: e.jobId ?? null, causeId: e.causeId ?? null, context });
  }
  return fields;
}

/** The chain hash's format tag: version 2 covers the causal links (job, cause, context). */
export const hashFormat = (e: Parameters<typeof hasLinks>[0]) => (hasLinks(e) ? 'doorman-audit/2' : 'doorman-audit/1');

/** SHA-256 (hex) of a serialized payload. */
export const sha256Hex = (payload: string) => createHash('sha256').update(payload, 'utf8').digest('hex');

/** SHA-256 (hex) over a versioned, canonical serialization of the event and the previous hash. */
export function hashEvent(e: HashedFields): string {
  return sha256Hex(canonicalJson([hashFormat(e), ...eventFields(e, e.changes ?? null), e.prevHash ?? null]));
}

/** `YYYY-MM-DD HH:MM:SS.mmm` in UTC, as both dialects store DATETIME(3). */
export const sqlTime = (d: Date) => d.toISOString().replace('T', ' ').replace('Z', '');

/** Turns a published domain event into the row to store (secrets removed, fields clipped to their columns). */
export function eventRow(actor: Actor, event: DomainEvent, now: Date): EventRow {
  return {
    id: cleanField(event.id, 36) ?? newRowId(),
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
    jobId: cleanField(actor.jobId, 255),
    causeId: cleanField(event.cause ?? actor.cause, 64),
    context: sanitizeChanges(event.context),
  };
}

/** An event as the producer writes it: unsealed, without prev_hash, hash or chain_seq. */
export type EventRow = Omit<HashedFields, 'prevHash'>;

export type ChainTransaction = <T>(work: (tx: EntityManager) => Promise<T>) => Promise<T>;

/**
 * The transactions of the sealer and the purge. On MySQL they run at READ COMMITTED: every statement
 * sees what has committed by then (the previous sealer's work included, once the head lock is ours), and
 * no gap locks are taken, so producers inserting events are never blocked by a sealer. Deadlocks and
 * lock timeouts are retried. On SQLite the gateway's transaction runner serialises them with every other
 * transaction (one connection).
 */
export function chainTransactionRunner(db: DataSource, transaction: ChainTransaction): ChainTransaction {
  if (!isMysql(db)) return transaction;
  return async function chainTransaction<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await db.transaction('READ COMMITTED', work);
      } catch (err) {
        if (attempt >= 5 || !isRetryableTransactionError(err)) throw err;
        await new Promise((r) => setTimeout(r, 5 * attempt + Math.random() * 20));
      }
    }
  };
}

export interface ChainHead {
  lastSeq: number;
  lastChainSeq: number;
  lastHash: string | null;
  purgedChainSeq: number;
}

const HEAD_COLUMNS = 'last_seq AS lastSeq, last_chain_seq AS lastChainSeq, last_hash AS lastHash, purged_chain_seq AS purgedChainSeq';
const toHead = (r: Record<string, unknown>): ChainHead => ({
  lastSeq: Number(r.lastSeq),
  lastChainSeq: Number(r.lastChainSeq),
  lastHash: (r.lastHash as string | null) ?? null,
  purgedChainSeq: Number(r.purgedChainSeq),
});

/** Reads a chain's head without locking it (null: the chain was never sealed). */
export async function readHead(db: DataSource | EntityManager, key: string): Promise<ChainHead | null> {
  const rows: Array<Record<string, unknown>> = await db.query(`SELECT ${HEAD_COLUMNS} FROM audit_chain_heads WHERE chain_key = ?`, [key]);
  return rows[0] ? toHead(rows[0]) : null;
}

/**
 * Locks a chain's head for the rest of `tx` (SELECT … FOR UPDATE), creating it first with an upsert when
 * `create` is set. This lock is what serialises sealers (and the purge) of one chain, on any number of
 * replicas. SQLite has no row locks: its transactions are serialised by the transaction runner.
 */
export async function lockHead(tx: EntityManager, key: string, create: boolean): Promise<ChainHead | null> {
  const mysql = isMysql(tx.connection);
  if (create) {
    await tx.query(
      mysql
        ? 'INSERT INTO audit_chain_heads (chain_key, last_seq, last_hash) VALUES (?, 0, NULL) ON DUPLICATE KEY UPDATE chain_key = chain_key'
        : 'INSERT INTO audit_chain_heads (chain_key, last_seq, last_hash) VALUES (?, 0, NULL) ON CONFLICT(chain_key) DO NOTHING',
      [key],
    );
  }
  const rows: Array<Record<string, unknown>> = await tx.query(`SELECT ${HEAD_COLUMNS} FROM audit_chain_heads WHERE chain_key = ?${mysql ? ' FOR UPDATE' : ''}`, [key]);
  return rows[0] ? toHead(rows[0]) : null;
}

/** Events of one chain (`orgId` null: the deployment chain). */
export function chainEvents(db: DataSource | EntityManager, orgId: string | null): SelectQueryBuilder<AuditEvent> {
  return db
    .getRepository(AuditEventEntity)
    .createQueryBuilder('e')
    .where(orgId ? 'e.orgId = :orgId' : 'e.orgId IS NULL', { orgId });
}
/** Unsealed events older than the threshold: the sealer is not running or cannot keep up. */
export interface UnsealedFinding {
  kind: 'unsealed';
  count: number;
  oldestSeq: number;
  reason: string;
}

export type VerifyResult = (
  | { ok: true; checked: number; lastSeq: number | null; lastChainSeq: number | null; headHash: string | null }
  | { ok: false; checked: number; brokenAtSeq: number; reason: string }
) & {
  /** Committed events not yet linked into the chain (they are not covered by this verification). */
  unsealed: number;
  /** Not broken links, but worth an alert: events unsealed for longer than `unsealedAlertMs`. */
  findings: UnsealedFinding[];
  /** Whether events were checked against their HMAC (AUDIT_HMAC_KEY configured). */
  macChecked: boolean;
};

export interface VerifyOptions {
  batchSize?: number;
  /** Unsealed events older than this (by occurredAt) are reported as a finding. Default 120 s. */
  unsealedAlertMs?: number;
  now?: Date;
  /**
   * AUDIT_HMAC_KEY (docs/audit-anchoring.md): every event, sealed or not, must match its HMAC; an event
   * without one is accepted only before the chain's first event that has one (written before the key).
   */
  macKey?: Buffer | null;
}

/**
 * Walks one chain in chain_seq order and reports the first broken link:
 * - a sealed event whose content no longer matches its hash (edited);
 * - an event whose prev_hash is not the previous event's hash, or whose chain_seq does not follow the
 *   previous one (an event before it was removed, inserted or edited);
 * - a first event that is not the one right after what retention purged (oldest events removed);
 * - a last event, or sealed events beyond it, that do not match the head (newest events removed or added).
 * The first remaining event's prev_hash is trusted (retention removes the oldest events). On MySQL, given a
 * DataSource, the head and the events are read in one REPEATABLE READ snapshot, so sealing and purging
 * during the walk do not matter. Unsealed events are counted, and reported as a finding when older than
 * `unsealedAlertMs`; they are not part of the chain yet.
 */
export async function verifyChain(db: DataSource | EntityManager, orgId: string | null, options: VerifyOptions = {}): Promise<VerifyResult> {
  if (db instanceof DataSource && isMysql(db)) return db.transaction('REPEATABLE READ', (tx) => verifyIn(tx, orgId, options));
  return verifyIn(db, orgId, options);
}

async function verifyIn(db: DataSource | EntityManager, orgId: string | null, options: VerifyOptions): Promise<VerifyResult> {
  const batchSize = options.batchSize ?? 1000;
  const head = await readHead(db, chainKeyOf(orgId));
  const unsealed = { ...(await unsealedOf(db, orgId, options)), macChecked: Boolean(options.macKey) };
  const macKey = options.macKey ?? null;
  let macSeen = false;
  const lastChainSeq = head?.lastChainSeq ?? 0;
  const purged = head?.purgedChainSeq ?? 0;
  let checked = 0;
  const broken = (brokenAtSeq: number, reason: string): VerifyResult => ({ ok: false, checked, brokenAtSeq, reason, ...unsealed });
  let expectedPrev: string | null | undefined;
  let last: { seq: number; chainSeq: number; hash: string } | null = null;
  for (let after = purged; after < lastChainSeq; ) {
    const rows = await chainEvents(db, orgId)
      .andWhere('e.chainSeq > :after', { after })
      .andWhere('e.chainSeq <= :lastChainSeq', { lastChainSeq })
      .orderBy('e.chainSeq', 'ASC')
      .limit(batchSize)
      .getMany();
    for (const r of rows) {
      const seq = Number(r.seq);
      const chainSeq = Number(r.chainSeq);
      if (!last && chainSeq !== purged + 1) {
        return broken(seq, `the chain starts at chain_seq ${chainSeq}, but retention purged only through ${purged}: events at the start of the chain were removed`);
      }
      if (last && chainSeq !== last.chainSeq + 1) {
        return broken(seq, `chain_seq ${chainSeq} follows ${last.chainSeq}: an event before it was removed or duplicated`);
      }
      if (expectedPrev !== undefined && (r.prevHash ?? null) !== expectedPrev) {
        return broken(seq, 'prev_hash does not match the previous event: an event before it was removed or altered');
      }
      if (r.hash === null || hashEvent(r) !== r.hash) return broken(seq, 'event content does not match its hash: the event was altered');
      if (macKey) {
        const mac = checkMac(macKey, r);
        if (mac === 'mismatch') return broken(seq, 'event content does not match its HMAC: it was altered (and its chain recomputed) by someone without the audit key');
        if (mac === 'missing' && macSeen) return broken(seq, "event has no HMAC although events before it in the chain have one: its HMAC was removed or the event was forged");
        if (mac === 'ok') macSeen = true;
      }
      expectedPrev = r.hash;
      last = { seq, chainSeq, hash: r.hash };
      checked++;
    }
    if (rows.length < batchSize) break;
    after = Number(rows[rows.length - 1].chainSeq);
  }
  if (head && lastChainSeq > purged && (!last || last.chainSeq !== lastChainSeq || last.hash !== head.lastHash)) {
    return broken(
      head.lastSeq,
      last
        ? `the chain head points to chain_seq ${lastChainSeq}, but the last event is chain_seq ${last.chainSeq}: events at the end were removed or altered`
        : `the chain head points to chain_seq ${lastChainSeq}, but the chain has no events left and retention purged only through ${purged}: they were removed`,
    );
  }
  const [beyond] = await chainEvents(db, orgId).andWhere('e.chainSeq > :lastChainSeq', { lastChainSeq }).orderBy('e.chainSeq', 'ASC').limit(1).getMany();
  if (beyond) return broken(Number(beyond.seq), `a sealed event at chain_seq ${beyond.chainSeq} lies beyond the chain head (${lastChainSeq}): it was added or the head was altered`);
  if (macKey && unsealed.unsealed > 0) {
    // Not linked yet, so no hash covers them: their HMAC is what makes an edit before sealing visible.
    for (let after = 0; ; ) {
      const rows = await chainEvents(db, orgId).andWhere('e.chainSeq IS NULL').andWhere('e.seq > :after', { after }).orderBy('e.seq', 'ASC').limit(batchSize).getMany();
      for (const r of rows) {
        const mac = checkMac(macKey, r);
        if (mac === 'mismatch') return broken(Number(r.seq), 'an unsealed event does not match its HMAC: it was altered before the sealer linked it');
        if (mac === 'missing') return broken(Number(r.seq), 'an unsealed event has no HMAC: it was forged, or written by a process without AUDIT_HMAC_KEY');
      }
      if (rows.length < batchSize) break;
      after = Number(rows[rows.length - 1]!.seq);
    }
  }
  return { ok: true, checked, lastSeq: last?.seq ?? null, lastChainSeq: last?.chainSeq ?? null, headHash: head?.lastHash ?? null, ...unsealed };
}

async function unsealedOf(db: DataSource | EntityManager, orgId: string | null, options: VerifyOptions): Promise<Pick<VerifyResult, 'unsealed' | 'findings'>> {
  const unsealed = await chainEvents(db, orgId).andWhere('e.chainSeq IS NULL').getCount();
  if (!unsealed) return { unsealed, findings: [] };
  const alertMs = options.unsealedAlertMs ?? 120_000;
  const before = new Date((options.now ?? new Date()).getTime() - alertMs);
  const stale = chainEvents(db, orgId).andWhere('e.chainSeq IS NULL').andWhere('e.occurredAt < :before', { before: sqlTime(before) });
  const count = await stale.getCount();
  if (!count) return { unsealed, findings: [] };
  const oldest = await stale.orderBy('e.seq', 'ASC').limit(1).getOneOrFail();
  const reason = `${count} event${count === 1 ? '' : 's'} unsealed for more than ${Math.round(alertMs / 1000)} s (oldest: seq ${oldest.seq}, occurred ${new Date(oldest.occurredAt).toISOString()}): is the sealer running?`;
  return { unsealed, findings: [{ kind: 'unsealed', count, oldestSeq: Number(oldest.seq), reason }] };
}
