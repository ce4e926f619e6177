import type { EntityManager } from 'typeorm';
import type { z } from 'zod';
import type { Logger } from 'pino';
import { OutboxMessageEntity, type JsonDocument } from '@doorman/model';

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
  /** At most one job of this queue runs at a time per group key (e.g. one sync per connection). */
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
 * Where plugins declare background work and record job intents. Intents go to the outbox table in
 * the caller's transaction; the jobs runtime relays them to BullMQ, so a job exists iff its change committed.
 */
export class JobRegistry {
  readonly definitions = new Map<string, JobDefinition>();
  readonly schedules: JobSchedule[] = [];
  /** Called after intents are written (the runtime uses it to relay soon after commit, not only on its poll). */
  readonly enqueueListeners: Array<() => void> = [];

  define<T>(definition: JobDefinition<T>): void {
    const key = `${definition.queue}/${definition.name}`;
    if (this.definitions.has(key)) throw new Error(`job ${key} defined twice`);
    this.definitions.set(key, definition);
  }

  schedule(schedule: JobSchedule): void {
    this.schedules.push(schedule);
  }

  async enqueue(tx: EntityManager, ...intents: JobIntent[]): Promise<void> {
    if (!intents.length) return;
    await tx.getRepository(OutboxMessageEntity).insert(
      intents.map((i) => ({ queue: i.queue, jobName: i.name, jobId: i.id, payload: i.data, attempts: 0, relayedAt: null, lastError: null })),
    );
    for (const listener of this.enqueueListeners) listener();
  }
}
