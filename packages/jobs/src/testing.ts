/** Test helpers (the `@doorman/jobs/testing` subpath; production code never imports it). */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Gateway } from '@doorman/core';
import { TEST_REDIS_URL } from '@doorman/core/testing';
import { startJobRuntime, type JobRuntime } from './runtime.ts';

export interface TestJobRuntime {
  runtime: JobRuntime;
  /** The BullMQ key prefix, unique to this runtime. */
  prefix: string;
  /** Closes the runtime, then deletes every key under its prefix. */
  close(): Promise<void>;
}

/**
 * Starts a gateway's jobs on the machine's Redis under a fresh key prefix, so test files never share
 * queues; close() cleans up that prefix only, because the shared Redis is never flushed.
 */
export async function startTestJobRuntime(gateway: Gateway, options: { prefixTag: string; extraQueues?: string[] }): Promise<TestJobRuntime> {
  const prefix = `{${options.prefixTag}-${randomUUID()}}`;
  const runtime = await startJobRuntime({
    registry: gateway.jobs,
    db: gateway.db,
    transaction: gateway.transaction,
    redisUrl: TEST_REDIS_URL,
    role: 'all',
    mode: 'production',
    logger: gateway.logger,
    prefix,
    extraQueues: options.extraQueues,
  });
  return {
    runtime,
    prefix,
    async close() {
      try {
        await runtime.close();
      } finally {
        // After the workers have stopped, so none can write a key back.
        await deleteKeysUnder(prefix);
      }
    },
  };
}

/**
 * Deletes every key under a BullMQ prefix on the test Redis — for runtimes that ran in another
 * process or whose queues still held jobs when they stopped. Call it once nothing writes there.
 */
export async function deleteKeysUnder(prefix: string): Promise<void> {
  const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  try {
    // The prefix's glob characters are escaped, so only keys under it match.
    const pattern = `${prefix.replace(/[*?[\]\\]/g, (c) => `\\${c}`)}:*`;
    for await (const keys of redis.scanStream({ match: pattern, count: 500 }) as AsyncIterable<string[]>) {
      if (keys.length) await redis.del(...keys);
    }
  } finally {
    await redis.quit();
  }
}
