import type { DataSource } from 'typeorm';
import { InputError } from '@doorman/plugin-api';

/**
 * People search: a case-insensitive prefix of email, username, name (account full name, SCIM
 * displayName) or SCIM userName/externalId in any connection. Each branch is an index range scan
 * (migration 1733022000000 adds the cross-connection indexes); the union is ordered by email, the
 * cursor being the last email of the previous page. externalId is matched as stored (RFC 7643: it is
 * case-exact). Deactivated people are found like anyone else. docs/people-and-explain.md.
 */
export interface PersonHit {
  id: string;
  email: string;
  username: string;
  fullName: string | null;
  createdAt: string;
}

/** `!` escapes LIKE wildcards (the same on MySQL and SQLite). */
const likePrefix = (q: string) => `${q.replace(/[!%_]/g, (c) => `!${c}`)}%`;

export const encodePeopleCursor = (emailLc: string) => Buffer.from(`e:${emailLc}`).toString('base64url');
export function decodePeopleCursor(cursor: string): string {
  const text = /^[A-Za-z0-9_-]+$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  if (!text.startsWith('e:')) throw new InputError('cursor: not a cursor returned by this API', { field: 'cursor' });
  return text.slice(2);
}

/**
 * `ownedOrgs`: an organization owner's search (docs/console.md, "Organization owners") finds only
 * people with a membership, every one of them in those organizations — the people an owner may open.
 */
export async function searchPeople(db: DataSource, query: { q?: string; limit: number; cursor?: string }, ownedOrgs?: readonly string[]) {
  const after = query.cursor === undefined ? null : decodePeopleCursor(query.cursor);
  const q = query.q?.trim() ?? '';
  const params: unknown[] = [];
  let where = '1 = 1';
  let from = 'users u';
  if (q) {
    const lc = likePrefix(q.toLowerCase());
    const exact = likePrefix(q);
    // A derived table joined by primary key, not `u.id IN (… UNION …)`: MariaDB runs the latter as a
    // dependent subquery per users row (seconds on 100,000 people, bench/explain-bench.ts).
    from = `users u JOIN (
      SELECT id FROM users WHERE email_lc LIKE ? ESCAPE '!'
      UNION SELECT id FROM users WHERE username LIKE ? ESCAPE '!'
      UNION SELECT id FROM users WHERE full_name LIKE ? ESCAPE '!'
      UNION SELECT user_id FROM connection_users WHERE user_name_lc LIKE ? ESCAPE '!'
      UNION SELECT user_id FROM connection_users WHERE display_name_lc LIKE ? ESCAPE '!'
      UNION SELECT user_id FROM connection_users WHERE external_id LIKE ? ESCAPE '!') hit ON hit.id = u.id`;
    params.push(lc, lc, exact, lc, lc, exact);
  }
  if (ownedOrgs !== undefined) {
    if (!ownedOrgs.length) return { people: [], nextCursor: null };
    const list = ownedOrgs.map(() => '?').join(', ');
    where += ` AND EXISTS (SELECT 1 FROM org_memberships m WHERE m.user_id = u.id AND m.org_id IN (${list}))
      AND NOT EXISTS (SELECT 1 FROM org_memberships m WHERE m.user_id = u.id AND m.org_id NOT IN (${list}))`;
    params.push(...ownedOrgs, ...ownedOrgs);
  }
  if (after !== null) {
    where += ' AND u.email_lc > ?';
    params.push(after);
  }
  const rows: Array<{ id: string; email: string; emailLc: string; username: string; fullName: string | null; createdAt: Date | string }> = await db.query(
    `SELECT u.id AS id, u.email AS email, u.email_lc AS emailLc, u.username AS username, u.full_name AS fullName, u.created_at AS createdAt
       FROM ${from} WHERE ${where} ORDER BY u.email_lc LIMIT ${query.limit + 1}`,
    params,
  );
  const page = rows.slice(0, query.limit);
  return {
    people: page.map((r): PersonHit => ({ id: r.id, email: r.email, username: r.username, fullName: r.fullName, createdAt: toIso(r.createdAt) })),
    nextCursor: rows.length > query.limit ? encodePeopleCursor(page[page.length - 1]!.emailLc) : null,
  };
}

/** A datetime column as read by raw SQL (a Date on MySQL, text on SQLite) in ISO 8601. */
export function toIso(value: Date | string | null): string {
  if (value === null) return '';
  if (value instanceof Date) return value.toISOString();
  return new Date(/Z|[+-]\d\d:?\d\d$/.test(value) ? value : `${value.replace(' ', 'T')}Z`).toISOString();
}
