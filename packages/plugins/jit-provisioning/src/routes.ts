/** The public SSO routes (unauthenticated): sign-in, callbacks, SP metadata, the session. */
import { In, IsNull } from 'typeorm';
import { InputError, NotFoundError, PayloadTooLargeError, ServiceUnavailableError } from '@doorman/plugin-api';
import {
  ConnectionDomainEntity,
  OrganizationEntity,
  OrgMembershipEntity,
  SsoConnectionEntity,
  SsoSessionEntity,
  TeamEntity,
  TeamMembershipEntity,
  UserEntity,
  type SsoConnection,
} from '@doorman/model';
import { emailDomain, identityFromOidc, identityFromSaml, isEmail, type IdentityResult } from './attributes.ts';
import type { JitEnv } from './deps.ts';
import { denials, SignInDenied } from './errors.ts';
import { createOidcClient } from './oidc.ts';
import { recordDenial, signIn } from './provision.ts';
import { samlLoginUrl, samlMetadata, spUrls, verifySamlResponse } from './saml.ts';
import { clearedCookie, readCookie, sessionCookie, signSessionId, verifySessionCookie, type CookieOptions } from './session.ts';
import type { EphemeralStore } from './store.ts';
import { isReturnPath, liveSession, type LiveSession } from './identity.ts';

import {
  checkTransactionCookie,
  clearedTransactionCookie,
  TRANSACTION_TTL_MS,
  transactionCookie,
  transactionCookieName,
  transactionKey,
  type TransactionCookieOptions,
  type TransactionKind,
} from './transaction.ts';

/** Where a pending sign-in returns to (kept beside its state, for as long). */
const returnKey = (kind: TransactionKind, id: string) => `return:${kind}:${id}`;

type Env = JitEnv;
interface RawRequest {
  headers: Record<string, string | string[] | undefined>;
  [Symbol.asyncIterator](): AsyncIterator<Buffer | string>;
}

/** Reads an `application/x-www-form-urlencoded` body (the core parser only reads JSON), bounded. */
export async function readForm(req: RawRequest, limitBytes: number): Promise<URLSearchParams> {
  const type = String(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') throw new InputError('send the SAML response as application/x-www-form-urlencoded (HTTP-POST binding)');
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limitBytes) throw new PayloadTooLargeError('request body is larger than the configured limit');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += buf.length;
    if (size > limitBytes) throw new PayloadTooLargeError('request body is larger than the configured limit');
    chunks.push(buf);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/** IdP settings a connection needs before anyone can sign in through it. */
export function missingSettings(connection: SsoConnection): string[] {
  const s = connection.idpSettings ?? {};
  const required = connection.type === 'saml' ? (['entryPoint', 'idpCert'] as const) : (['issuer', 'clientId'] as const);
  return required.filter((k) => !s[k]);
}

export function registerRoutes(env: Env, deps: { store: EphemeralStore; sessionSecret: string }) {
  const r = env.http.public;
  const publicUrl = env.gateway.publicUrl;
  const cookie: CookieOptions = { name: env.config.cookieName, secure: publicUrl.startsWith('https://') };
  const txCookie: TransactionCookieOptions = { baseName: cookie.name, secure: cookie.secure, key: transactionKey(deps.sessionSecret) };
  const nowMs = () => env.clock.now().getTime();

  /**
   * Refuses (403) a callback/ACS for a sign-in this browser did not start: no transaction cookie for
   * `id`, or one signed for another connection, or expired. The cookie is cleared with the answer.
   */
  function requireTransaction(ctx: any, kind: TransactionKind, id: string, connectionId: string) {
    const value = readCookie(ctx.get('cookie'), transactionCookieName(txCookie.baseName, kind, id));
    const check = checkTransactionCookie(txCookie.key, value, kind, id, connectionId, nowMs());
    if (value !== undefined) ctx.append('Set-Cookie', clearedTransactionCookie(txCookie, kind, id));
    ctx.state.ssoTransaction = returnKey(kind, id);
    if (check !== 'ok') {
      ctx.state.logger?.info({ kind, connectionId, check }, 'sso callback without this browser\'s transaction cookie');
      throw denials.browserMismatch(traceOf(ctx));
    }
  }
  const oidc = createOidcClient({ store: deps.store, publicUrl, now: () => env.clock.now().getTime() });
  const connections = env.db.getRepository(SsoConnectionEntity);
  const loadConnection = (id: string) => (/^[0-9a-f-]{36}$/i.test(id) ? connections.findOne({ where: { id } }) : Promise.resolve(null));
  const traceOf = (ctx: { state: { requestId?: string } }) => String(ctx.state.requestId ?? 'none');

  /** The IdP's answer is only trusted for an email on one of the connection's VERIFIED domains. */
  async function requireVerifiedDomain(connection: SsoConnection, email: string, traceId: string) {
    const domain = emailDomain(email);
    const verified = await env.db.getRepository(ConnectionDomainEntity).exists({ where: { connectionId: connection.id, domain, verified: true } });
    if (!verified) throw denials.unverifiedDomain(domain, traceId);
  }

  function identityOrDeny(result: IdentityResult, traceId: string) {
    if (result.ok) return result.identity;
    const p = result.problem;
    if (p.kind === 'name_id_not_email') throw denials.nameIdNotEmail(traceId);
    if (p.kind === 'email_missing') throw denials.emailMissing(traceId);
    if (p.kind === 'email_not_verified') throw denials.emailNotVerified(traceId);
    if (p.kind === 'email_mismatch') throw denials.emailMismatch(p.nameId, p.attribute, p.value, traceId);
    throw denials.invalidAttribute(p.message, p.field, traceId);
  }

  /** Runs a callback; a refusal is recorded as `sso.sign_in_denied` and rendered with its trace id. */
  async function completeSignIn(
    ctx: any,
    protocol: 'saml' | 'oidc',
    verify: (note: { connection: SsoConnection | null; email: string | null }) => Promise<{ connection: SsoConnection; result: IdentityResult }>,
  ) {
    const traceId = traceOf(ctx);
    const note: { connection: SsoConnection | null; email: string | null } = { connection: null, email: null };
    try {
      const { connection, result } = await verify(note);
      const identity = identityOrDeny(result, traceId);
      note.email = identity.email;
      await requireVerifiedDomain(connection, identity.email, traceId);
      const sessionMinutes = identity.sessionMinutes ?? env.config.sessionMinutes;
      const session = await signIn(env, { connection, identity, requestId: traceId, sessionMinutes, protocol });
      const maxAge = sessionMinutes * 60;
      ctx.append('Set-Cookie', sessionCookie(cookie, signSessionId(deps.sessionSecret, session.sessionId), maxAge));
      ctx.set('Cache-Control', 'no-store');
      // A sign-in started with `return` (the console's owner sign-in) goes back there (303: a GET).
      const back = ctx.state.ssoTransaction ? await deps.store.take(ctx.state.ssoTransaction) : null;
      if (back && isReturnPath(back)) {
        ctx.status = 303;
        ctx.redirect(`${publicUrl}${back}`);
        return;
      }
      ctx.body = { user: session.user, connectionId: connection.id, expiresAt: session.expiresAt.toISOString(), firstTime: session.firstTime, accountCreated: session.accountCreated };
      ctx.state.logger?.info({ connectionId: connection.id, userId: session.user.id, protocol, firstTime: session.firstTime }, 'sso sign-in');
    } catch (err) {
      // Known from here on: the refusal reaches the connection's activity log (docs/connection-activity.md).
      if (note.connection) ctx.state.connectionId = note.connection.id;
      if (!(err instanceof SignInDenied)) throw err;
      ctx.state.logger?.info({ reason: err.reason, connectionId: note.connection?.id ?? null, protocol }, 'sso sign-in denied');
      await recordDenial(env, err, {
        connectionId: note.connection?.id ?? null,
        orgId: note.connection?.defaultOrgId ?? null,
        email: note.email,
        requestId: traceId,
        protocol,
      });
      throw err.error;
    }
  }

  r.get('/sso/login', async (ctx) => {
    const traceId = traceOf(ctx);
    const email = typeof ctx.query.email === 'string' ? ctx.query.email.trim() : '';
    if (!isEmail(email)) throw new InputError('email: enter the email address you sign in with', { field: 'email' });
    const chosen = typeof ctx.query.connection === 'string' ? ctx.query.connection : null;
    const back = typeof ctx.query.return === 'string' ? ctx.query.return : undefined;
    if (back !== undefined && !isReturnPath(back)) throw new InputError('return: a path on this deployment, starting with one "/"', { field: 'return' });
    const domain = emailDomain(email);
    const rows = await env.db.getRepository(ConnectionDomainEntity).find({ where: { domain } });
    if (!rows.length) throw denials.unknownDomain(domain, traceId).error;
    const verifiedIds = [...new Set(rows.filter((d) => d.verified).map((d) => d.connectionId))];
    if (!verifiedIds.length) throw denials.unverifiedDomain(domain, traceId).error;
    const candidates = await connections.find({ where: { id: In(verifiedIds) }, order: { name: 'ASC' } });
    let connection: SsoConnection | undefined;
    if (chosen) {
      connection = candidates.find((c) => c.id === chosen);
      if (!connection) throw new NotFoundError(`connection '${chosen}' does not serve domain '${domain}'`, { field: 'connection' });
    } else if (candidates.length > 1) {
      // "users choose their IdP when they select Continue with SSO"
      ctx.status = 409;
      ctx.body = {
        error: { code: 'choose_connection', message: `Several SSO connections serve '${domain}': choose one with ?connection=<id>.`, field: 'connection' },
        connections: candidates.map((c) => ({ id: c.id, name: c.name, type: c.type })),
      };
      return;
    } else connection = candidates[0];
    if (!connection) throw denials.unknownDomain(domain, traceId).error;
    ctx.state.connectionId = connection.id;
    const missing = missingSettings(connection);
    if (missing.length) {
      throw new ServiceUnavailableError(`SSO connection '${connection.name}' is not fully configured (missing ${missing.join(', ')}). Contact your company administrator. TraceID: ${traceId}`);
    }
    let location: string;
    if (connection.type === 'saml') {
      const { url, requestId } = await samlLoginUrl(connection, spUrls(publicUrl, connection.id), deps.store);
      ctx.append('Set-Cookie', transactionCookie(txCookie, 'saml', requestId, connection.id, nowMs()));
      if (back) await deps.store.put(returnKey('saml', requestId), back, TRANSACTION_TTL_MS);
      location = url;
    } else {
      const { url, state } = await oidc.loginUrl(connection, email);
      ctx.append('Set-Cookie', transactionCookie(txCookie, 'oidc', state, connection.id, nowMs()));
      if (back) await deps.store.put(returnKey('oidc', state), back, TRANSACTION_TTL_MS);
      location = url;
    }
    ctx.set('Cache-Control', 'no-store');
    ctx.redirect(location);
  });

  r.get('/sso/oidc/callback', async (ctx) => {
    // The redirect URI the IdP saw, from the public URL (not the Host header a proxy may rewrite).
    const current = new URL(`${publicUrl}${ctx.path}${ctx.querystring ? `?${ctx.querystring}` : ''}`);
    await completeSignIn(ctx, 'oidc', async (note) => {
      const { connection, claims } = await oidc.complete(current, loadConnection, traceOf(ctx), (state, connectionId) => requireTransaction(ctx, 'oidc', state, connectionId));
      note.connection = connection;
      return { connection, result: identityFromOidc(claims) };
    });
  });

  r.post('/sso/saml/acs', async (ctx) => {
    const form = await readForm(ctx.req, env.gateway.bodyLimitBytes);
    const samlResponse = form.get('SAMLResponse');
    if (!samlResponse) throw new InputError('SAMLResponse: missing from the form', { field: 'SAMLResponse' });
    const connectionId = typeof ctx.query.connection === 'string' ? ctx.query.connection : '';
    const connection = connectionId ? await loadConnection(connectionId) : null;
    if (!connection || connection.type !== 'saml') {
      throw new NotFoundError("unknown SAML connection: post to the ACS URL from the connection's metadata", { field: 'connection' });
    }
    await completeSignIn(ctx, 'saml', async (note) => {
      note.connection = connection;
      ctx.state.connectionId = connection.id;
      const verified = await verifySamlResponse({
        connection,
        urls: spUrls(publicUrl, connection.id),
        store: deps.store,
        samlResponse,
        now: env.clock.now().getTime(),
        traceId: traceOf(ctx),
        bindRequest: (inResponseTo) => requireTransaction(ctx, 'saml', inResponseTo, connection.id),
      });
      const attributes = (verified.profile.attributes ?? {}) as Record<string, unknown>;
      return { connection, result: identityFromSaml(verified.profile.nameID, attributes) };
    });
  });

  r.get('/sso/saml/metadata/:connectionId', async (ctx) => {
    const connection = await loadConnection(ctx.params.connectionId!);
    if (!connection || connection.type !== 'saml') throw new NotFoundError(`SAML connection '${ctx.params.connectionId}' not found`);
    ctx.type = 'application/samlmetadata+xml';
    ctx.body = samlMetadata(connection, spUrls(publicUrl, connection.id), deps.store);
  });

  /**
   * The live session behind the cookie, re-read on every request: ended, expired, or its person
   * deprovisioned from what the session's connection serves (by any SCIM connection, whatever the
   * deactivation job's state) → null. One statement (deprovisioning.ts SESSION_CHECK_SQL); a
   * deprovisioned session found here is ended on the spot.
   */
  async function currentSession(ctx: any): Promise<LiveSession | null> {
    const id = verifySessionCookie(deps.sessionSecret, readCookie(ctx.get('cookie'), cookie.name));
    return id ? liveSession(env, id, ctx.state.logger) : null;
  }

  r.get('/sso/me', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    const session = await currentSession(ctx);
    if (!session) {
      // Answered here rather than thrown: polling /sso/me signed out is normal, not a refused request.
      ctx.status = 401;
      ctx.set('Doorman-Error-Code', 'DMN_SSO_SESSION_MISSING');
      ctx.body = { error: { code: 'DMN_SSO_SESSION_MISSING', message: 'not signed in, or the session has ended: sign in again' } };
      return;
    }
    const user = await env.db.getRepository(UserEntity).findOneBy({ id: session.userId });
    if (!user) {
      ctx.status = 401;
      ctx.set('Doorman-Error-Code', 'DMN_SSO_ACCOUNT_GONE');
      ctx.body = { error: { code: 'DMN_SSO_ACCOUNT_GONE', message: 'the account no longer exists' } };
      return;
    }
    const memberships = await env.db.getRepository(OrgMembershipEntity).find({ where: { userId: user.id } });
    const teamMemberships = await env.db.getRepository(TeamMembershipEntity).find({ where: { userId: user.id } });
    const orgs = memberships.length ? await env.db.getRepository(OrganizationEntity).find({ where: { id: In(memberships.map((m) => m.orgId)) } }) : [];
    const teams = teamMemberships.length ? await env.db.getRepository(TeamEntity).find({ where: { id: In(teamMemberships.map((t) => t.teamId)) } }) : [];
    const orgName = new Map(orgs.map((o) => [o.id, o.name]));
    ctx.body = {
      user: { id: user.id, email: user.email, username: user.username, fullName: user.fullName },
      session: { connectionId: session.connectionId, expiresAt: session.expiresAt.toISOString() },
      organizations: memberships
        .map((m) => ({
          id: m.orgId,
          name: orgName.get(m.orgId) ?? null,
          role: m.role,
          teams: teams.filter((t) => t.orgId === m.orgId).map((t) => ({ id: t.id, name: t.name })).sort((a, b) => a.name.localeCompare(b.name)),
        }))
        .sort((a, b) => String(a.name).localeCompare(String(b.name))),
    };
  });

  r.post('/sso/logout', async (ctx) => {
    const id = verifySessionCookie(deps.sessionSecret, readCookie(ctx.get('cookie'), cookie.name));
    if (id) await env.db.getRepository(SsoSessionEntity).update({ id, endedAt: IsNull() }, { endedAt: env.clock.now() });
    ctx.set('Set-Cookie', clearedCookie(cookie));
    ctx.status = 204;
  });
}
