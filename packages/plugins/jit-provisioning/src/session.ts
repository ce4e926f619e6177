/**
 * The SSO session: a row in `sso_sessions` (so the SCIM deactivation job can end it by setting
 * `ended_at`) and a cookie holding `<session id>.<HMAC-SHA256(id)>`. Every request re-reads the row.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface CookieOptions {
  name: string;
  secure: boolean;
}

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

/**
 * Written by hand rather than with Koa's `ctx.cookies`: Koa refuses a Secure cookie on a request it
 * does not consider secure (TLS terminated at a proxy without trustProxy), while `Secure` here
 * follows the public URL the browser sees.
 */
export function sessionCookie(opts: CookieOptions, value: string, maxAgeSeconds: number): string {
  const parts = [`${opts.name}=${value}`, 'Path=/', `Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}`, 'HttpOnly', 'SameSite=Lax'];
  if (opts.secure) parts.push('Secure');
  return parts.join('; ');
}

export function clearedCookie(opts: CookieOptions): string {
  return sessionCookie(opts, '', 0) + '; Expires=Thu, 01 Jan 1970 00:00:00 GMT';
}

/** Reads one cookie from a Cookie header. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
