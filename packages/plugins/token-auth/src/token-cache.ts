/** What a successful database lookup of a SCIM token says, as cached. Times are epoch ms. */
export interface TokenRecord {
  tokenId: string;
  connectionId: string;
  /** SHA-256 of the secret, hex (the cache key; compared again in constant time on every hit). */
  hash: string;
  expiresAt: number | null;
  revokedAt: number | null;
  /** The token's connection, or null when it was deleted. */
  connection: { scimEnabled: boolean; rateLimitPerSecond: number | null } | null;
}

export interface Invalidation {
  tokenIds?: string[];
  connectionIds?: string[];
}

interface Entry {
  record: TokenRecord;
  cachedUntil: number;
}

/**
 * Bounded, short-lived cache of token lookups, so a cache hit costs no database round trip.
 *
 * Staleness bound: an entry is reused for at most `ttlMs`, so a revocation (or SCIM disabled,
 * connection deleted) made anywhere reaches this replica within `ttlMs` even if it never hears the
 * Redis invalidation. Expiry is exact regardless, because `expiresAt` is checked on every request.
 *
 * Invalidations can arrive before the change commits (connection events are published inside the
 * admin plugin's transaction), so after an invalidation the affected token/connection is not cached
 * again for `ttlMs`: a lookup racing the commit cannot re-cache the old state.
 */
export class TokenCache {
  private readonly entries = new Map<string, Entry>();
  private readonly invalidatedAt = new Map<string, number>();

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
    private readonly maxEntries = 10_000,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get(hash: string): TokenRecord | undefined {
    const entry = this.entries.get(hash);
    if (!entry) return undefined;
    if (entry.cachedUntil <= this.now()) {
      this.entries.delete(hash);
      return undefined;
    }
    return entry.record;
  }

  /** Caches a lookup that started at `lookupStartedAt`, unless an invalidation may have overtaken it. */
  set(record: TokenRecord, lookupStartedAt: number): void {
    if (this.ttlMs <= 0) return;
    if (this.invalidatedSince(record.tokenId, lookupStartedAt) || this.invalidatedSince(record.connectionId, lookupStartedAt)) return;
    if (this.entries.size >= this.maxEntries && !this.entries.has(record.hash)) {
      // Oldest insertion first: a Map iterates in insertion order.
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(record.hash, { record, cachedUntil: this.now() + this.ttlMs });
  }

  invalidate(invalidation: Invalidation): void {
    const tokens = new Set(invalidation.tokenIds ?? []);
    const connections = new Set(invalidation.connectionIds ?? []);
    if (!tokens.size && !connections.size) return;
    const at = this.now();
    for (const id of [...tokens, ...connections]) this.invalidatedAt.set(id, at);
    for (const [hash, { record }] of this.entries) {
      if (tokens.has(record.tokenId) || connections.has(record.connectionId)) this.entries.delete(hash);
    }
    this.pruneInvalidations(at);
  }

  private invalidatedSince(id: string, lookupStartedAt: number): boolean {
    const at = this.invalidatedAt.get(id);
    return at !== undefined && at >= lookupStartedAt - this.ttlMs;
  }

  private pruneInvalidations(now: number): void {
    // Kept long enough to cover a slow lookup that started before the invalidation.
    const horizon = now - this.ttlMs - 60_000;
    for (const [id, at] of this.invalidatedAt) if (at < horizon) this.invalidatedAt.delete(id);
  }
}
