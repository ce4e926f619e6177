import { startBullmqRuntime } from './bullmq-driver.ts';
import { startInlineRuntime } from './inline-driver.ts';
import type { JobRuntime, JobRuntimeOptions } from './types.ts';
import { ConfigInvalid } from '@doorman/core';

export type { JobRuntime, JobRuntimeOptions, JobsLogger } from './types.ts';
export { INLINE_WARNING } from './inline-driver.ts';
export const DEFAULT_PREFIX = '{doorman}';

/** Ensures the key prefix carries a hash tag, so every key of every queue lands in one Cluster slot. */
export function hashTaggedPrefix(prefix: string = DEFAULT_PREFIX): string {
  return /\{[^}]+\}/.test(prefix) ? prefix : `{${prefix}}`;
}

/**
 * Starts what runs the jobs plugins declare: the outbox relay, BullMQ queues and (in the worker
 * roles) workers, schedules, and metrics. Without Redis in development, an inline driver runs the
 * same definitions in this process instead. Drivers: `bullmq-driver.ts` (with `recovery.ts` and
 * `completions.ts`), `inline-driver.ts`; both poll through `relay-loop.ts`.
 */
export async function startJobRuntime(options: JobRuntimeOptions): Promise<JobRuntime> {
  if (options.redisUrl) return startBullmqRuntime({ ...options, redisUrl: options.redisUrl }, hashTaggedPrefix(options.prefix));
  if (options.mode === 'production') throw new ConfigInvalid('jobs need REDIS_URL in production mode');
  return startInlineRuntime(options);
}
