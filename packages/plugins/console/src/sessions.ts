/** Console sessions in `console_sessions`: sign-in, the per-request check, sign-out. */
import { randomBytes } from 'node:crypto';
import type { Context } from 'koa';
import { IsNull, type DataSource } from 'typeorm';
import { defineError, type AdminSessionAuthenticator, type AdminTokenSession, type OwnerSession, type SsoIdentityService } from '@doorman/plugin-api';
import { AdminTokenEntity, ConsoleSessionEntity, OrgMembershipEntity, type ConsoleSession } from '@doorman/model';
import { clearedCookie, readCookie, sessionCookie, type CookieOptions } from './cookies.ts';
import { CSRF_HEADER, csrfToken, needsTouch, secondsLeft, sessionIdHash, sessionState, writeAllowed, type SessionLimits } from './policy.ts';

/** 403: a change with a console session lacks the session's CSRF token. */
const CsrfMissing = defineError('DMN_CONSOLE_CSRF_REQUIRED', 403);

export interface SessionStoreOptions {
  db: DataSource;
  clock: { now(): Date };
  limits: SessionLimits;
  cookie: CookieOptions;
  /** Whether the gateway has a bootstrap token configured now (a session it opened ends when it is removed). */
  bootstrapConfigured: boolean;
  publicOrigin: string;
  /** jit-provisioning's SSO sessions, when that plugin is enabled (an owner's session needs it). */
  sso: () => SsoIdentityService | undefined;
}

export interface ValidSession {
  id: string;
  row: ConsoleSession;
  csrfToken: string;
  expiresInSeconds: number;
  /** An organization owner's session: the person and the organizations they own now. */
  owner?: { userId: string; orgIds: string[] };
}

export class ConsoleSessions implements AdminSessionAuthenticator {
  constructor(private readonly options: SessionStoreOptions) {}

  private get repo() {
    return this.options.db.getRepository(ConsoleSessionEntity);
  }

  /**
   * Opens a session for a verified admin token, or for an organization owner signed in through SSO
   * (`owner`: the person, the SSO session it rests on, the organizations they own); returns the
   * Set-Cookie value and the session.
   */
  async open(tokenId: string | null, owner?: { userId: string; ssoSessionId: string; orgIds: string[] }): Promise<{ setCookie: string; session: ValidSession }> {
    const id = randomBytes(32).toString('base64url');
    const now = this.options.clock.now();
    const row: ConsoleSession = {
      idHash: sessionIdHash(id),
      tokenId: owner ? null : tokenId,
      userId: owner?.userId ?? null,
      ssoSessionId: owner?.ssoSessionId ?? null,
      createdAt: now,
      lastSeenAt: now,
      expiresAt: new Date(now.getTime() + this.options.limits.absoluteMs),
      endedAt: null,
    };
    await this.repo.insert(row);
    const expiresInSeconds = secondsLeft(row, now, this.options.limits);
    const session: ValidSession = { id, row, csrfToken: csrfToken(id), expiresInSeconds, ...(owner ? { owner: { userId: owner.userId, orgIds: owner.orgIds } } : {}) };
    return { setCookie: sessionCookie(this.options.cookie, id, expiresInSeconds), session };
  }

  /** The request's valid session (its last-seen time refreshed), or undefined. */
  async current(ctx: Context): Promise<ValidSession | undefined> {
    const id = readCookie(ctx.get('cookie') || undefined, this.options.cookie.name);
    if (!id || !/^[A-Za-z0-9_-]{43}$/.test(id)) return undefined;
    const row = await this.repo.findOneBy({ idHash: sessionIdHash(id) });
    if (!row) return undefined;
    const now = this.options.clock.now();
    if (sessionState(row, now, this.options.limits) !== 'active') return undefined;
    let owner: ValidSession['owner'];
    if (row.userId) {
      owner = await this.ownerStillValid(row.userId, row.ssoSessionId ?? null);
      if (!owner) return undefined;
    } else if (!row.tokenId || !(await this.tokenStillValid(row.tokenId))) return undefined;
    if (needsTouch(row, now, this.options.limits)) {
      row.lastSeenAt = now;
      await this.repo.update({ idHash: row.idHash, endedAt: IsNull() }, { lastSeenAt: now });
    }
    return { id, row, csrfToken: csrfToken(id), expiresInSeconds: secondsLeft(row, now, this.options.limits), ...(owner ? { owner } : {}) };
  }

  /** The organizations `userId` owns now (the owner role is re-read on every request). */
  async ownedOrgs(userId: string): Promise<string[]> {
    const rows = await this.options.db.getRepository(OrgMembershipEntity).find({ where: { userId, role: 'owner' }, select: { orgId: true } });
    return rows.map((r) => r.orgId).sort();
  }

  /** An owner's session lives while its SSO session does and the person still owns an organization. */
  private async ownerStillValid(userId: string, ssoSessionId: string | null): Promise<ValidSession['owner']> {
    const sso = this.options.sso();
    if (!sso || !ssoSessionId) return undefined;
    const live = await sso.live(ssoSessionId);
    if (!live || live.userId !== userId) return undefined;
    const orgIds = await this.ownedOrgs(userId);
    return orgIds.length ? { userId, orgIds } : undefined;
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

  /**
   * Admin authentication through the session cookie (core's admin authenticator calls this). The
   * request's own origin is built from its protocol and host: Koa 3's `ctx.origin` is the Origin header
   * the browser sent, which would let any site's Origin pass.
   */
  async authenticate(ctx: Context): Promise<AdminTokenSession | OwnerSession | undefined> {
    const session = await this.current(ctx);
    if (!session) return undefined;
    const allowed = writeAllowed(
      { method: ctx.method, path: ctx.path, csrfHeader: ctx.get(CSRF_HEADER) || undefined, origin: ctx.get('origin') || undefined, ownOrigins: [this.options.publicOrigin, `${ctx.protocol}://${ctx.host}`] },
      session.csrfToken,
    );
    if (!allowed) throw new CsrfMissing(`a change made with a console session needs the session's CSRF token in ${'X-CSRF-Token'}`, { field: 'X-CSRF-Token' });
    const sessionId = session.row.idHash.slice(0, 12);
    if (session.owner) return { kind: 'owner', userId: session.owner.userId, orgIds: session.owner.orgIds, sessionId };
    return { kind: 'admin', tokenId: session.row.tokenId!, sessionId };
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
