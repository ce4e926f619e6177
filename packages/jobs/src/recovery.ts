import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import { toBullJobId } from './job-options.ts';
import { markCompleted, markUnrelayed, readUnfinishedIntents, type Transact } from './outbox.ts';
import type { JobsLogger } from './types.ts';

const BATCH = 500;
/** Rows checked per periodic pass: a long worker outage (a large waiting backlog) is walked over several passes. */
const MAX_PER_PASS = 5_000;

/**
 * What lets deprovisioning survive the loss of Redis' data (docs/job-durability.md):
 * - a marker key under the prefix: when it is missing, Redis is new or came back without its data;
 *   the caller then re-applies the job schedules and reconciles every unfinished row at once;
 * - reconciliation: each relayed row whose job has not finished is looked up in BullMQ. Completed or
 *   failed jobs are recorded (a worker died before recording them); jobs Redis no longer has are
 *   handed back to the relay, which adds them again under the same id (so a job Redis still has is
 *   never added twice, and processors are idempotent for the rare re-run).
 */
export function createRedisRecovery(o: {
  db: DataSource;
  transact: Transact;
  producer: Redis;
  prefix: string;
  readyQueue: (name: string) => Promise<Queue>;
  reconcileAfterMs: number;
  log: JobsLogger;
}) {
  const markerKey = `${o.prefix}:doorman-redis-marker`;
  // Where the periodic walk resumes; a full reconciliation (Redis emptied) always walks everything.
  let resumeAfter = '0';
  return {
    /** True when the marker was missing (and is now set): Redis is new or lost its data. */
    async redisWasEmptied(): Promise<boolean> {
      const set = await o.producer.set(markerKey, new Date().toISOString(), 'NX');
      return set === 'OK';
    },

    /** Reconciles unfinished rows relayed before now (`all`) or before `reconcileAfterMs` ago. Returns rows handed back. */
    async reconcile(all: boolean): Promise<number> {
      const cutoff = new Date(Date.now() - (all ? 0 : o.reconcileAfterMs));
      let after = all ? '0' : resumeAfter;
      let handedBack = 0;
      let finished = 0;
      let checked = 0;
      for (;;) {
        if (!all && checked >= MAX_PER_PASS) {
          resumeAfter = after;
          break;
        }
        const rows = await readUnfinishedIntents(o.db, cutoff, after, BATCH);
        checked += rows.length;
        if (!rows.length) {
          resumeAfter = '0';
          break;
        }
        after = rows[rows.length - 1]!.seq;
        const states = await Promise.all(rows.map(async (r) => (await o.readyQueue(r.queue)).getJobState(toBullJobId(r.jobId))));
        const completed: string[] = [];
        const failed: string[] = [];
        const lost: string[] = [];
        rows.forEach((r, i) => {
          if (states[i] === 'completed') completed.push(r.jobId);
          else if (states[i] === 'failed') failed.push(r.jobId);
          else if (states[i] === 'unknown') lost.push(r.seq);
        });
        const at = new Date();
        if (completed.length || failed.length) {
          await o.transact(async (tx) => {
            await markCompleted(tx, completed, at);
            await markCompleted(tx, failed, at, 'failed (recorded by the relay from BullMQ)');
          });
        }
        await markUnrelayed(o.transact, lost);
        handedBack += lost.length;
        finished += completed.length + failed.length;
        if (rows.length < BATCH) {
          resumeAfter = '0';
          break;
        }
      }
      if (handedBack) o.log.warn({ jobs: handedBack }, 'jobs relayed earlier are no longer in Redis: re-sending them');
      if (finished) o.log.debug({ jobs: finished }, 'finished jobs recorded from BullMQ');
      return handedBack;
    },
  };
}
