import type { DataSource } from 'typeorm';
import { z } from 'zod';
import { InputError } from '@doorman/plugin-api';
import { marks, readTime } from './sql.ts';
import { isEventTypeFilter } from './types.ts';

/** Opaque cursor: the position the next page starts after. */
export const encodeCursor = (position: number) => Buffer.from(`p:${position}`).toString('base64url');
export function decodeCursor(cursor: string): number {
  const m = /^p:(\d{1,15})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!/^[A-Za-z0-9_-]+$/.test(cursor) || !m) throw new InputError('after: not a cursor returned by this API', { field: 'after' });
  return Number(m[1]);
}

export const eventsQuerySchema = z
  .object({
    after: z.string().max(64).optional().describe('listMetadata.after of the previous page'),
    types: z
      .string()
      .max(2000)
      .refine((s) => splitTypes(s).every(isEventTypeFilter), { message: 'comma-separated event types such as person.created or person.*' })
      .optional()
      .describe('comma-separated event types or families (person.*)'),
    org: z.string().min(1).max(36).optional().describe('organization id'),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
  })
  .strict();

const splitTypes = (s: string) => s.split(',').map((t) => t.trim()).filter(Boolean);

interface EventRow {
  id: string;
  type: string;
  occurred_at: unknown;
  org_id: string | null;
  connection_id: string | null;
  subject_type: string;
  subject_id: string;
  subject_seq: number | string;
  actor_type: string;
  data: string;
  position?: number | string | null;
}

/** The public shape of an event: the pull API's items and the `data` of a webhook payload. */
export function toPublicEvent(r: EventRow) {
  const data = JSON.parse(r.data) as { changes: Record<string, unknown> };
  return {
    id: r.id,
    type: r.type,
    createdAt: readTime(r.occurred_at).toISOString(),
    organizationId: r.org_id,
    connectionId: r.connection_id,
    subject: { type: r.subject_type, id: r.subject_id },
    sequence: Number(r.subject_seq),
    actor: { type: r.actor_type },
    changes: data.changes,
  };
}
export type PublicEvent = ReturnType<typeof toPublicEvent>;

export const EVENT_SELECT = 'e.id, e.type, e.occurred_at, e.org_id, e.connection_id, e.subject_type, e.subject_id, e.subject_seq, e.actor_type, e.data';

/**
 * A page of positioned events in commit order after the cursor (WorkOS's events API shape). The
 * returned cursor always moves to the page's last event, so polling with it never repeats or skips.
 */
export async function listEvents(db: DataSource, q: z.infer<typeof eventsQuerySchema>) {
  const where = ['e.position > ?'];
  const params: unknown[] = [q.after ? decodeCursor(q.after) : 0];
  const types = q.types ? splitTypes(q.types) : [];
  if (types.length) {
    const exact = types.filter((t) => !t.endsWith('.*'));
    const families = types.filter((t) => t.endsWith('.*')).map((t) => `${t.slice(0, -1)}%`);
    const ors = [...(exact.length ? [`e.type IN (${marks(exact.length)})`] : []), ...families.map(() => 'e.type LIKE ?')];
    where.push(`(${ors.join(' OR ')})`);
    params.push(...exact, ...families);
  }
  if (q.org) {
    where.push('e.org_id = ?');
    params.push(q.org);
  }
  const rows: Array<EventRow & { position: number | string }> = await db.query(
    `SELECT ${EVENT_SELECT}, e.position FROM webhook_events e WHERE ${where.join(' AND ')} ORDER BY e.position LIMIT ?`,
    [...params, q.limit],
  );
  const last = rows.length ? Number(rows[rows.length - 1]!.position) : null;
  return {
    object: 'list',
    data: rows.map((r) => ({ object: 'event', ...toPublicEvent(r) })),
    listMetadata: { after: last === null ? (q.after ?? null) : encodeCursor(last) },
  };
}
