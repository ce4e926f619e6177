/**
 * Session cookies written by hand rather than with Koa's `ctx.cookies`: Koa refuses a Secure cookie
 * on a request it does not consider secure (TLS ended at a proxy without TRUST_PROXY), while
 * `Secure` here follows the public URL the browser sees. Used by the console session
 * (`SameSite=Strict`, docs/console.md) and the SSO session (`SameSite=Lax`: it must survive the
 * identity provider's redirect back, docs/sso-login-csrf.md).
 */
export interface CookieOptions {
  name: string;
  secure: boolean;
}

/** `Set-Cookie` value of an HttpOnly cookie on `/` that lives `maxAgeSeconds`. */
export function sessionCookieHeader(opts: CookieOptions & { sameSite: 'Strict' | 'Lax' }, value: string, maxAgeSeconds: number): string {
  const parts = [`${opts.name}=${value}`, 'Path=/', `Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}`, 'HttpOnly', `SameSite=${opts.sameSite}`];
  if (opts.secure) parts.push('Secure');
  return parts.join('; ');
}

/** `Set-Cookie` value that removes the cookie. */
export function clearedCookieHeader(opts: CookieOptions & { sameSite: 'Strict' | 'Lax' }): string {
  return `${sessionCookieHeader(opts, '', 0)}; Expires=Thu, 01 Jan 1970 00:00:00 GMT`;
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
