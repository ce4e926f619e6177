/** Serves the built single-page app under /console (apps/console/dist). */
import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Context } from 'koa';
import { send } from '@koa/send';

export const CONSOLE_PATH = '/console';

/**
 * The built console: the `assetsDir` setting, else `dist/` of the `@doorman/console` package as
 * resolved from here (the workspace sources, or the gateway's bundle, which depends on it too).
 */
export function findAssetsDir(configured: string | undefined): string | undefined {
  if (configured) return configured;
  try {
    return join(dirname(createRequire(import.meta.url).resolve('@doorman/console/package.json')), 'dist');
  } catch {
    return undefined;
  }
}

// The console loads only its own scripts and styles, is never framed, and leaks no URL (docs/console.md).
const SECURITY_HEADERS = {
  'Content-Security-Policy': "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'X-Content-Type-Options': 'nosniff',
};

export function consoleAssets(assetsDir: string | undefined) {
  const built = assetsDir !== undefined && existsSync(join(assetsDir, 'index.html'));
  return async (ctx: Context) => {
    ctx.set(SECURITY_HEADERS);
    if (!built) {
      ctx.status = 503;
      ctx.type = 'text/plain';
      ctx.body = 'The console is not built: run `npm run build` (or set CONSOLE_ASSETS_DIR to a built apps/console/dist).\n';
      return;
    }
    const rest = ctx.path.slice(CONSOLE_PATH.length).replace(/^\/+/, '');
    if (rest.startsWith('assets/')) {
      // Vite names assets by content hash: they never change under one name.
      await send(ctx, rest, { root: assetsDir, maxage: 365 * 24 * 3600 * 1000, immutable: true, index: false });
      return;
    }
    const file = rest && !rest.includes('..') ? join(assetsDir!, rest) : undefined;
    if (file && existsSync(file) && statSync(file).isFile()) {
      await send(ctx, rest, { root: assetsDir, index: false });
      return;
    }
    // Any other path is a route of the single-page app: the page itself, never cached.
    ctx.set('Cache-Control', 'no-store');
    await send(ctx, 'index.html', { root: assetsDir, index: false });
  };
}
