import type { DataSource, EntityManager, TransactionCommitEvent } from 'typeorm';
import { PluginDeclaredTwice, type JobDefinition, type JobIntent, type JobSchedule, type MinimalJobs } from '@doorman/plugin-api';
import { insertRows, OutboxMessageEntity } from '@doorman/model';

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
    // Inside a transaction, the relay is woken after commit (see notifyAfterCommit): before it, the
    // rows are invisible to the relay's own connection.
    const runner = tx.queryRunner;
    if (runner?.isTransactionActive) runner.data = { ...(runner.data ?? {}), [OUTBOX_WRITTEN]: true };
    else this.notifyEnqueued();
  }

  notifyEnqueued(): void {
    for (const listener of this.enqueueListeners) listener();
  }

  /** Wakes the relay when a transaction that wrote job intents commits. */
  notifyAfterCommit(db: DataSource): void {
    db.subscribers.push({
      afterTransactionCommit: (event: TransactionCommitEvent) => {
        const data = event.queryRunner.data as Record<string, unknown> | undefined;
        if (data?.[OUTBOX_WRITTEN]) {
          delete data[OUTBOX_WRITTEN];
          this.notifyEnqueued();
        }
      },
    });
  }
}

const OUTBOX_WRITTEN = 'doorman.outboxWritten';
