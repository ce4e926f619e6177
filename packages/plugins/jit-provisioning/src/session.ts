/**
 * The SSO session: a row in `sso_sessions` (so the SCIM deactivation job can end it by setting
 * `ended_at`) and a cookie holding `<session id>.<HMAC-SHA256(id)>`. Every request re-reads the row.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { clearedCookieHeader, sessionCookieHeader, type CookieOptions } from '@doorman/core';

export { readCookie, type CookieOptions } from '@doorman/core';

export function signSessionId(secret: string, id: string): string {
  return `${id}.${createHmac('sha256', secret).update(id).digest('base64url')}`;
}

/** The session id from a cookie value, or null when malformed or not signed with `secret`. */
export function verifySessionCookie(secret: string, value: string | undefined): string | null {
  if (!value || value.length > 200) return null;
  const dot = value.lastIndexOf('.');
  if (dot <= 0) return null;
  const id = value.slice(0, dot);
  if (!/^[0-9a-f-]{36}$/.test(id)) return null;
  const expected = Buffer.from(signSessionId(secret, id).slice(dot + 1));
  const given = Buffer.from(value.slice(dot + 1));
  return expected.length === given.length && timingSafeEqual(expected, given) ? id : null;
}

/** The SSO session cookie: `SameSite=Lax`, so it survives the IdP's redirect back (core's helpers write it). */
export function sessionCookie(opts: CookieOptions, value: string, maxAgeSeconds: number): string {
  return sessionCookieHeader({ ...opts, sameSite: 'Lax' }, value, maxAgeSeconds);
}

export function clearedCookie(opts: CookieOptions): string {
  return clearedCookieHeader({ ...opts, sameSite: 'Lax' });
}
