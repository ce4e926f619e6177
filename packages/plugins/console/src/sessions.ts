/** Console sessions in `console_sessions`: sign-in, the per-request check, sign-out. */
import { randomBytes } from 'node:crypto';
import type { Context } from 'koa';
import { IsNull, type DataSource } from 'typeorm';
import { NotAllowedError, type AdminSessionAuthenticator, type AdminTokenSession } from '@doorman/plugin-api';
import { AdminTokenEntity, ConsoleSessionEntity, type ConsoleSession } from '@doorman/model';
import { clearedCookie, readCookie, sessionCookie, type CookieOptions } from './cookies.ts';
import { CSRF_HEADER, csrfToken, needsTouch, secondsLeft, sessionIdHash, sessionState, writeAllowed, type SessionLimits } from './policy.ts';

export interface SessionStoreOptions {
  db: DataSource;
  clock: { now(): Date };
  limits: SessionLimits;
  cookie: CookieOptions;
  /** Whether the gateway has a bootstrap token configured now (a session it opened ends when it is removed). */
  bootstrapConfigured: boolean;
  publicOrigin: string;
}

export interface ValidSession {
  id: string;
  row: ConsoleSession;
  csrfToken: string;
  expiresInSeconds: number;
}

export class ConsoleSessions implements AdminSessionAuthenticator {
  constructor(private readonly options: SessionStoreOptions) {}

  private get repo() {
    return this.options.db.getRepository(ConsoleSessionEntity);
  }

  /** Opens a session for a verified admin token; returns the Set-Cookie value and the session. */
  async open(tokenId: string): Promise<{ setCookie: string; session: ValidSession }> {
    const id = randomBytes(32).toString('base64url');
    const now = this.options.clock.now();
    const row: ConsoleSession = { idHash: sessionIdHash(id), tokenId, createdAt: now, lastSeenAt: now, expiresAt: new Date(now.getTime() + this.options.limits.absoluteMs), endedAt: null };
    await this.repo.insert(row);
    const expiresInSeconds = secondsLeft(row, now, this.options.limits);
    return { setCookie: sessionCookie(this.options.cookie, id, expiresInSeconds), session: { id, row, csrfToken: csrfToken(id), expiresInSeconds } };
  }

  /** The request's valid session (its last-seen time refreshed), or undefined. */
  async current(ctx: Context): Promise<ValidSession | undefined> {
    const id = readCookie(ctx.get('cookie') || undefined, this.options.cookie.name);
    if (!id || !/^[A-Za-z0-9_-]{43}$/.test(id)) return undefined;
    const row = await this.repo.findOneBy({ idHash: sessionIdHash(id) });
    if (!row) return undefined;
    const now = this.options.clock.now();
    if (sessionState(row, now, this.options.limits) !== 'active') return undefined;
    if (!(await this.tokenStillValid(row.tokenId))) return undefined;
    if (needsTouch(row, now, this.options.limits)) {
      row.lastSeenAt = now;
      await this.repo.update({ idHash: row.idHash, endedAt: IsNull() }, { lastSeenAt: now });
    }
    return { id, row, csrfToken: csrfToken(id), expiresInSeconds: secondsLeft(row, now, this.options.limits) };
  }

  /** A refreshed cookie (its Max-Age follows the idle limit). */
  refreshCookie(session: ValidSession): string {
    return sessionCookie(this.options.cookie, session.id, session.expiresInSeconds);
  }

  /** Ends the request's session (if any); returns the Set-Cookie value that clears it. */
  async close(ctx: Context): Promise<string> {
    const id = readCookie(ctx.get('cookie') || undefined, this.options.cookie.name);
    if (id) await this.repo.update({ idHash: sessionIdHash(id), endedAt: IsNull() }, { endedAt: this.options.clock.now() });
    return clearedCookie(this.options.cookie);
  }

  /** Admin authentication through the session cookie (core's admin authenticator calls this). */
  async authenticate(ctx: Context): Promise<AdminTokenSession | undefined> {
    const session = await this.current(ctx);
    if (!session) return undefined;
    const allowed = writeAllowed(
      { method: ctx.method, path: ctx.path, csrfHeader: ctx.get(CSRF_HEADER) || undefined, origin: ctx.get('origin') || undefined, ownOrigins: [this.options.publicOrigin, ctx.origin] },
      session.csrfToken,
    );
    if (!allowed) throw new NotAllowedError(`a change made with a console session needs the session's CSRF token in ${'X-CSRF-Token'}`, { field: 'X-CSRF-Token' });
    return { kind: 'admin' as const, tokenId: session.row.tokenId, sessionId: session.row.idHash.slice(0, 12) };
  }

  /** Revoking the admin token that opened a session ends the session. */
  private async tokenStillValid(tokenId: string): Promise<boolean> {
    if (tokenId === 'bootstrap') return this.options.bootstrapConfigured;
    return (await this.options.db.getRepository(AdminTokenEntity).countBy({ id: tokenId, revokedAt: IsNull() })) > 0;
  }

  /** Removes sessions that can no longer be used (called by a periodic timer). */
  async purge(): Promise<number> {
    const now = this.options.clock.now();
    const idleBefore = new Date(now.getTime() - this.options.limits.idleMs);
    const result = await this.repo
      .createQueryBuilder()
      .delete()
      .where('expires_at < :now OR last_seen_at < :idleBefore OR ended_at IS NOT NULL', { now, idleBefore })
      .execute();
    return result.affected ?? 0;
  }
}
