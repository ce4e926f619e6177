/**
 * OpenID Connect relying party on openid-client 6: discovery, authorization code with PKCE, state
 * and nonce. The state, nonce and PKCE verifier live in the shared store (10 minutes, consumed once),
 * so the callback may land on any replica. ID token signatures are verified against the issuer's
 * JWKS (`enableNonRepudiationChecks`): openid-client 6 skips that on the code flow by default.
 */
import * as oidc from 'openid-client';
import { createHash } from 'node:crypto';
import type { SsoConnection } from '@doorman/model';
import { defineError, ServiceUnavailableError } from '@doorman/plugin-api';
import { denials } from './errors.ts';
import type { EphemeralStore } from './store.ts';

/** A stored OIDC connection lacks what sign-in needs (the admin API refuses to save one like it). */
const SsoConnectionIncomplete = defineError('DMN_SSO_CONNECTION_INCOMPLETE', 500);

export const STATE_TTL_MS = 10 * 60_000;
const DISCOVERY_TTL_MS = 5 * 60_000;

export const callbackUrl = (publicUrl: string) => `${publicUrl}/sso/oidc/callback`;

/** Plain HTTP is allowed only for an issuer on the loopback interface (development and tests). */
export function isLoopbackHttp(issuer: string): boolean {
  try {
    const u = new URL(issuer);
    return u.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname);
  } catch {
    return false;
  }
}

interface PendingLogin {
  connectionId: string;
  nonce: string;
  verifier: string;
}

export interface OidcClient {
  /** The IdP URL, and the `state` it carries (the routes bind it to the browser with a transaction cookie). */
  loginUrl(connection: SsoConnection, loginHint: string | null): Promise<{ url: string; state: string }>;
  /** Completes the code flow for the callback URL; returns the connection id and the verified claims. */
  complete(
    callback: URL,
    loadConnection: (id: string) => Promise<SsoConnection | null>,
    traceId: string,
    /** Throws when this browser did not start the sign-in of `state`: checked before the state is consumed. */
    bindState: (state: string, connectionId: string) => void,
  ): Promise<{ connection: SsoConnection; claims: Record<string, unknown> }>;
}

export function createOidcClient(deps: { store: EphemeralStore; publicUrl: string; now: () => number }): OidcClient {
  // Discovery documents cached briefly per connection settings (the secret is part of the key, hashed).
  const configs = new Map<string, { config: Promise<oidc.Configuration>; at: number }>();
  const configFor = (connection: SsoConnection) => {
    const s = connection.idpSettings;
    if (!s.issuer || !s.clientId) throw new SsoConnectionIncomplete(`OIDC connection '${connection.id}' has no issuer or client id`);
    const key = createHash('sha256').update(JSON.stringify([connection.id, s.issuer, s.clientId, s.clientSecret ?? ''])).digest('hex');
    const hit = configs.get(key);
    if (hit && deps.now() - hit.at < DISCOVERY_TTL_MS) return hit.config;
    const execute = [oidc.enableNonRepudiationChecks, ...(isLoopbackHttp(s.issuer) ? [oidc.allowInsecureRequests] : [])];
    const config = oidc
      .discovery(new URL(s.issuer), s.clientId, s.clientSecret ? { client_secret: s.clientSecret } : undefined, undefined, { execute, timeout: 10 })
      .catch((err: unknown) => {
        configs.delete(key);
        // The IdP is down or misconfigured: a dependency problem, not the person's input.
        throw new ServiceUnavailableError(`the identity provider of connection '${connection.name}' could not be reached (OpenID discovery failed); try again later`, { cause: err });
      });
    configs.set(key, { config, at: deps.now() });
    return config;
  };

  return {
    async loginUrl(connection, loginHint) {
      const config = await configFor(connection);
      const state = oidc.randomState();
      const nonce = oidc.randomNonce();
      const verifier = oidc.randomPKCECodeVerifier();
      const pending: PendingLogin = { connectionId: connection.id, nonce, verifier };
      await deps.store.put(`oidc:state:${state}`, JSON.stringify(pending), STATE_TTL_MS);
      const params: Record<string, string> = {
        redirect_uri: callbackUrl(deps.publicUrl),
        scope: 'openid email profile',
        state,
        nonce,
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
      };
      if (loginHint) params.login_hint = loginHint;
      return { url: oidc.buildAuthorizationUrl(config, params).href, state };
    },

    async complete(callback, loadConnection, traceId, bindState) {
      const state = callback.searchParams.get('state');
      if (!state || state.length > 256) throw denials.sessionNotFound(traceId);
      // The state must be this browser's before anything is consumed: a callback URL carried to
      // another browser (login CSRF) changes nothing, and the starting browser can still finish.
      const peek = await deps.store.get(`oidc:state:${state}`);
      if (!peek) throw denials.sessionNotFound(traceId);
      bindState(state, (JSON.parse(peek) as PendingLogin).connectionId);
      // Consumed whatever happens next: a state works once.
      const raw = await deps.store.take(`oidc:state:${state}`);
      if (!raw) throw denials.sessionNotFound(traceId);
      const pending = JSON.parse(raw) as PendingLogin;
      const connection = await loadConnection(pending.connectionId);
      if (!connection || connection.type !== 'oidc') throw denials.sessionNotFound(traceId);
      const error = callback.searchParams.get('error');
      if (error) throw denials.invalidResponse(`the identity provider returned '${error.slice(0, 100)}'`, traceId);
      const config = await configFor(connection);
      let claims: Record<string, unknown>;
      try {
        const tokens = await oidc.authorizationCodeGrant(config, callback, {
          pkceCodeVerifier: pending.verifier,
          expectedState: state!,
          expectedNonce: pending.nonce,
          idTokenExpected: true,
        });
        claims = { ...(tokens.claims() ?? {}) };
        // Providers may keep email and profile claims for the UserInfo endpoint.
        if (!claims.email && tokens.access_token && config.serverMetadata().userinfo_endpoint) {
          const info = await oidc.fetchUserInfo(config, tokens.access_token, String(claims.sub));
          claims = { ...info, ...claims, email: info.email, email_verified: info.email_verified ?? claims.email_verified };
        }
      } catch (err) {
        // openid-client wraps the precise check that failed (e.g. the ID token "nonce" claim) in `cause`.
        const e = err as { code?: string; error?: string; message?: string; cause?: unknown };
        const inner = e.cause instanceof Error ? `: ${e.cause.message}` : '';
        const detail = `${e.message ?? ''}${inner}`.slice(0, 300);
        throw denials.invalidResponse(`OpenID Connect sign-in failed (${(e.error ?? e.code ?? 'error').slice(0, 60)}: ${detail})`, traceId);
      }
      return { connection, claims };
    },
  };
}
