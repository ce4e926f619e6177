import type { Context, Middleware } from 'koa';
import type { DataSource } from 'typeorm';
import { IsNull } from 'typeorm';
import { AdminTokenEntity } from '@doorman/model';
import { AuthenticationError } from '@doorman/plugin-api';
import { OwnerRefused } from '../scope.ts';
import { ADMIN_API_PREFIX } from '../openapi.ts';
import type { AdminSessionAuthenticator } from '@doorman/plugin-api';
import { bearerToken, digestsEqual, hashSecret } from '../secrets.ts';

export interface AdminAuthState {
  kind: 'admin';
  /** `bootstrap` for the configured token, else the admin token's id. */
  tokenId: string;
  /** Set when the request came with a console session cookie instead of a token. */
  sessionId?: string;
}

/**
 * An organization owner's console session (signed in through Doorman's SSO): only admin routes whose
 * declared scope covers `orgIds` run (admin-routes.ts `scope`; docs/console.md).
 */
export interface OwnerAuthState {
  kind: 'owner';
  userId: string;
  sessionId: string;
  /** The organizations the person owns, read for this request. */
  orgIds: readonly string[];
}


/**
 * Which challenge a 401 carries: API clients get Bearer; browser pages (the job dashboard, the API
 * docs: apps mounted with `mountAdminApp`) get Basic alone, so the browser shows its sign-in prompt (a
 * Basic challenge listed after Bearer is ignored by browsers). The password is an admin token.
 */
export type AdminChallenge = 'bearer' | 'basic';
const CHALLENGES: Record<AdminChallenge, string> = {
  bearer: 'Bearer realm="doorman-admin"',
  basic: 'Basic realm="Doorman admin (password: an admin token)", charset="UTF-8"',
};
const unauthenticated = (message: string, challenge: AdminChallenge) => new AuthenticationError(message, { headers: { 'WWW-Authenticate': CHALLENGES[challenge] } });

/** The admin token from `Bearer <token>` or `Basic base64(<any user>:<token>)`. */
function adminCredential(header: string | undefined): string | undefined {
  const bearer = bearerToken(header);
  if (bearer) return bearer;
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!basic) return undefined;
  const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon >= 0 && colon < decoded.length - 1 ? decoded.slice(colon + 1) : undefined;
}

/**
 * The admin token's id (`bootstrap` for the configured one), or undefined when the token is unknown
 * or revoked. Shared by the admin authenticator and the console's sign-in.
 */
export async function verifyAdminToken(db: DataSource, bootstrapHash: string | undefined, token: string): Promise<string | undefined> {
  const hash = hashSecret(token);
  if (bootstrapHash && digestsEqual(hash, bootstrapHash)) return 'bootstrap';
  const row = await db.getRepository(AdminTokenEntity).findOne({ where: { hash, revokedAt: IsNull() }, select: { id: true, hash: true } });
  return row && digestsEqual(row.hash, hash) ? row.id : undefined;
}

/**
 * Admin authentication: the bootstrap token from configuration (kept only as its hash in memory)
 * or an admin token issued by the CLI (stored hashed). Without an Authorization header, a console
 * session (a cookie, checked by the console plugin through `adminSessionAuthRef`) is accepted.
 * Sets `ctx.state.auth`.
 */
export function adminAuthMiddleware(
  db: DataSource,
  bootstrapToken: string | undefined,
  sessions?: () => AdminSessionAuthenticator | undefined,
  challengeFor: (ctx: Context) => AdminChallenge = () => 'bearer',
): Middleware {
  const bootstrapHash = bootstrapToken ? hashSecret(bootstrapToken) : undefined;
  return async (ctx, next) => {
    const header = ctx.get('authorization');
    const session = header ? undefined : sessions?.();
    if (session) {
      const auth = await session.authenticate(ctx);
      if (auth?.kind === 'owner') {
        // Only the admin API's scoped routes serve owners; the job dashboard and the API docs are
        // deployment-wide pages (docs/console.md, "Organization owners").
        if (!ctx.path.startsWith(`${ADMIN_API_PREFIX}/`)) throw new OwnerRefused('this page is for deployment administrators: organization owners cannot use it');
        ctx.state.auth = { kind: 'owner', userId: auth.userId, sessionId: auth.sessionId, orgIds: auth.orgIds } satisfies OwnerAuthState;
        ctx.state.actor = { type: 'sso_user', id: auth.userId, requestId: ctx.state.requestId ?? null };
        return next();
      }
      if (auth) {
        ctx.state.auth = { kind: 'admin', tokenId: auth.tokenId, sessionId: auth.sessionId } satisfies AdminAuthState;
        ctx.state.actor = { type: 'admin_token', id: auth.tokenId, requestId: ctx.state.requestId ?? null };
        return next();
      }
    }
    const token = adminCredential(header);
    if (!token) throw unauthenticated('admin token required: send Authorization: Bearer <token>', challengeFor(ctx));
    const tokenId = await verifyAdminToken(db, bootstrapHash, token);
    if (!tokenId) throw unauthenticated('admin token is not valid', challengeFor(ctx));
    ctx.state.auth = { kind: 'admin', tokenId } satisfies AdminAuthState;
    ctx.state.actor = { type: 'admin_token', id: tokenId, requestId: ctx.state.requestId ?? null };
    await next();
  };
}
