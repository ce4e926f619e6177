/**
 * Shared by the benchmarks: HTTP helpers, the gateway child process's environment and start-up,
 * and a tenant (organization, SCIM-enabled connection, token) created through the admin API.
 */
import { createConnection } from 'mysql2/promise';
import { startChild, waitForReadyz, type Child } from './children.ts';
import { deleteKeys, pickEmptyRedisDb } from './redis.ts';
import { TEST_IDP_CERT } from '@doorman/core/testing/idp-cert';

export const ROOT = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
/** token-auth's maximum per-connection rate: far above what 2 cores can serve, so nothing is throttled. */
export const RATE_LIMIT = '100000';

export interface TenantAccess {
  connectionId: string;
  orgId: string;
  token: string;
}

export async function call(baseUrl: string, token: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/scim+json', Accept: 'application/scim+json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body: parsed };
}

export async function expectStatus(what: string, status: number, res: { status: number; body: unknown }) {
  if (res.status !== status) throw new Error(`${what}: expected ${status}, got ${res.status} ${JSON.stringify(res.body).slice(0, 500)}`);
  return res.body as any;
}

export function gatewayEnv(databaseUrl: string, redisUrl: string, port: number, adminToken: string, plugins: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const keep = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ'];
  return {
    ...Object.fromEntries(keep.filter((k) => process.env[k] !== undefined).map((k) => [k, process.env[k]])),
    DOORMAN_MODE: 'production',
    DOORMAN_ROLE: 'all',
    HOST: '127.0.0.1',
    PORT: String(port),
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    DOORMAN_PLUGINS: plugins,
    ADMIN_BOOTSTRAP_TOKEN: adminToken,
    AUDIT_HMAC_KEY: 'bench-audit-hmac-key-0123456789abcdef0123',
    LOG_LEVEL: 'warn',
    TOKEN_AUTH_RATE_LIMIT_PER_SECOND: RATE_LIMIT,
    // As the Dockerfile and `npm start` run the gateway (README, "Memory").
    NODE_OPTIONS: '--max-semi-space-size=64',
    ...extra,
  };
}

export async function startGateway(name: string, entry: string, env: NodeJS.ProcessEnv): Promise<{ child: Child; baseUrl: string }> {
  const child: Child = startChild(name, entry, env, ROOT);
  const baseUrl = `http://127.0.0.1:${env.PORT}`;
  await waitForReadyz(child, baseUrl);
  return { child, baseUrl };
}

export async function createTenant(baseUrl: string, adminToken: string, orgName: string, connectionName: string): Promise<TenantAccess> {
  const org = await expectStatus('create org', 201, await call(baseUrl, adminToken, 'POST', '/admin/v1/orgs', { name: orgName }));
  const idp = { entryPoint: 'https://idp.bench.example/sso', idpIssuer: 'https://idp.bench.example', idpCert: TEST_IDP_CERT };
  const connection = await expectStatus(
    'create connection',
    201,
    await call(baseUrl, adminToken, 'POST', '/admin/v1/connections', { name: connectionName, type: 'saml', orgIds: [orgName], scimEnabled: true, idp }),
  );
  const token = await expectStatus('create SCIM token', 201, await call(baseUrl, adminToken, 'POST', `/admin/v1/connections/${connection.id}/scim-tokens`, { name: 'bench' }));
  const secret = token.token ?? token.secret;
  if (typeof secret !== 'string') throw new Error('the SCIM token response carries no secret');
  return { connectionId: connection.id, orgId: connection.defaultOrgId ?? org.id, token: secret };
}


export const MYSQL_ADMIN_URL = 'mysql://root@127.0.0.1:3306';
export const REDIS_HOST = '127.0.0.1';
export const REDIS_PORT = 6379;

export interface BenchStores {
  dbName: string;
  databaseUrl: string;
  /** An empty Redis logical database: the run's queues and keys meet nobody else's. */
  redisDb: number;
  redisUrl: string;
}

/** A fresh MariaDB database and an empty Redis logical database for one benchmark run. */
export async function createBenchStores(dbName: string): Promise<BenchStores> {
  const admin = await createConnection(MYSQL_ADMIN_URL);
  await admin.query(`CREATE DATABASE \`${dbName}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  await admin.end();
  const redisDb = await pickEmptyRedisDb(REDIS_HOST, REDIS_PORT);
  return { dbName, databaseUrl: `${MYSQL_ADMIN_URL}/${dbName}`, redisDb, redisUrl: `redis://${REDIS_HOST}:${REDIS_PORT}/${redisDb}` };
}

/** Drops the run's database and deletes its keys (the Redis database was empty when chosen). */
export async function dropBenchStores(stores: Partial<BenchStores>, keyPatterns: string[]): Promise<void> {
  if (stores.dbName) {
    const admin = await createConnection(MYSQL_ADMIN_URL);
    await admin.query(`DROP DATABASE IF EXISTS \`${stores.dbName}\``);
    await admin.end();
  }
  if (stores.redisDb !== undefined) for (const pattern of keyPatterns) await deleteKeys(REDIS_HOST, REDIS_PORT, stores.redisDb, pattern).catch(() => undefined);
}
