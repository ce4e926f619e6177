import DataLoader from 'dataloader';
import type { DataSource } from 'typeorm';
import { NotFoundError } from '@doorman/plugin-api';
import { ConnectionUserEntity, rowCodec, type ConnectionUser, type RowCodec } from '@doorman/model';
import { compileFilter, compileSort, type AttributeMap, type Dialect, type ListParams, type ScimResource } from '@doorman/scim';
import { USER_ATTRIBUTES } from './filter-columns.ts';
import { connectionCountLoader } from './count-loader.ts';
import { toScimUser } from './user-resource.ts';
import { defaultOrderPage, PageAnchors } from './page-anchors.ts';
import type { Tenant } from './store.ts';

export interface UserReadsDeps {
  db: DataSource;
  dialect: Dialect;
  /** `<public url>/scim/v2` */
  baseUrl: string;
  /** Rows between list-page anchors (default ANCHOR_EVERY). */
  listAnchorEvery?: number;
  /** Told the size of each batch of same-turn lookups (for the batch-size metric). */
  onLookupBatch?: (lookup: 'id' | 'userName', size: number) => void;
  /** The filterable attributes as of now (USER_ATTRIBUTES and what other plugins added; filter-columns.ts). */
  filterAttributes?: () => AttributeMap;
}

/** The SCIM Users reads: GET by id and list pages (filtered, sorted or in default order). No writes. */
export class UserReads {
  private readonly anchors: PageAnchors;
  private readonly rows: RowCodec<ConnectionUser>;
  /**
   * Gets by id, and `userName eq` lookups, that arrive in the same turn of the event loop share one
   * statement per connection (see `sameTurnLoader`). No caching: every read runs after it arrived.
   */
  private readonly byId: DataLoader<LookupKey, RawRow | null, string>;
  private readonly byUserName: DataLoader<LookupKey, RawRow | null, string>;
  /** Unfiltered list pages of one turn read the user counter with one statement (count-loader.ts). */
  private readonly counts: ReturnType<typeof connectionCountLoader>;
  /** What a list page selects, built once. */
  private readonly pageColumns: string;

  constructor(private readonly deps: UserReadsDeps) {
    this.anchors = new PageAnchors(deps.db, { every: deps.listAnchorEvery });
    this.rows = rowCodec(deps.db, ConnectionUserEntity);
    const columns = this.rows.select(undefined, RESOURCE_COLUMNS);
    this.pageColumns = this.rows.select('u', RESOURCE_COLUMNS);
    this.counts = connectionCountLoader(deps.db);
    // Ids match exactly, as SCIM's `id` is caseExact (RFC 7643 §3.1), on MySQL's case-insensitive
    // collation as on SQLite: the rows come back keyed by their own id.
    const observe = deps.onLookupBatch ?? (() => undefined);
    this.byId = sameTurnLoader((size) => observe('id', size), async (connectionId, ids) => {
      const raws: RawRow[] = await deps.db.query(`SELECT ${columns} FROM connection_users WHERE connection_id = ? AND id IN (${ids.map(() => '?').join(', ')})`, [connectionId, ...ids]);
      return new Map(raws.map((raw) => [String(raw.id), raw]));
    });
    // userName compares case-insensitively (its lower-cased twin, unique per connection), by the
    // database's own equality: one branch per value, tagged with the value's position.
    this.byUserName = sameTurnLoader((size) => observe('userName', size), async (connectionId, values) => {
      const branch = (k: number) => `SELECT ${k} AS lookup_index, ${columns} FROM connection_users WHERE connection_id = ? AND user_name_lc = ?`;
      const raws: RawRow[] = await deps.db.query(values.map((_, k) => branch(k)).join(' UNION ALL '), values.flatMap((value) => [connectionId, value]));
      return new Map(raws.map((raw) => [values[Number(raw.lookup_index)]!, raw]));
    });
  }

  async get(tenant: Tenant, id: string): Promise<{ resource: ScimResource; version: number }> {
    const raw = await this.byId.load({ connectionId: tenant.connectionId, value: id });
    if (!raw) throw new NotFoundError(`User ${id} not found`);
    const row = this.rows.hydrate(raw);
    return { resource: toScimUser(row, this.deps.baseUrl), version: row.version };
  }

  async list(tenant: Tenant, params: ListParams): Promise<{ resources: ScimResource[]; totalResults: number }> {
    const { connectionId } = tenant;
    const offset = params.startIndex - 1;
    const attributes = this.deps.filterAttributes?.() ?? USER_ATTRIBUTES;
    // Compiled first: a bad sortBy is a 400 even where no page is read.
    const sort = params.sortBy ? compileSort(params.sortBy, params.sortOrder, attributes) : undefined;
    let rows: ConnectionUser[];
    let totalResults: number;
    if (!params.filter) {
      // Unfiltered: the total is the connection's counter, never COUNT(*) over its users.
      const count = await this.counts.load(connectionId);
      if (params.count === 0) return { resources: [], totalResults: count.users };
      if (sort) rows = await this.sortedPage(tenant, params, sort);
      else {
        const start = await this.anchors.pageStartFor(connectionId, count.changes, offset);
        rows = (await defaultOrderPage(this.deps.db, connectionId, start, params.count, this.pageColumns)).map((r) => this.rows.hydrate(r));
      }
      totalResults = count.users;
    } else {
      const where = compileFilter(params.filter, attributes, this.deps.dialect, 'f');
      // `userName eq "…"`, Okta's and Entra's lookup before each create: unique per connection, so
      // the first page is the whole answer, read in the same turn's batch as other lookups.
      if (where.equals?.column === USER_NAME_COLUMN && !sort && params.startIndex === 1 && params.count > 0) {
        const raw = await this.byUserName.load({ connectionId, value: String(where.equals.value) });
        return { resources: raw ? [toScimUser(this.rows.hydrate(raw), this.deps.baseUrl)] : [], totalResults: raw ? 1 : 0 };
      }
      const count = async () => Number((await this.query<{ n: number | string }>(`SELECT COUNT(*) AS n FROM connection_users u WHERE ${this.scoped(where)}`, { connectionId, ...where.params }))[0]?.n ?? 0);
      if (params.count === 0) return { resources: [], totalResults: await count() };
      rows = await this.sortedPage(tenant, params, sort, where);
      // A page that is not full ends the result set, so its total needs no COUNT: an IdP's
      // `filter=userName eq "…"` lookup before each create costs one query. (An empty page past the
      // first says nothing about the total.)
      const pageEndsResults = rows.length < params.count && (rows.length > 0 || params.startIndex === 1);
      totalResults = pageEndsResults ? offset + rows.length : await count();
    }
    return { resources: rows.map((r) => toScimUser(r, this.deps.baseUrl)), totalResults };
  }

  /** `u.connection_id = :connectionId`, and the compiled filter. */
  private scoped(where?: { sql: string }) {
    return `u.connection_id = :connectionId${where ? ` AND (${where.sql})` : ''}`;
  }

  /**
   * Runs SQL with named parameters (as compileFilter emits them) without the query builder: TypeORM's
   * driver turns them into positional ones with its own per-dialect value conversions.
   */
  private async query<T>(sql: string, named: Record<string, unknown>): Promise<T[]> {
    const [positional, params] = this.deps.db.driver.escapeQueryWithParameters(sql, named);
    return this.deps.db.query(positional, params);
  }

  /** A page of a filtered or `sortBy` list: OFFSET through the index for ids, then their rows. */
  private async sortedPage(tenant: Tenant, params: ListParams, sort: ReturnType<typeof compileSort> | undefined, where?: { sql: string; params: Record<string, unknown> }): Promise<ConnectionUser[]> {
    const order = `${sort ? `${sort.column} ${sort.direction}` : 'u.created_at ASC'}, u.id ASC`;
    const named = { connectionId: tenant.connectionId, ...where?.params, pageCount: params.count, pageOffset: params.startIndex - 1 };
    const columns = this.pageColumns;
    // A deep OFFSET never reads the skipped rows in full: ids from the index first (deferred join).
    const sql =
      params.startIndex === 1
        ? `SELECT ${columns} FROM connection_users u WHERE ${this.scoped(where)} ORDER BY ${order} LIMIT :pageCount`
        : `SELECT ${columns} FROM connection_users u JOIN (
             SELECT u.id FROM connection_users u WHERE ${this.scoped(where)} ORDER BY ${order} LIMIT :pageCount OFFSET :pageOffset
           ) page ON page.id = u.id ORDER BY ${order}`;
    return (await this.query<Record<string, unknown>>(sql, named)).map((r) => this.rows.hydrate(r));
  }
}

type RawRow = Record<string, unknown>;
interface LookupKey {
  connectionId: string;
  value: string;
}
/** Lookups per statement at most (a placeholder or a UNION ALL branch each). */
const LOOKUP_BATCH_MAX = 100;

/**
 * Single-row lookups that arrive in the same turn of the event loop, read with one statement per
 * connection (dataloader, flushed on setImmediate: after every socket read of that turn). Under an
 * IdP's burst each round trip to the database costs more than its row, so k lookups cost one
 * statement instead of k. `readGroup` answers one connection's distinct values, keyed by value; a
 * failed statement fails only that connection's lookups. `onBatch` hears each batch's size.
 */
function sameTurnLoader(onBatch: (size: number) => void, readGroup: (connectionId: string, values: string[]) => Promise<Map<string, RawRow>>): DataLoader<LookupKey, RawRow | null, string> {
  return new DataLoader<LookupKey, RawRow | null, string>(
    async (keys) => {
      onBatch(keys.length);
      const valuesByConnection = new Map<string, Set<string>>();
      for (const { connectionId, value } of keys) {
        let values = valuesByConnection.get(connectionId);
        if (!values) valuesByConnection.set(connectionId, (values = new Set()));
        values.add(value);
      }
      const found = new Map<string, Map<string, RawRow> | Error>();
      await Promise.all(
        [...valuesByConnection].map(async ([connectionId, values]) => {
          found.set(connectionId, await readGroup(connectionId, [...values]).catch((err: Error) => err));
        }),
      );
      return keys.map(({ connectionId, value }) => {
        const group = found.get(connectionId)!;
        return group instanceof Error ? group : (group.get(value) ?? null);
      });
    },
    { cache: false, maxBatchSize: LOOKUP_BATCH_MAX, batchScheduleFn: (flush) => setImmediate(flush) },
  );
}

/** The column a `userName eq` filter compares (its lower-cased twin), as the filter translator names it. */
const USER_NAME_COLUMN = (USER_ATTRIBUTES.username as { column: string }).column;

/** What toScimUser reads: the columns a get or list page selects. */
const RESOURCE_COLUMNS = ['id', 'connectionId', 'userId', 'userName', 'active', 'resource', 'version', 'createdAt', 'updatedAt'] as const;
