import { newRowId } from '@doorman/model/row-ids';
import type { Pool, RowDataPacket } from 'mysql2/promise';
import { candidateUsername, connectionUsersChangeSql } from '@doorman/model';

/**
 * Bulk seeding of SCIM users straight into the tables, row for row what scim-users writes for a
 * POST /Users with the same body (toUserColumns + ScimUserStore.create + role mapping's
 * addOrgMembership for a connection without a default team). `verifyMirror` checks that claim
 * against a user created through the API before anything is seeded.
 */

export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

export interface SeedTarget {
  connectionId: string;
  /** The connection's default organization (where role mapping puts members). */
  orgId: string;
  /** Distinguishes this run's userNames (users are global accounts, unique by email). */
  tag: string;
}

export interface SeededUsers {
  ids: string[];
  userNames: string[];
}

type Row = Record<string, string | number | Date | null>;

export const seedUserName = (tag: string, i: number) => `u${i}.${tag}@bench.example`;

/** The body an IdP would POST for user `i` (Okta-like: externalId, name, displayName, one work email). */
export function seedUserBody(userName: string, i: number) {
  return {
    schemas: [USER_SCHEMA],
    externalId: `ext-${i}`,
    userName,
    name: { givenName: `Given${i}`, familyName: `Family${i}` },
    displayName: `Given${i} Family${i}`,
    emails: [{ value: userName, type: 'work', primary: true }],
    active: true,
  };
}

const trimmedOrNull = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? v.trim() : null);
const lc = (v: string | null) => (v === null ? null : v.toLowerCase());

/** The four tables' rows for one user, as column → value (booleans as 0/1, JSON as its string). */
export function seedRows(target: SeedTarget, body: ReturnType<typeof seedUserBody>, at: Date) {
  // The stored resource: the body minus server-assigned attributes, with `active` moved last (toUserColumns).
  const resource: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body)) if (!['id', 'meta', 'groups', 'enabled', 'password', 'active'].includes(k.toLowerCase())) resource[k] = v;
  resource.active = body.active;
  const userName = body.userName.trim();
  const givenName = trimmedOrNull(body.name.givenName);
  const familyName = trimmedOrNull(body.name.familyName);
  const displayName = trimmedOrNull(body.displayName);
  const userId = newRowId();
  const id = newRowId();
  const user: Row = {
    id: userId,
    email: userName,
    email_lc: userName.toLowerCase(),
    username: candidateUsername(userName),
    full_name: [givenName, familyName].filter(Boolean).join(' ') || null,
    created_at: at,
    updated_at: at,
  };
  const connectionUser: Row = {
    id,
    connection_id: target.connectionId,
    user_id: userId,
    user_name: userName,
    user_name_lc: userName.toLowerCase(),
    external_id: trimmedOrNull(body.externalId),
    display_name: displayName,
    display_name_lc: lc(displayName),
    given_name: givenName,
    given_name_lc: lc(givenName),
    family_name: familyName,
    family_name_lc: lc(familyName),
    formatted_name: null,
    formatted_name_lc: null,
    active: body.active ? 1 : 0,
    docker_role: null,
    docker_role_lc: null,
    docker_org: null,
    docker_org_lc: null,
    docker_team: null,
    docker_team_lc: null,
    employee_number_lc: null,
    resource: JSON.stringify(resource),
    version: 1,
    created_at: at,
    updated_at: at,
  };
  const emails: Row[] = body.emails.map((e) => ({
    id: newRowId(),
    connection_user_id: id,
    value: e.value.trim(),
    value_lc: e.value.trim().toLowerCase(),
    type: trimmedOrNull(e.type),
    type_lc: lc(trimmedOrNull(e.type)),
    is_primary: e.primary ? 1 : 0,
  }));
  const membership: Row = {
    id: newRowId(),
    org_id: target.orgId,
    user_id: userId,
    role: 'member',
    source: 'scim',
    connection_id: target.connectionId,
    grant_via: 'scim_attribute',
    grant_ref: null,
    created_at: at,
    updated_at: at,
  };
  return { user, connectionUser, emails, membership };
}

async function insertMany(conn: { query: Pool['query'] }, table: string, rows: Row[]) {
  if (!rows.length) return;
  const columns = Object.keys(rows[0]!);
  await conn.query(`INSERT INTO \`${table}\` (${columns.map((c) => `\`${c}\``).join(', ')}) VALUES ?`, [rows.map((r) => columns.map((c) => r[c]))]);
}

/** Seeds `count` users in chunks (one transaction per chunk of multi-row INSERTs). */
export async function seedUsers(pool: Pool, target: SeedTarget, count: number, chunkSize = 2_000, onProgress?: (done: number) => void): Promise<SeededUsers> {
  const ids: string[] = [];
  const userNames: string[] = [];
  // Creation times one millisecond apart, ending a little before now, like a steady provisioning history.
  const start = Date.now() - count - 60_000;
  for (let from = 0; from < count; from += chunkSize) {
    const users: Row[] = [];
    const connectionUsers: Row[] = [];
    const emails: Row[] = [];
    const memberships: Row[] = [];
    for (let i = from; i < Math.min(count, from + chunkSize); i++) {
      const userName = seedUserName(target.tag, i);
      const rows = seedRows(target, seedUserBody(userName, i), new Date(start + i));
      users.push(rows.user);
      connectionUsers.push(rows.connectionUser);
      emails.push(...rows.emails);
      memberships.push(rows.membership);
      ids.push(rows.connectionUser.id as string);
      userNames.push(userName);
    }
    const conn = await pool.getConnection();
    try {
      await conn.beginTransaction();
      await insertMany(conn, 'users', users);
      await insertMany(conn, 'connection_users', connectionUsers);
      await insertMany(conn, 'connection_user_emails', emails);
      await insertMany(conn, 'org_memberships', memberships);
      // As the API does per user (recordConnectionUsersChange): the counter unfiltered lists read.
      await conn.query(
        connectionUsersChangeSql(true),
        [target.connectionId, 0, connectionUsers.length, connectionUsers.length],
      );
      await conn.commit();
    } catch (err) {
      await conn.rollback().catch(() => undefined);
      throw err;
    } finally {
      conn.release();
    }
    onProgress?.(ids.length);
  }
  return { ids, userNames };
}

/**
 * Compares the rows the API wrote for `apiUserName` (created with `seedUserBody(apiUserName, i)`)
 * with the rows `seedRows` builds for the same body: every column except generated ids, the
 * username's random digits and timestamps. Returns the differences (empty = indistinguishable).
 */
export async function verifyMirror(pool: Pool, target: SeedTarget, apiUserName: string, i: number): Promise<string[]> {
  const one = async (sql: string, params: unknown[]) => (await pool.query<RowDataPacket[]>(sql, params))[0];
  const [cu] = await one('SELECT * FROM connection_users WHERE connection_id = ? AND user_name_lc = ?', [target.connectionId, apiUserName.toLowerCase()]);
  if (!cu) return [`no connection_users row for ${apiUserName}`];
  const [user] = await one('SELECT * FROM users WHERE id = ?', [cu.user_id]);
  const emails = await one('SELECT * FROM connection_user_emails WHERE connection_user_id = ?', [cu.id]);
  const memberships = await one('SELECT * FROM org_memberships WHERE user_id = ?', [cu.user_id]);
  const teams = await one('SELECT * FROM team_memberships WHERE user_id = ?', [cu.user_id]);
  const expected = seedRows(target, seedUserBody(apiUserName, i), new Date());
  const problems: string[] = [];
  const compare = (table: string, actual: RowDataPacket | undefined, wanted: Row, skip: string[]) => {
    if (!actual) return problems.push(`${table}: no row`);
    const columns = new Set([...Object.keys(actual), ...Object.keys(wanted)]);
    for (const c of columns) {
      if (skip.includes(c)) continue;
      const a = actual[c] === true ? 1 : actual[c] === false ? 0 : actual[c];
      const w = wanted[c];
      if (!(c in wanted)) problems.push(`${table}.${c}: the API wrote ${JSON.stringify(a)}, the seeder writes nothing`);
      else if (!(c in actual)) problems.push(`${table}.${c}: no such column`);
      else if (a !== w) problems.push(`${table}.${c}: API ${JSON.stringify(a)} vs seeder ${JSON.stringify(w)}`);
    }
    return undefined;
  };
  compare('connection_users', cu, expected.connectionUser, ['id', 'user_id', 'created_at', 'updated_at']);
  compare('users', user, expected.user, ['id', 'username', 'created_at', 'updated_at']);
  const usernameBase = String(expected.user.username).slice(0, -4);
  if (user && !new RegExp(`^${usernameBase}\\d{4}$`).test(String(user.username))) problems.push(`users.username: API ${user.username} vs seeder ${usernameBase}NNNN`);
  if (emails.length !== expected.emails.length) problems.push(`connection_user_emails: API wrote ${emails.length} rows, the seeder ${expected.emails.length}`);
  else emails.forEach((e, k) => compare('connection_user_emails', e, expected.emails[k]!, ['id', 'connection_user_id']));
  if (memberships.length !== 1) problems.push(`org_memberships: API wrote ${memberships.length} rows, the seeder 1`);
  else compare('org_memberships', memberships[0], expected.membership, ['id', 'user_id', 'created_at', 'updated_at']);
  if (teams.length !== 0) problems.push(`team_memberships: API wrote ${teams.length} rows, the seeder none`);
  return problems;
}

/**
 * The table behind the ceilings that include the database (`ceiling_rows`: ids 1 … rows, each with
 * `body`), as large as the data a scenario touches, so the ceiling's one query walks an index of the
 * same depth.
 */
export async function createCeilingRows(pool: Pool, rows: number, body = ''): Promise<void> {
  await pool.query('CREATE TABLE ceiling_rows (id INT PRIMARY KEY, n INT NOT NULL, body TEXT NOT NULL) ENGINE=InnoDB');
  // The create ceiling's table (bare-koa.ts `POST /bare/insert`): a UUID key and the body, as a user row has.
  await pool.query('CREATE TABLE ceiling_inserts (id CHAR(36) PRIMARY KEY, body TEXT NOT NULL) ENGINE=InnoDB');
  for (let first = 1; first <= rows; first += 1000) {
    const batch = Array.from({ length: Math.min(1000, rows - first + 1) }, (_, k) => [first + k, 0, body]);
    await pool.query('INSERT INTO ceiling_rows (id, n, body) VALUES ?', [batch]);
  }
}
