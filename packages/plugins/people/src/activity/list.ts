import type { DataSource } from 'typeorm';
import { InputError, isUuid, NotFoundError } from '@doorman/core';
import { toIso } from '../search.ts';
import { dbTime } from './recorder.ts';

/**
 * A connection's activity, newest first (docs/connection-activity.md): the requests Doorman refused
 * (`connection_activity`) and, with `outcome=all`, the changes it accepted from that connection's IdP
 * (SCIM writes and SSO sign-ins), read from the audit trail it already keeps, so recording them costs
 * nothing more. Accepted reads (GETs) are not recorded anywhere and are not listed.
 *
 * Order: time descending; at the same millisecond refusals before accepted changes, each by sequence
 * descending. The cursor is the last item's (time, source, sequence).
 */
type Source = 'r' | 'a';
interface Cursor {
  at: string;
  source: Source;
  seq: number;
}

export function encodeActivityCursor(c: Cursor): string {
  return Buffer.from(`${c.at}|${c.source}|${c.seq}`).toString('base64url');
}
export function decodeActivityCursor(cursor: string): Cursor {
  const text = /^[A-Za-z0-9_-]{1,200}$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  const m = /^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3})\|([ra])\|(\d{1,18})$/.exec(text);
  if (!m) throw new InputError('cursor: not a cursor returned by this API', { field: 'cursor' });
  return { at: m[1]!, source: m[2] as Source, seq: Number(m[3]) };
}

/** The SQL condition for rows of `source` after the cursor (pure). */
export function afterCursor(source: Source, cursor: Cursor | null): { sql: string; params: unknown[] } {
  if (!cursor) return { sql: '', params: [] };
  // Refusals come before accepted changes at the same time: after an accepted cursor, no refusal of that time remains.
  if (source === 'r') {
    return cursor.source === 'r'
      ? { sql: ' AND (occurred_at < ? OR (occurred_at = ? AND seq < ?))', params: [cursor.at, cursor.at, cursor.seq] }
      : { sql: ' AND occurred_at < ?', params: [cursor.at] };
  }
  return cursor.source === 'r'
    ? { sql: ' AND occurred_at <= ?', params: [cursor.at] }
    : { sql: ' AND (occurred_at < ? OR (occurred_at = ? AND seq < ?))', params: [cursor.at, cursor.at, cursor.seq] };
}

export interface ActivityItem {
  outcome: 'refused' | 'accepted';
  at: string;
  requestId: string | null;
  surface: 'scim' | 'sso' | null;
  method: string | null;
  route: string | null;
  status: number | null;
  scimType: string | null;
  code: string | null;
  detail: string | null;
  unrecorded: number;
  action: string | null;
  eventId: string | null;
  target: { type: string; id: string } | null;
}

export async function findConnection(db: DataSource, ref: string): Promise<{ id: string; name: string }> {
  // The router's :connectionId param already turned a unique name into the id (core lookup.ts).
  const [row]: Array<{ id: string; name: string }> = isUuid(ref) ? await db.query('SELECT id, name FROM sso_connections WHERE id = ?', [ref]) : [];
  if (!row) throw new NotFoundError(`no connection '${ref}' (give its id or name)`, { field: 'connection' });
  return row;
}

type Time = Date | string;
const sqlText = (t: Time) => dbTime(new Date(toIso(t)));

export async function listActivity(db: DataSource, connectionId: string, query: { outcome: 'error' | 'all'; limit: number; cursor?: string }) {
  const cursor = query.cursor === undefined ? null : decodeActivityCursor(query.cursor);
  const take = query.limit + 1;
  const refusedAfter = afterCursor('r', cursor);
  const refused: Array<{ seq: number | string; at: Time; surface: 'scim' | 'sso'; method: string; route: string; status: number | string; scimType: string | null; code: string; detail: string; requestId: string; unrecorded: number | string }> =
    await db.query(
      `SELECT seq, occurred_at AS at, surface, method, route, status, scim_type AS scimType, code, detail, request_id AS requestId, unrecorded
         FROM connection_activity WHERE connection_id = ?${refusedAfter.sql} ORDER BY occurred_at DESC, seq DESC LIMIT ${take}`,
      [connectionId, ...refusedAfter.params],
    );
  const items: Array<ActivityItem & { key: Cursor }> = refused.map((r) => ({
    key: { at: sqlText(r.at), source: 'r', seq: Number(r.seq) },
    outcome: 'refused',
    at: toIso(r.at),
    requestId: r.requestId || null,
    surface: r.surface,
    method: r.method,
    route: r.route,
    status: Number(r.status),
    scimType: r.scimType,
    code: r.code,
    detail: r.detail,
    unrecorded: Number(r.unrecorded),
    action: null,
    eventId: null,
    target: null,
  }));
  if (query.outcome === 'all') {
    const acceptedAfter = afterCursor('a', cursor);
    const accepted: Array<{ seq: number | string; at: Time; id: string; requestId: string | null; action: string; targetType: string | null; targetId: string | null; actorType: string }> = await db.query(
      `SELECT seq, occurred_at AS at, id, request_id AS requestId, action, target_type AS targetType, target_id AS targetId, actor_type AS actorType
         FROM audit_events WHERE connection_id = ? AND actor_type IN ('scim_token', 'sso_user')${acceptedAfter.sql} ORDER BY occurred_at DESC, seq DESC LIMIT ${take}`,
      [connectionId, ...acceptedAfter.params],
    );
    items.push(
      ...accepted.map((e): ActivityItem & { key: Cursor } => ({
        key: { at: sqlText(e.at), source: 'a', seq: Number(e.seq) },
        outcome: 'accepted',
        at: toIso(e.at),
        requestId: e.requestId,
        surface: e.actorType === 'sso_user' ? 'sso' : 'scim',
        method: null,
        route: null,
        status: null,
        scimType: null,
        code: null,
        detail: null,
        unrecorded: 0,
        action: e.action,
        eventId: e.id,
        target: e.targetType && e.targetId ? { type: e.targetType, id: e.targetId } : null,
      })),
    );
    items.sort((x, y) => (x.key.at !== y.key.at ? (x.key.at < y.key.at ? 1 : -1) : x.key.source !== y.key.source ? (x.key.source === 'r' ? -1 : 1) : y.key.seq - x.key.seq));
  }
  const page = items.slice(0, query.limit);
  const last = page[page.length - 1];
  return {
    items: page.map(({ key: _key, ...item }) => item),
    nextCursor: items.length > query.limit && last ? encodeActivityCursor(last.key) : null,
  };
}
