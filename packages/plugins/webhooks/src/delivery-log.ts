import type { DataSource } from 'typeorm';
import { z } from 'zod';
import { type JobRegistry } from '@doorman/core';
import { InputError, NotFoundError, type TransactionRunner } from '@doorman/plugin-api';
import { deliverIntent } from './jobs.ts';
import { marks, readTime, readTimeOrNull, sqlTime } from './sql.ts';
import { newRowId } from '@doorman/model';

export const deliveriesQuerySchema = z
  .object({
    status: z.enum(['pending', 'waiting', 'delivered', 'dead']).optional(),
    limit: z.coerce.number().int().min(1).max(500).default(50),
    cursor: z.string().regex(/^\d{1,15}$/, 'the nextCursor of the previous page').optional(),
  })
  .strict();

interface DeliveryRow {
  seq: number | string;
  id: string;
  endpoint_id: string;
  event_id: string;
  type: string;
  kind: string;
  status: string;
  attempts: number;
  last_status_code: number | null;
  next_attempt_at: unknown;
  created_at: unknown;
  finished_at: unknown;
}

const COLUMNS = 'd.seq, d.id, d.endpoint_id, d.event_id, e.type, d.kind, d.status, d.attempts, d.last_status_code, d.next_attempt_at, d.created_at, d.finished_at';

const toView = (r: DeliveryRow) => ({
  id: r.id,
  endpointId: r.endpoint_id,
  eventId: r.event_id,
  eventType: r.type,
  kind: r.kind,
  status: r.status,
  attempts: Number(r.attempts),
  lastStatusCode: r.last_status_code,
  nextAttemptAt: r.status === 'pending' ? readTime(r.next_attempt_at).toISOString() : null,
  createdAt: readTime(r.created_at).toISOString(),
  finishedAt: readTimeOrNull(r.finished_at)?.toISOString() ?? null,
});

/** An endpoint's deliveries, newest first (the delivery log). */
export async function listDeliveries(db: DataSource, endpointId: string, q: z.infer<typeof deliveriesQuerySchema>) {
  const where = ['d.endpoint_id = ?'];
  const params: unknown[] = [endpointId];
  if (q.status) {
    where.push('d.status = ?');
    params.push(q.status);
  }
  if (q.cursor) {
    where.push('d.seq < ?');
    params.push(Number(q.cursor));
  }
  const rows: DeliveryRow[] = await db.query(
    `SELECT ${COLUMNS} FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id WHERE ${where.join(' AND ')} ORDER BY d.seq DESC LIMIT ?`,
    [...params, q.limit + 1],
  );
  const page = rows.slice(0, q.limit);
  return { deliveries: page.map(toView), nextCursor: rows.length > q.limit ? String(page[page.length - 1]!.seq) : null };
}

/** One delivery with its attempts (status, latency, response snippet, error). */
export async function showDelivery(db: DataSource, id: string) {
  const [row]: DeliveryRow[] = await db.query(`SELECT ${COLUMNS} FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id WHERE d.id = ?`, [id]);
  if (!row) throw new NotFoundError(`webhook delivery ${id} not found`);
  const attempts: Array<{ attempt: number; started_at: unknown; status_code: number | null; latency_ms: number; error: string | null; response_snippet: string | null }> = await db.query(
    'SELECT attempt, started_at, status_code, latency_ms, error, response_snippet FROM webhook_attempts WHERE delivery_id = ? ORDER BY seq',
    [id],
  );
  return {
    ...toView(row),
    attemptLog: attempts.map((a) => ({
      attempt: a.attempt,
      startedAt: readTime(a.started_at).toISOString(),
      statusCode: a.status_code,
      latencyMs: a.latency_ms,
      error: a.error,
      responseSnippet: a.response_snippet,
    })),
  };
}

/**
 * Manual redelivery: a new delivery of the same event to the same endpoint, sent at once, outside
 * the per-subject order (it is a repeat of something already sent or given up).
 */
export async function redeliver(deps: { db: DataSource; transaction: TransactionRunner; jobs: JobRegistry; clock: { now(): Date } }, id: string) {
  const newId = newRowId();
  await deps.transaction(async (tx) => {
    const [row]: Array<{ endpoint_id: string; event_id: string; subject_key: string; subject_seq: number; enabled: number }> = await tx.query(
      'SELECT d.endpoint_id, d.event_id, d.subject_key, d.subject_seq, ep.enabled FROM webhook_deliveries d JOIN webhook_endpoints ep ON ep.id = d.endpoint_id WHERE d.id = ?',
      [id],
    );
    if (!row) throw new NotFoundError(`webhook delivery ${id} not found`);
    if (Number(row.enabled) !== 1) throw new InputError('the endpoint is disabled: enable it first', { field: 'enabled' });
    const now = sqlTime(deps.clock.now());
    await tx.query(
      `INSERT INTO webhook_deliveries (id, endpoint_id, event_id, subject_key, subject_seq, kind, status, attempts, next_attempt_at, created_at, updated_at) VALUES (${marks(11)})`,
      [newId, row.endpoint_id, row.event_id, row.subject_key, row.subject_seq, 'redelivery', 'pending', 0, now, now, now],
    );
    await deps.jobs.enqueue(tx, deliverIntent(newId, 'manual', [newId]));
  });
  return showDelivery(deps.db, newId);
}
