import { setTimeout as delay } from 'node:timers/promises';
import { UnrecoverableError } from 'bullmq';
import type { JobContext, JobDefinition } from '@doorman/core';
import { DEFAULT_ATTEMPTS, DEFAULT_BACKOFF_MS, deduplicationKeyOf } from './job-options.ts';
import { registerCollectedGauge } from './metrics.ts';
import { countPendingIntents, markRelayed, plainTransact, readPendingIntents, type PendingIntent } from './outbox.ts';
import { startRelayLoop } from './relay-loop.ts';
import { definitionKey, messageOf, parsePayload, serialised } from './shared.ts';
import type { JobRuntime, JobRuntimeOptions } from './types.ts';

export const INLINE_WARNING = 'jobs run INLINE in this process: development only, set REDIS_URL for production';
const MAX_IN_FLIGHT = 50;

/**
 * Development without Redis: the relay hands outbox rows straight to the registry's processors in
 * this process, with the same validation and (bounded) retries. A row is marked relayed (and
 * completed) only when its job has finished or failed for good, so a restart runs unfinished work
 * again. Every transaction goes through `options.transaction`: on SQLite that is the gateway's
 * serialising runner, so up to 50 jobs in flight never open a transaction inside another.
 */
export async function startInlineRuntime(options: JobRuntimeOptions): Promise<JobRuntime> {
  const { registry, db, logger } = options;
  const transact = options.transaction ?? plainTransact(db);
  const log = logger.child({ component: 'jobs', driver: 'inline' });
  log.warn(INLINE_WARNING);
  if (registry.schedules.length) log.warn({ schedules: registry.schedules.map((s) => s.id) }, 'job schedules do not run in INLINE mode');
  const pollMs = options.relay?.pollMs ?? 250;
  const inFlight = new Map<string, Promise<void>>();
  const activeDedupKeys = new Set<string>();
  let stopping = false;

  const finish = (seq: string, lastError: string | null) => transact((tx) => markRelayed(tx, [seq], new Date(), lastError, true));

  const runIntent = async (row: PendingIntent, definition: JobDefinition | undefined) => {
    const attempts = definition?.attempts ?? DEFAULT_ATTEMPTS;
    const backoffMs = definition?.backoffMs ?? DEFAULT_BACKOFF_MS;
    const jobLog = log.child({ queue: row.queue, job: row.jobName, jobId: row.jobId });
    for (let attempt = 1; ; attempt++) {
      try {
        const data = parsePayload(definition, row.queue, row.jobName, row.payload);
        const context: JobContext = {
          id: row.jobId,
          attemptsMade: attempt - 1,
          logger: jobLog.child({ attempt }),
          updateProgress: async (progress) => jobLog.debug({ progress }, 'job progress'),
        };
        await definition!.process(data, context);
        await finish(row.seq, null);
        return;
      } catch (err) {
        const permanent = err instanceof UnrecoverableError || attempt >= attempts;
        if (permanent) {
          jobLog.error({ err: messageOf(err), attempts: attempt }, 'job failed permanently');
          await finish(row.seq, messageOf(err));
          return;
        }
        jobLog.warn({ err: messageOf(err), attempt }, 'job failed, will retry');
        // Exponential like BullMQ's, capped so development stays responsive.
        const wait = Math.min(backoffMs * 2 ** (attempt - 1), 30_000);
        const until = Date.now() + wait;
        while (Date.now() < until) {
          if (stopping) return; // left pending: the next start runs it again
          await delay(Math.min(100, until - Date.now()));
        }
      }
    }
  };

  const pass = async (): Promise<number> => {
    if (stopping) return 0;
    const room = MAX_IN_FLIGHT - inFlight.size;
    if (room <= 0) return 0;
    const rows = await readPendingIntents(db, room + inFlight.size);
    let started = 0;
    for (const row of rows) {
      if (inFlight.has(row.seq) || started >= room) continue;
      const definition = registry.definitions.get(definitionKey(row.queue, row.jobName));
      const dedup = deduplicationKeyOf(definition, row.payload);
      if (dedup && activeDedupKeys.has(dedup)) continue; // same rule as BullMQ: never two at once
      if (dedup) activeDedupKeys.add(dedup);
      const run = runIntent(row, definition)
        .catch((err) => log.error({ err: messageOf(err), jobId: row.jobId }, 'inline job bookkeeping failed'))
        .finally(() => {
          inFlight.delete(row.seq);
          if (dedup) activeDedupKeys.delete(dedup);
          // A slot is free: look for more work now rather than at the next poll.
          relay.kick();
        });
      inFlight.set(row.seq, run);
      started++;
    }
    return started;
  };
  const relayOnce = serialised(pass);
  const relay = startRelayLoop({
    pass: relayOnce,
    pollMs,
    batchSize: Number.POSITIVE_INFINITY,
    maxBackoffMs: options.relay?.maxBackoffMs ?? 10_000,
    housekeeping: async () => undefined,
    onError: (err, failures) => {
      if (failures === 1) log.warn({ err: messageOf(err) }, 'inline relay failed: retrying with backoff');
    },
    onRecovered: () => log.info('inline relay recovered'),
  });
  const kick = () => relay.kick();
  registry.enqueueListeners.push(kick);

  const unregister: Array<() => void> = [];
  if (options.metrics) {
    unregister.push(
      registerCollectedGauge(options.metrics, 'doorman_jobs_outbox_pending', 'Job intents committed but not yet run (inline driver)', [], async () => [
        { value: await countPendingIntents(db) },
      ]),
    );
  }

  let closing: Promise<void> | undefined;
  return {
    driver: 'inline',
    queues: new Map(),
    relayOnce,
    reconcileOnce: async () => 0,
    close() {
      closing ??= (async () => {
        const i = registry.enqueueListeners.indexOf(kick);
        if (i >= 0) registry.enqueueListeners.splice(i, 1);
        stopping = true;
        await relay.stop();
        for (const u of unregister) u();
        await Promise.all(inFlight.values());
      })();
      return closing;
    },
  };
}
