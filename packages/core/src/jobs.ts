import type { EntityManager } from 'typeorm';
import { PluginDeclaredTwice, type JobDefinition, type JobIntent, type JobSchedule, type MinimalJobs } from '@doorman/plugin-api';
import { insertRows, OutboxMessageEntity } from '@doorman/model';
import { afterCommit, inTransaction } from './commit-hooks.ts';

/**
 * Where plugins declare background work and record job intents. Intents go to the outbox table in
 * the caller's transaction; the jobs runtime relays them to BullMQ, so a job exists iff its change committed.
 */
export class JobRegistry implements MinimalJobs {
  readonly definitions = new Map<string, JobDefinition>();
  readonly schedules: JobSchedule[] = [];
  /** Called after intents are committed (the runtime uses it to relay at once, not only on its poll). */
  readonly enqueueListeners: Array<() => void> = [];

  define<T>(definition: JobDefinition<T>): void {
    const key = `${definition.queue}/${definition.name}`;
    if (this.definitions.has(key)) throw new PluginDeclaredTwice(`job ${key} defined twice`);
    this.definitions.set(key, definition);
  }

  schedule(schedule: JobSchedule): void {
    this.schedules.push(schedule);
  }

  async enqueue(tx: EntityManager, ...intents: JobIntent[]): Promise<void> {
    if (!intents.length) return;
    await insertRows(
      tx,
      OutboxMessageEntity,
      intents.map((i) => ({ queue: i.queue, jobName: i.name, jobId: i.id, payload: i.data, attempts: 0, relayedAt: null, completedAt: null, lastError: null })),
    );
    // Inside a transaction the relay is woken once it committed: before, its own connection cannot see the rows.
    if (inTransaction(tx)) afterCommit(tx, this, () => this.notifyEnqueued());
    else this.notifyEnqueued();
  }

  notifyEnqueued(): void {
    for (const listener of this.enqueueListeners) listener();
  }
}
