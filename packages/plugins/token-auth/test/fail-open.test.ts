import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '@doorman/core/testing';
import { tokenAuthPlugin } from '../src/index.ts';
import { createConnection, echoPlugin, issueToken, randomIp } from './helpers.ts';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const accepts = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

/** A private Redis this file may stop: the machine's shared Redis is never touched. */
let redisServer: ChildProcess | undefined;
let t: TestGateway;

function failOpenCount(metrics: string, limiter: string): number {
  const m = new RegExp(`^doorman_rate_limiter_fail_open_total\\{limiter="${limiter}"\\} (\\d+)$`, 'm').exec(metrics);
  return m ? Number(m[1]) : 0;
}

beforeAll(async () => {
  const port = await freePort();
  redisServer = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  for (let i = 0; i < 200 && !(await accepts(port)); i++) await new Promise((r) => setTimeout(r, 50));
  t = await startTestGateway({ plugins: [tokenAuthPlugin, echoPlugin], gateway: { redisUrl: `redis://127.0.0.1:${port}`, trustProxy: 'true' } });
});
afterAll(async () => {
  if (redisServer && redisServer.exitCode === null) redisServer.kill('SIGKILL');
  await t?.close();
});

const scim = (token: string) => t.http.get('/scim/v2/Users/u1').set('Authorization', `Bearer ${token}`).set('X-Forwarded-For', randomIp());

describe('when Redis becomes unreachable', () => {
  it('keeps serving SCIM requests (fail open), counts it and warns once', async () => {
    const c = await createConnection(t.gateway, { rateLimitPerSecond: 1 });
    const token = await issueToken(t, c.id);
    const before = await scim(token.token);
    expect(before.status).toBe(200);
    expect(failOpenCount((await t.http.get('/metrics')).text, 'tenant')).toBe(0);

    redisServer!.kill('SIGKILL');
    await expect.poll(() => t.gateway.redis!.status, { timeout: 10_000, interval: 50 }).not.toBe('ready');

    for (let i = 0; i < 5; i++) {
      const res = await scim(token.token);
      expect(res.status).toBe(200);
      expect(res.body.auth).toMatchObject({ connectionId: c.id, tokenId: token.id });
    }
    const metrics = (await t.http.get('/metrics')).text;
    expect(metrics).toMatch(/# TYPE doorman_rate_limiter_fail_open_total counter/);
    expect(failOpenCount(metrics, 'tenant')).toBe(5);

    // A bad token is still a 401 (counted by the in-process failure limiter), never a 500.
    const bad = await scim(`dmn_scim_000000000000_${'A'.repeat(43)}`);
    expect(bad.status).toBe(401);
    expect(failOpenCount((await t.http.get('/metrics')).text, 'auth_failures')).toBe(1);

    const warnings = t.logs.filter((line) => line.includes('failing open'));
    expect(warnings).toHaveLength(1);
    expect(JSON.parse(warnings[0]!).level).toBe(40);
  });

  it('still revokes (locally at once; other replicas within the cache TTL) and issues tokens', async () => {
    const c = await createConnection(t.gateway);
    const token = await issueToken(t, c.id);
    expect((await scim(token.token)).status).toBe(200);
    expect((await t.admin('delete', `/admin/v1/connections/${c.id}/scim-tokens/${token.id}`)).status).toBe(204);
    expect((await scim(token.token)).status).toBe(401);
    expect(t.logs.some((line) => line.includes('could not publish token invalidation'))).toBe(true);
  });
});

describe('without Redis (embedded mode)', () => {
  it('limits per connection in process', async () => {
    const local = await startTestGateway({ plugins: [tokenAuthPlugin, echoPlugin], redis: false });
    try {
      const c = await createConnection(local.gateway, { rateLimitPerSecond: 1 });
      const token = await issueToken(local, c.id);
      const statuses: number[] = [];
      for (let i = 0; i < 11; i++) statuses.push((await local.http.get('/scim/v2/Users/u1').set('Authorization', `Bearer ${token.token}`)).status);
      expect(statuses).toEqual([...Array(10).fill(200), 429]);
      expect(failOpenCount((await local.http.get('/metrics')).text, 'tenant')).toBe(0);
    } finally {
      await local.close();
    }
  });
});
