import { Readable } from 'node:stream';
import type { DataSource, SelectQueryBuilder } from 'typeorm';
import { z } from 'zod';
import { InputError } from '@doorman/plugin-api';
import { AuditEventEntity, type AuditEvent } from '@doorman/model';
import { sqlTime } from './chain.ts';

const isoTime = z
  .string()
  .refine((s) => /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(s) && !Number.isNaN(Date.parse(s)), {
    message: 'an ISO 8601 date or time, e.g. 2025-01-31T12:00:00Z',
  })
  .transform((s) => new Date(s));

/** Filters shared by the list and the export. */
const filterFields = {
  /** An id, or a name (resolved by the route). */
  orgId: z.string().min(1).max(255).optional(),
  connectionId: z.string().min(1).max(255).optional(),
  /** Exact action, or a prefix ending in `*` (e.g. `member.*`). */
  action: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$|^[A-Za-z0-9_.-]{0,63}\*$/, 'an action such as member.role_changed, or a prefix such as member.*')
    .optional(),
  actorType: z.enum(['scim_token', 'admin_token', 'sso_user', 'system']).optional(),
  actorId: z.string().min(1).max(255).optional(),
  targetType: z.string().min(1).max(32).optional(),
  targetId: z.string().min(1).max(255).optional(),
  /** Inclusive lower bound on the event time. */
  from: isoTime.optional(),
  /** Exclusive upper bound on the event time. */
  to: isoTime.optional(),
};

export const listQuerySchema = z.object({
  ...filterFields,
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().max(64).optional(),
});
export const exportQuerySchema = z.object({ ...filterFields, format: z.enum(['ndjson', 'csv']).default('ndjson') });
export const verifyQuerySchema = z.object({ orgId: z.string().max(255).optional() });
/** POST /audit/verify: a chain (orgId), or a signed checkpoint (its JSON, or its file's text) with an optional public key. */
export const verifyBodySchema = z
  .object({
    orgId: z.string().max(255).optional(),
    checkpoint: z.union([z.string().max(50_000_000), z.record(z.string(), z.unknown())]).optional(),
    publicKey: z.string().max(8192).optional(),
  })
  .strict();

export type AuditFilters = Partial<Pick<z.infer<typeof listQuerySchema>, keyof typeof filterFields>>;

/** Parses a query string strictly: an unknown or repeated parameter is a 400 naming it. */
export function parseQuery<S extends z.ZodObject>(schema: S, query: Record<string, string | string[] | undefined>): z.infer<S> {
  for (const key of Object.keys(query)) {
    if (!(key in schema.shape)) throw new InputError(`${key}: unknown query parameter`, { field: key });
  }
  const parsed = schema.parse(query) as z.infer<S> & AuditFilters;
  if (parsed.from && parsed.to && parsed.from >= parsed.to) throw new InputError('to: must be later than from', { field: 'to' });
  return parsed;
}

/** Opaque cursor: the seq the next (older) page starts below. */
export const encodeCursor = (seq: number) => Buffer.from(`s:${seq}`).toString('base64url');
export function decodeCursor(cursor: string): number {
  const m = /^s:(\d{1,15})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!/^[A-Za-z0-9_-]+$/.test(cursor) || !m) throw new InputError('cursor: not a cursor returned by this API', { field: 'cursor' });
  return Number(m[1]);
}

export function filteredQuery(db: DataSource, f: AuditFilters): SelectQueryBuilder<AuditEvent> {
  const qb = db.getRepository(AuditEventEntity).createQueryBuilder('e').where('1 = 1');
  if (f.orgId) qb.andWhere('e.orgId = :orgId', { orgId: f.orgId });
  if (f.connectionId) qb.andWhere('e.connectionId = :connectionId', { connectionId: f.connectionId });
  if (f.action?.endsWith('*')) {
    // `!` as the LIKE escape: the same in MySQL and SQLite, and never part of an action name.
    const prefix = f.action.slice(0, -1).replace(/[!%_]/g, (c) => `!${c}`);
    if (prefix) qb.andWhere("e.action LIKE :actionPrefix ESCAPE '!'", { actionPrefix: `${prefix}%` });
  } else if (f.action) qb.andWhere('e.action = :action', { action: f.action });
  if (f.actorType) qb.andWhere('e.actorType = :actorType', { actorType: f.actorType });
  if (f.actorId) qb.andWhere('e.actorId = :actorId', { actorId: f.actorId });
  if (f.targetType) qb.andWhere('e.targetType = :targetType', { targetType: f.targetType });
  if (f.targetId) qb.andWhere('e.targetId = :targetId', { targetId: f.targetId });
  if (f.from) qb.andWhere('e.occurredAt >= :from', { from: sqlTime(f.from) });
  if (f.to) qb.andWhere('e.occurredAt < :to', { to: sqlTime(f.to) });
  return qb;
}

/** The public shape of an event (API and NDJSON). */
export function toApiEvent(e: AuditEvent) {
  return {
    seq: Number(e.seq),
    id: e.id,
    occurredAt: new Date(e.occurredAt).toISOString(),
    orgId: e.orgId,
    connectionId: e.connectionId,
    actor: { type: e.actorType, id: e.actorId },
    requestId: e.requestId,
    jobId: e.jobId ?? null,
    causeId: e.causeId ?? null,
    action: e.action,
    target: e.targetType || e.targetId ? { type: e.targetType, id: e.targetId } : null,
    changes: e.changes,
    context: e.context ?? null,
    /** false until the sealer has linked the event into its chain (then chainSeq, prevHash and hash are set). */
    sealed: e.chainSeq !== null && e.chainSeq !== undefined,
    chainSeq: e.chainSeq === null || e.chainSeq === undefined ? null : Number(e.chainSeq),
    prevHash: e.prevHash,
    hash: e.hash,
  };
}
export type ApiAuditEvent = ReturnType<typeof toApiEvent>;

/**
 * Newest first, keyset-paginated on seq: a page is `seq < cursor`, so events inserted while paging
 * (which get higher seqs) never shift or repeat what the next page returns.
 */
export async function listEvents(db: DataSource, q: z.infer<typeof listQuerySchema>) {
  const qb = filteredQuery(db, q);
  if (q.cursor !== undefined) qb.andWhere('e.seq < :before', { before: decodeCursor(q.cursor) });
  const rows = await qb.orderBy('e.seq', 'DESC').limit(q.limit + 1).getMany();
  const page = rows.slice(0, q.limit);
  return { events: page.map(toApiEvent), nextCursor: rows.length > q.limit ? encodeCursor(Number(page[page.length - 1].seq)) : null };
}

export const CSV_COLUMNS = [
  'seq', 'id', 'occurredAt', 'orgId', 'connectionId', 'actorType', 'actorId', 'requestId',
  'action', 'targetType', 'targetId', 'changes', 'prevHash', 'hash', 'sealed', 'chainSeq',
  'jobId', 'causeId', 'context',
] as const;

/**
 * One RFC 4180 cell: quoted when it holds a quote, comma or line break (quotes doubled). A leading
 * `=`, `+`, `-`, `@`, tab or CR gets a `'` so spreadsheets never evaluate IdP-supplied text as a formula.
 */
export function csvCell(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  let s = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvRow(e: AuditEvent): string {
  const cells = [
    Number(e.seq), e.id, new Date(e.occurredAt).toISOString(), e.orgId, e.connectionId, e.actorType, e.actorId, e.requestId,
    e.action, e.targetType, e.targetId, e.changes === null ? null : JSON.stringify(e.changes), e.prevHash, e.hash,
    e.chainSeq === null ? 'false' : 'true', e.chainSeq === null ? null : Number(e.chainSeq),
    e.jobId ?? null, e.causeId ?? null, e.context ? JSON.stringify(e.context) : null,
  ];
  return `${cells.map(csvCell).join(',')}\r\n`;
}

/**
 * Streams every matching event, oldest first, in constant memory: batches of `batchSize` by seq
 * (keyset), one chunk per batch, pulled only as fast as the client reads. Bounded by the newest seq
 * at the start, so a busy deployment does not make the export endless.
 */
export function exportStream(db: DataSource, f: AuditFilters, format: 'ndjson' | 'csv', batchSize = 1000): Readable {
  async function* chunks() {
    const [{ maxSeq }] = await db.query('SELECT MAX(seq) AS maxSeq FROM audit_events');
    if (format === 'csv') yield Buffer.from(`${CSV_COLUMNS.join(',')}\r\n`);
    if (maxSeq === null) return;
    let after = 0;
    for (;;) {
      const rows = await filteredQuery(db, f)
        .andWhere('e.seq > :after', { after })
        .andWhere('e.seq <= :maxSeq', { maxSeq: Number(maxSeq) })
        .orderBy('e.seq', 'ASC')
        .limit(batchSize)
        .getMany();
      if (!rows.length) return;
      let text = '';
      for (const r of rows) text += format === 'csv' ? csvRow(r) : `${JSON.stringify(toApiEvent(r))}\n`;
      yield Buffer.from(text);
      if (rows.length < batchSize) return;
      after = Number(rows[rows.length - 1].seq);
    }
  }
  return Readable.from(chunks(), { objectMode: false });
}
