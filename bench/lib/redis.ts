import { Redis } from 'ioredis';

/**
 * The bench's own Redis logical database: its gateways' BullMQ queues and rate-limit keys meet
 * nobody else's runs, and its keys are removed afterwards. Never FLUSHDB/FLUSHALL.
 */
async function withDb<T>(host: string, port: number, db: number, work: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis({ host, port, db, lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 5_000, retryStrategy: () => null });
  try {
    await redis.connect();
    return await work(redis);
  } finally {
    redis.disconnect();
  }
}

/** A random empty logical database among 1-15 (0 is everybody's default), so two runs rarely meet. */
export async function pickEmptyRedisDb(host: string, port: number): Promise<number> {
  // One connection that SELECTs each database in turn, not one connection per database.
  const empty = await withDb(host, port, 0, async (redis) => {
    const found: number[] = [];
    for (let db = 1; db <= 15; db++) {
      await redis.select(db);
      if ((await redis.dbsize()) === 0) found.push(db);
    }
    return found;
  });
  if (!empty.length) throw new Error('no empty Redis logical database (1-15) for the bench');
  return empty[Math.floor(Math.random() * empty.length)]!;
}

/** Deletes the keys matching the glob `pattern` in `db` (the bench's own database); returns how many. */
export async function deleteKeys(host: string, port: number, db: number, pattern: string): Promise<number> {
  return withDb(host, port, db, async (redis) => {
    let deleted = 0;
    for await (const keys of redis.scanStream({ match: pattern, count: 500 }) as AsyncIterable<string[]>) {
      if (keys.length) deleted += await redis.del(...keys);
    }
    return deleted;
  });
}

/**
 * Jobs BullMQ workers hold right now: the length of every `<prefix>:<queue>:active` list in `db` (the
 * bench's own database), summed.
 */
export async function activeJobCount(host: string, port: number, db: number, prefix: string): Promise<number> {
  return withDb(host, port, db, async (redis) => {
    let active = 0;
    for await (const keys of redis.scanStream({ match: `${prefix}:*:active`, count: 500 }) as AsyncIterable<string[]>) {
      for (const key of keys) if ((await redis.type(key)) === 'list') active += await redis.llen(key);
    }
    return active;
  });
}
