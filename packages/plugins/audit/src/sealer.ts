import type { DataSource, EntityManager } from 'typeorm';
import { defineError, type Logger } from '@doorman/plugin-api';
import { AuditEventEntity, rowCodec, type AuditEvent, type RowCodec } from '@doorman/model';
import { chainKeyOf, chainTransactionRunner, lockHead, sqlTime, type ChainTransaction } from './chain.ts';
import { storedEventDigests, type MacCheck } from './mac.ts';

/** A sealing batch that could not create its chain head or seal every event it read: rolled back, retried next round. */
const SealFailed = defineError('DMN_AUDIT_SEAL_FAILED', 500);

export interface SealerOptions {
  /** AUDIT_HMAC_KEY: events whose HMAC does not match are never linked (docs/audit-anchoring.md). */
  macKey?: Buffer | null;
  /** Hears each event the sealer refused to link, and why (logged by the plugin; verification reports it too). */
  onRefused?: (event: { seq: number; orgId: string | null; check: Exclude<MacCheck, 'ok'> }) => void;
}

export interface SealResult {
  /** Events linked into their chain. */
  sealed: number;
  /** Chains that had unsealed events. */
  chains: number;
}

/**
 * Links committed, unsealed events into their chains. For one chain, in one short transaction: lock the
 * chain head (SELECT … FOR UPDATE), read up to `batchSize` committed unsealed events of the chain in seq
 * order, give them chain_seq = head + 1, + 2, … with prev_hash/hash, and move the head. Any number of
 * sealers may run at once (timer loops on every replica, the scheduled job, a verify request): the head
 * lock serialises them per chain and a second sealer simply finds nothing left, so sealing is idempotent.
 *
 * An event whose transaction commits after one with a higher seq is sealed later, after it: the chain order
 * is chain_seq (commit order, roughly), not seq.
 */
export class ChainSealer {
  private readonly run: ChainTransaction;
  private readonly events: RowCodec<AuditEvent>;
  private readonly knownHeads = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<unknown> | undefined;
  private failing = false;

  constructor(
    private readonly db: DataSource,
    transaction: ChainTransaction,
    private readonly batchSize = 500,
    private readonly options: SealerOptions = {},
  ) {
    this.run = chainTransactionRunner(db, transaction);
    this.events = rowCodec(db, AuditEventEntity);
  }

  /** Seals every chain that has unsealed events, each until nothing committed is left. */
  async sealAll(): Promise<SealResult> {
    const rows: Array<{ orgId: string | null }> = await this.db.query('SELECT DISTINCT org_id AS orgId FROM audit_events WHERE chain_seq IS NULL');
    let sealed = 0;
    for (const { orgId } of rows) sealed += await this.sealChain(orgId ?? null);
    return { sealed, chains: rows.length };
  }

  /** Seals one chain (`orgId` null: the deployment chain) until nothing committed is left; returns how many. */
  async sealChain(orgId: string | null): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.run((tx) => this.sealBatch(tx, orgId));
      total += n;
      if (n < this.batchSize) return total;
    }
  }

  private async sealBatch(tx: EntityManager, orgId: string | null): Promise<number> {
    const chainKey = chainKeyOf(orgId);
    // The upsert is skipped once this process has seen the head: heads are never deleted by this plugin.
    let head = await lockHead(tx, chainKey, !this.knownHeads.has(chainKey));
    // Deleted behind our back: recreate it (verification will report the chain).
    head ??= await lockHead(tx, chainKey, true);
    if (!head) throw new SealFailed(`audit sealer: could not create the chain head ${chainKey}`);
    this.knownHeads.add(chainKey);
    // Read after the head lock: at READ COMMITTED this sees every event committed so far, including
    // what a previous sealer of this chain sealed. Uncommitted events are invisible, and wait their turn.
    // Raw SQL, hydrated by TypeORM's own conversions (rowCodec): the same values verification reads
    // through the query builder, without building 500 entities through it twice a second.
    const rows: AuditEvent[] = (
      await tx.query(
        `SELECT ${this.events.select()} FROM audit_events WHERE ${orgId === null ? 'org_id IS NULL' : 'org_id = ?'} AND chain_seq IS NULL ORDER BY seq LIMIT ${Number(this.batchSize)}`,
        orgId === null ? [] : [orgId],
      )
    ).map((r: Record<string, unknown>) => this.events.hydrate(r));
    // With a key, link only events that still match their HMAC: an event edited or forged with SQL access
    // before sealing stops its chain here (nothing after it is linked either, so it cannot be skipped over).
    // Each event's fields are serialized once for both its MAC check and its hash (storedEventDigests).
    const digests = rows.map((r) => storedEventDigests(r));
    const key = this.options.macKey;
    if (key) {
      let check: MacCheck = 'ok';
      const bad = digests.findIndex((d) => (check = d.checkMac(key)) !== 'ok');
      if (bad >= 0) {
        this.options.onRefused?.({ seq: Number(rows[bad]!.seq), orgId, check: check as Exclude<MacCheck, 'ok'> });
        rows.splice(bad);
      }
    }
    if (!rows.length) return 0;
    let prevHash = head.lastHash;
    let chainSeq = head.lastChainSeq;
    const params: { prev: unknown[]; hash: unknown[]; chain: unknown[] } = { prev: [], hash: [], chain: [] };
    for (const [i, r] of rows.entries()) {
      // Hash what was read back, so verification (which reads the same way) computes the same bytes.
      const hash = digests[i]!.hash(prevHash);
      const seq = Number(r.seq);
      params.prev.push(seq, prevHash);
      params.hash.push(seq, hash);
      params.chain.push(seq, ++chainSeq);
      prevHash = hash;
    }
    const seqs = rows.map((r) => Number(r.seq));
    const cases = seqs.map(() => 'WHEN ? THEN ?').join(' ');
    const result = await tx.queryRunner!.query(
      `UPDATE audit_events SET prev_hash = CASE seq ${cases} END, hash = CASE seq ${cases} END, chain_seq = CASE seq ${cases} END WHERE seq IN (${seqs.map(() => '?').join(',')}) AND chain_seq IS NULL`,
      [...params.prev, ...params.hash, ...params.chain, ...seqs],
      true,
    );
    const affected = (result as { affected?: number }).affected;
    if (affected !== undefined && affected !== rows.length) throw new SealFailed(`audit sealer: sealed ${affected} of ${rows.length} events of ${chainKey}; rolled back`);
    await tx.query('UPDATE audit_chain_heads SET last_seq = ?, last_chain_seq = ?, last_hash = ?, updated_at = ? WHERE chain_key = ?', [
      seqs[seqs.length - 1],
      chainSeq,
      prevHash,
      sqlTime(new Date()),
      chainKey,
    ]);
    return rows.length;
  }

  /** Seals every `intervalMs` in this process until `stop()` (ticks never overlap; failures are logged). */
  start(intervalMs: number, logger: Logger): void {
    if (this.timer || intervalMs <= 0) return;
    this.timer = setInterval(() => {
      if (this.inFlight) return;
      this.inFlight = this.sealAll()
        .then(() => {
          if (this.failing) logger.info('audit sealer recovered');
          this.failing = false;
        })
        .catch((err) => {
          // Once per failure streak: a database outage must not flood the log every second.
          if (!this.failing) logger.warn({ err }, 'audit sealer failed; retrying every tick');
          this.failing = true;
        })
        .finally(() => {
          this.inFlight = undefined;
        });
    }, intervalMs);
    this.timer.unref();
  }

  /** Stops the timer loop and waits for a tick in progress. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.inFlight;
  }
}
