import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigInvalid } from '@doorman/plugin-api';

/**
 * Gateway-wide settings. Every one is listed in the README's settings table.
 * Environment variables win over the optional JSON config file (DOORMAN_CONFIG_FILE).
 */
export const gatewayConfigSchema = z
  .object({
    mode: z.enum(['development', 'production']).default('development'),
    role: z.enum(['api', 'worker', 'all']).default('all'),
    host: z.string().min(1).default('0.0.0.0'),
    port: z.coerce.number().int().min(0).max(65535).default(8080),
    publicUrl: z.url().optional(),
    databaseUrl: z
      .string()
      .regex(/^(mysql|mariadb|sqlite):/, 'must start with mysql://, mariadb:// or sqlite:')
      .default('sqlite:./data/doorman.db'),
    databasePoolSize: z.coerce.number().int().min(1).max(500).default(10),
    redisUrl: z.string().regex(/^rediss?:\/\//, 'must start with redis:// or rediss://').optional(),
    redisCommandTimeoutMs: z.coerce.number().int().min(50).max(60_000).default(500),
    jobsPrefix: z.string().min(1).max(64).default('{doorman}'),
    plugins: z
      .string()
      .default('token-auth,role-mapping,scim-users,scim-groups,audit')
      .transform((s) => s.split(',').map((p) => p.trim()).filter(Boolean)),
    adminBootstrapToken: z.string().min(32, 'must be at least 32 characters').optional(),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    logFormat: z.enum(['auto', 'json', 'pretty']).default('auto'),
    databaseCreate: z.stringbool().default(false),
    metricsToken: z.string().min(16, 'must be at least 16 characters').optional(),
    metricsPort: z.coerce.number().int().min(1).max(65535).optional(),
    bodyLimitBytes: z.coerce.number().int().min(1024).default(1_048_576),
    bodyMaxDepth: z.coerce.number().int().min(4).max(1000).default(32),
    bodyMaxValues: z.coerce.number().int().min(100).default(100_000),
    shutdownTimeoutMs: z.coerce.number().int().min(0).default(25_000),
    trustProxy: z.stringbool().default(false),
  })
  .strict();

export type GatewayConfig = z.infer<typeof gatewayConfigSchema> & { publicUrl: string };

/** Environment variable → gateway setting. */
export const GATEWAY_ENV: Record<string, keyof z.input<typeof gatewayConfigSchema>> = {
  DOORMAN_MODE: 'mode',
  DOORMAN_ROLE: 'role',
  HOST: 'host',
  PORT: 'port',
  PUBLIC_URL: 'publicUrl',
  DATABASE_URL: 'databaseUrl',
  DATABASE_POOL_SIZE: 'databasePoolSize',
  REDIS_URL: 'redisUrl',
  REDIS_COMMAND_TIMEOUT_MS: 'redisCommandTimeoutMs',
  JOBS_PREFIX: 'jobsPrefix',
  DOORMAN_PLUGINS: 'plugins',
  ADMIN_BOOTSTRAP_TOKEN: 'adminBootstrapToken',
  LOG_LEVEL: 'logLevel',
  LOG_FORMAT: 'logFormat',
  DATABASE_CREATE: 'databaseCreate',
  METRICS_TOKEN: 'metricsToken',
  METRICS_PORT: 'metricsPort',
  BODY_LIMIT_BYTES: 'bodyLimitBytes',
  BODY_MAX_DEPTH: 'bodyMaxDepth',
  BODY_MAX_VALUES: 'bodyMaxValues',
  SHUTDOWN_TIMEOUT_MS: 'shutdownTimeoutMs',
  TRUST_PROXY: 'trustProxy',
};

/** Every wrong setting, named: DMN_CONFIG_INVALID (the process exits 2 before listening). */
export class ConfigError extends ConfigInvalid {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

export interface RawConfig {
  gateway: Record<string, unknown>;
  /** Per-plugin slices, keyed by plugin id. */
  plugins: Record<string, Record<string, unknown>>;
}

const camel = (s: string) => s.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
export const pluginEnvPrefix = (pluginId: string) => `${pluginId.toUpperCase().replace(/-/g, '_')}_`;

/**
 * Gathers raw settings from the config file and the environment. Plugin settings come from
 * `plugins.<id>` in the file and `<ID>_<SETTING>` variables (e.g. TOKEN_AUTH_RATE_LIMIT_PER_SECOND).
 */
export function readRawConfig(env: NodeJS.ProcessEnv, pluginIds: readonly string[]): RawConfig {
  let file: { gateway?: Record<string, unknown>; plugins?: Record<string, Record<string, unknown>> } = {};
  if (env.DOORMAN_CONFIG_FILE) {
    try {
      file = JSON.parse(readFileSync(env.DOORMAN_CONFIG_FILE, 'utf8'));
    } catch (err) {
      throw new ConfigError([`DOORMAN_CONFIG_FILE: cannot read ${env.DOORMAN_CONFIG_FILE}: ${(err as Error).message}`]);
    }
  }
  const gateway: Record<string, unknown> = { ...(file.gateway ?? {}) };
  for (const [name, key] of Object.entries(GATEWAY_ENV)) if (env[name] !== undefined && env[name] !== '') gateway[key] = env[name];
  const plugins: Record<string, Record<string, unknown>> = {};
  for (const id of pluginIds) {
    const slice: Record<string, unknown> = { ...(file.plugins?.[id] ?? {}) };
    const prefix = pluginEnvPrefix(id);
    for (const [name, value] of Object.entries(env)) if (name.startsWith(prefix) && value !== undefined) slice[camel(name.slice(prefix.length))] = value;
    plugins[id] = slice;
  }
  return { gateway, plugins };
}

const envNameFor = (key: string) => Object.entries(GATEWAY_ENV).find(([, k]) => k === key)?.[0] ?? key;

/** Formats zod issues as `SETTING: message` lines, naming the environment variable where there is one. */
export function describeIssues(error: z.ZodError, nameOf: (path: string) => string): string[] {
  return error.issues.map((i) => {
    const path = i.path.join('.');
    return `${path ? nameOf(path) : '(root)'}: ${i.message}`;
  });
}

export function parseGatewayConfig(raw: Record<string, unknown>): { config?: GatewayConfig; problems: string[] } {
  const parsed = gatewayConfigSchema.safeParse(raw);
  // Cross-field rules are checked on the raw values too, so one run reports every problem.
  const problems: string[] = parsed.success ? [] : describeIssues(parsed.error, envNameFor);
  if (raw.mode === 'production' && !raw.redisUrl) problems.push('REDIS_URL: required in production mode (jobs need Redis)');
  if (!parsed.success) return { problems };
  const c = parsed.data;
  const publicUrl = (c.publicUrl ?? `http://localhost:${c.port}`).replace(/\/$/, '');
  return { config: { ...c, publicUrl }, problems };
}
