import { setTimeout as delay } from 'node:timers/promises';
import { Queue, UnrecoverableError, Worker, type Job, type JobsOptions } from 'bullmq';
import { Redis } from 'ioredis';
import { z } from 'zod';
import type { DataSource } from 'typeorm';
import type { JobContext, JobDefinition, JobRegistry, PluginEnv } from '@doorman/core';
import { DEFAULT_ATTEMPTS, DEFAULT_BACKOFF_MS, deduplicationKeyOf, jobOptionsFor } from './job-options.ts';
import { registerCollectedGauge, type MetricsRegistry } from './metrics.ts';
import { countPendingIntents, deleteRelayedBefore, markRelayed, readPendingIntents, recordRelayFailure, withClaimedIntents, type PendingIntent } from './outbox.ts';

export type JobsLogger = PluginEnv<unknown>['logger'];

export interface JobRuntimeOptions {
  registry: JobRegistry;
  db: DataSource;
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
    /** Relayed rows are deleted after this long, ms (default 1 hour). */
    retentionMs?: number;
    /** Longest pause between relay attempts while Redis is unreachable, ms (default 10 s). */
    maxBackoffMs?: number;
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
  /** `bullmq` or `inline`. */
  driver: 'bullmq' | 'inline';
}

export const INLINE_WARNING = 'jobs run INLINE in this process: development only, set REDIS_URL for production';
export const DEFAULT_PREFIX = '{doorman}';
const DEFAULT_CONCURRENCY = 10;
const ADD_TIMEOUT_MS = 5000;
const CLEANUP_EVERY_MS = 60_000;
const KICK_DEBOUNCE_MS = 5;

/** Ensures the key prefix carries a hash tag, so every key of every queue lands in one Cluster slot. */
export function hashTaggedPrefix(prefix: string = DEFAULT_PREFIX): string {
  return /\{[^}]+\}/.test(prefix) ? prefix : `{${prefix}}`;
}

const definitionKey = (queue: string, name: string) => `${queue}/${name}`;
const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

class PermanentJobError extends UnrecoverableError {}

/** Validates a payload against its definition, or fails the job permanently (no retries). */
function parsePayload(definition: JobDefinition | undefined, queue: string, name: string, data: unknown): unknown {
  if (!definition) throw new PermanentJobError(`no job definition for ${queue}/${name} in this process`);
  const parsed = definition.schema.safeParse(data);
  if (!parsed.success) throw new PermanentJobError(`invalid payload for ${queue}/${name}: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/**
 * Starts what runs the jobs plugins declare: the outbox relay, BullMQ queues and (in the worker
 * roles) workers, schedules, and metrics. Without Redis in development, an inline driver runs the
 * same definitions in this process instead.
 */
export async function startJobRuntime(options: JobRuntimeOptions): Promise<JobRuntime> {
  if (options.redisUrl) return startBullmqRuntime({ ...options, redisUrl: options.redisUrl });
  if (options.mode === 'production') throw new Error('jobs need REDIS_URL in production mode');
  return startInlineRuntime(options);
}

interface Relay {
  loop: Promise<void>;
  stop(): Promise<void>;
  kick(): void;
}

/** Polls `pass` every `pollMs`, at once after a full batch or a kick, and backs off while it fails. */
function startRelayLoop(o: {
  pass: () => Promise<number>;
  pollMs: number;
  batchSize: number;
  maxBackoffMs: number;
  onError: (err: unknown, failures: number) => void;
  onRecovered: () => void;
  housekeeping: () => Promise<void>;
}): Relay {
  let stopped = false;
  let kicked = false;
  let wake: (() => void) | null = null;
  let kickTimer: NodeJS.Timeout | undefined;
  let failures = 0;
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      wake = done;
      function done() {
        clearTimeout(timer);
        wake = null;
        resolve();
      }
    });
  const loop = (async () => {
    while (!stopped) {
      kicked = false;
      let relayed = 0;
      try {
        relayed = await o.pass();
        if (failures) o.onRecovered();
        failures = 0;
        await o.housekeeping();
      } catch (err) {
        failures++;
        o.onError(err, failures);
      }
      if (stopped) break;
      if (failures) await sleep(Math.min(o.pollMs * 2 ** failures, o.maxBackoffMs));
      else if (relayed >= o.batchSize || kicked) continue;
      else await sleep(o.pollMs);
    }
  })();
  return {
    loop,
    kick() {
      kicked = true;
      // Debounced: a burst of enqueues wakes the relay once. Not while backing off from a failure.
      if (kickTimer || failures) return;
      kickTimer = setTimeout(() => {
        kickTimer = undefined;
        wake?.();
      }, KICK_DEBOUNCE_MS);
    },
    async stop() {
      stopped = true;
      clearTimeout(kickTimer);
      wake?.();
      await loop;
    },
  };
}

/** Serialises calls in this process (the timer loop and explicit relayOnce calls). */
function serialised<T>(fn: () => Promise<T>): () => Promise<T> {
  let chain: Promise<unknown> = Promise.resolve();
  return () => {
    const run = chain.then(fn, fn);
    chain = run.catch(() => undefined);
    return run;
  };
}

function queueNamesOf(registry: JobRegistry, extra: string[] = []): string[] {
  return [...new Set([...[...registry.definitions.values()].map((d) => d.queue), ...registry.schedules.map((s) => s.queue), ...extra])];
}

async function startBullmqRuntime(options: JobRuntimeOptions & { redisUrl: string }): Promise<JobRuntime> {
  const { registry, db, logger, redisUrl } = options;
  const log = logger.child({ component: 'jobs' });
  const prefix = hashTaggedPrefix(options.prefix);
  const pollMs = options.relay?.pollMs ?? 250;
  const batchSize = options.relay?.batchSize ?? 500;
  const retentionMs = options.relay?.retentionMs ?? 3_600_000;
  const runWorkers = options.role === 'worker' || options.role === 'all';

  // Producers fail fast while Redis is away (the outbox keeps the intent); workers wait for it.
  const producer = new Redis(redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2000 });
  let producerDown = false;
  producer.on('error', (err) => {
    if (!producerDown) log.warn({ err: err.message }, 'redis unreachable: job intents stay in the outbox until it is back');
    producerDown = true;
  });
  producer.on('ready', () => {
    if (producerDown) log.info('redis reachable again: relaying the outbox');
    producerDown = false;
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

  // Workers: one per queue, dispatching by job name to the registry's definitions.
  const workers: Worker[] = [];
  const workerConnections: Redis[] = [];
  if (runWorkers) {
    for (const name of queueNamesOf(registry)) {
      const defs = [...registry.definitions.values()].filter((d) => d.queue === name);
      if (!defs.length) continue;
      const concurrency = options.concurrency?.[name] ?? Math.max(...defs.map((d) => d.concurrency ?? DEFAULT_CONCURRENCY));
      const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
      connection.on('error', () => undefined); // reported once through the producer's listener
      workerConnections.push(connection);
      const worker = new Worker(
        name,
        async (job: Job) => {
          const definition = registry.definitions.get(definitionKey(name, job.name));
          const data = parsePayload(definition, name, job.name, job.data);
          const context: JobContext = {
            id: job.id ?? '',
            attemptsMade: job.attemptsMade,
            logger: log.child({ queue: name, job: job.name, jobId: job.id, attempt: job.attemptsMade + 1 }),
            updateProgress: (progress) => job.updateProgress(progress),
          };
          return definition!.process(data, context);
        },
        {
          connection,
          prefix,
          concurrency,
          // Only the settings given: BullMQ rejects explicit undefined for some of them.
          ...Object.fromEntries(Object.entries(options.worker ?? {}).filter(([, v]) => v !== undefined)),
        },
      );
      worker.on('error', (err) => log.debug({ queue: name, err: err.message }, 'worker error'));
      worker.on('failed', (job, err) => {
        const permanent = err instanceof UnrecoverableError || (job && job.attemptsMade >= (job.opts.attempts ?? 1));
        (permanent ? log.error.bind(log) : log.warn.bind(log))(
          { queue: name, job: job?.name, jobId: job?.id, attemptsMade: job?.attemptsMade, err: err.message },
          permanent ? 'job failed permanently' : 'job failed, will retry',
        );
      });
      workers.push(worker);
    }
  }

  // Schedules (BullMQ job schedulers); undeclared schedulers on our queues are removed.
  let schedulesApplied = false;
  const applySchedules = async () => {
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
    schedulesApplied = true;
    if (registry.schedules.length) log.info({ schedules: registry.schedules.map((s) => `${s.id} (${s.pattern})`) }, 'job schedules applied');
  };

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

  const addWithTimeout = async (queue: Queue, jobs: Parameters<Queue['addBulk']>[0]) => {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        queue.addBulk(jobs),
        new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`redis did not answer within ${ADD_TIMEOUT_MS} ms`)), ADD_TIMEOUT_MS))),
      ]);
    } finally {
      clearTimeout(timer);
    }
  };

  const pass = async (): Promise<number> => {
    let failure: Error | undefined;
    const relayed = await withClaimedIntents(db, batchSize, async (rows, tx) => {
      if (!rows.length) return 0;
      const seqs = rows.map((r) => r.seq);
      try {
        // BullMQ waits for a connection that is not ready yet instead of failing: fail here instead.
        if (producer.status !== 'ready') throw new Error(`redis unavailable (connection ${producer.status})`);
        const byQueue = new Map<string, PendingIntent[]>();
        for (const r of rows) byQueue.set(r.queue, [...(byQueue.get(r.queue) ?? []), r]);
        for (const [name, batch] of byQueue) {
          await addWithTimeout(
            await readyQueue(name),
            batch.map((r) => ({ name: r.jobName, data: r.payload, opts: jobOptionsFor(registry.definitions.get(definitionKey(r.queue, r.jobName)), r.jobId, r.payload) })),
          );
        }
      } catch (err) {
        // Rows stay pending (relayed again later: BullMQ drops job ids it already has).
        failure = err instanceof Error ? err : new Error(String(err));
        await recordRelayFailure(tx, seqs, failure.message);
        return 0;
      }
      await markRelayed(tx, seqs, new Date());
      return rows.length;
    });
    if (failure) throw failure;
    return relayed;
  };
  const relayOnce = serialised(pass);

  let lastCleanup = 0;
  const housekeeping = async () => {
    if (!schedulesApplied && producer.status === 'ready') await applySchedules();
    if (Date.now() - lastCleanup > CLEANUP_EVERY_MS) {
      lastCleanup = Date.now();
      const removed = await deleteRelayedBefore(db, new Date(Date.now() - retentionMs));
      if (removed) log.debug({ removed }, 'relayed outbox rows deleted');
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
    );
  }

  log.info({ role: options.role, prefix, queues: [...queues.keys()], workers: workers.length }, 'jobs runtime started (BullMQ)');

  let closing: Promise<void> | undefined;
  return {
    driver: 'bullmq',
    queues,
    relayOnce,
    close() {
      closing ??= (async () => {
        const i = registry.enqueueListeners.indexOf(kick);
        if (i >= 0) registry.enqueueListeners.splice(i, 1);
        await relay.stop();
        for (const u of unregister) u();
        // A graceful close waits for Redis to acknowledge active jobs; with Redis away it would wait forever.
        await Promise.all(workers.map((w, i) => (workerConnections[i]!.status === 'ready' ? w.close() : w.close(true))));
        await Promise.all([...queues.values()].map((q) => q.close()));
        for (const c of [producer, ...workerConnections]) {
          await c.quit().catch(() => c.disconnect());
        }
      })();
      return closing;
    },
  };
}

/**
 * Development without Redis: the relay hands outbox rows straight to the registry's processors in
 * this process, with the same validation and (bounded) retries. A row is marked relayed only when
 * its job has finished or failed for good, so a restart runs unfinished work again.
 */
async function startInlineRuntime(options: JobRuntimeOptions): Promise<JobRuntime> {
  const { registry, db, logger } = options;
  const log = logger.child({ component: 'jobs', driver: 'inline' });
  log.warn(INLINE_WARNING);
  if (registry.schedules.length) log.warn({ schedules: registry.schedules.map((s) => s.id) }, 'job schedules do not run in INLINE mode');
  const pollMs = options.relay?.pollMs ?? 250;
  const maxInFlight = 50;
  const inFlight = new Map<string, Promise<void>>();
  const activeDedupKeys = new Set<string>();
  let stopping = false;

  const finish = (seq: string, lastError: string | null) => db.transaction((tx) => markRelayed(tx, [seq], new Date(), lastError));

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
    const room = maxInFlight - inFlight.size;
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
