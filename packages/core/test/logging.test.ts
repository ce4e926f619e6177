import { Writable } from 'node:stream';
import pino from 'pino';
import { QueryFailedError } from 'typeorm';
import { describe, expect, it } from 'vitest';
import { createLogger, loggerOptions, scrubErrorText, serializeError, wantsPrettyLogs } from '../src/logging.ts';

const SECRET = 'client-secret-value-never-logged';

function sink() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { lines, stream };
}

/** A TypeORM QueryFailedError as mysql2 raises it: parameters on the wrapper, values inlined in `sql`. */
function failedInsert() {
  const driverError = Object.assign(new Error('forced failure'), {
    code: 'ER_SIGNAL_EXCEPTION',
    errno: 1644,
    sqlState: '45000',
    sqlMessage: 'forced failure',
    sql: `INSERT INTO sso_connections (idp_settings) VALUES ('{"clientSecret":"${SECRET}"}')`,
  });
  return new QueryFailedError('INSERT INTO sso_connections (idp_settings) VALUES (?)', [`{"clientSecret":"${SECRET}"}`], driverError);
}

describe('error serialization', () => {
  it('keeps type, message, stack and codes of a failed query, drops its statement and parameters', () => {
    const out = serializeError(failedInsert()) as Record<string, any>;
    expect(out).toMatchObject({ type: 'QueryFailedError', message: 'forced failure', code: 'ER_SIGNAL_EXCEPTION', errno: 1644 });
    expect(out.driverError).toMatchObject({ code: 'ER_SIGNAL_EXCEPTION', sqlState: '45000' });
    expect(JSON.stringify(out)).not.toContain(SECRET);
    expect(JSON.stringify(out)).not.toMatch(/INSERT|parameters|"sql"/);
  });

  it('follows causes, and leaves non-errors alone', () => {
    const wrapped = new Error('sync failed', { cause: failedInsert() });
    const out = serializeError(wrapped) as Record<string, any>;
    expect(out.cause.type).toBe('QueryFailedError');
    expect(JSON.stringify(out)).not.toContain(SECRET);
    expect(serializeError(42)).toBe(42);
    expect(serializeError(undefined)).toBeUndefined();
  });

  it.each([
    ["Duplicate entry 'ann@example.com' for key 'uq_users_email'", "Duplicate entry '[redacted]' for key 'uq_users_email'"],
    ["Incorrect string value: '\\xF0\\x9F' for column 'name' at row 1", "Incorrect string value: '[redacted]' for column 'name' at row 1"],
    ["Truncated incorrect DOUBLE value: 'abc'", "Truncated incorrect DOUBLE value: '[redacted]'"],
    ["Table 'doorman.users' doesn't exist", "Table 'doorman.users' doesn't exist"],
    ['UNIQUE constraint failed: users.email_lc', 'UNIQUE constraint failed: users.email_lc'],
  ])('scrubs values MySQL quotes: %s', (input, output) => {
    expect(scrubErrorText(input)).toBe(output);
  });
});

describe('the logger', () => {
  it('serializes err/error through the whitelist and censors secret keys', () => {
    const { lines, stream } = sink();
    const logger = pino(loggerOptions({ level: 'info' }), stream);
    logger.error({ err: failedInsert() }, 'write failed');
    logger.warn({ error: failedInsert(), clientSecret: SECRET, idp: { clientSecret: SECRET }, authorization: `Bearer ${SECRET}` }, 'also');
    const text = lines.join('');
    expect(text).not.toContain(SECRET);
    expect(text).toContain('[redacted]');
    expect(JSON.parse(lines[0]!).err.code).toBe('ER_SIGNAL_EXCEPTION');
  });

  it.each([
    [{ level: 'info' }, true, true],
    [{ level: 'info' }, false, false],
    [{ level: 'info', mode: 'production' as const }, true, false],
    [{ level: 'info', format: 'json' as const }, true, false],
    [{ level: 'info', format: 'pretty' as const, mode: 'production' as const }, false, true],
  ])('pretty for %j with a TTY=%s: %s', (settings, tty, pretty) => {
    expect(wantsPrettyLogs(settings, tty)).toBe(pretty);
  });

  it('writes JSON lines, or human-readable lines when asked', async () => {
    const json = sink();
    (await createLogger({ level: 'info', format: 'json', base: { service: 'doorman' } }, json.stream)).info({ port: 1 }, 'started');
    expect(JSON.parse(json.lines[0]!)).toMatchObject({ service: 'doorman', port: 1, msg: 'started' });
    const pretty = sink();
    const logger = await createLogger({ level: 'info', format: 'pretty' }, pretty.stream);
    logger.info({ port: 1 }, 'started');
    const text = pretty.lines.join('');
    expect(text).toMatch(/INFO.*started/);
    expect(() => JSON.parse(text)).toThrow();
  });
});
