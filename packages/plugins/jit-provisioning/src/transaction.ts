/**
 * The sign-in transaction cookie: binds an SSO sign-in to the browser that started it (login CSRF,
 * RFC 6749 §10.12, RFC 9700 §2.1; docs/sso-login-csrf.md). `/sso/login` sets one cookie per pending
 * sign-in, named after the OIDC `state` or the SAML AuthnRequest id it stands for, whose value is an
 * expiry and an HMAC over (kind, id, connection, expiry). The callback/ACS requires the cookie named
 * after the state or `InResponseTo` it received: a callback URL or SAMLResponse carried to another
 * browser finds no cookie there and is refused. The nonce and PKCE verifier are stored under the
 * state, so they are bound with it. Pure: no I/O.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export type TransactionKind = 'oidc' | 'saml';

/** As long as the pending state it binds lives in the store (oidc.ts STATE_TTL_MS, saml.ts REQUEST_TTL_MS). */
export const TRANSACTION_TTL_MS = 10 * 60_000;

export interface TransactionCookieOptions {
  /** The session cookie's name; transaction cookies are `<name>_tx_<tag>`. */
  baseName: string;
  /** PUBLIC_URL is https. */
  secure: boolean;
  /** Key derived from the session secret (transactionKey). */
  key: Buffer;
}

/** A key of its own for transaction cookies, so a session cookie's MAC is never a valid transaction MAC. */
export function transactionKey(sessionSecret: string): Buffer {
  return createHmac('sha256', sessionSecret).update('doorman-sso-transaction-cookie/1').digest();
}

/** The cookie name of one pending sign-in: a short tag of its id, so parallel sign-ins in two tabs coexist. */
export function transactionCookieName(baseName: string, kind: TransactionKind, id: string): string {
  return `${baseName}_tx_${createHash('sha256').update(`${kind}\n${id}`).digest('base64url').slice(0, 16)}`;
}

const mac = (key: Buffer, kind: TransactionKind, id: string, connectionId: string, expires: number) =>
  createHmac('sha256', key).update(`${kind}\n${id}\n${connectionId}\n${expires}`).digest('base64url');

/**
 * OIDC's callback is a top-level GET redirect: `SameSite=Lax` carries the cookie. SAML's ACS receives a
 * cross-site POST, which a Lax cookie does not follow: `SameSite=None; Secure` when the public URL is
 * https. Browsers drop `SameSite=None` without `Secure`, so on plain HTTP (development) it stays Lax and
 * SP-initiated SAML works only with an IdP on the same site (docs/sso-login-csrf.md).
 */
function attributes(opts: TransactionCookieOptions, kind: TransactionKind, maxAgeSeconds: number): string[] {
  const path = kind === 'oidc' ? '/sso/oidc/callback' : '/sso/saml/acs';
  const sameSite = kind === 'saml' && opts.secure ? 'SameSite=None' : 'SameSite=Lax';
  return [`Path=${path}`, `Max-Age=${maxAgeSeconds}`, 'HttpOnly', sameSite, ...(opts.secure ? ['Secure'] : [])];
}

/** The Set-Cookie header that binds the pending sign-in `id` (OIDC state, SAML request id) to this browser. */
export function transactionCookie(opts: TransactionCookieOptions, kind: TransactionKind, id: string, connectionId: string, now: number): string {
  const expires = now + TRANSACTION_TTL_MS;
  const value = `${expires}.${mac(opts.key, kind, id, connectionId, expires)}`;
  return [`${transactionCookieName(opts.baseName, kind, id)}=${value}`, ...attributes(opts, kind, TRANSACTION_TTL_MS / 1000)].join('; ');
}

/** Removes the transaction cookie once its sign-in has completed (or failed). */
export function clearedTransactionCookie(opts: TransactionCookieOptions, kind: TransactionKind, id: string): string {
  return [`${transactionCookieName(opts.baseName, kind, id)}=`, ...attributes(opts, kind, 0), 'Expires=Thu, 01 Jan 1970 00:00:00 GMT'].join('; ');
}

export type TransactionCheck = 'ok' | 'missing' | 'invalid' | 'expired';

/** Checks the value of the cookie named after `id` (undefined: the browser sent none). */
export function checkTransactionCookie(key: Buffer, value: string | undefined, kind: TransactionKind, id: string, connectionId: string, now: number): TransactionCheck {
  if (!value) return 'missing';
  const m = /^(\d{1,15})\.([A-Za-z0-9_-]{43})$/.exec(value);
  if (!m) return 'invalid';
  const expires = Number(m[1]);
  const expected = Buffer.from(mac(key, kind, id, connectionId, expires));
  const given = Buffer.from(m[2]!);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return 'invalid';
  return expires > now ? 'ok' : 'expired';
}
