/**
 * The ceiling: a bare Koa app on the same machine, in its own process, measured in the same run as
 * the gateway. `GET /bare` answers a small JSON object; `POST /bare` parses a JSON body
 * (@koa/bodyparser, as the gateway does) and echoes it with 201. Prints `READY <port>` once
 * listening on 127.0.0.1; exits when its parent closes stdin (so an aborted bench leaves nothing).
 */
import Koa from 'koa';
import { bodyParser } from '@koa/bodyparser';

const app = new Koa();
app.use(bodyParser({ enableTypes: ['json'], extendTypes: { json: ['application/json', 'application/scim+json'] } }));
app.use(async (ctx) => {
  if (ctx.path !== '/bare') {
    ctx.status = 404;
    return;
  }
  if (ctx.method === 'GET') {
    ctx.body = { ok: true, service: 'bare-koa', at: 1 };
  } else if (ctx.method === 'POST') {
    ctx.status = 201;
    ctx.body = ctx.request.body;
  } else {
    ctx.status = 405;
  }
});

const server = app.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`READY ${typeof address === 'object' && address ? address.port : ''}\n`);
});
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
process.on('SIGTERM', () => server.close(() => process.exit(0)));
