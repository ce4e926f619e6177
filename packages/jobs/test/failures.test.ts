import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { DataSource } from 'typeorm';
import { openTestDataSource } from '@doorman/model/testing';
import { OutboxMessageEntity } from '@doorman/model';
import { countPendingIntents, startJobRuntime, type JobRuntime } from '../src/index.ts';
import { freePort, memoryLogger, recordJobRegistry, runsOf, startPrivateRedis, TEST_QUEUE, TEST_REDIS_URL, uniquePrefix, waitFor } from './helpers.ts';

let db: DataSource;
let dbUrl: string;
let closeDb: () => Promise<void>;
beforeAll(async () => {
  ({ ds: db, url: dbUrl, close: closeDb } = await openTestDataSource());
});
afterAll(async () => closeDb?.());

const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const FIXTURE = fileURLToPath(new URL('./fixtures/blocking-worker.ts', import.meta.url));

describe('failures', () => {
  it('keeps an intent accepted while Redis is down in the outbox, and runs it once Redis is back', async () => {
    const port = await freePort();
    const redisUrl = `redis://127.0.0.1:${port}`;
    let redis = await startPrivateRedis(port);
    const registry = recordJobRegistry(db);
    const logger = memoryLogger();
    const runtime = await startJobRuntime({
      registry,
      db,
      redisUrl,
      role: 'all',
      mode: 'production',
      logger,
      prefix: uniquePrefix(),
      relay: { pollMs: 50, maxBackoffMs: 200 },
    });
    try {
      await redis.stop();
      const key = `outage-${randomUUID()}`;
      // The SCIM side of the story: the change and its intent commit although Redis is gone.
      await db.transaction((tx) => registry.enqueue(tx, { queue: TEST_QUEUE, name: 'record', id: `record.${key}`, data: { key } }));

      const row = () => db.getRepository(OutboxMessageEntity).findOneByOrFail({ jobId: `record.${key}` });
      await waitFor(async () => (await row()).attempts >= 2, 'relay attempts recorded');
      expect(await row()).toMatchObject({ relayedAt: null, lastError: expect.stringMatching(/redis|connection|closed/i) });
      expect(await countPendingIntents(db)).toBe(1);
      expect(await runsOf(db, key)).toBe(0);
      expect(logger.records).toContainEqual(expect.objectContaining({ level: 'warn', msg: expect.stringMatching(/redis unreachable/) }));

      redis = await startPrivateRedis(port);
      await waitFor(async () => (await runsOf(db, key)) === 1, 'job ran after Redis came back');
      expect((await row()).relayedAt).toBeInstanceOf(Date);
      expect(await countPendingIntents(db)).toBe(0);
    } finally {
      await runtime.close();
      await redis.stop();
    }
  });

  it('starts while Redis is down, runs the backlog when Redis comes up, and closes cleanly either way', async () => {
    const port = await freePort();
    const registry = recordJobRegistry(db);
    const start = () =>
      startJobRuntime({ registry, db, redisUrl: `redis://127.0.0.1:${port}`, role: 'all', mode: 'production', logger: memoryLogger(), prefix: uniquePrefix(), relay: { pollMs: 50, maxBackoffMs: 200 } });
    // Closing while Redis has never been reachable must not hang the shutdown.
    await (await start()).close();

    const runtime = await start();
    const key = `boot-${randomUUID()}`;
    await db.transaction((tx) => registry.enqueue(tx, { queue: TEST_QUEUE, name: 'record', id: `record.${key}`, data: { key } }));
    await waitFor(async () => (await db.getRepository(OutboxMessageEntity).findOneByOrFail({ jobId: `record.${key}` })).attempts >= 1, 'relay attempt recorded');
    const redis = await startPrivateRedis(port);
    try {
      await waitFor(async () => (await runsOf(db, key)) === 1, 'job ran once Redis came up');
    } finally {
      await runtime.close();
      await redis.stop();
    }
  });

  it('finishes on another worker a job whose worker was killed with SIGKILL mid-job', async () => {
    const prefix = uniquePrefix();
    const key = `sigkill-${randomUUID()}`;
    const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, TEST_REDIS_URL, prefix, dbUrl], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (err += d));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    let survivor: JobRuntime | undefined;
    let relayOnly: JobRuntime | undefined;
    try {
      await waitFor(() => out.includes('ready') || child.exitCode !== null, 'child worker ready');
      expect(child.exitCode, err).toBeNull();

      // This process only relays at first, so the job can only go to the child.
      const registry = recordJobRegistry(db);
      relayOnly = await startJobRuntime({ registry, db, redisUrl: TEST_REDIS_URL, role: 'api', mode: 'production', logger: memoryLogger(), prefix });
      await db.transaction((tx) => registry.enqueue(tx, { queue: TEST_QUEUE, name: 'record', id: `record.${key}`, data: { key } }));
      await waitFor(() => out.includes(`started record.${key}`), 'child took the job');

      child.kill('SIGKILL');
      expect(await exited).toBe('SIGKILL');
      const queue = relayOnly.queues.get(TEST_QUEUE)!;
      expect(await (await queue.getJob(`record.${key}`))!.getState()).toBe('active');

      // The survivor's stalled-job check notices the lock has lapsed and takes the job over.
      survivor = await startJobRuntime({
        registry: recordJobRegistry(db),
        db,
        redisUrl: TEST_REDIS_URL,
        role: 'worker',
        mode: 'production',
        logger: memoryLogger(),
        prefix,
        worker: { lockDuration: 1000, stalledInterval: 300 },
      });
      await waitFor(async () => (await runsOf(db, key)) === 1, 'job finished by the surviving worker');
      await waitFor(async () => (await (await queue.getJob(`record.${key}`))!.getState()) === 'completed', 'job completed');
      expect(await runsOf(db, key)).toBe(1);
      await queue.obliterate({ force: true });
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await survivor?.close();
      await relayOnly?.close();
    }
  });
});
