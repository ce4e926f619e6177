import * as mysql2 from 'mysql2';

/** What of a mysql2 pooled connection this file touches. */
interface PromiseCapable {
  promise(promiseImpl?: PromiseConstructor): unknown;
}

const WRAPPER = Symbol('doorman.mysql2PromiseWrapper');

/**
 * Gives a pooled connection one promise wrapper for all its statements. TypeORM's MySQL query runner
 * calls `PoolConnection#promise()` for every statement, and mysql2 answers each call with a `require`
 * of its promise module (module resolution) and a new wrapper object: ~2% of a busy gateway's CPU in a
 * deactivation burst. The wrapper holds only the connection (its `query` reads `this.connection`), so one
 * per connection serves every statement; a call naming its own promise implementation gets a new one.
 */
export function reusePromiseWrapper(connection: PromiseCapable): void {
  const make = connection.promise;
  connection.promise = function promise(this: PromiseCapable & { [WRAPPER]?: unknown }, promiseImpl?: PromiseConstructor) {
    if (promiseImpl !== undefined) return make.call(this, promiseImpl);
    return (this[WRAPPER] ??= make.call(this));
  };
}

/**
 * mysql2 as TypeORM's MySQL driver (its `driver` option), with `reusePromiseWrapper` on every
 * connection a pool opens (the pool's `connection` event comes before the connection is first handed out).
 */
export function mysqlDriver(): typeof mysql2 {
  const driver = Object.create(mysql2) as typeof mysql2;
  driver.createPool = ((config: Parameters<typeof mysql2.createPool>[0]) => {
    const pool = mysql2.createPool(config);
    pool.on('connection', (connection) => reusePromiseWrapper(connection as unknown as PromiseCapable));
    return pool;
  }) as typeof mysql2.createPool;
  return driver;
}
