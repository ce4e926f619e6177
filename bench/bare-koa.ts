/**
 * The ceiling: a bare Koa app on the same machine, in its own process, measured in the same run as
 * the gateway. `GET /bare` answers a small JSON object; `POST /bare` parses a JSON body
 * (@koa/bodyparser, as the gateway does) and echoes it with 201.
 *
 * With `DATABASE_URL` set it also serves the same two handlers plus the least a SCIM request must ask
 * of the database — a second, informational ceiling that includes MariaDB:
 * `GET /bare/row/<id>` reads one row by primary key; `POST /bare/row/<id>` writes the parsed body into
 * one row with a single autocommit UPDATE (durable as the server is configured: InnoDB flushes its log
 * at every commit); `POST /bare/insert` inserts the parsed body as a new row (a time-ordered UUID key
 * from the gateway's own `newRowId`, docs/row-ids.md) in one durable autocommit INSERT — one INSERT
 * transaction, the create ceiling; `GET /bare/page/<id>` reads
 * the 100 rows from `<id>` on in primary-key order and answers them as a JSON list with each row's
 * body parsed — the raw page query a list page needs at least. The rows are the bench's
 * `ceiling_rows` and `ceiling_inserts` tables (scim-bench creates them).
 *
 * Prints `READY <port>` once listening on 127.0.0.1; exits when its parent closes stdin (so an aborted
 * bench leaves nothing).
 */
import Koa from 'koa';
import { bodyParser } from '@koa/bodyparser';
import { newRowId } from '@doorman/model/row-ids';
import { createPool, type RowDataPacket } from 'mysql2/promise';

// The gateway's pool size (DATABASE_POOL_SIZE default), so both meet MariaDB with the same concurrency.
const pool = process.env.DATABASE_URL ? createPool({ uri: process.env.DATABASE_URL, connectionLimit: 10 }) : null;
const ROW_PATH = /^\/bare\/row\/(\d+)$/;
const PAGE_PATH = /^\/bare\/page\/(\d+)$/;

const app = new Koa();
app.use(bodyParser({ enableTypes: ['json'], extendTypes: { json: ['application/json', 'application/scim+json'] } }));
app.use(async (ctx) => {
  if (pool && ctx.path === '/bare/insert' && ctx.method === 'POST') {
    await pool.query('INSERT INTO ceiling_inserts (id, body) VALUES (?, ?)', [newRowId(), JSON.stringify(ctx.request.body)]);
    ctx.status = 201;
    ctx.body = ctx.request.body;
    return;
  }
  const page = pool && ctx.method === 'GET' ? PAGE_PATH.exec(ctx.path) : null;
  if (page) {
    const [rows] = await pool!.query<RowDataPacket[]>('SELECT id, n, body FROM ceiling_rows WHERE id >= ? ORDER BY id LIMIT 100', [Number(page[1])]);
    ctx.body = { totalResults: rows.length, Resources: rows.map((r) => ({ id: r.id, n: r.n, ...JSON.parse(r.body as string) })) };
    return;
  }
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
