import type { Queue } from 'bullmq';
import type { DataSource } from 'typeorm';
import type { JobRegistry, Logger } from '@doorman/core';
import type { MetricsRegistry } from './metrics.ts';
import type { Transact } from './outbox.ts';

export type JobsLogger = Logger;

export interface JobRuntimeOptions {
  registry: JobRegistry;
  db: DataSource;
  /**
   * The gateway's transaction runner (`gateway.transaction`). Required on SQLite, where every
   * transaction must go through the one serialising runner; default: plain `db.transaction`.
   */
  transaction?: Transact;
  /** `redis://…`; null only in development, where jobs then run INLINE in this process. */
  redisUrl: string | null;
  /** Workers run in `worker` and `all`; the outbox relay runs in every role. */
  role: 'api' | 'worker' | 'all';
  mode: 'development' | 'production';
  logger: JobsLogger;
  /** Where queue and outbox gauges are registered (optional: benchmarks run without one). */
  metrics?: MetricsRegistry;
  /** BullMQ key prefix; wrapped in a Redis Cluster hash tag `{…}` unless it has one. Default `{doorman}`. */
  prefix?: string;
  /** Worker concurrency per queue; default: the largest `concurrency` among the queue's definitions, else 10. */
  concurrency?: Record<string, number>;
  /** BullMQ stalled-job settings (tests shorten them). */
  worker?: { lockDuration?: number; stalledInterval?: number; maxStalledCount?: number };
  relay?: {
    /** Poll interval when idle, ms (default 250). */
    pollMs?: number;
    /** Rows per relay transaction (default 500). */
    batchSize?: number;
    /** Finished rows are deleted after this long, ms (default 1 hour). */
    retentionMs?: number;
    /** Longest pause between relay attempts while Redis is unreachable, ms (default 10 s). */
    maxBackoffMs?: number;
    /**
     * A relayed row whose job has not finished after this long is checked against Redis, and re-sent
     * when Redis no longer has its job, ms (default 30 s). An emptied Redis is detected at once.
     */
    reconcileAfterMs?: number;
  };
  /** Queues to create even if no definition uses them (e.g. for the dashboard). */
  extraQueues?: string[];
}

export interface JobRuntime {
  /** Stops the relay, lets workers finish their active jobs, closes queues and Redis connections. */
  close(): Promise<void>;
  /** BullMQ queues by name (empty in inline mode). */
  queues: Map<string, Queue>;
  /** Relays one batch of pending outbox rows now; returns how many rows were handed over. */
  relayOnce(): Promise<number>;
  /**
   * Checks relayed-but-unfinished rows against Redis now (all of them when `all`, else those older than
   * `reconcileAfterMs`): finished jobs are recorded, jobs Redis lost are handed back to the relay.
   * Returns how many were handed back. Inline: always 0.
   */
  reconcileOnce(all?: boolean): Promise<number>;
  /** `bullmq` or `inline`. */
  driver: 'bullmq' | 'inline';
}
