import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import supertest from 'supertest';
import { buildGateway, parseGatewayConfig, type Gateway } from '@doorman/core';
import { countPendingIntents, type JobRuntime } from '@doorman/jobs';
import { SsoSessionEntity } from '@doorman/model';
import { BUILTIN_PLUGINS, PLUGIN_CATALOG } from '../src/catalog.ts';
import { startJobs } from '../src/jobs.ts';
import { createScimTenant, PATCH_OP, USER_SCHEMA as USER } from './scim-tenant.ts';

/**
 * The quick start's embedded default: SQLite and INLINE jobs, no Redis. A burst of SCIM deactivations
 * must run every job through the one serialising transaction runner (SQLite has one connection): no
 * `cannot start a transaction within a transaction`, no retries, every effect applied.
 */
const USERS = 1_000;
const CONCURRENCY = 32;
const ADMIN = 'embedded-test-admin-token-0123456789abcdef012345678';

let dir: string;
let gateway: Gateway;
let jobs: JobRuntime;
let http: ReturnType<typeof supertest>;
const logs: Array<{ level: number; msg: string; err?: string }> = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'doorman-embedded-'));
  const { config, problems } = parseGatewayConfig({
    databaseUrl: `sqlite:${join(dir, 'doorman.db')}`,
    plugins: 'token-auth,role-mapping,scim-users,audit',
    adminBootstrapToken: ADMIN,
    port: 0,
  });
  if (!config) throw new Error(problems.join('; '));
  const sink = new Writable({
    write(chunk, _e, cb) {
      for (const line of String(chunk).split('\n').filter(Boolean)) logs.push(JSON.parse(line));
      cb();
    },
  });
  // The burst (1,000 creates, then 1,000 deactivations) is far above the default 100 requests/s per
  // connection: on a fast machine the limiter, not the job runtime, would answer most of it.
  gateway = await buildGateway({ config, catalog: PLUGIN_CATALOG, builtins: BUILTIN_PLUGINS, pluginSettings: { 'token-auth': { rateLimitPerSecond: 100_000 } }, logger: pino({ level: 'info' }, sink) });
  jobs = await startJobs(gateway);
  http = supertest(gateway.app.callback());
}, 60_000);

afterAll(async () => {
  await gateway?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function inParallel(count: number, concurrency: number, task: (i: number) => Promise<void>) {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) await task(next++);
  }));
}

describe('embedded default (SQLite, inline jobs)', () => {
  it(`deprovisions ${USERS} people deactivated in a burst at ${CONCURRENCY} concurrent: memberships removed, sessions ended, no retries`, async () => {
    expect(jobs.driver).toBe('inline');
    const { connectionId, token } = await createScimTenant(http, ADMIN, 'embedded');
    const scim = (method: 'post' | 'patch', path: string) =>
      http[method](`/scim/v2${path}`).set('Authorization', `Bearer ${token}`).set('Content-Type', 'application/scim+json');

    const users: Array<{ id: string; userId: string }> = [];
    await inParallel(USERS, 8, async (i) => {
      const res = await scim('post', '/Users').send({ schemas: [USER], userName: `p${i}@embedded.test`, emails: [{ value: `p${i}@embedded.test`, primary: true }], active: true });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      users.push({ id: res.body.id, userId: '' });
    });
    // One open SSO session per person, as a sign-in would leave.
    const cu: Array<{ id: string; user_id: string }> = await gateway.db.query('SELECT id, user_id FROM connection_users WHERE connection_id = ?', [connectionId]);
    const expiresAt = new Date(Date.now() + 3_600_000);
    for (let i = 0; i < cu.length; i += 100) {
      const rows = cu.slice(i, i + 100).map((r) => ({ id: randomUUID(), userId: r.user_id, connectionId: connectionId, expiresAt, endedAt: null }));
      await gateway.transaction((tx) => tx.getRepository(SsoSessionEntity).insert(rows));
    }
    const memberships = async () => Number((await gateway.db.query('SELECT COUNT(*) AS n FROM org_memberships WHERE connection_id = ?', [connectionId]))[0].n);
    const openSessions = async () => Number((await gateway.db.query('SELECT COUNT(*) AS n FROM sso_sessions WHERE connection_id = ? AND ended_at IS NULL', [connectionId]))[0].n);
    expect(await memberships()).toBe(USERS);
    expect(await openSessions()).toBe(USERS);

    const statuses: number[] = [];
    await inParallel(USERS, CONCURRENCY, async (i) => {
      const res = await scim('patch', `/Users/${users[i]!.id}`).send({ schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { active: false } }] });
      statuses.push(res.status);
    });
    expect(statuses.filter((s) => s !== 200)).toEqual([]);

    // The bound only stops a broken run from hanging; speed is the benchmarks' business.
    await expect.poll(async () => (await memberships()) + (await openSessions()) + (await countPendingIntents(gateway.db)), { timeout: 120_000, interval: 250 }).toBe(0);
    const trouble = logs.filter((l) => l.level >= 40 && !/INLINE/.test(l.msg));
    expect(trouble.map((l) => `${l.msg}: ${l.err ?? ''}`)).toEqual([]);
    const deprovisioned = Number((await gateway.db.query("SELECT COUNT(*) AS n FROM audit_events WHERE action = 'user.deprovisioned'"))[0].n);
    expect(deprovisioned).toBe(USERS);
  }, 300_000);
});
