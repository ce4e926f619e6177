import supertest from 'supertest';
import pino from 'pino';
import { Writable } from 'node:stream';
import { randomUUID } from 'node:crypto';
import { openTestDataSource } from '@doorman/model/testing';
import { buildGateway, type Gateway } from '../gateway.ts';
import { parseGatewayConfig } from '../config.ts';
import { loggerOptions } from '../logging.ts';
import { defineEvent, type AnyPluginDefinition, type DomainEvent, type PublishedEvent } from '@doorman/plugin-api';

/**
 * An event of any action name, as its definition would build it: for tests of the bus, the audit
 * writer or webhooks that publish generic events (producers use the catalog's definitions).
 */
export const testEvent = ({ action, ...payload }: DomainEvent): PublishedEvent => defineEvent(action)(payload);

export const TEST_ADMIN_TOKEN = 'test-admin-token-0123456789abcdef0123456789abcdef';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface TestGatewayOptions {
  plugins: readonly AnyPluginDefinition[];
  builtins?: readonly AnyPluginDefinition[];
  pluginSettings?: Record<string, Record<string, unknown>>;
  /** Raw gateway settings (as from the environment, camelCased). */
  gateway?: Record<string, unknown>;
  /** Connect to the machine's Redis (default true). */
  redis?: boolean;
  /** Called after the gateway is built (e.g. to start the jobs runtime); its return is closed first on close(). */
  afterBuild?: (gateway: Gateway) => Promise<{ close(): Promise<void> } | void> | { close(): Promise<void> } | void;
}

export interface TestGateway {
  gateway: Gateway;
  http: ReturnType<typeof supertest>;
  /** Every log line the gateway wrote, for asserting what is (not) logged. */
  logs: string[];
  admin(method: 'get' | 'post' | 'patch' | 'put' | 'delete', path: string): supertest.Test;
  close(): Promise<void>;
}

/**
 * Starts a gateway in-process with the chosen plugins on a fresh MariaDB database (dropped on close)
 * and the machine's Redis, never listening on a port: requests go through supertest.
 */
export async function startTestGateway(options: TestGatewayOptions): Promise<TestGateway> {
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  const { ds, url, close: dropDatabase } = await openTestDataSource();
  const { config, problems } = parseGatewayConfig({
    databaseUrl: url,
    plugins: options.plugins.map((p) => p.id).join(','),
    adminBootstrapToken: TEST_ADMIN_TOKEN,
    logLevel: 'info',
    port: 0,
    ...(options.redis === false ? {} : { redisUrl: TEST_REDIS_URL }),
    // The shared test Redis answers slowly when the machine is loaded; a 500 ms timeout would make tests
    // that count rate-limit points fail open at random. Fault tests use the production default.
    redisCommandTimeoutMs: 5_000,
    ...options.gateway,
  });
  if (!config || problems.length) throw new Error(problems.join('; '));
  const gateway = await buildGateway({
    config,
    catalog: options.plugins,
    builtins: options.builtins,
    pluginSettings: options.pluginSettings,
    dataSource: ds,
    // Every admin response in every plugin's tests is checked against the OpenAPI document.
    validateAdminResponses: true,
    // The production logger options (serializers, redaction), so tests see what production would log.
    logger: pino(loggerOptions({ level: 'debug', base: { test: randomUUID().slice(0, 8) } }), sink),
  }).catch(async (err: unknown) => {
    await dropDatabase(); // a gateway that fails to start leaves no test database behind
    throw err;
  });
  const extra = (await options.afterBuild?.(gateway)) ?? undefined;
  const http = supertest(gateway.app.callback());
  return {
    gateway,
    http,
    logs,
    admin: (method, path) => http[method](path).set('Authorization', `Bearer ${TEST_ADMIN_TOKEN}`),
    async close() {
      await extra?.close();
      await gateway.close();
      await dropDatabase();
    },
  };
}
export * from './bodies.ts';
export { TEST_IDP_CERT, TEST_SAML_SETTINGS } from './idp-cert.ts';
