import type { Middleware } from 'koa';
import type { DataSource } from 'typeorm';
import { IsNull } from 'typeorm';
import { AdminTokenEntity } from '@doorman/model';
import { AuthenticationError } from '../errors.ts';
import { bearerToken, digestsEqual, hashSecret } from '../secrets.ts';

export interface AdminAuthState {
  kind: 'admin';
  /** `bootstrap` for the configured token, else the admin token's id. */
  tokenId: string;
}

const unauthenticated = (message: string) =>
  new AuthenticationError(message, { headers: { 'WWW-Authenticate': 'Bearer realm="doorman-admin"' } });

/**
 * Admin authentication: the bootstrap token from configuration (kept only as its hash in memory)
 * or an admin token issued by the CLI (stored hashed). Sets `ctx.state.auth`.
 */
export function adminAuthMiddleware(db: DataSource, bootstrapToken: string | undefined): Middleware {
  const bootstrapHash = bootstrapToken ? hashSecret(bootstrapToken) : undefined;
  return async (ctx, next) => {
    const token = bearerToken(ctx.get('authorization'));
    if (!token) throw unauthenticated('admin token required: send Authorization: Bearer <token>');
    const hash = hashSecret(token);
    let tokenId: string | undefined;
    if (bootstrapHash && digestsEqual(hash, bootstrapHash)) tokenId = 'bootstrap';
    else {
      const row = await db.getRepository(AdminTokenEntity).findOne({ where: { hash, revokedAt: IsNull() }, select: { id: true, hash: true } });
      if (row && digestsEqual(row.hash, hash)) tokenId = row.id;
    }
    if (!tokenId) throw unauthenticated('admin token is not valid');
    ctx.state.auth = { kind: 'admin', tokenId } satisfies AdminAuthState;
    ctx.state.actor = { type: 'admin_token', id: tokenId, requestId: ctx.state.requestId ?? null };
    await next();
  };
}
