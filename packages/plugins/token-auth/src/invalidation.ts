import type { Redis } from 'ioredis';
import type { Logger } from './types.ts';
import type { Invalidation } from './token-cache.ts';

export const INVALIDATION_CHANNEL = 'doorman:token-auth:invalidate';

/**
 * Tells every replica to drop cached token lookups at once (Redis pub/sub). Best effort: a replica
 * that misses a message (Redis down, reconnecting) still drops the entry when its TTL runs out.
 */
export class InvalidationBus {
  private subscriber: Redis | null = null;

  constructor(
    private readonly redis: Redis | null,
    private readonly logger: Logger,
    private readonly apply: (invalidation: Invalidation) => void,
  ) {}

  /** Subscribes, waiting at most `timeoutMs` so a Redis outage does not block boot. */
  async start(timeoutMs = 2_000): Promise<void> {
    if (!this.redis) return;
    // A dedicated connection: a subscribed connection can run no other commands. Its offline queue
    // keeps the SUBSCRIBE until Redis is reachable; ioredis re-subscribes after reconnects.
    const sub = this.redis.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null });
    this.subscriber = sub;
    sub.on('error', (err) => this.logger.debug({ err: err.message }, 'token invalidation subscriber: redis error'));
    sub.on('message', (channel: string, message: string) => {
      if (channel !== INVALIDATION_CHANNEL) return;
      const parsed = parseInvalidation(message);
      if (parsed) this.apply(parsed);
    });
    const subscribed = sub.subscribe(INVALIDATION_CHANNEL).then(
      () => undefined,
      (err: Error) => this.logger.warn({ err: err.message }, 'token invalidation subscriber: could not subscribe; relying on the cache TTL'),
    );
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([subscribed, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
  }

  /** Applies locally, then tells the other replicas. */
  async publish(invalidation: Invalidation): Promise<void> {
    this.apply(invalidation);
    if (!this.redis) return;
    try {
      await this.redis.publish(INVALIDATION_CHANNEL, JSON.stringify(invalidation));
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'could not publish token invalidation; other replicas catch up within the cache TTL');
    }
  }

  stop(): void {
    this.subscriber?.disconnect();
    this.subscriber = null;
  }
}

const ids = (value: unknown): string[] | undefined =>
  Array.isArray(value) && value.every((v) => typeof v === 'string' && v.length <= 64) ? (value as string[]) : undefined;

/** Reads a channel message; anything unexpected is ignored (the channel is shared infrastructure). */
export function parseInvalidation(message: string): Invalidation | undefined {
  try {
    const raw = JSON.parse(message) as { tokenIds?: unknown; connectionIds?: unknown };
    if (!raw || typeof raw !== 'object') return undefined;
    const tokenIds = ids(raw.tokenIds);
    const connectionIds = ids(raw.connectionIds);
    if (!tokenIds?.length && !connectionIds?.length) return undefined;
    return { ...(tokenIds ? { tokenIds } : {}), ...(connectionIds ? { connectionIds } : {}) };
  } catch {
    return undefined;
  }
}
