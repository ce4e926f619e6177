import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import { Counter, Histogram, type Registry } from 'prom-client';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Request id, per-request child logger and one access-log line per request, plus Prometheus counters.
 * Hand-written (a dozen lines) because the wrapper packages add a second logger and log headers by
 * default; this one never logs headers, cookies or bodies.
 */
export function observabilityMiddleware(logger: Logger, registry: Registry): Middleware {
  const requests = new Counter({
    name: 'doorman_http_requests_total',
    help: 'HTTP requests by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'doorman_http_request_duration_seconds',
    help: 'HTTP request latency by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  // Bound children per label set: prom-client hashes the label object on every inc/observe otherwise.
  const series = new Map<string, { count: () => void; observe: (seconds: number) => void }>();
  const seriesFor = (method: string, route: string, status: string) => {
    const key = `${method} ${status} ${route}`;
    let found = series.get(key);
    if (!found) {
      const counter = requests.labels(method, route, status);
      const histogram = duration.labels(method, route, status);
      found = { count: () => counter.inc(), observe: (seconds) => histogram.observe(seconds) };
      series.set(key, found);
    }
    return found;
  };
  return async (ctx, next) => {
    const started = process.hrtime.bigint();
    const incoming = ctx.get('x-request-id');
    const requestId = REQUEST_ID.test(incoming) ? incoming : randomUUID();
    ctx.state.requestId = requestId;
    // The child logger is made when first used: most requests log nothing below the access line, and
    // at LOG_LEVEL warn not even that (a child per request was ~1.5% of a SCIM get's CPU).
    let child: Logger | undefined;
    Object.defineProperty(ctx.state, 'logger', {
      configurable: true,
      enumerable: true,
      get: () => (child ??= logger.child({ requestId })),
      set: (value: Logger) => void (child = value),
    });
    ctx.set('X-Request-Id', requestId);
    try {
      await next();
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = (ctx as unknown as { _matchedRoute?: string })._matchedRoute ?? 'unmatched';
      const routeLabel = String(route);
      const metrics = seriesFor(ctx.method, routeLabel, String(ctx.status));
      metrics.count();
      metrics.observe(seconds);
      const code: unknown = ctx.state.errorCode;
      if (logger.isLevelEnabled('info')) ctx.state.logger.info(
        { method: ctx.method, path: ctx.path, route: routeLabel, status: ctx.status, ms: Math.round(seconds * 1e4) / 10, ...(typeof code === 'string' ? { code } : {}) },
        'request',
      );
    }
  };
}
