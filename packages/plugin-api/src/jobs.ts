import { z } from 'zod';
import { defineError } from './errors.ts';
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
  /**
   * BullMQ deduplication key: while a job with this key is waiting or active, a new one with the
   * same key is merged into it or kept to run after it (packages/jobs/README.md "One sync per connection").
   */
  deduplicationKey?: (data: T) => string;
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

/** A job id BullMQ would refuse or rewrite (docs/errors.md): a bug in the plugin that names it. */
export const JobIdInvalid = defineError('DMN_JOB_ID_INVALID', 500);
/** Job data that fails its spec's schema, caught when the intent is made (docs/errors.md): a bug in the producer. */
export const JobDataInvalid = defineError('DMN_JOB_DATA_INVALID', 500);

/**
 * Checks that an id is usable as a BullMQ job id as given: BullMQ refuses ids that are integers or
 * contain ':' (the runtime would escape them, but readable ids are nicer in the dashboard).
 */
export function assertJobId(id: string): void {
  if (!id || id.length > 255) throw new JobIdInvalid(`job id must be 1..255 characters, got ${id.length}`);
  if (id.includes(':')) throw new JobIdInvalid(`job id must not contain ':' (BullMQ reserves it): ${id}`);
  if (`${parseInt(id, 10)}` === id) throw new JobIdInvalid(`job id must not be an integer (BullMQ reserves those): ${id}`);
}

/**
 * A job's contract between its producers and its processor, made by `defineJob` and owned by the
 * plugin that processes it. `intent` is the one way to make a `JobIntent` for `jobs.enqueue(tx, …)`;
 * the processor spreads the spec into `jobs.define({ ...spec, process })`, so both share one schema.
 */
export interface JobSpec<S extends z.ZodType = z.ZodType> {
  readonly queue: string;
  readonly name: string;
  readonly schema: S;
  readonly deduplicationKey?: (data: z.output<S>) => string;
  /**
   * A validated intent. The id must be unique per *intent*, not per subject: relaying one id twice
   * runs one job, and BullMQ keeps finished ids for a day, so deactivate → reactivate → deactivate of
   * one user needs two ids (include a per-change counter: `deactivate-user.<cuId>.v<version>`).
   * Throws `DMN_JOB_ID_INVALID` for an id BullMQ cannot take, `DMN_JOB_DATA_INVALID` for data the
   * schema refuses (naming the fields, never their values).
   */
  intent(id: string, data: z.input<S>): JobIntent;
  /** A cron schedule of this job (`jobs.schedule(spec.schedule(id, pattern))`); `data` defaults to `{}`. */
  schedule(id: string, pattern: string, data?: z.input<S>): JobSchedule;
}

/**
 * Declares a job: `defineJob({ queue, name, schema, deduplicationKey? })`. Lives in the plugin that
 * processes the job (`src/jobs.ts`), which producers in that plugin import; docs/architecture.md "A job's path".
 */
export function defineJob<S extends z.ZodType>(spec: { queue: string; name: string; schema: S; deduplicationKey?: (data: z.output<S>) => string }): JobSpec<S> {
  const parse = (data: unknown): JsonDocument => {
    const parsed = spec.schema.safeParse(data);
    if (parsed.success) return parsed.data as JsonDocument;
    const fields = parsed.error.issues.map((i) => `${i.path.join('.') || '(data)'}: ${i.message}`).join('; ');
    throw new JobDataInvalid(`job ${spec.queue}/${spec.name}: invalid data (${fields})`);
  };
  return {
    ...spec,
    intent(id, data) {
      assertJobId(id);
      return { queue: spec.queue, name: spec.name, id, data: parse(data) };
    },
    schedule(id, pattern, data = {} as z.input<S>) {
      return { id, queue: spec.queue, name: spec.name, pattern, data: parse(data) };
    },
  };
}
