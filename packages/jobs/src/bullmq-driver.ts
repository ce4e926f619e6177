import { Queue, UnrecoverableError, Worker, type Job, type JobsOptions } from 'bullmq';
import { Redis } from 'ioredis';
import { RedisUnavailable, RuntimeError, type JobContext, type JobRegistry } from '@doorman/core';
import { CompletionRecorder } from './completions.ts';
import { jobOptionsFor } from './job-options.ts';
import { registerCollectedGauge } from './metrics.ts';
import {
  countPendingIntents,
  countUnfinishedIntents,
  deleteCompletedBefore,
  markRelayed,
  plainTransact,
  recordRelayFailure,
  withClaimedIntents,
  type PendingIntent,
} from './outbox.ts';
import { createRedisRecovery } from './recovery.ts';
import { startRelayLoop } from './relay-loop.ts';
import { definitionKey, messageOf, parsePayload, queueNamesOf, serialised } from './shared.ts';
import type { JobRuntime, JobRuntimeOptions, JobsLogger } from './types.ts';

const DEFAULT_CONCURRENCY = 10;
const ADD_TIMEOUT_MS = 5000;
/** Every command of the relay's connection: a hung Redis fails a relay pass (rows stay pending) instead of stalling it. */
const PRODUCER_COMMAND_TIMEOUT_MS = 5000;
const CLEANUP_EVERY_MS = 60_000;
/**
 * A job whose worker died (SIGKILL, OOM) is handed to another worker once its lock expires and a
 * stalled-job check runs: with BullMQ's defaults (30 s lock, check every 30 s) that took up to a minute;
 * here about 20 s. A job may stall (its worker lost) 3 times before it fails, not once: a worker killed
 * during a burst must not turn deactivations into permanent failures.
 */
const STALLED_DEFAULTS = { lockDuration: 15_000, stalledInterval: 5_000, maxStalledCount: 3 };

/** Producers fail fast while Redis is away (the outbox keeps the intent); workers wait for it. */
async function connectProducer(redisUrl: string, log: JobsLogger): Promise<Redis> {
  const producer = new Redis(redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2000, commandTimeout: PRODUCER_COMMAND_TIMEOUT_MS });
  let down = false;
  producer.on('error', (err) => {
    if (!down) log.warn({ err: err.message }, 'redis unreachable: job intents stay in the outbox until it is back');
    down = true;
  });
  producer.on('ready', () => {
    if (down) log.info('redis reachable again: relaying the outbox');
    down = false;
  });
  // Give Redis a moment so the first relay pass does not report an outage that is only a connect in progress.
  if (producer.status !== 'ready') {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 2000);
      producer.once('ready', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
  return producer;
}

/**
 * What a processor gets besides its data. The job's child logger is made when the processor first
 * reads `logger`, not for every job: most jobs (a deactivation) never log, and a pino child with the
 * gateway's redaction paths cost ~45 µs of CPU per job in a deactivation burst.
 */
export function jobContext(job: Pick<Job, 'id' | 'name' | 'attemptsMade' | 'updateProgress'>, queue: string, log: JobsLogger): JobContext {
  let logger: JobContext['logger'] | undefined;
  return {
    id: job.id ?? '',
    attemptsMade: job.attemptsMade,
    get logger() {
      return (logger ??= log.child({ queue, job: job.name, jobId: job.id, attempt: job.attemptsMade + 1 }));
    },
    updateProgress: (progress) => job.updateProgress(progress),
  };
}

/** One worker per queue, dispatching by job name to the registry's definitions; finished jobs go to `recorder`. */
function startWorkers(options: JobRuntimeOptions & { redisUrl: string }, prefix: string, log: JobsLogger, recorder: CompletionRecorder) {
  const { registry, redisUrl } = options;
  const workers: Worker[] = [];
  const connections: Redis[] = [];
  for (const name of queueNamesOf(registry)) {
    const defs = [...registry.definitions.values()].filter((d) => d.queue === name);
    if (!defs.length) continue;
    const concurrency = options.concurrency?.[name] ?? Math.max(...defs.map((d) => d.concurrency ?? DEFAULT_CONCURRENCY));
    const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
    connection.on('error', () => undefined); // reported once through the producer's listener
    connections.push(connection);
    const worker = new Worker(
      name,
      async (job: Job) => {
        const definition = registry.definitions.get(definitionKey(name, job.name));
        const data = parsePayload(definition, name, job.name, job.data);
        return definition!.process(data, jobContext(job, name, log));
      },
      {
        connection,
        prefix,
        concurrency,
        ...STALLED_DEFAULTS,
        // Only the settings given: BullMQ rejects explicit undefined for some of them.
        ...Object.fromEntries(Object.entries(options.worker ?? {}).filter(([, v]) => v !== undefined)),
      },
    );
    worker.on('error', (err) => log.debug({ queue: name, err: err.message }, 'worker error'));
    worker.on('completed', (job) => recorder.record(job.id));
    worker.on('failed', (job, err) => {
      const permanent = err instanceof UnrecoverableError || (job && job.attemptsMade >= (job.opts.attempts ?? 1));
      (permanent ? log.error.bind(log) : log.warn.bind(log))(
        { queue: name, job: job?.name, jobId: job?.id, attemptsMade: job?.attemptsMade, err: err.message },
        permanent ? 'job failed permanently' : 'job failed, will retry',
      );
      if (permanent) recorder.record(job?.id, err.message);
    });
    workers.push(worker);
  }
  return { workers, connections };
}

/** Upserts the declared schedules (BullMQ job schedulers) and removes undeclared ones on our queues. */
async function applySchedules(registry: JobRegistry, queueFor: (name: string) => Queue, log: JobsLogger): Promise<void> {
  for (const name of queueNamesOf(registry)) {
    const queue = queueFor(name);
    const declared = registry.schedules.filter((s) => s.queue === name);
    for (const s of declared) {
      const definition = registry.definitions.get(definitionKey(s.queue, s.name));
      const { jobId: _ignored, deduplication: _none, ...opts }: JobsOptions = jobOptionsFor(definition, s.id, s.data);
      await queue.upsertJobScheduler(s.id, { pattern: s.pattern }, { name: s.name, data: s.data, opts });
    }
    const existing = await queue.getJobSchedulers(0, -1);
    for (const e of existing) if (e.key && !declared.some((s) => s.id === e.key)) await queue.removeJobScheduler(e.key);
  }
  if (registry.schedules.length) log.info({ schedules: registry.schedules.map((s) => `${s.id} (${s.pattern})`) }, 'job schedules applied');
}

async function addWithTimeout(queue: Queue, jobs: Parameters<Queue['addBulk']>[0]): Promise<Job[]> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      queue.addBulk(jobs),
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new RedisUnavailable(`redis did not answer within ${ADD_TIMEOUT_MS} ms`)), ADD_TIMEOUT_MS))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export async function startBullmqRuntime(options: JobRuntimeOptions & { redisUrl: string }, prefix: string): Promise<JobRuntime> {
  const { registry, db, logger, redisUrl } = options;
  const transact = options.transaction ?? plainTransact(db);
  const log = logger.child({ component: 'jobs' });
  const pollMs = options.relay?.pollMs ?? 250;
  const batchSize = options.relay?.batchSize ?? 500;
  const retentionMs = options.relay?.retentionMs ?? 3_600_000;
  const reconcileAfterMs = options.relay?.reconcileAfterMs ?? 30_000;
  const runWorkers = options.role === 'worker' || options.role === 'all';

  const producer = await connectProducer(redisUrl, log);
  const queues = new Map<string, Queue>();
  const queueFor = (name: string) => {
    let q = queues.get(name);
    if (!q) {
      q = new Queue(name, { connection: producer, prefix });
      q.on('error', (err) => log.debug({ queue: name, err: err.message }, 'queue error'));
      queues.set(name, q);
    }
    return q;
  };
  for (const name of queueNamesOf(registry, options.extraQueues)) queueFor(name);

  const recorder = new CompletionRecorder(db, transact, log);
  const { workers, connections: workerConnections } = runWorkers ? startWorkers(options, prefix, log, recorder) : { workers: [], connections: [] };

  // BullMQ caches a queue's failed initialisation forever (Redis vanished while it was starting), so
  // every later add would fail: such a queue is dropped and made anew on the next relay pass.
  const readyQueue = async (name: string) => {
    const queue = queueFor(name);
    try {
      await queue.waitUntilReady();
      return queue;
    } catch (err) {
      queues.delete(name);
      void queue.close().catch(() => undefined);
      throw err;
    }
  };

  const pass = async (): Promise<number> => {
    let failure: Error | undefined;
    const relayed = await withClaimedIntents(db, transact, batchSize, async (rows, tx) => {
      if (!rows.length) return 0;
      const merged: string[] = [];
      try {
        // BullMQ waits for a connection that is not ready yet instead of failing: fail here instead.
        if (producer.status !== 'ready') throw new RedisUnavailable(`redis unavailable (connection ${producer.status})`);
        const byQueue = new Map<string, PendingIntent[]>();
        for (const r of rows) byQueue.set(r.queue, [...(byQueue.get(r.queue) ?? []), r]);
        for (const [name, batch] of byQueue) {
          const opts = batch.map((r) => jobOptionsFor(registry.definitions.get(definitionKey(r.queue, r.jobName)), r.jobId, r.payload));
          const added = await addWithTimeout(
            await readyQueue(name),
            batch.map((r, i) => ({ name: r.jobName, data: r.payload, opts: opts[i] })),
          );
          // A job merged into another by its deduplication key (a sync while one waits) never exists under
          // its own id: it is as done as the job that absorbed it.
          added.forEach((job, i) => job.id !== opts[i]!.jobId && merged.push(batch[i]!.seq));
        }
      } catch (err) {
        // Rows stay pending (relayed again later: BullMQ drops job ids it already has).
        failure = err instanceof Error ? err : new RuntimeError(String(err));
        await recordRelayFailure(tx, rows.map((r) => r.seq), failure.message);
        return 0;
      }
      const at = new Date();
      const mergedSet = new Set(merged);
      await markRelayed(tx, rows.filter((r) => !mergedSet.has(r.seq)).map((r) => r.seq), at);
      await markRelayed(tx, merged, at, null, true);
      return rows.length;
    });
    if (failure) throw failure;
    return relayed;
  };
  const relayOnce = serialised(pass);

  const recovery = createRedisRecovery({ db, transact, producer, prefix, readyQueue, reconcileAfterMs, log });
  const reconcileOnce = (all = false) => recovery.reconcile(all);
  let schedulesApplied = false;
  let reconcileAllDue = false;
  let lastReconcile = Date.now();
  let lastCleanup = 0;
  const housekeeping = async () => {
    if (producer.status === 'ready' && (await recovery.redisWasEmptied())) {
      // New, or restarted without its data: nothing Redis held before can be trusted to be there.
      log.info('redis holds no Doorman marker (first start, or restarted without its data): re-applying schedules, checking unfinished jobs');
      schedulesApplied = false;
      reconcileAllDue = true;
    }
    if (!schedulesApplied && producer.status === 'ready') {
      await applySchedules(registry, queueFor, log);
      schedulesApplied = true;
    }
    if (reconcileAllDue || Date.now() - lastReconcile > reconcileAfterMs) {
      const handedBack = await recovery.reconcile(reconcileAllDue);
      reconcileAllDue = false;
      lastReconcile = Date.now();
      if (handedBack) relay.kick();
    }
    if (Date.now() - lastCleanup > CLEANUP_EVERY_MS) {
      lastCleanup = Date.now();
      const removed = await deleteCompletedBefore(db, transact, new Date(Date.now() - retentionMs));
      if (removed) log.debug({ removed }, 'finished outbox rows deleted');
    }
  };

  const relay = startRelayLoop({
    pass: relayOnce,
    pollMs,
    batchSize,
    maxBackoffMs: options.relay?.maxBackoffMs ?? 10_000,
    housekeeping,
    onError: (err, failures) => {
      if (failures === 1) log.warn({ err: messageOf(err) }, 'outbox relay failed: retrying with backoff');
      else log.debug({ err: messageOf(err), failures }, 'outbox relay still failing');
    },
    onRecovered: () => log.info('outbox relay recovered'),
  });
  const kick = () => relay.kick();
  registry.enqueueListeners.push(kick);

  const unregister: Array<() => void> = [];
  if (options.metrics) {
    unregister.push(
      registerCollectedGauge(options.metrics, 'doorman_jobs_queue_jobs', 'Jobs per BullMQ queue and state', ['queue', 'state'], async () => {
        if (producer.status !== 'ready') return [];
        const samples = [];
        for (const [name, queue] of queues) {
          const counts = await queue.getJobCounts('waiting', 'active', 'failed', 'delayed');
          for (const [state, value] of Object.entries(counts)) samples.push({ labels: { queue: name, state }, value });
        }
        return samples;
      }),
      registerCollectedGauge(options.metrics, 'doorman_jobs_outbox_pending', 'Job intents committed but not yet relayed to Redis', [], async () => [
        { value: await countPendingIntents(db) },
      ]),
      registerCollectedGauge(options.metrics, 'doorman_jobs_outbox_unfinished', 'Job intents relayed to Redis whose job has not finished', [], async () => [
        { value: await countUnfinishedIntents(db) },
      ]),
    );
  }

  log.info({ role: options.role, prefix, queues: [...queues.keys()], workers: workers.length }, 'jobs runtime started (BullMQ)');

  let closing: Promise<void> | undefined;
  return {
    driver: 'bullmq',
    queues,
    relayOnce,
    reconcileOnce,
    close() {
      closing ??= (async () => {
        const i = registry.enqueueListeners.indexOf(kick);
        if (i >= 0) registry.enqueueListeners.splice(i, 1);
        await relay.stop();
        for (const u of unregister) u();
        // A graceful close waits for Redis to acknowledge active jobs; with Redis away it would wait forever.
        await Promise.all(workers.map((w, i) => (workerConnections[i]!.status === 'ready' ? w.close() : w.close(true))));
        await recorder.close().catch(() => undefined);
        await Promise.all([...queues.values()].map((q) => q.close()));
        for (const c of [producer, ...workerConnections]) {
          await c.quit().catch(() => c.disconnect());
        }
      })();
      return closing;
    },
  };
}
