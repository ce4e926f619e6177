/**
 * The ceiling: a bare Koa app on the same machine, in its own process, measured in the same run as
 * the gateway. `GET /bare` answers a small JSON object; `POST /bare` parses a JSON body
 * (@koa/bodyparser, as the gateway does) and echoes it with 201.
 *
 * With `DATABASE_URL` set it also serves the same two handlers plus the least a SCIM request must ask
 * of the database — a second, informational ceiling that includes MariaDB:
 * `GET /bare/row/<id>` reads one row by primary key; `POST /bare/row/<id>` writes the parsed body into
 * one row with a single autocommit UPDATE (durable as the server is configured: InnoDB flushes its log
 * at every commit). The rows are the bench's `ceiling_rows` table (scim-bench creates it).
 *
 * Prints `READY <port>` once listening on 127.0.0.1; exits when its parent closes stdin (so an aborted
 * bench leaves nothing).
 */
import Koa from 'koa';
import { bodyParser } from '@koa/bodyparser';
import { createPool, type RowDataPacket } from 'mysql2/promise';

// The gateway's pool size (DATABASE_POOL_SIZE default), so both meet MariaDB with the same concurrency.
const pool = process.env.DATABASE_URL ? createPool({ uri: process.env.DATABASE_URL, connectionLimit: 10 }) : null;
const ROW_PATH = /^\/bare\/row\/(\d+)$/;

const app = new Koa();
app.use(bodyParser({ enableTypes: ['json'], extendTypes: { json: ['application/json', 'application/scim+json'] } }));
app.use(async (ctx) => {
  const row = pool ? ROW_PATH.exec(ctx.path) : null;
  if (row) {
    const id = Number(row[1]);
    if (ctx.method === 'GET') {
      const [rows] = await pool!.query<RowDataPacket[]>('SELECT id, n, body FROM ceiling_rows WHERE id = ?', [id]);
      ctx.status = rows.length ? 200 : 404;
      ctx.body = rows[0] ?? { error: 'no such row' };
    } else if (ctx.method === 'POST') {
      await pool!.query('UPDATE ceiling_rows SET n = n + 1, body = ? WHERE id = ?', [JSON.stringify(ctx.request.body), id]);
      ctx.body = ctx.request.body;
    } else {
      ctx.status = 405;
    }
    return;
  }
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
const stop = () => server.close(() => void (pool?.end() ?? Promise.resolve()).finally(() => process.exit(0)));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
process.on('SIGTERM', stop);
