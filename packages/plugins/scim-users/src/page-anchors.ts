import type { DataSource } from 'typeorm';
import { readConnectionUserCount } from '@doorman/model';

/** A position in a connection's default list order (created_at, then id). */
export interface OrderKey {
  /** As the database prints it (`CAST(created_at AS CHAR)`), so comparisons are exact to the millisecond. */
  createdAt: string;
  id: string;
}

/** Every how many rows an anchor is kept: a page starts at most this many index entries past one. */
export const ANCHOR_EVERY = 1000;

/**
 * Where the page at 0-based `offset` starts: from the nearest anchor at or before it (anchor k is the
 * key at position k × every), skipping the rest; from the beginning when no anchor helps. Pure.
 */
export function pageStart(anchors: readonly OrderKey[], offset: number, every = ANCHOR_EVERY): { from: OrderKey | null; skip: number } {
  const k = Math.min(Math.floor(offset / every), anchors.length - 1);
  if (k <= 0) return { from: null, skip: offset };
  return { from: anchors[k]!, skip: offset - k * every };
}

interface AnchorSet {
  /** `connection_user_counts.changes` they were built at: valid while it is unchanged. */
  changes: number;
  keys: OrderKey[] | null;
  builtAt: number;
  /** How long the scan took: rebuilds are spaced at least ten times that apart. */
  buildMs: number;
}

/**
 * Anchors into each connection's default order, so a deep `startIndex` costs an index range read of
 * at most ANCHOR_EVERY entries instead of an OFFSET over every row before it (100,000 users: the last
 * page skipped 99,900 index entries). Built off the request path by one window-function scan (about
 * half a second at 100,000 users on MariaDB) and kept per replica while the connection's user set is
 * unchanged (any insert or delete anywhere bumps the counter's `changes`). While only a stale set
 * exists, pages use a plain OFFSET, as they would without anchors, and a rebuild starts in the
 * background — at most once per `rebuildIntervalMs` and never more often than ten times its own
 * duration, so a connection under constant writes costs the database at most a tenth of a core.
 * Bounded: `maxConnections` sets, least recently built dropped first.
 */
export class PageAnchors {
  private readonly sets = new Map<string, AnchorSet>();
  private readonly building = new Map<string, Promise<void>>();

  constructor(
    private readonly db: DataSource,
    private readonly options: { every?: number; rebuildIntervalMs?: number; maxConnections?: number; now?: () => number } = {},
  ) {}

  get every(): number {
    return this.options.every ?? ANCHOR_EVERY;
  }

  /**
   * Where the page at 0-based `offset` starts, for a connection whose counter reads `changes`. On a
   * cold start (no anchors yet for the connection) deep pages wait for the first scan rather than
   * flooding the database with deep OFFSETs while it runs.
   */
  async pageStartFor(connectionId: string, changes: number, offset: number): Promise<{ from: OrderKey | null; skip: number }> {
    if (offset < this.every) return { from: null, skip: offset };
    const cold = !this.sets.has(connectionId);
    let keys = this.keysFor(connectionId, changes);
    if (!keys && cold) {
      await this.building.get(connectionId);
      keys = this.sets.get(connectionId)?.changes === changes ? this.sets.get(connectionId)!.keys : null;
    }
    return keys ? pageStart(keys, offset, this.every) : { from: null, skip: offset };
  }

  /** The anchors valid for `changes`, or null (a rebuild may have been started in the background). */
  keysFor(connectionId: string, changes: number): OrderKey[] | null {
    const now = this.now();
    const set = this.sets.get(connectionId);
    if (set && set.changes === changes) return set.keys;
    if (this.building.has(connectionId)) return null;
    if (set && now - set.builtAt < Math.max(this.options.rebuildIntervalMs ?? 1_000, 10 * set.buildMs)) return null;
    const build = this.build(connectionId, changes, now)
      // A failed scan (database unreachable) is retried after the interval; pages go on with OFFSET.
      .catch(() => this.remember(connectionId, { changes: -1, keys: null, builtAt: now, buildMs: 0 }))
      .finally(() => this.building.delete(connectionId));
    this.building.set(connectionId, build);
    return null;
  }

  /** Resolves when no rebuild is running (tests, shutdown). */
  async settled(): Promise<void> {
    await Promise.all([...this.building.values()]);
  }

  private now() {
    return (this.options.now ?? Date.now)();
  }

  private async build(connectionId: string, changes: number, startedAt: number): Promise<void> {
    const t0 = performance.now();
    const keys: OrderKey[] = await this.db.query(
      `SELECT createdAt, id FROM (
         SELECT CAST(created_at AS CHAR) AS createdAt, id, ROW_NUMBER() OVER (ORDER BY created_at, id) AS rn
           FROM connection_users WHERE connection_id = ?) ranked
        WHERE (rn - 1) % ? = 0 ORDER BY rn`,
      [connectionId, this.every],
    );
    const buildMs = performance.now() - t0;
    // Valid only if no user joined or left while the scan ran.
    const valid = (await readConnectionUserCount(this.db, connectionId)).changes === changes;
    this.remember(connectionId, {
      changes: valid ? changes : -1,
      keys: valid ? keys.map((k) => ({ createdAt: String(k.createdAt), id: String(k.id) })) : null,
      builtAt: startedAt,
      buildMs,
    });
  }

  private remember(connectionId: string, set: AnchorSet) {
    this.sets.delete(connectionId);
    this.sets.set(connectionId, set);
    if (this.sets.size > (this.options.maxConnections ?? 256)) this.sets.delete(this.sets.keys().next().value!);
  }
}

/**
 * Raw rows of one page of a connection's default order (created_at, then id) in one round trip: ids
 * from the (connection_id, created_at) index, starting at `start.from` when given and skipping
 * `start.skip` entries, joined back to their rows. `columns` selects from alias `u` and must include
 * `u.id AS id`. The rows are put in order here: an outer ORDER BY would make MariaDB sort the joined
 * rows, resource text and all, through a temporary table.
 */
export async function defaultOrderPage(
  db: DataSource,
  connectionId: string,
  start: { from: OrderKey | null; skip: number },
  count: number,
  columns: string,
): Promise<Array<Record<string, unknown>>> {
  const after = start.from ? ' AND (created_at > ? OR (created_at = ? AND id >= ?))' : '';
  const rows: Array<Record<string, unknown>> = await db.query(
    `SELECT ${columns}, CAST(u.created_at AS CHAR) AS orderCreatedAt FROM connection_users u JOIN (
       SELECT id FROM connection_users WHERE connection_id = ?${after} ORDER BY created_at, id LIMIT ? OFFSET ?
     ) page ON page.id = u.id`,
    [connectionId, ...(start.from ? [start.from.createdAt, start.from.createdAt, start.from.id] : []), count, start.skip],
  );
  // The database's own text of created_at and binary order of ids (ids are ASCII UUIDs).
  const keyOf = (r: Record<string, unknown>) => [String(r.orderCreatedAt), String(r.id)] as const;
  return rows.sort((a, b) => {
    const [ta, ia] = keyOf(a);
    const [tb, ib] = keyOf(b);
    return ta < tb ? -1 : ta > tb ? 1 : ia < ib ? -1 : ia > ib ? 1 : 0;
  });
}
