import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import { openTestDataSource } from '@doorman/model/testing';
import { OutboxMessageEntity } from '@doorman/model';
import { countPendingIntents, countUnfinishedIntents, startJobRuntime, toBullJobId, type JobRuntime } from '../src/index.ts';
import { deleteKeysUnder } from '../src/testing.ts';
import { freePort, memoryLogger, recordJobRegistry, runsOf, startPrivateRedis, TEST_QUEUE, TEST_REDIS_URL, uniquePrefix, waitFor } from './helpers.ts';

let db: DataSource;
let closeDb: () => Promise<void>;
beforeAll(async () => {
  ({ ds: db, close: closeDb } = await openTestDataSource());
});
afterAll(async () => closeDb?.());

const rowsOf = (keys: string[]) => Promise.all(keys.map((k) => db.getRepository(OutboxMessageEntity).findOneByOrFail({ jobId: `record.${k}` })));

describe('the loss of Redis data (docs/job-durability.md)', () => {
  it('re-sends jobs relayed before Redis restarted empty, runs each once, and re-applies the schedules', async () => {
    const port = await freePort();
    const redisUrl = `redis://127.0.0.1:${port}`;
    let redis = await startPrivateRedis(port);
    const prefix = uniquePrefix();
    const tag = `lost-${randomUUID()}`;
    const registry = recordJobRegistry(db, (r) => r.schedule({ id: `nightly-${tag}`, queue: TEST_QUEUE, name: 'record', pattern: '0 3 * * *', data: { key: `${tag}-scheduled` } }));
    const logger = memoryLogger();
    const common = { registry, db, redisUrl, mode: 'production', logger, prefix, relay: { pollMs: 50, maxBackoffMs: 200 } } as const;
    const runtimes: JobRuntime[] = [];
    const schedulers = async () => {
      const q = new Queue(TEST_QUEUE, { connection: { host: '127.0.0.1', port, maxRetriesPerRequest: 1 }, prefix });
      try {
        return (await q.getJobSchedulers(0, -1)).map((s) => s.key);
      } finally {
        await q.close();
      }
    };
    try {
      // The story: no worker is running, 50 deactivations are relayed to Redis, Redis restarts empty.
      const api = await startJobRuntime({ ...common, role: 'api' });
      runtimes.push(api);
      await waitFor(async () => (await schedulers()).includes(`nightly-${tag}`), 'schedule applied at start');
      const keys = Array.from({ length: 50 }, (_, i) => `${tag}-${i}`);
      await db.transaction((tx) => registry.enqueue(tx, ...keys.map((key) => ({ queue: TEST_QUEUE, name: 'record', id: `record.${key}`, data: { key } }))));
      await waitFor(async () => (await rowsOf(keys)).every((r) => r.relayedAt !== null), 'all 50 relayed to Redis');
      // Accepted by BullMQ is not done: the rows stay, unfinished.
      expect((await rowsOf(keys)).every((r) => r.completedAt === null)).toBe(true);

      await redis.stop();
      redis = await startPrivateRedis(port);
      const worker = await startJobRuntime({ ...common, role: 'worker' });
      runtimes.push(worker);

      await waitFor(async () => (await Promise.all(keys.map((k) => runsOf(db, k)))).every((n) => n === 1), 'every lost job ran after the empty restart', 40_000);
      await waitFor(async () => (await rowsOf(keys)).every((r) => r.completedAt !== null), 'completions recorded');
      expect(await Promise.all(keys.map((k) => runsOf(db, k)))).toEqual(keys.map(() => 1));
      expect(await schedulers()).toContain(`nightly-${tag}`);
      expect(logger.records).toContainEqual(expect.objectContaining({ level: 'warn', msg: expect.stringMatching(/no longer in Redis: re-sending/) }));
      expect(await countPendingIntents(db)).toBe(0);
    } finally {
      for (const r of runtimes.reverse()) await r.close();
      await redis.stop();
    }
  });

  it('re-sends a job Redis lost while its marker survived (eviction, failover), once it is older than the bound', async () => {
    const prefix = uniquePrefix();
    const tag = `evicted-${randomUUID()}`;
    const registry = recordJobRegistry(db);
    const common = { registry, db, redisUrl: TEST_REDIS_URL, mode: 'production', logger: memoryLogger(), prefix, relay: { pollMs: 50, reconcileAfterMs: 300 } } as const;
    const api = await startJobRuntime({ ...common, role: 'api' });
    const redis = new Redis(TEST_REDIS_URL);
    let worker: JobRuntime | undefined;
    try {
      const keys = [`${tag}-kept`, `${tag}-lost`];
      await db.transaction((tx) => registry.enqueue(tx, ...keys.map((key) => ({ queue: TEST_QUEUE, name: 'record', id: `record.${key}`, data: { key } }))));
      await waitFor(async () => (await rowsOf(keys)).every((r) => r.relayedAt !== null), 'both relayed');
      // One job vanishes from Redis: its hash and its place in the wait list.
      const lostId = toBullJobId(`record.${tag}-lost`);
      await redis.del(`${prefix}:${TEST_QUEUE}:${lostId}`);
      await redis.lrem(`${prefix}:${TEST_QUEUE}:wait`, 0, lostId);
      expect(await countUnfinishedIntents(db)).toBeGreaterThanOrEqual(2);

      worker = await startJobRuntime({ ...common, role: 'worker' });
      await waitFor(async () => (await runsOf(db, `${tag}-kept`)) === 1 && (await runsOf(db, `${tag}-lost`)) === 1, 'both ran', 30_000);
      await waitFor(async () => (await rowsOf(keys)).every((r) => r.completedAt !== null), 'both recorded completed');
      expect(await runsOf(db, `${tag}-kept`)).toBe(1);
      expect(await runsOf(db, `${tag}-lost`)).toBe(1);
    } finally {
      await worker?.close();
      await api.close();
      await redis.quit();
      await deleteKeysUnder(prefix);
    }
  });

  it('records a completion the worker could not write (it died first) from BullMQ, without running the job again', async () => {
    const prefix = uniquePrefix();
    const tag = `unrecorded-${randomUUID()}`;
    const registry = recordJobRegistry(db);
    const common = { registry, db, redisUrl: TEST_REDIS_URL, mode: 'production', logger: memoryLogger(), prefix, relay: { pollMs: 50 } } as const;
    const runtime = await startJobRuntime({ ...common, role: 'all' });
    try {
      await db.transaction((tx) => registry.enqueue(tx, { queue: TEST_QUEUE, name: 'record', id: `record.${tag}`, data: { key: tag } }));
      await waitFor(async () => (await rowsOf([tag]))[0]!.completedAt !== null, 'completion recorded by the worker');
      // As if the worker had died before its batched write: the relay finds the job completed in BullMQ.
      await db.getRepository(OutboxMessageEntity).update({ jobId: `record.${tag}` }, { completedAt: null });
      expect(await runtime.reconcileOnce(true)).toBe(0);
      expect((await rowsOf([tag]))[0]!.completedAt).toBeInstanceOf(Date);
      expect(await runsOf(db, tag)).toBe(1);
    } finally {
      await runtime.close();
      await deleteKeysUnder(prefix);
    }
  });
});
