import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, TEST_ADMIN_TOKEN, type TestGateway } from '@doorman/core/testing';
import { ConsoleSessionEntity, OrganizationEntity } from '@doorman/model';
import { adminPlugin } from '@doorman/plugin-admin';
import { tokenAuthPlugin } from '@doorman/plugin-token-auth';
import { consolePlugin } from '../src/index.ts';

let t: TestGateway;
const assets = mkdtempSync(join(tmpdir(), 'console-assets-'));
mkdirSync(join(assets, 'assets'));
writeFileSync(join(assets, 'index.html'), '<!doctype html><title>console</title>');
writeFileSync(join(assets, 'assets', 'app-abc123.js'), 'console.log(1)');

beforeAll(async () => {
  t = await startTestGateway({
    plugins: [tokenAuthPlugin, consolePlugin],
    builtins: [adminPlugin],
    pluginSettings: { console: { assetsDir: assets } },
    // A stand-in for the job dashboard: a page that cannot send X-CSRF-Token.
    afterBuild: (gateway) =>
      gateway.http.mountAdminApp('/admin/dashboard', async (ctx) => {
        ctx.body = { method: ctx.method };
      }),
  });
});
afterAll(async () => t?.close());

async function signIn(token = TEST_ADMIN_TOKEN) {
  const res = await t.http.post('/console/api/session').send({ token });
  const setCookie = res.headers['set-cookie'] as unknown as string[] | undefined;
  return { res, cookie: setCookie?.[0]?.split(';')[0] ?? '', setCookie: setCookie?.[0] ?? '' };
}
const sessions = () => t.gateway.db.getRepository(ConsoleSessionEntity);

describe('console sign-in', () => {
  it('exchanges a valid admin token for an HttpOnly SameSite=Strict cookie and a CSRF token; the token is nowhere in the answer or the logs', async () => {
    const { res, cookie, setCookie } = await signIn();
    expect(res.status).toBe(201);
    expect(setCookie).toMatch(/^doorman_console=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=1800; HttpOnly; SameSite=Strict$/);
    expect(res.body).toEqual({ csrfToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), expiresInSeconds: 1800, tokenId: "bootstrap", publicUrl: t.gateway.config.publicUrl, owner: null });
    expect(JSON.stringify(res.body) + setCookie).not.toContain(TEST_ADMIN_TOKEN);
    // Only the hash of the cookie's id is stored.
    const id = cookie.split('=')[1]!;
    expect(await sessions().countBy({ idHash: id })).toBe(0);
    expect(await sessions().count()).toBeGreaterThan(0);
    const session = await t.http.get('/console/api/session').set('Cookie', cookie);
    expect(session.status).toBe(200);
    expect(session.body.csrfToken).toBe(res.body.csrfToken);
    expect(t.logs.join('')).not.toContain(TEST_ADMIN_TOKEN);
    expect(t.logs.join('')).not.toContain(id);
  });

  it('refuses a wrong or missing token with a clear error naming the field, and opens no session', async () => {
    const before = await sessions().count();
    const wrong = await signIn('dmn_admin_000000000000_' + 'x'.repeat(43));
    expect(wrong.res.status).toBe(401);
    expect(wrong.res.body.error).toMatchObject({ code: 'DMN_ADMIN_TOKEN_INVALID', field: 'token' });
    expect(wrong.setCookie).toBe('');
    const missing = await t.http.post('/console/api/session').send({});
    expect(missing.status).toBe(400);
    expect(missing.body.error.field).toBe('token');
    expect(await sessions().count()).toBe(before);
  });
});

describe('the admin API with a console session', () => {
  it('reads with the cookie alone and writes only with the CSRF token in X-CSRF-Token', async () => {
    const { res, cookie } = await signIn();
    expect((await t.http.get('/admin/v1/orgs').set('Cookie', cookie)).status).toBe(200);
    const forged = await t.http.post('/admin/v1/orgs').set('Cookie', cookie).set('Origin', 'http://127.0.0.1').send({ name: 'forged' });
    expect(forged.status).toBe(403);
    expect(forged.body.error.field).toBe('X-CSRF-Token');
    const wrong = await t.http.post('/admin/v1/orgs').set('Cookie', cookie).set('X-CSRF-Token', 'x'.repeat(43)).send({ name: 'forged' });
    expect(wrong.status).toBe(403);
    expect(await t.gateway.db.getRepository(OrganizationEntity).countBy({ name: 'forged' })).toBe(0);
    const ok = await t.http.post('/admin/v1/orgs').set('Cookie', cookie).set('X-CSRF-Token', res.body.csrfToken).send({ name: 'made-in-console' });
    expect(ok.status).toBe(201);
  });

  it("accepts a dashboard write only with this deployment's Origin (another site's Origin header is not 'our' origin)", async () => {
    const { cookie } = await signIn();
    const own = new URL(t.gateway.config.publicUrl).origin;
    expect((await t.http.post('/admin/dashboard').set('Cookie', cookie).set('Origin', own)).status).toBe(200);
    expect((await t.http.post('/admin/dashboard').set('Cookie', cookie).set('Origin', 'https://evil.example')).status).toBe(403);
    expect((await t.http.post('/admin/dashboard').set('Cookie', cookie)).status).toBe(403);
  });

  it('ends a session unused for the idle limit, one past the absolute limit, and one whose admin token was revoked', async () => {
    const idle = await signIn();
    await sessions().createQueryBuilder().update().set({ lastSeenAt: new Date(Date.now() - 31 * 60_000) }).execute();
    expect((await t.http.get('/admin/v1/orgs').set('Cookie', idle.cookie)).status).toBe(401);

    const old = await signIn();
    await sessions().createQueryBuilder().update().set({ expiresAt: new Date(Date.now() - 1000) }).where('ended_at IS NULL AND last_seen_at > :t', { t: new Date(Date.now() - 60_000) }).execute();
    expect((await t.http.get('/admin/v1/orgs').set('Cookie', old.cookie)).status).toBe(401);
    expect((await t.http.get('/console/api/session').set('Cookie', old.cookie)).status).toBe(401);

    const issued = await t.admin('post', '/admin/v1/admin-tokens').send({ name: 'ops' });
    expect(issued.status).toBe(201);
    const byToken = await signIn(issued.body.token);
    expect(byToken.res.body.tokenId).toBe(issued.body.id);
    expect((await t.http.get('/admin/v1/orgs').set('Cookie', byToken.cookie)).status).toBe(200);
    await t.admin('delete', `/admin/v1/admin-tokens/${issued.body.id}`).expect(204);
    expect((await t.http.get('/admin/v1/orgs').set('Cookie', byToken.cookie)).status).toBe(401);
  });

  it('signs out with the CSRF token: the cookie is cleared and the session no longer works', async () => {
    const { res, cookie } = await signIn();
    expect((await t.http.delete('/console/api/session').set('Cookie', cookie)).status).toBe(403);
    const out = await t.http.delete('/console/api/session').set('Cookie', cookie).set('X-CSRF-Token', res.body.csrfToken);
    expect(out.status).toBe(204);
    expect(String(out.headers['set-cookie'])).toMatch(/doorman_console=; Path=\/; Max-Age=0/);
    expect((await t.http.get('/admin/v1/orgs').set('Cookie', cookie)).status).toBe(401);
  });

  it('purges sessions that can no longer be used', async () => {
    const sessionsStore = t.gateway.get((await import('@doorman/core')).adminSessionAuthRef) as unknown as { purge(): Promise<number> };
    await sessions().createQueryBuilder().update().set({ endedAt: new Date() }).execute();
    expect(await sessionsStore.purge()).toBeGreaterThan(0);
    expect(await sessions().count()).toBe(0);
  });
});

describe('the console app under /console', () => {
  it('serves the page for any app route (no-store, CSP, no framing) and hashed assets as immutable', async () => {
    for (const path of ['/console', '/console/', '/console/orgs/acme']) {
      const page = await t.http.get(path);
      expect(page.status).toBe(200);
      expect(page.text).toContain('<title>console</title>');
      expect(page.headers['cache-control']).toBe('no-store');
      expect(page.headers['content-security-policy']).toContain("frame-ancestors 'none'");
      expect(page.headers['x-frame-options']).toBe('DENY');
    }
    const asset = await t.http.get('/console/assets/app-abc123.js');
    expect(asset.status).toBe(200);
    expect(asset.headers['cache-control']).toContain('immutable');
    expect((await t.http.get('/console/assets/missing.js')).status).toBe(404);
    // Paths outside the app's folder are never read: the app's page answers instead.
    for (const path of ['/console/../package.json', '/console/%2e%2e/%2e%2e/package.json', '/console/assets/..%2f..%2fpackage.json']) {
      const res = await t.http.get(path);
      expect(res.text ?? '').not.toContain('@doorman/plugin-console');
    }
    expect((await t.http.get('/console/api/unknown')).status).toBe(404);
  });
});
