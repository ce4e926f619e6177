/** The request middleware's logger: one per request with its id, made only when something logs. */
import { Writable } from 'node:stream';
import Koa from 'koa';
import pino from 'pino';
import { Registry } from 'prom-client';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { observabilityMiddleware } from '../src/http/observability.ts';

function appLogging(level: string, route: (ctx: Koa.Context) => void) {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(JSON.parse(String(chunk)));
      cb();
    },
  });
  const app = new Koa();
  app.use(observabilityMiddleware(pino({ level }, stream), new Registry()));
  app.use(async (ctx) => {
    route(ctx);
    ctx.body = { ok: true };
  });
  return { server: app.callback(), lines };
}

describe('observability middleware', () => {
  it('at info, one access line per request carrying its request id, and a route\'s own lines carry it too', async () => {
    const { server, lines } = appLogging('info', (ctx) => ctx.state.logger.info({ step: 1 }, 'inside'));
    await request(server).get('/x').set('X-Request-Id', 'req-info-1').expect(200).expect('X-Request-Id', 'req-info-1');
    expect(lines.map((l) => [l.msg, l.requestId])).toEqual([
      ['inside', 'req-info-1'],
      ['request', 'req-info-1'],
    ]);
    expect(lines[1]).toMatchObject({ method: 'GET', path: '/x', status: 200 });
  });

  it('at warn, no access line; a warning from the route still carries the request id', async () => {
    const { server, lines } = appLogging('warn', (ctx) => {
      if (ctx.path === '/warn') ctx.state.logger.warn('careful');
    });
    await request(server).get('/quiet').set('X-Request-Id', 'req-q').expect(200);
    expect(lines).toEqual([]);
    await request(server).get('/warn').set('X-Request-Id', 'req-w').expect(200);
    expect(lines.map((l) => [l.msg, l.requestId])).toEqual([['careful', 'req-w']]);
  });

  it('a route may replace the request logger; the access line then uses it', async () => {
    const { server, lines } = appLogging('info', (ctx) => {
      ctx.state.logger = ctx.state.logger.child({ tenant: 't1' });
    });
    await request(server).get('/y').set('X-Request-Id', 'req-r').expect(200);
    expect(lines).toEqual([expect.objectContaining({ msg: 'request', requestId: 'req-r', tenant: 't1' })]);
  });
});
