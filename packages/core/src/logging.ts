import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';

/**
 * The one logger configuration of every Doorman process (gateway, worker, CLI, test harness), so
 * what may not be logged is decided in one place (docs/security.md, "Logs"):
 * - errors are serialized from a whitelist of fields: a TypeORM QueryFailedError's `query` and
 *   `parameters`, and mysql2's `sql` (the statement with its values inlined), never reach a log;
 *   values MySQL quotes in its messages (`Duplicate entry '…'`) are replaced;
 * - secrets are censored wherever a well-known key carries them.
 */

/** Error fields that describe the failure without carrying data. */
const ERROR_FIELDS = ['code', 'errno', 'sqlState', 'status', 'statusCode', 'field', 'scimType'] as const;
const MAX_CAUSE_DEPTH = 4;

/** MySQL/MariaDB messages that quote the offending value: the value goes, the rest stays. */
const QUOTED_VALUE = /((?:Duplicate entry|Incorrect [\w ]+ value:?|Truncated incorrect [\w ]+ value:?|Out of range value[\w ]*:?|value)\s*)'(?:[^'\\]|\\.|'')*'/gi;

export function scrubErrorText(text: string): string {
  return text.replace(QUOTED_VALUE, "$1'[redacted]'");
}

/** Serializes what is logged under `err`/`error`/`cause`: type, message, stack, codes, causes. */
export function serializeError(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return scrubErrorText(value);
  if (typeof value !== 'object' || value === null) return value;
  const e = value as Record<string, unknown> & { message?: unknown; stack?: unknown; cause?: unknown; driverError?: unknown; errors?: unknown };
  const out: Record<string, unknown> = {
    type: (value as { constructor?: { name?: string } }).constructor?.name ?? 'Object',
    message: scrubErrorText(String(e.message ?? '')),
  };
  if (typeof e.stack === 'string') out.stack = scrubErrorText(e.stack);
  for (const key of ERROR_FIELDS) {
    const v = e[key];
    if (v !== undefined && v !== null && typeof v !== 'object' && typeof v !== 'function') out[key] = v;
  }
  if (depth < MAX_CAUSE_DEPTH) {
    // TypeORM wraps the driver's error; its codes are what an operator searches for.
    if (e.driverError && e.driverError !== e.cause) out.driverError = serializeError(e.driverError, depth + 1);
    if (e.cause !== undefined) out.cause = serializeError(e.cause, depth + 1);
    if (Array.isArray(e.errors)) out.errors = e.errors.slice(0, 5).map((x) => serializeError(x, depth + 1));
  }
  return out;
}

const SECRET_KEYS = ['authorization', 'cookie', 'password', 'secret', 'clientSecret', 'token', 'privateKey', 'sessionSecret', 'adminBootstrapToken'];

export interface LogSettings {
  level: string;
  /** `auto`: pretty when stdout is a terminal in development, JSON otherwise. */
  format?: 'auto' | 'json' | 'pretty';
  mode?: 'development' | 'production';
  /** Bound to every line (e.g. `{ service, role }`). */
  base?: Record<string, unknown>;
}

export function loggerOptions(settings: Pick<LogSettings, 'level' | 'base'>): LoggerOptions {
  return {
    level: settings.level,
    ...(settings.base ? { base: settings.base } : {}),
    serializers: { err: serializeError, error: serializeError, cause: serializeError },
    redact: { paths: SECRET_KEYS.flatMap((k) => [k, `*.${k}`]), censor: '[redacted]' },
  };
}

export function wantsPrettyLogs(settings: LogSettings, stdoutIsTty = Boolean(process.stdout.isTTY)): boolean {
  const format = settings.format ?? 'auto';
  return format === 'pretty' || (format === 'auto' && settings.mode !== 'production' && stdoutIsTty);
}

/**
 * A logger writing JSON lines to `destination` (stdout by default), or human-readable lines when
 * `wantsPrettyLogs` (pino-pretty as a synchronous stream: no worker thread, so it bundles).
 */
export async function createLogger(settings: LogSettings, destination?: DestinationStream): Promise<Logger> {
  const options = loggerOptions(settings);
  if (!wantsPrettyLogs(settings)) return destination ? pino(options, destination) : pino(options);
  const { default: pretty } = await import('pino-pretty');
  return pino(options, pretty({ colorize: !destination, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service', destination: destination ?? 1, sync: true }));
}
