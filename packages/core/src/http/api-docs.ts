import { createReadStream, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Middleware } from 'koa';
import { defineError, NotFoundError } from '@doorman/plugin-api';

/** 503: /admin/v1/docs without the optional @scalar/api-reference package. */
const ApiReferenceMissing = defineError('DMN_API_REFERENCE_MISSING', 503);

/**
 * `/admin/docs`: the admin API reference (Scalar's standalone bundle, served from node_modules — no
 * CDN; the Content-Security-Policy allows this origin only, so the page cannot load anything else).
 */
export function apiDocsMiddleware(prefix: string, openApiUrl: string): Middleware {
  const bundle = scalarBundlePath();
  const csp = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'";
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Doorman admin API</title></head>
<body><div id="app"></div><script src="${prefix}/scalar.js"></script><script src="${prefix}/init.js"></script></body></html>`;
  // Fonts from Scalar's CDN off; requests go to this origin only.
  const init = `Scalar.createApiReference('#app', ${JSON.stringify({ url: openApiUrl, withDefaultFonts: false, hideClientButton: false, telemetry: false })});\n`;
  return async (ctx) => {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') throw new NotFoundError(`no route for ${ctx.method} ${ctx.path}`);
    ctx.set('Content-Security-Policy', csp);
    ctx.set('X-Content-Type-Options', 'nosniff');
    const rest = ctx.path.slice(prefix.length);
    if (rest === '' || rest === '/') {
      ctx.type = 'text/html; charset=utf-8';
      ctx.body = html;
    } else if (rest === '/init.js') {
      ctx.type = 'text/javascript; charset=utf-8';
      ctx.body = init;
    } else if (rest === '/scalar.js') {
      if (!bundle) throw new ApiReferenceMissing('the API reference renderer (@scalar/api-reference) is not installed; the document is at /admin/v1/openapi.json');
      ctx.type = 'text/javascript; charset=utf-8';
      ctx.set('Cache-Control', 'public, max-age=86400');
      ctx.body = createReadStream(bundle);
    } else throw new NotFoundError(`no route for GET ${ctx.path}`);
  };
}

/** The standalone browser bundle (not in the package's exports map: found beside its entry point). */
function scalarBundlePath(): string | null {
  try {
    const entry = createRequire(import.meta.url).resolve('@scalar/api-reference');
    const file = join(dirname(entry), 'browser', 'standalone.js');
    return existsSync(file) ? file : null;
  } catch {
    return null;
  }
}
