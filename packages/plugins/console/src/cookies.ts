/**
 * The console cookie: `SameSite=Strict`, so no other site's page can make the browser send it
 * (docs/console.md). Written by core's cookie helpers (packages/core/src/http/cookies.ts says why by hand).
 */
import { clearedCookieHeader, sessionCookieHeader, type CookieOptions } from '@doorman/core';

export { readCookie, type CookieOptions } from '@doorman/core';

export function sessionCookie(opts: CookieOptions, value: string, maxAgeSeconds: number): string {
  return sessionCookieHeader({ ...opts, sameSite: 'Strict' }, value, maxAgeSeconds);
}

export function clearedCookie(opts: CookieOptions): string {
  return clearedCookieHeader({ ...opts, sameSite: 'Strict' });
}
