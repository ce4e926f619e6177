import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestMysqlDatabase, type TestDatabase } from '@doorman/model/testing';
import { deleteKeysUnder } from '@doorman/jobs/testing';
import { createDataSource, OrgMembershipEntity, ConnectionUserEntity } from '@doorman/model';
import { TEST_IDP_CERT } from '@doorman/core/testing/idp-cert';

/**
 * The real program, as people run it: `node --import tsx apps/gateway/src/main.ts` with environment
 * variables, against the machine's MariaDB and Redis, with BullMQ workers in-process (role all).
 */
const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const ADMIN = 'process-test-admin-token-0123456789abcdef0123456789';

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

function run(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], { env: { ...process.env, LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, output: () => output };
}

async function waitReady(base: string, child: ChildProcess) {
  for (let i = 0; i < 150; i++) {
    if (child.exitCode !== null) throw new Error('gateway exited during start-up');
    try {
      if ((await fetch(`${base}/readyz`)).status === 200) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('gateway did not become ready');
}

describe('start-up configuration errors', () => {
  it('reports every wrong setting by name and exits 2 before listening', async () => {
    const p = run({ PORT: 'http', DATABASE_URL: 'postgres://nope', DOORMAN_MODE: 'production', TOKEN_AUTH_CACHE_TTL_MS: '-1' });
    expect(await p.exited).toBe(2);
    expect(p.output()).toMatch(/PORT: /);
    expect(p.output()).toMatch(/DATABASE_URL: /);
    expect(p.output()).toMatch(/REDIS_URL: required in production/);
    expect(p.output()).toMatch(/TOKEN_AUTH_CACHE_TTL_MS: /);
    expect(p.output()).not.toMatch(/listening/);
  });

  it('names a plugin enabled without its dependencies', async () => {
    const p = run({ DOORMAN_PLUGINS: 'scim-users', DATABASE_URL: 'sqlite::memory:' });
    expect(await p.exited).toBe(2);
    expect(p.output()).toMatch(/plugin 'scim-users' needs service 'token-auth.scim-authentication' \(provided by 'token-auth'\), which no enabled plugin provides/);
    expect(p.output()).toMatch(/DMN_PLUGIN_DEPENDENCY_MISSING: plugin 'scim-users' needs service 'role-mapping.service' \(provided by 'role-mapping'\), which no enabled plugin provides/);
  });
});

describe('the gateway process against MariaDB and Redis', () => {
  let db: TestDatabase;
  let base: string;
  let gw: ReturnType<typeof run>;
  const admin = (method: string, path: string, body?: unknown) =>
    fetch(`${base}/admin/v1${path}`, { method, headers: { Authorization: `Bearer ${ADMIN}`, 'Content-Type': 'application/json' }, body: body ? JSON.stringify(body) : undefined });
  const jobsPrefix = `{doorman-e2e-${randomUUID()}}`;

  beforeAll(async () => {
    db = await createTestMysqlDatabase();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    gw = run({
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: db.url,
      REDIS_URL: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
      ADMIN_BOOTSTRAP_TOKEN: ADMIN,
      DOORMAN_MODE: 'production',
      DOORMAN_PLUGINS: 'token-auth,role-mapping,scim-users,audit',
      AUDIT_HMAC_KEY: 'process-test-audit-hmac-key-0123456789abcdef',
      // Unique BullMQ prefix: tests never share queues.
      JOBS_PREFIX: jobsPrefix,
    });
    await waitReady(base, gw.child);
  }, 60_000);

  afterAll(async () => {
    if (gw.child.exitCode === null) gw.child.kill('SIGKILL');
    await db.drop();
    await deleteKeysUnder(jobsPrefix);
  });

  it('provisions over SCIM and carries out a deactivation through the outbox and a BullMQ worker', async () => {
    const org = await (await admin('POST', '/orgs', { name: 'acme' })).json();
    const conn = await (
      await admin('POST', '/connections', {
        name: 'Okta',
        type: 'saml',
        orgIds: ['acme'],
        scimEnabled: true,
        idp: { entryPoint: 'https://idp.example.com/sso', idpIssuer: 'https://idp.example.com', idpCert: TEST_IDP_CERT },
      })
    ).json();
    const { token } = await (await admin('POST', `/connections/${conn.id}/scim-tokens`, { name: 'okta' })).json();
    const scim = (method: string, path: string, body?: unknown) =>
      fetch(`${base}/scim/v2${path}`, { method, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/scim+json' }, body: body ? JSON.stringify(body) : undefined });

    const created = await scim('POST', '/Users', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'grace@acme.test', active: true });
    expect(created.status).toBe(201);
    const user = await created.json();

    const ds = createDataSource({ url: db.url });
    await ds.initialize();
    try {
      const { userId } = await ds.getRepository(ConnectionUserEntity).findOneByOrFail({ id: user.id });
      expect(await ds.getRepository(OrgMembershipEntity).countBy({ userId, orgId: org.id })).toBe(1);

      const off = await scim('PATCH', `/Users/${user.id}`, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', value: { active: false } }] });
      expect(off.status).toBe(200);
      let remaining = 1;
      for (let i = 0; i < 100 && remaining; i++) {
        await new Promise((r) => setTimeout(r, 100));
        remaining = await ds.getRepository(OrgMembershipEntity).countBy({ userId });
      }
      expect(remaining).toBe(0);
    } finally {
      await ds.destroy();
    }
  });

  it('serves Prometheus metrics and refuses the dashboard without an admin token', async () => {
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/doorman_http_requests_total\{method="POST",route="\/scim\/v2\/Users",status="201"\} 1/);
    expect((await fetch(`${base}/admin/queues`)).status).toBe(401);
    expect((await fetch(`${base}/admin/queues`, { headers: { Authorization: `Bearer ${ADMIN}` } })).status).toBe(200);
  });

  it('drains and exits 0 on SIGTERM', async () => {
    gw.child.kill('SIGTERM');
    expect(await gw.exited).toBe(0);
  });
});
