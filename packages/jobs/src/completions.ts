import type { DataSource } from 'typeorm';
import { fromBullJobId } from './job-options.ts';
import { markCompleted, type Transact } from './outbox.ts';
import { messageOf } from './shared.ts';
import type { JobsLogger } from './types.ts';

const FLUSH_EVERY_MS = 50;
/** Above this many unrecorded completions (a long database outage) the oldest are dropped: the relay's reconciliation finds them in Redis. */
const MAX_BUFFERED = 50_000;

/**
 * Records in the outbox that jobs finished, so their rows may go (docs/job-durability.md). Batched:
 * one UPDATE per queue every 50 ms rather than a durable commit per job. Losing the buffer (worker
 * SIGKILL) is safe: the relay's reconciliation reads the job's state from Redis later.
 */
export class CompletionRecorder {
  private completed: string[] = [];
  private failed = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private warned = false;

  constructor(
    private readonly db: DataSource,
    private readonly transact: Transact,
    private readonly log: JobsLogger,
  ) {}

  /** A job finished: `failure` set when it failed for good. `bullJobId` is BullMQ's (escaped) id. */
  record(bullJobId: string | undefined, failure?: string): void {
    if (!bullJobId) return;
    const id = fromBullJobId(bullJobId);
    if (failure === undefined) this.completed.push(id);
    else this.failed.set(id, failure);
    if (this.completed.length > MAX_BUFFERED) this.completed.splice(0, this.completed.length - MAX_BUFFERED);
    this.timer ??= setTimeout(() => void this.flush(), FLUSH_EVERY_MS);
  }

  /** Writes what is buffered; on failure keeps it for the next try. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      clearTimeout(this.timer);
      this.timer = undefined;
      const completed = this.completed;
      const failed = this.failed;
      this.completed = [];
      this.failed = new Map();
      if (!completed.length && !failed.size) return;
      try {
        const at = new Date();
        await this.transact(async (tx) => {
          for (let i = 0; i < completed.length; i += 500) await markCompleted(tx, completed.slice(i, i + 500), at);
          for (const [id, reason] of failed) await markCompleted(tx, [id], at, reason);
        });
        if (this.warned) this.log.info('job completions recorded again');
        this.warned = false;
      } catch (err) {
        this.completed.unshift(...completed);
        for (const [id, reason] of failed) if (!this.failed.has(id)) this.failed.set(id, reason);
        if (!this.warned) this.log.warn({ err: messageOf(err) }, 'could not record job completions in the outbox; retrying');
        this.warned = true;
        this.timer ??= setTimeout(() => void this.flush(), 1_000);
      }
    });
    return this.flushing;
  }

  /** Final flush (close): one try. */
  async close(): Promise<void> {
    await this.flush();
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
