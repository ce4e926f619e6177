import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { DataSource } from 'typeorm';
import { openTestDataSource } from '@doorman/model/testing';
import { OutboxMessageEntity } from '@doorman/model';
import { coreServices, definePlugin } from '@doorman/core';
import { startTestGateway } from '@doorman/core/testing';
import { INLINE_WARNING, countPendingIntents, startJobRuntime, toBullJobId, type JobRuntime } from '../src/index.ts';
import { deleteKeysUnder } from '../src/testing.ts';
import { dedupJob, memoryLogger, recordJobRegistry, runsOf, TEST_QUEUE, TEST_REDIS_URL, uniquePrefix, waitFor } from './helpers.ts';

let db: DataSource;
let closeDb: () => Promise<void>;
const runtimes: JobRuntime[] = [];
beforeAll(async () => {
  ({ ds: db, close: closeDb } = await openTestDataSource());
});
/** Every prefix a test's runtimes used: emptied once they have all stopped. */
const prefixes = new Set<string>();
afterEach(async () => {
  for (const r of runtimes.splice(0)) await r.close();
  for (const prefix of prefixes) await deleteKeysUnder(prefix);
  prefixes.clear();
});
afterAll(async () => closeDb?.());

const start = async (options: Partial<Parameters<typeof startJobRuntime>[0]> & Pick<Parameters<typeof startJobRuntime>[0], 'registry'>) => {
  const prefix = options.prefix ?? uniquePrefix();
  prefixes.add(prefix);
  const runtime = await startJobRuntime({ db, redisUrl: TEST_REDIS_URL, role: 'all', mode: 'production', logger: memoryLogger(), ...options, prefix });
  runtimes.push(runtime);
  return runtime;
};

const intent = (key: string, id = `record.${key}`) => ({ queue: TEST_QUEUE, name: 'record', id, data: { key } });

describe('outbox → BullMQ', () => {
  it('runs an intent from a committed transaction exactly once, and never one from a rolled-back transaction', async () => {
    const registry = recordJobRegistry(db);
    const runtime = await start({ registry });
    const committed = `c-${randomUUID()}`;
    const rolledBack = `r-${randomUUID()}`;
    await db.transaction((tx) => registry.enqueue(tx, intent(committed)));
    await expect(
      db.transaction(async (tx) => {
        await registry.enqueue(tx, intent(rolledBack));
        throw new Error('business rule says no');
      }),
    ).rejects.toThrow('business rule says no');

    await waitFor(async () => (await runsOf(db, committed)) === 1, 'committed intent ran');
    const queue = runtime.queues.get(TEST_QUEUE)!;
    await waitFor(async () => (await queue.getJob(toBullJobId(`record.${committed}`)))?.finishedOn !== undefined, 'job completed');

    // A relay that crashed after adding to Redis but before marking the row relays it again: BullMQ keeps one job per id.
    await db.getRepository(OutboxMessageEntity).update({ jobId: `record.${committed}` }, { relayedAt: null });
    expect(await runtime.relayOnce()).toBe(1);
    expect(await countPendingIntents(db)).toBe(0);
    expect(await queue.getJobCounts('waiting', 'active', 'delayed', 'completed')).toEqual({ waiting: 0, active: 0, delayed: 0, completed: 1 });
    expect(await runsOf(db, committed)).toBe(1);

    expect(await db.getRepository(OutboxMessageEntity).countBy({ jobId: `record.${rolledBack}` })).toBe(0);
    expect(await queue.getJob(toBullJobId(`record.${rolledBack}`))).toBeUndefined();
    expect(await runsOf(db, rolledBack)).toBe(0);
  });

  it('runs 1,000 intents from a burst exactly once each, with two runtimes relaying and working side by side', async () => {
    const registry = recordJobRegistry(db);
    const prefix = uniquePrefix();
    const a = await start({ registry, prefix });
    const b = await start({ registry: recordJobRegistry(db), prefix });
    const burst = `b-${randomUUID()}`;
    const keys = Array.from({ length: 1000 }, (_, i) => `${burst}-${i}`);
    // 100 transactions of 10 intents, concurrently, like a burst of SCIM requests.
    await Promise.all(
      Array.from({ length: 100 }, (_, t) => db.transaction((tx) => registry.enqueue(tx, ...keys.slice(t * 10, t * 10 + 10).map((k) => intent(k))))),
    );
    // Both relays poll the same outbox: SKIP LOCKED keeps them off each other's rows.
    await Promise.all([a.relayOnce(), b.relayOnce(), a.relayOnce(), b.relayOnce()]);

    await waitFor(async () => (await a.queues.get(TEST_QUEUE)!.getJobCounts('completed')).completed === 1000, 'all 1,000 jobs completed', 90_000);
    const [row] = await db.query(`SELECT COUNT(*) AS runs, COUNT(DISTINCT SUBSTRING_INDEX(name, '.', 1)) AS distinctKeys FROM organizations WHERE name LIKE ?`, [`${burst}-%`]);
    expect({ runs: Number(row.runs), distinctKeys: Number(row.distinctKeys) }).toEqual({ runs: 1000, distinctKeys: 1000 });
    expect(await countPendingIntents(db)).toBe(0);
  }, 120_000);

  it('fails a schema-invalid payload permanently, without retries, as a failed job', async () => {
    const registry = recordJobRegistry(db);
    const runtime = await start({ registry });
    const id = `record.invalid-${randomUUID()}`;
    await db.transaction((tx) => registry.enqueue(tx, { queue: TEST_QUEUE, name: 'record', id, data: { key: 42 } }));
    const queue = runtime.queues.get(TEST_QUEUE)!;
    await waitFor(async () => (await (await queue.getJob(id))?.getState()) === 'failed', 'job failed');
    const job = (await queue.getJob(id))!;
    expect(job.opts.attempts).toBe(3);
    expect(job.attemptsMade).toBe(1);
    expect(job.failedReason).toMatch(/invalid payload for test\/record/);
    expect(job.failedReason).toMatch(/key/);
  });

  it('escapes outbox ids BullMQ would refuse, without merging distinct ids', async () => {
    const registry = recordJobRegistry(db);
    const runtime = await start({ registry });
    const k1 = `e1-${randomUUID()}`;
    const k2 = `e2-${randomUUID()}`;
    await db.transaction((tx) => registry.enqueue(tx, intent(k1, `x:${k1}`), intent(k2, '12345')));
    await waitFor(async () => (await runsOf(db, k1)) === 1 && (await runsOf(db, k2)) === 1, 'both ran');
    expect(await runtime.queues.get(TEST_QUEUE)!.getJob('x%3A' + k1)).toBeDefined();
  });

  it('passes a job context and retries a failing job with backoff until it succeeds', async () => {
    const seen: Array<{ id: string; attemptsMade: number }> = [];
    const key = `retry-${randomUUID()}`;
    const registry = recordJobRegistry(db, (r) =>
      r.define({
        queue: TEST_QUEUE,
        name: 'flaky',
        schema: z.object({ key: z.string() }),
        attempts: 4,
        backoffMs: 20,
        async process(data, job) {
          seen.push({ id: job.id, attemptsMade: job.attemptsMade });
          await job.updateProgress({ step: job.attemptsMade });
          if (job.attemptsMade < 2) throw new Error('transient');
          await db.query('INSERT INTO organizations (id, name) VALUES (?, ?)', [randomUUID(), `${data.key}.${randomUUID()}`]);
        },
      }),
    );
    await start({ registry });
    await db.transaction((tx) => registry.enqueue(tx, { queue: TEST_QUEUE, name: 'flaky', id: `flaky.${key}`, data: { key } }));
    await waitFor(async () => (await runsOf(db, key)) === 1, 'flaky job succeeded');
    expect(seen).toEqual([0, 1, 2].map((attemptsMade) => ({ id: `flaky.${key}`, attemptsMade })));
  });

  it('upserts declared schedules as BullMQ job schedulers and removes undeclared ones', async () => {
    const prefix = uniquePrefix();
    const registry = recordJobRegistry(db, (r) => r.schedule({ id: 'nightly', queue: TEST_QUEUE, name: 'record', pattern: '0 3 * * *', data: { key: 'nightly' } }));
    const first = await start({ registry, prefix, role: 'api' });
    const queue = first.queues.get(TEST_QUEUE)!;
    await waitFor(async () => (await queue.getJobSchedulers()).length === 1, 'scheduler created');
    const [scheduler] = await queue.getJobSchedulers();
    expect(scheduler).toMatchObject({ key: 'nightly', pattern: '0 3 * * *', name: 'record' });
    await first.close();
    runtimes.splice(runtimes.indexOf(first), 1);

    const second = await start({ registry: recordJobRegistry(db), prefix, role: 'api' });
    await waitFor(async () => (await second.queues.get(TEST_QUEUE)!.getJobSchedulers()).length === 0, 'scheduler removed');
  });
});

describe('sync deduplication', () => {
  it('never runs two syncs of one connection at once, and keeps the latest request made during a run', async () => {
    const running = new Map<string, number>();
    let maxPerConnection = 0;
    let maxOverall = 0;
    const runs: Array<{ connectionId: string; trigger: string }> = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const registry = recordJobRegistry(db, (r) =>
      r.define({
        ...dedupJob,
        concurrency: 5,
        async process(data) {
          running.set(data.connectionId, (running.get(data.connectionId) ?? 0) + 1);
          maxPerConnection = Math.max(maxPerConnection, running.get(data.connectionId)!);
          maxOverall = Math.max(maxOverall, [...running.values()].reduce((a, b) => a + b, 0));
          runs.push(data);
          if (data.trigger === 'manual') await gate;
          running.set(data.connectionId, running.get(data.connectionId)! - 1);
        },
      }),
    );
    const runtime = await start({ registry });
    const request = (connectionId: string, n: number, trigger: 'manual' | 'schedule' | 'default-changed') =>
      db.transaction((tx) => registry.enqueue(tx, dedupJob.intent(`sync-connection.${connectionId}.r${n}`, { connectionId, trigger })));

    await request('c1', 1, 'manual');
    await request('c2', 1, 'manual');
    await waitFor(() => runs.length === 2, 'both connections syncing');
    await request('c1', 2, 'schedule');
    await request('c1', 3, 'default-changed');
    await waitFor(async () => (await countPendingIntents(db)) === 0, 'requests relayed');
    release();

    const queue = runtime.queues.get(dedupJob.queue)!;
    await waitFor(async () => {
      const c = await queue.getJobCounts('waiting', 'active', 'delayed');
      return runs.length === 3 && c.waiting + c.active + c.delayed === 0;
    }, 'syncs settled');
    expect(maxOverall).toBe(2); // different connections do run side by side
    expect(maxPerConnection).toBe(1);
    expect(runs.slice(2)).toEqual([{ connectionId: 'c1', trigger: 'default-changed' }]);
  });
});

describe('metrics', () => {
  it('exposes queue counts and the outbox backlog on the gateway registry', async () => {
    const probe = definePlugin({
      id: 'jobs-probe',
      description: 'defines the test job',
      deps: { db: coreServices.database, jobs: coreServices.jobs },
      register(env) {
        for (const d of recordJobRegistry(env.db).definitions.values()) env.jobs.define(d);
      },
    });
    const prefix = uniquePrefix();
    const t = await startTestGateway({
      plugins: [probe],
      afterBuild: (g) => startJobRuntime({ registry: g.jobs, db: g.db, redisUrl: TEST_REDIS_URL, role: 'api', mode: 'production', logger: g.logger, metrics: g.metrics, prefix }),
    });
    try {
      await t.gateway.transaction((tx) => t.gateway.jobs.enqueue(tx, intent(`m-${randomUUID()}`)));
      await waitFor(async () => /doorman_jobs_queue_jobs\{queue="test",state="waiting"\} 1/.test((await t.http.get('/metrics')).text), 'waiting job counted');
      const text = (await t.http.get('/metrics')).text;
      expect(text).toMatch(/^doorman_jobs_outbox_pending 0$/m);
      expect(text).toMatch(/^doorman_jobs_queue_jobs\{queue="test",state="failed"\} 0$/m);
    } finally {
      await t.close();
      // An api-role runtime never works its queue: the waiting job stays unless removed.
      await deleteKeysUnder(prefix);
    }
  });
});

describe('inline driver (development without Redis)', () => {
  it('says so loudly and runs intents in-process with validation and retries', async () => {
    const logger = memoryLogger();
    let failuresLeft = 1;
    const key = `inline-${randomUUID()}`;
    const registry = recordJobRegistry(db, (r) =>
      r.define({
        queue: TEST_QUEUE,
        name: 'flaky',
        schema: z.object({ key: z.string() }),
        attempts: 3,
        backoffMs: 10,
        async process(data) {
          if (failuresLeft-- > 0) throw new Error('transient');
          await db.query('INSERT INTO organizations (id, name) VALUES (?, ?)', [randomUUID(), `${data.key}-flaky.${randomUUID()}`]);
        },
      }),
    );
    const runtime = await start({ registry, redisUrl: null, mode: 'development', logger });
    expect(runtime.driver).toBe('inline');
    expect(logger.records).toContainEqual(expect.objectContaining({ level: 'warn', msg: INLINE_WARNING }));

    const invalidId = `record.bad-${randomUUID()}`;
    await db.transaction((tx) =>
      registry.enqueue(
        tx,
        intent(key),
        { queue: TEST_QUEUE, name: 'flaky', id: `flaky.${key}`, data: { key } },
        { queue: TEST_QUEUE, name: 'record', id: invalidId, data: { key: '' } },
      ),
    );
    await waitFor(async () => (await countPendingIntents(db)) === 0, 'outbox drained');
    expect(await runsOf(db, key)).toBe(1);
    expect(await runsOf(db, `${key}-flaky`)).toBe(1);
    const invalid = await db.getRepository(OutboxMessageEntity).findOneByOrFail({ jobId: invalidId });
    expect(invalid.lastError).toMatch(/invalid payload/);
    expect(logger.records).toContainEqual(expect.objectContaining({ level: 'error', msg: 'job failed permanently' }));
  });

  it('refuses to start without Redis in production mode', async () => {
    await expect(startJobRuntime({ registry: recordJobRegistry(db), db, redisUrl: null, role: 'all', mode: 'production', logger: memoryLogger() })).rejects.toThrow(
      /REDIS_URL/,
    );
  });
});
