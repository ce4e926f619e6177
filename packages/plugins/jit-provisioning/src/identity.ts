/**
 * The live SSO session behind a session id, and the identity service other plugins read it through
 * (`ssoIdentityRef`: the console opens an organization owner's session from it and re-checks it on
 * every request; docs/console.md, "Organization owners"). Ended, expired or deprovisioned sessions
 * are not live; a deprovisioned one found here is ended on the spot (deprovisioning.ts SESSION_CHECK_SQL).
 */
import { IsNull } from 'typeorm';
import type { SsoIdentity, SsoIdentityService } from '@doorman/plugin-api';
import type { JitEnv } from './deps.ts';
import { SsoSessionEntity } from '@doorman/model';
import { SESSION_CHECK_SQL } from './deprovisioning.ts';
import { readCookie, verifySessionCookie } from './session.ts';

/** DATETIME(3) as read by a raw query: a Date (mysql2) or `YYYY-MM-DD HH:MM:SS.mmm` UTC text (SQLite). */
const toDate = (v: Date | string): Date => (v instanceof Date ? v : new Date(`${v.replace(' ', 'T')}Z`));

export interface LiveSession extends SsoIdentity {
  expiresAt: Date;
}

export async function liveSession(env: Pick<JitEnv, 'db' | 'clock'>, id: string, log?: { info(obj: object, msg: string): void }): Promise<LiveSession | null> {
  const [row]: Array<{ id: string; userId: string; connectionId: string; expiresAt: Date | string; endedAt: Date | string | null; deprovisioned: number | string }> = await env.db.query(SESSION_CHECK_SQL, [id]);
  if (!row || row.endedAt) return null;
  const expiresAt = toDate(row.expiresAt);
  if (expiresAt.getTime() <= env.clock.now().getTime()) return null;
  if (Number(row.deprovisioned)) {
    await env.db.getRepository(SsoSessionEntity).update({ id, endedAt: IsNull() }, { endedAt: env.clock.now() });
    log?.info({ connectionId: row.connectionId }, 'sso session refused: the person was deprovisioned from its organization');
    return null;
  }
  return { sessionId: row.id, userId: row.userId, connectionId: row.connectionId, expiresAt };
}

/** A path on this deployment a sign-in may return to: one leading slash, no scheme or host, short. */
export function isReturnPath(value: string): boolean {
  return value.length <= 256 && /^\/(?![/\\])[A-Za-z0-9._~!$&'()*+,;=:@%/?-]*$/.test(value) && !value.includes('\\');
}

export function ssoIdentityService(env: Pick<JitEnv, 'db' | 'clock'>, o: { sessionSecret: string; cookieName: string }): SsoIdentityService {
  const strip = (s: LiveSession | null): SsoIdentity | undefined => (s ? { sessionId: s.sessionId, userId: s.userId, connectionId: s.connectionId } : undefined);
  return {
    async current(ctx) {
      const c = ctx as unknown as { get(name: string): string };
      const id = verifySessionCookie(o.sessionSecret, readCookie(c.get('cookie'), o.cookieName));
      return id ? strip(await liveSession(env, id)) : undefined;
    },
    async live(sessionId) {
      return /^[0-9a-f-]{36}$/.test(sessionId) ? strip(await liveSession(env, sessionId)) : undefined;
    },
    loginPath(email, returnTo) {
      if (!isReturnPath(returnTo)) throw new TypeError('returnTo must be a path on this deployment');
      return `/sso/login?${new URLSearchParams({ email, return: returnTo }).toString()}`;
    },
  };
}
