import type { z } from 'zod';
import type { Logger, RuntimeType, Transaction } from './runtime-types.ts';

/** A JSON value. (Written so TypeORM's deep-partial insert types accept it, in JSON columns too.) */
export type JsonValue = string | number | boolean | null | object;
/** A JSON object: a job's data (stored in the outbox table and in Redis), a JSON column's value. */
export type JsonDocument = { [key: string]: JsonValue | undefined };

export interface JobContext {
  id: string;
  attemptsMade: number;
  logger: Logger;
  updateProgress(progress: number | Record<string, unknown>): Promise<void>;
}

export interface JobDefinition<T = any> {
  queue: string;
  name: string;
  schema: z.ZodType<T>;
  process(data: T, job: JobContext): Promise<unknown>;
  attempts?: number;
  /** Base delay of the exponential backoff, ms. */
  backoffMs?: number;
  /** Worker concurrency of this job's queue (the largest among the queue's definitions wins). */
  concurrency?: number;
}

export interface JobSchedule {
  id: string;
  queue: string;
  name: string;
  /** Cron pattern. */
  pattern: string;
  data: JsonDocument;
}

export interface JobIntent {
  queue: string;
  name: string;
  /** Deterministic id: relaying the same intent twice enqueues one job. */
  id: string;
  data: JsonDocument;
}

/**
 * Where plugins declare background work and record job intents (the runtime's JobRegistry). Intents
 * go to the outbox in the caller's transaction, so a job exists iff its change committed.
 */
export interface MinimalJobs {
  define<T>(definition: JobDefinition<T>): void;
  schedule(schedule: JobSchedule): void;
  enqueue(tx: Transaction, ...intents: JobIntent[]): Promise<void>;
}

/** The runtime's job registry (packages/core/src/jobs.ts), or the minimal interface above. */
export type Jobs = RuntimeType<'jobs', MinimalJobs>;
