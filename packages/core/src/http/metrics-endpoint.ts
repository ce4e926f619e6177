import { createServer, type Server } from 'node:http';
import type { Middleware } from 'koa';
import Koa from 'koa';
import type { Registry } from 'prom-client';
import { defineError } from '@doorman/plugin-api';
import { bearerToken, digestsEqual, hashSecret } from '../secrets.ts';
import { errorMiddleware } from './error-middleware.ts';

/** 401: /metrics with METRICS_TOKEN set and no (or a wrong) bearer token. */
const MetricsTokenRequired = defineError('DMN_METRICS_TOKEN_REQUIRED', 401);

/**
 * `GET /metrics` (Prometheus). Open by default, like most exporters; `METRICS_TOKEN` makes it ask
 * for `Authorization: Bearer <token>` (Prometheus' `authorization` scrape setting), and
 * `METRICS_PORT` moves it to a listener of its own that need not be exposed (README, Settings).
 */
export function metricsRoute(registry: Registry, token: string | undefined): Middleware {
  const expected = token ? hashSecret(token) : undefined;
  return async (ctx) => {
    if (expected) {
      const presented = bearerToken(ctx.get('authorization'));
      if (!presented || !digestsEqual(hashSecret(presented), expected)) {
        throw new MetricsTokenRequired('metrics token required: send Authorization: Bearer <METRICS_TOKEN>', {
          headers: { 'WWW-Authenticate': 'Bearer realm="doorman-metrics"' },
        });
      }
    }
    ctx.type = registry.contentType;
    ctx.body = await registry.metrics();
  };
}

/** A listener that serves only `GET /metrics` (METRICS_PORT). */
export async function listenMetrics(port: number, host: string, registry: Registry, token: string | undefined): Promise<Server> {
  const app = new Koa();
  app.silent = true;
  const route = metricsRoute(registry, token);
  app.use(errorMiddleware());
  app.use(async (ctx, next) => (ctx.method === 'GET' && ctx.path === '/metrics' ? route(ctx, next) : next()));
  const server = createServer(app.callback()).listen(port, host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  return server;
}
