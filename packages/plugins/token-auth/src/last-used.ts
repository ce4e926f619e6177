import type { DataSource } from 'typeorm';
import type { Logger } from './types.ts';
import { ScimTokenEntity } from '@doorman/model';

/**
 * Buffers "token used at" times in memory and writes them in one UPDATE per token per flush,
 * so authentication never writes to the database. A crash loses at most one flush interval of
 * `lastUsedAt` precision, which is acceptable for an informational column.
 */
export class LastUsedBuffer {
  private pending = new Map<string, number>();

  touch(tokenId: string, at: number): void {
    const previous = this.pending.get(tokenId);
    if (previous === undefined || at > previous) this.pending.set(tokenId, at);
  }

  /** The buffered (not yet written) time for a token, if any. */
  peek(tokenId: string): number | undefined {
    return this.pending.get(tokenId);
  }

  async flush(db: DataSource, logger: Logger): Promise<void> {
    if (!this.pending.size || !db.isInitialized) return;
    const batch = this.pending;
    this.pending = new Map();
    for (const [tokenId, at] of batch) {
      const when = new Date(at);
      try {
        // The condition keeps a slower replica from moving lastUsedAt backwards.
        await db
          .createQueryBuilder()
          .update(ScimTokenEntity)
          .set({ lastUsedAt: when })
          .where('id = :tokenId', { tokenId })
          .andWhere('(last_used_at IS NULL OR last_used_at < :when)', { when })
          .execute();
      } catch (err) {
        this.touch(tokenId, at);
        logger.warn({ err: (err as Error).message, tokenId }, 'could not record SCIM token last use; will retry');
      }
    }
  }
}
