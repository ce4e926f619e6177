/**
 * Short-lived sign-in state shared by every replica: OIDC state/nonce/PKCE verifiers, SAML
 * AuthnRequest ids and consumed assertion ids. Redis when the gateway has it (the callback may land
 * on any replica); without Redis (embedded development mode, one process) an in-memory map with the
 * same semantics. A Redis error fails the sign-in closed (503), never open.
 */
import { ServiceUnavailableError, type RedisClient } from '@doorman/plugin-api';

export interface EphemeralStore {
  /** Stores `value` under `key` for `ttlMs`. */
  put(key: string, value: string, ttlMs: number): Promise<void>;
  get(key: string): Promise<string | null>;
  /** Reads and deletes in one step: a value is consumed at most once, across replicas. */
  take(key: string): Promise<string | null>;
  delete(key: string): Promise<void>;
  /** Sets `key` only if absent; false when it already existed (a replay). */
  claim(key: string, ttlMs: number): Promise<boolean>;
}

const PREFIX = 'doorman:jit:';

const unavailable = (err: unknown) =>
  new ServiceUnavailableError('sign-in is temporarily unavailable (session store unreachable); try again shortly', { cause: err });

export function redisStore(redis: NonNullable<RedisClient>, prefix = PREFIX): EphemeralStore {
  const guard = async <T>(op: () => Promise<T>): Promise<T> => {
    try {
      return await op();
    } catch (err) {
      throw unavailable(err);
    }
  };
  const ms = (ttlMs: number) => Math.max(1, Math.ceil(ttlMs));
  return {
    put: (key, value, ttlMs) => guard(async () => void (await redis.set(prefix + key, value, 'PX', ms(ttlMs)))),
    get: (key) => guard(() => redis.get(prefix + key)),
    take: (key) => guard(() => redis.getdel(prefix + key)),
    delete: (key) => guard(async () => void (await redis.del(prefix + key))),
    claim: (key, ttlMs) => guard(async () => (await redis.set(prefix + key, '1', 'PX', ms(ttlMs), 'NX')) === 'OK'),
  };
}

/** One process only (embedded mode): state does not survive a restart or reach another replica. */
export function memoryStore(now: () => number = Date.now): EphemeralStore {
  const entries = new Map<string, { value: string; expiresAt: number }>();
  const live = (key: string) => {
    const e = entries.get(key);
    if (e && e.expiresAt <= now()) entries.delete(key);
    return entries.get(key) ?? null;
  };
  const sweep = () => {
    if (entries.size < 10_000) return;
    for (const k of [...entries.keys()]) live(k);
  };
  return {
    async put(key, value, ttlMs) {
      sweep();
      entries.set(key, { value, expiresAt: now() + ttlMs });
    },
    async get(key) {
      return live(key)?.value ?? null;
    },
    async take(key) {
      const e = live(key);
      entries.delete(key);
      return e?.value ?? null;
    },
    async delete(key) {
      entries.delete(key);
    },
    async claim(key, ttlMs) {
      if (live(key)) return false;
      sweep();
      entries.set(key, { value: '1', expiresAt: now() + ttlMs });
      return true;
    },
  };
}
