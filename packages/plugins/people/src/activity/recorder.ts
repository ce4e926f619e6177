import type { DataSource } from 'typeorm';
import type { Logger, RefusalRecorder, RequestRefusal } from '@doorman/core';


/**
 * The refused-request log's writer (docs/connection-activity.md). `record` only appends to memory:
 * nothing waits on the database, on success or on the error answer. A timer writes what is buffered
 * in one multi-row INSERT. Two bounds keep a burst of bad requests from filling the database or the
 * process: at most `perSecond` refusals per connection per second are kept (the rest are counted into
 * the next kept row's `unrecorded`), and at most `maxBuffered` rows wait in memory (beyond, they are
 * counted the same way). A crash loses at most one flush interval of rows: this is a diagnostic log,
 * not provisioning data.
 */
export interface RefusalLimiterState {
  second: number;
  kept: number;
  /** Refusals skipped since the last kept one, per connection. */
  skipped: number;
}

/** Pure: whether a refusal at `atMs` is kept, given the connection's state (mutated). */
export function admit(state: RefusalLimiterState, atMs: number, perSecond: number): boolean {
  const second = Math.floor(atMs / 1000);
  if (second !== state.second) {
    state.second = second;
    state.kept = 0;
  }
  if (state.kept >= perSecond) {
    state.skipped++;
    return false;
  }
  state.kept++;
  return true;
}

/** DATETIME(3) text in UTC: the connections run with timezone Z on MySQL; SQLite stores the text. */
export const dbTime = (d: Date) => d.toISOString().replace('T', ' ').slice(0, 23);

interface Row extends RequestRefusal {
  unrecorded: number;
}

export class ActivityRecorder implements RefusalRecorder {
  private buffer: Row[] = [];
  private readonly limits = new Map<string, RefusalLimiterState>();
  private flushing: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: DataSource,
    private readonly logger: Logger,
    private readonly settings: { perSecond: number; maxBuffered: number; flushMs: number },
  ) {}

  record(refusal: RequestRefusal): void {
    let state = this.limits.get(refusal.connectionId);
    if (!state) {
      // Entries of quiet connections go at the next flush; the map holds only recent connections.
      state = { second: 0, kept: 0, skipped: 0 };
      this.limits.set(refusal.connectionId, state);
    }
    if (!admit(state, refusal.at.getTime(), this.settings.perSecond)) return;
    if (this.buffer.length >= this.settings.maxBuffered) {
      state.skipped++;
      return;
    }
    this.buffer.push({ ...refusal, unrecorded: state.skipped });
    state.skipped = 0;
    this.timer ??= setTimeout(() => void this.flush(), this.settings.flushMs).unref();
  }

  /** Writes what is buffered (also on shutdown, and by tests). */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.write());
    return this.flushing;
  }

  private async write(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const rows = this.buffer;
    this.buffer = [];
    const nowSecond = Math.floor(Date.now() / 1000);
    for (const [id, s] of this.limits) if (s.second < nowSecond - 1 && s.skipped === 0) this.limits.delete(id);
    for (let i = 0; i < rows.length; i += 200) {
      const batch = rows.slice(i, i + 200);
      try {
        await this.db.query(
          `INSERT INTO connection_activity (connection_id, occurred_at, surface, method, route, status, scim_type, code, detail, request_id, unrecorded)
           VALUES ${batch.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
          batch.flatMap((r) => [r.connectionId, dbTime(r.at), r.surface, r.method, r.route, r.status, r.scimType, r.code.slice(0, 64), r.detail, r.requestId.slice(0, 64), r.unrecorded]),
        );
      } catch (err) {
        // Diagnostic rows: an outage drops them (with a count), it never fails a request.
        this.logger.warn({ err: (err as Error).message, rows: batch.length }, 'refused requests not written to the activity log');
      }
    }
  }
}
