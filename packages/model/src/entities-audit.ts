import { EntitySchema } from 'typeorm';
import { created, ref } from './columns.ts';
import type { JsonDocument } from './entities.ts';

/** The audit log, its hash-chain heads, and the transactional outbox of job intents. */

export type ActorType = 'scim_token' | 'admin_token' | 'sso_user' | 'system';
export interface AuditEvent {
  /** Monotonic sequence: the cursor for pagination. */
  seq: number;
  id: string;
  occurredAt: Date;
  orgId: string | null;
  connectionId: string | null;
  actorType: ActorType;
  actorId: string | null;
  requestId: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  changes: JsonDocument | null;
  /**
   * Hash chain per organization (org null = the deployment's own chain). Written NULL by the producer
   * ("unsealed") and set by the audit sealer, which links committed events into their chain.
   */
  prevHash: string | null;
  hash: string | null;
  /** Position in its chain (1, 2, …), assigned by the sealer; NULL while unsealed. */
  chainSeq: number | null;
  /**
   * HMAC-SHA256 of the event with a key kept outside the database (AUDIT_HMAC_KEY), written by the
   * producer: an edit before sealing no longer matches it. NULL when written without a key (development)
   * or before the column existed. Optional on writes.
   */
  mac?: string | null;
  /**
   * Causal links (docs/people-and-explain.md): the job that wrote the event, the audit event it follows
   * from, and the decision's inputs. NULL on events written before they existed. Optional on writes.
   */
  jobId?: string | null;
  causeId?: string | null;
  context?: JsonDocument | null;
}
export const AuditEventEntity = new EntitySchema<AuditEvent>({
  name: 'AuditEvent',
  tableName: 'audit_events',
  columns: {
    seq: { type: 'bigint', primary: true, generated: 'increment' },
    id: { type: 'varchar', length: 36 },
    occurredAt: { type: 'datetime', precision: 3, name: 'occurred_at' },
    orgId: { ...ref(true), name: 'org_id' },
    connectionId: { ...ref(true), name: 'connection_id' },
    actorType: { type: 'varchar', length: 16, name: 'actor_type' },
    actorId: { type: 'varchar', length: 255, nullable: true, name: 'actor_id' },
    requestId: { type: 'varchar', length: 64, nullable: true, name: 'request_id' },
    action: { type: 'varchar', length: 64 },
    targetType: { type: 'varchar', length: 32, nullable: true, name: 'target_type' },
    targetId: { type: 'varchar', length: 255, nullable: true, name: 'target_id' },
    changes: { type: 'simple-json', nullable: true },
    prevHash: { type: 'varchar', length: 64, nullable: true, name: 'prev_hash' },
    hash: { type: 'varchar', length: 64, nullable: true },
    chainSeq: { type: 'bigint', nullable: true, name: 'chain_seq' },
    mac: { type: 'varchar', length: 64, nullable: true },
    jobId: { type: 'varchar', length: 255, nullable: true, name: 'job_id' },
    causeId: { type: 'varchar', length: 64, nullable: true, name: 'cause_id' },
    context: { type: 'simple-json', nullable: true },
  },
});

/** Transactional outbox: a job intent committed with the change that caused it. */
export interface OutboxMessage {
  seq: number;
  queue: string;
  jobName: string;
  /** BullMQ job id: relaying twice never enqueues twice. */
  jobId: string;
  payload: JsonDocument;
  createdAt: Date;
  /** When BullMQ (or the inline driver) took the job. */
  relayedAt: Date | null;
  /** When the job finished (completed or failed for good): until then the row is kept and re-sent if Redis lost it. */
  completedAt: Date | null;
  attempts: number;
  lastError: string | null;
}
export const OutboxMessageEntity = new EntitySchema<OutboxMessage>({
  name: 'OutboxMessage',
  tableName: 'outbox',
  columns: {
    seq: { type: 'bigint', primary: true, generated: 'increment' },
    queue: { type: 'varchar', length: 64 },
    jobName: { type: 'varchar', length: 64, name: 'job_name' },
    jobId: { type: 'varchar', length: 255, name: 'job_id' },
    payload: { type: 'simple-json' },
    createdAt: created,
    relayedAt: { type: 'datetime', precision: 3, nullable: true, name: 'relayed_at' },
    completedAt: { type: 'datetime', precision: 3, nullable: true, name: 'completed_at' },
    attempts: { type: 'int' },
    lastError: { type: 'varchar', length: 1024, nullable: true, name: 'last_error' },
  },
});

/** The head of one audit hash chain (`org:<id>` or `deployment`), locked while appending to it. */
export interface AuditChainHead {
  chainKey: string;
  lastSeq: number;
  lastHash: string | null;
  /** chain_seq of the chain's last sealed event (0: none yet). */
  lastChainSeq: number;
  /** Retention removed this chain's events up to this chain_seq (0: none). */
  purgedChainSeq: number;
  updatedAt: Date;
}
export const AuditChainHeadEntity = new EntitySchema<AuditChainHead>({
  name: 'AuditChainHead',
  tableName: 'audit_chain_heads',
  columns: {
    chainKey: { type: 'varchar', length: 64, primary: true, name: 'chain_key' },
    lastSeq: { type: 'bigint', name: 'last_seq' },
    lastHash: { type: 'varchar', length: 64, nullable: true, name: 'last_hash' },
    lastChainSeq: { type: 'bigint', name: 'last_chain_seq', default: 0 },
    purgedChainSeq: { type: 'bigint', name: 'purged_chain_seq', default: 0 },
    updatedAt: { type: 'datetime', precision: 3, name: 'updated_at' },
  },
});
