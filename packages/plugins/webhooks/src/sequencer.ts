import type { DataSource, EntityManager } from 'typeorm';
import type { Logger, TransactionRunner } from '@doorman/plugin-api';
import { isMysql } from '@doorman/model';
import { marks } from './sql.ts';


/**
 * Gives committed events their `position`, the pull API's cursor, in the order they became visible
 * (docs/webhooks.md). Auto-increment `seq` is not commit order: a transaction that took seq 10 can
 * commit after one that took seq 11, and a reader paging by seq would skip it for good. Here a
 * sequencer, under the head row's lock, numbers whatever has committed since its last pass; readers
 * only see positioned events, so nothing ever appears behind a cursor already handed out.
 */
export class EventSequencer {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(
    private readonly db: DataSource,
    private readonly transaction: TransactionRunner,
    private readonly batchSize = 1000,
  ) {}

  /** Numbers every committed unpositioned event; returns how many. */
  async sequenceAll(): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.pass();
      total += n;
      if (n < this.batchSize) return total;
    }
  }

  private pass(): Promise<number> {
    const work = async (tx: EntityManager) => {
      const lock = isMysql(this.db) ? ' FOR UPDATE' : '';
      const [head] = await tx.query(`SELECT last_position FROM webhook_event_head WHERE id = 1${lock}`);
      const rows: Array<{ seq: number | string }> = await tx.query('SELECT seq FROM webhook_events WHERE position IS NULL ORDER BY seq LIMIT ?', [this.batchSize]);
      if (!rows.length) return 0;
      let position = Number(head.last_position);
      const cases = rows.map(() => 'WHEN ? THEN ?').join(' ');
      const params: unknown[] = [];
      for (const r of rows) params.push(Number(r.seq), ++position);
      const seqs = rows.map((r) => Number(r.seq));
      await tx.query(`UPDATE webhook_events SET position = CASE seq ${cases} END WHERE seq IN (${marks(seqs.length)}) AND position IS NULL`, [...params, ...seqs]);
      await tx.query('UPDATE webhook_event_head SET last_position = ? WHERE id = 1', [position]);
      return rows.length;
    };
    // READ COMMITTED: after the head lock, every committed event is visible, and no gap locks make
    // producers inserting events wait for the sequencer.
    return isMysql(this.db) ? this.db.transaction('READ COMMITTED', work) : this.transaction(work);
  }

  start(intervalMs: number, logger: Logger): void {
    if (intervalMs <= 0) return;
    const tick = () => {
      this.running = this.sequenceAll()
        .catch((err) => logger.warn({ err: (err as Error).message }, 'webhook event sequencer failed; retrying'))
        .finally(() => {
          if (this.timer) this.timer = setTimeout(tick, intervalMs).unref();
        });
    };
    this.timer = setTimeout(tick, intervalMs).unref();
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
