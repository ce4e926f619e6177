/**
 * The console cookie, written by hand rather than with Koa's `ctx.cookies`: Koa refuses a Secure
 * cookie on a request it does not consider secure (TLS ended at a proxy without TRUST_PROXY), while
 * `Secure` here follows the public URL the browser sees. `SameSite=Strict`: no other site's page can
 * make the browser send it (docs/console.md).
 */
export interface CookieOptions {
  name: string;
  secure: boolean;
}

export function sessionCookie(opts: CookieOptions, value: string, maxAgeSeconds: number): string {
  const parts = [`${opts.name}=${value}`, 'Path=/', `Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}`, 'HttpOnly', 'SameSite=Strict'];
  if (opts.secure) parts.push('Secure');
  return parts.join('; ');
}

export function clearedCookie(opts: CookieOptions): string {
  return `${sessionCookie(opts, '', 0)}; Expires=Thu, 01 Jan 1970 00:00:00 GMT`;
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
