import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SECRET_PATTERN, SCIM_ERROR_SCHEMA } from '@doorman/core';
import { startTestGateway, type TestGateway } from '@doorman/core/testing';
import { ScimTokenEntity, SsoConnectionEntity } from '@doorman/model';
import { tokenAuthPlugin } from '../src/index.ts';
import { createConnection, echoPlugin, issueToken, publishConnectionEvent, randomIp, recordEvents, tokenRow } from './helpers.ts';

let t: TestGateway;
let events: ReturnType<typeof recordEvents>;
const secrets: string[] = [];

beforeAll(async () => {
  t = await startTestGateway({
    plugins: [tokenAuthPlugin, echoPlugin],
    gateway: { trustProxy: 'true' },
    // A long TTL: every invalidation below must come from the explicit invalidation, not expiry.
    pluginSettings: { 'token-auth': { cacheTtlMs: '60000', lastUsedFlushMs: '3600000' } },
  });
  events = recordEvents(t.gateway);
});
afterAll(async () => t?.close());

async function issue(connectionId: string, body: Record<string, unknown> = {}) {
  const issued = await issueToken(t, connectionId, body);
  secrets.push(issued.token);
  return issued;
}

function scim(method: 'get' | 'post' | 'put' | 'patch' | 'delete', token: string | undefined, ip = randomIp(), id = 'u1') {
  const req = t.http[method](`/scim/v2/Users/${id}`).set('X-Forwarded-For', ip);
  return token === undefined ? req : req.set('Authorization', `Bearer ${token}`);
}

function expectScim401(res: { status: number; headers: Record<string, string>; body: Record<string, unknown> }, detail: RegExp) {
  expect(res.status).toBe(401);
  expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="doorman-scim"/);
  expect(res.headers['content-type']).toMatch(/application\/scim\+json/);
  expect(res.body).toMatchObject({ schemas: [SCIM_ERROR_SCHEMA], status: '401' });
  expect(res.body.detail).toMatch(detail);
}

const wellFormedUnknown = () => `dmn_scim_${randomBytes(6).toString('hex')}_${randomBytes(32).toString('base64url')}`;

describe('SCIM authentication', () => {
  it('attaches the verified connection and token on every method (no rate-limit headers while most of the window remains)', async () => {
    const a = await createConnection(t.gateway);
    const b = await createConnection(t.gateway);
    const ta = await issue(a.id);
    const tb = await issue(b.id);
    for (const method of ['get', 'post', 'put', 'patch', 'delete'] as const) {
      const res = await scim(method, ta.token);
      expect(res.status, method).toBe(200);
      expect(res.body.auth).toEqual({ kind: 'scim', connectionId: a.id, tokenId: ta.id });
      expect(res.body.actor).toEqual({ type: 'scim_token', id: ta.id, requestId: res.headers['x-request-id'] });
      expect(res.headers['x-ratelimit-limit']).toBeUndefined();
      expect(res.headers['x-ratelimit-remaining']).toBeUndefined();
    }
    const other = await scim('get', tb.token);
    expect(other.body.auth).toEqual({ kind: 'scim', connectionId: b.id, tokenId: tb.id });
  });

  it('answers 401 with a Bearer challenge for a missing, malformed or unknown token', async () => {
    const cases: Array<[string, string | undefined, RegExp, boolean]> = [
      ['missing', undefined, /token required/, false],
      ['not bearer', 'Basic dXNlcjpwYXNz', /token required/, true],
      ['not a Doorman SCIM token', 'Bearer some-other-token', /not a Doorman SCIM token/, true],
      ['an admin token', `Bearer dmn_admin_${randomBytes(6).toString('hex')}_${randomBytes(32).toString('base64url')}`, /not a Doorman SCIM token/, true],
      ['truncated', `Bearer ${wellFormedUnknown().slice(0, -1)}`, /not a Doorman SCIM token/, true],
      ['unknown', `Bearer ${wellFormedUnknown()}`, /not valid/, true],
    ];
    for (const [name, header, detail, invalidToken] of cases) {
      const req = t.http.get('/scim/v2/Users/x').set('X-Forwarded-For', randomIp());
      const res = header ? await req.set('Authorization', header) : await req;
      expectScim401(res, detail);
      expect(res.headers['www-authenticate'].includes('error="invalid_token"'), name).toBe(invalidToken);
    }
  });

  it('answers 401 for a revoked or expired token and for a token whose connection was deleted', async () => {
    const c = await createConnection(t.gateway);
    const revoked = await issue(c.id);
    expect((await scim('get', revoked.token)).status).toBe(200);
    expect((await t.admin('delete', `/admin/v1/connections/${c.id}/scim-tokens/${revoked.id}`)).status).toBe(204);
    expectScim401(await scim('get', revoked.token), /revoked/);

    const expired = await issue(c.id, { expiresInDays: 1 });
    await t.gateway.db.getRepository(ScimTokenEntity).update({ id: expired.id }, { expiresAt: new Date(Date.now() - 1000) });
    expectScim401(await scim('get', expired.token), /expired/);

    const gone = await createConnection(t.gateway);
    const orphan = await issue(gone.id);
    await t.gateway.db.getRepository(SsoConnectionEntity).delete({ id: gone.id });
    expectScim401(await scim('get', orphan.token), /connection no longer exists/);
  });

  it('answers 403 when SCIM is disabled on the connection', async () => {
    const c = await createConnection(t.gateway, { scimEnabled: false });
    const token = await issue(c.id);
    const res = await scim('get', token.token);
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ schemas: [SCIM_ERROR_SCHEMA], status: '403', detail: expect.stringMatching(/disabled/) });
  });

  it('stops a cached token at once when its connection is updated (SCIM off) or deleted', async () => {
    const c = await createConnection(t.gateway);
    const token = await issue(c.id);
    expect((await scim('get', token.token)).status).toBe(200);
    // The cache serves the token without reading the database (TTL here is a minute)...
    await t.gateway.db.getRepository(SsoConnectionEntity).update({ id: c.id }, { scimEnabled: false });
    expect((await scim('get', token.token)).status).toBe(200);
    // ...until the connection event arrives, published inside the changing transaction.
    await publishConnectionEvent(t.gateway, 'connection.updated', c.id, async () => undefined);
    expect((await scim('get', token.token)).status).toBe(403);

    await publishConnectionEvent(t.gateway, 'connection.updated', c.id, (tx) => tx.getRepository(SsoConnectionEntity).update({ id: c.id }, { scimEnabled: true }));
    expect((await scim('get', token.token)).status).toBe(200);
    await publishConnectionEvent(t.gateway, 'connection.deleted', c.id, (tx) => tx.getRepository(SsoConnectionEntity).delete({ id: c.id }));
    expectScim401(await scim('get', token.token), /connection no longer exists/);
  });
});

describe('brute-force protection', () => {
  it('refuses an address with 429 after repeated failures, while a valid token from it still works', async () => {
    const ip = randomIp();
    const c = await createConnection(t.gateway);
    const good = await issue(c.id);
    for (let i = 0; i < 10; i++) expect((await scim('get', wellFormedUnknown(), ip)).status).toBe(401);
    const refused = await scim('get', wellFormedUnknown(), ip);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(refused.body).toMatchObject({ schemas: [SCIM_ERROR_SCHEMA], status: '429' });
    expect((await scim('get', undefined, ip)).status).toBe(429);
    // The tenant whose valid token shares the address is not locked out.
    const ok = await scim('get', good.token, ip);
    expect(ok.status).toBe(200);
    // Other addresses are unaffected.
    expect((await scim('get', wellFormedUnknown())).status).toBe(401);
  });
});

describe('per-connection rate limits', () => {
  it("answers 429 with Retry-After and X-RateLimit headers over the connection's limit, per connection", async () => {
    const limited = await createConnection(t.gateway, { rateLimitPerSecond: 1 });
    const neighbour = await createConnection(t.gateway, { rateLimitPerSecond: 1 });
    const token = await issue(limited.id);
    const neighbourToken = await issue(neighbour.id);
    // 1 request/s over a 10 s window: a burst of 10 passes; the headers appear once less than half
    // of the window remains.
    for (let i = 0; i < 10; i++) {
      const res = await scim('get', token.token);
      expect(res.status).toBe(200);
      if (9 - i >= 5) expect(res.headers['x-ratelimit-limit'], `request ${i}`).toBeUndefined();
      else {
        expect(res.headers['x-ratelimit-limit']).toBe('10');
        expect(res.headers['x-ratelimit-remaining']).toBe(String(9 - i));
        expect(Number(res.headers['x-ratelimit-reset'])).toBeGreaterThanOrEqual(Math.floor(Date.now() / 1000));
      }
    }
    const over = await scim('get', token.token);
    expect(over.status).toBe(429);
    expect(over.body).toMatchObject({ schemas: [SCIM_ERROR_SCHEMA], status: '429', detail: expect.stringMatching(/rate limit/) });
    expect(Number(over.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(over.headers['retry-after'])).toBeLessThanOrEqual(10);
    expect(over.headers['x-ratelimit-limit']).toBe('10');
    expect(over.headers['x-ratelimit-remaining']).toBe('0');
    expect(Number(over.headers['x-ratelimit-reset'])).toBeGreaterThanOrEqual(Math.floor(Date.now() / 1000));
    // Rate limiting is not an authentication failure, and other tenants keep their own budget.
    expect((await scim('get', neighbourToken.token)).status).toBe(200);
  });

  it('uses the deployment default when the connection sets no limit', async () => {
    const c = await createConnection(t.gateway);
    const token = await issue(c.id);
    // 100/s over 10 s = 1,000 points; the headers show once fewer than 500 remain.
    let res = await scim('get', token.token);
    for (let i = 0; i < 600 && res.headers['x-ratelimit-limit'] === undefined; i++) res = await scim('get', token.token);
    expect(res.headers['x-ratelimit-limit']).toBe(String(100 * 10));
    expect(Number(res.headers['x-ratelimit-remaining'])).toBe(499);
  });
});

describe('SCIM token administration', () => {
  it('issues a token shown once, in the documented format, stored only as a hash', async () => {
    const c = await createConnection(t.gateway);
    const res = await t.admin('post', `/admin/v1/connections/${c.id}/scim-tokens`).send({ name: 'Okta', expiresInDays: 30 });
    expect(res.status).toBe(201);
    secrets.push(res.body.token);
    expect(res.body.token).toMatch(new RegExp(`^${SECRET_PATTERN.source}$`));
    expect(res.body.token.startsWith(`dmn_scim_${res.body.id.replace(/-/g, '').slice(0, 12)}_`)).toBe(true);
    expect(res.body).toMatchObject({ connectionId: c.id, name: 'Okta', prefix: res.body.token.slice(0, 'dmn_scim_'.length + 12), status: 'active', lastUsedAt: null, revokedAt: null });
    expect(new Date(res.body.expiresAt).getTime()).toBeGreaterThan(Date.now() + 29 * 86_400_000);
    const row = await tokenRow(t.gateway, res.body.id);
    expect(row.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(row)).not.toContain(res.body.token.slice(-43));

    const list = await t.admin('get', `/admin/v1/connections/${c.id}/scim-tokens`);
    expect(list.status).toBe(200);
    expect(list.body.tokens).toHaveLength(1);
    expect(Object.keys(list.body.tokens[0]).sort()).toEqual(['connectionId', 'createdAt', 'expiresAt', 'id', 'lastUsedAt', 'name', 'prefix', 'revokedAt', 'status']);
    expect(JSON.stringify(list.body)).not.toContain(res.body.token.slice(-43));
    expect(JSON.stringify(list.body)).not.toContain(row.hash);
  });

  it('keeps several active tokens per connection', async () => {
    const c = await createConnection(t.gateway);
    const one = await issue(c.id, { name: 'one' });
    const two = await issue(c.id, { name: 'two' });
    expect((await scim('get', one.token)).status).toBe(200);
    expect((await scim('get', two.token)).status).toBe(200);
    const list = await t.admin('get', `/admin/v1/connections/${c.id}/scim-tokens`);
    expect(list.body.tokens.map((x: { name: string }) => x.name)).toEqual(['one', 'two']);
  });

  it('rotates: the new token works and the old one until its grace ends or it is revoked', async () => {
    const c = await createConnection(t.gateway);
    const old = await issue(c.id, { name: 'Entra' });
    expect((await scim('get', old.token)).status).toBe(200);

    const rotated = await t.admin('post', `/admin/v1/connections/${c.id}/scim-tokens/${old.id}/rotate`).send({});
    expect(rotated.status).toBe(201);
    secrets.push(rotated.body.token);
    expect(rotated.body.name).toBe('Entra');
    expect(rotated.body.replaces.id).toBe(old.id);
    const graceEnd = new Date(rotated.body.replaces.expiresAt).getTime();
    expect(graceEnd).toBeGreaterThan(Date.now() + 23.9 * 3_600_000);
    expect(graceEnd).toBeLessThanOrEqual(Date.now() + 24 * 3_600_000);
    expect((await scim('get', old.token)).status).toBe(200);
    expect((await scim('get', rotated.body.token)).body.auth).toEqual({ kind: 'scim', connectionId: c.id, tokenId: rotated.body.id });

    // Grace over (as if a day passed): the old token stops, the new one keeps working.
    await t.gateway.db.getRepository(ScimTokenEntity).update({ id: old.id }, { expiresAt: new Date(Date.now() - 1) });
    const again = await t.admin('post', `/admin/v1/connections/${c.id}/scim-tokens/${rotated.body.id}/rotate`).send({ graceHours: 0 });
    expect(again.status).toBe(201);
    secrets.push(again.body.token);
    expectScim401(await scim('get', old.token), /expired/);
    // graceHours 0 stops the rotated token at once, even though it was cached.
    expectScim401(await scim('get', rotated.body.token), /expired/);
    expect((await scim('get', again.body.token)).status).toBe(200);

    // Revoking during the grace period ends it.
    const third = await t.admin('post', `/admin/v1/connections/${c.id}/scim-tokens/${again.body.id}/rotate`).send({ graceHours: 2 });
    secrets.push(third.body.token);
    expect((await scim('get', again.body.token)).status).toBe(200);
    expect((await t.admin('delete', `/admin/v1/connections/${c.id}/scim-tokens/${again.body.id}`)).status).toBe(204);
    expectScim401(await scim('get', again.body.token), /revoked/);
    expect((await scim('get', third.body.token)).status).toBe(200);

    const revokedRotate = await t.admin('post', `/admin/v1/connections/${c.id}/scim-tokens/${again.body.id}/rotate`).send({});
    expect(revokedRotate.status).toBe(409);
  });

  it('never extends an old token beyond its own expiry when rotating', async () => {
    const c = await createConnection(t.gateway);
    const old = await issue(c.id, { expiresInDays: 1 });
    await t.gateway.db.getRepository(ScimTokenEntity).update({ id: old.id }, { expiresAt: new Date(Date.now() + 3_600_000) });
    const rotated = await t.admin('post', `/admin/v1/connections/${c.id}/scim-tokens/${old.id}/rotate`).send({ graceHours: 48 });
    secrets.push(rotated.body.token);
    expect(new Date(rotated.body.replaces.expiresAt).getTime()).toBeLessThanOrEqual(Date.now() + 3_600_000);
  });

  it('revoking twice is a no-op', async () => {
    const c = await createConnection(t.gateway);
    const token = await issue(c.id);
    expect((await t.admin('delete', `/admin/v1/connections/${c.id}/scim-tokens/${token.id}`)).status).toBe(204);
    const revokedAt = (await tokenRow(t.gateway, token.id)).revokedAt;
    const before = events.length;
    expect((await t.admin('delete', `/admin/v1/connections/${c.id}/scim-tokens/${token.id}`)).status).toBe(204);
    expect((await tokenRow(t.gateway, token.id)).revokedAt).toEqual(revokedAt);
    expect(events.length).toBe(before);
  });

  it('answers 404 for unknown connections and tokens (and tokens of another connection), writing nothing', async () => {
    const c = await createConnection(t.gateway);
    const other = await createConnection(t.gateway);
    const token = await issue(c.id);
    const count = () => t.gateway.db.getRepository(ScimTokenEntity).count();
    const before = await count();
    const cases: Array<[ 'get' | 'post' | 'delete', string]> = [
      ['post', `/admin/v1/connections/00000000-0000-4000-8000-000000000000/scim-tokens`],
      ['get', `/admin/v1/connections/00000000-0000-4000-8000-000000000000/scim-tokens`],
      ['get', `/admin/v1/connections/not-a-uuid/scim-tokens`],
      ['post', `/admin/v1/connections/${c.id}/scim-tokens/00000000-0000-4000-8000-000000000000/rotate`],
      ['delete', `/admin/v1/connections/${c.id}/scim-tokens/00000000-0000-4000-8000-000000000000`],
      ['post', `/admin/v1/connections/${other.id}/scim-tokens/${token.id}/rotate`],
      ['delete', `/admin/v1/connections/${other.id}/scim-tokens/${token.id}`],
      ['delete', `/admin/v1/admin-tokens/00000000-0000-4000-8000-000000000000`],
    ];
    for (const [method, path] of cases) {
      const res = await t.admin(method, path).send(method === 'post' ? {} : undefined);
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.body.error.code).toBe('not_found');
    }
    expect(await count()).toBe(before);
    expect((await tokenRow(t.gateway, token.id)).revokedAt).toBeNull();
    expect((await scim('get', token.token)).status).toBe(200);
  });

  it('answers 400 naming the bad field, writing nothing', async () => {
    const c = await createConnection(t.gateway);
    const token = await issue(c.id);
    const count = () => t.gateway.db.getRepository(ScimTokenEntity).count();
    const before = await count();
    const base = `/admin/v1/connections/${c.id}/scim-tokens`;
    const cases: Array<[string, unknown, string]> = [
      [base, { name: '' }, 'name'],
      [base, { name: 'x'.repeat(256) }, 'name'],
      [base, { expiresInDays: 'soon' }, 'expiresInDays'],
      [base, { expiresInDays: 0 }, 'expiresInDays'],
      [base, { expiresInDays: 1.5 }, 'expiresInDays'],
      [`${base}/${token.id}/rotate`, { graceHours: -1 }, 'graceHours'],
      [`${base}/${token.id}/rotate`, { graceHours: 'a day' }, 'graceHours'],
      ['/admin/v1/admin-tokens', {}, 'name'],
    ];
    for (const [path, body, field] of cases) {
      const res = await t.admin('post', path).send(body as object);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error).toMatchObject({ code: 'invalid_input', field });
    }
    const unknownField = await t.admin('post', base).send({ nmae: 'typo' });
    expect(unknownField.status).toBe(400);
    expect(unknownField.body.error.message).toMatch(/nmae/);
    expect(await count()).toBe(before);
    expect((await tokenRow(t.gateway, token.id)).expiresAt).toBeNull();
  });

  it('requires admin authentication', async () => {
    const c = await createConnection(t.gateway);
    const token = await issue(c.id);
    const res = await t.http.post(`/admin/v1/connections/${c.id}/scim-tokens`).set('Authorization', `Bearer ${token.token}`).send({});
    expect(res.status).toBe(401);
  });

  it('buffers last use in memory: no database write per request, shown in the list', async () => {
    const c = await createConnection(t.gateway);
    const token = await issue(c.id);
    expect((await scim('get', token.token)).status).toBe(200);
    expect((await tokenRow(t.gateway, token.id)).lastUsedAt).toBeNull();
    const list = await t.admin('get', `/admin/v1/connections/${c.id}/scim-tokens`);
    expect(list.body.tokens[0].lastUsedAt).not.toBeNull();
  });
});

describe('admin tokens', () => {
  it('issues, lists and revokes admin tokens that core admin authentication accepts', async () => {
    const created = await t.admin('post', '/admin/v1/admin-tokens').send({ name: 'ci' });
    expect(created.status).toBe(201);
    secrets.push(created.body.token);
    expect(created.body.token).toMatch(new RegExp(`^dmn_admin_${created.body.id.replace(/-/g, '').slice(0, 12)}_[A-Za-z0-9_-]{43}$`));
    const asNewAdmin = await t.http.get('/admin/v1/admin-tokens').set('Authorization', `Bearer ${created.body.token}`);
    expect(asNewAdmin.status).toBe(200);
    const listed = asNewAdmin.body.tokens.find((x: { id: string }) => x.id === created.body.id);
    expect(listed).toMatchObject({ name: 'ci', status: 'active', revokedAt: null });
    expect(JSON.stringify(asNewAdmin.body)).not.toContain(created.body.token.slice(-43));
    // An admin token is not a SCIM token.
    expectScim401(await scim('get', created.body.token), /not a Doorman SCIM token/);

    expect((await t.admin('delete', `/admin/v1/admin-tokens/${created.body.id}`)).status).toBe(204);
    expect((await t.http.get('/admin/v1/admin-tokens').set('Authorization', `Bearer ${created.body.token}`)).status).toBe(401);
    const after = await t.admin('get', '/admin/v1/admin-tokens');
    expect(after.body.tokens.find((x: { id: string }) => x.id === created.body.id).status).toBe('revoked');
  });
});

describe('events and secrecy', () => {
  it('publishes token events with the admin actor, in the transaction, without secrets', async () => {
    const c = await createConnection(t.gateway);
    const before = events.length;
    const token = await issue(c.id, { name: 'audit me' });
    const rotated = await t.admin('post', `/admin/v1/connections/${c.id}/scim-tokens/${token.id}/rotate`).send({ graceHours: 1 });
    secrets.push(rotated.body.token);
    await t.admin('delete', `/admin/v1/connections/${c.id}/scim-tokens/${rotated.body.id}`);
    const mine = events.slice(before).map((e) => ({ ...e.event, actor: e.actor }));
    expect(mine.map((e) => [e.action, e.target?.id])).toEqual([
      ['token.issued', token.id],
      ['token.issued', rotated.body.id],
      ['token.rotated', token.id],
      ['token.revoked', rotated.body.id],
    ]);
    for (const e of mine) {
      expect(e.connectionId).toBe(c.id);
      expect(e.target?.type).toBe('scim_token');
      expect(e.actor).toMatchObject({ type: 'admin_token', id: 'bootstrap' });
    }
    expect(mine[2]!.changes).toMatchObject({ replacedBy: { after: rotated.body.id } });
  });

  it('rolls the token back when an event subscriber fails (same transaction)', async () => {
    const c = await createConnection(t.gateway, { name: 'rollback-probe' });
    let fail = true;
    t.gateway.events.subscribe(async (_tx, _actor, event) => {
      if (fail && event.action === 'token.issued' && event.connectionId === c.id) throw new Error('subscriber down');
    });
    const res = await t.admin('post', `/admin/v1/connections/${c.id}/scim-tokens`).send({});
    expect(res.status).toBe(500);
    fail = false;
    expect(await t.gateway.db.getRepository(ScimTokenEntity).countBy({ connectionId: c.id })).toBe(0);
  });

  it('never shows a secret in logs, error bodies or events', async () => {
    // Failed attempts with real secrets, so the failure path's logging is covered too.
    const c = await createConnection(t.gateway, { scimEnabled: false });
    const disabled = await issue(c.id);
    const denied = await scim('get', disabled.token);
    expect(denied.status).toBe(403);
    expect(JSON.stringify(denied.body)).not.toContain(disabled.token.slice(-43));
    const unknown = wellFormedUnknown();
    const refused = await scim('get', unknown);
    expect(JSON.stringify(refused.body) + JSON.stringify(refused.headers)).not.toContain(unknown.slice(-43));

    expect(secrets.length).toBeGreaterThan(10);
    const logs = t.logs.join('\n');
    const published = JSON.stringify(events);
    for (const secret of [...secrets, unknown]) {
      const random = secret.slice(-43);
      expect(logs).not.toContain(random);
      expect(published).not.toContain(random);
    }
    expect(logs).toMatch(/SCIM authentication failed/);
    expect(SECRET_PATTERN.test(logs)).toBe(false);
    expect(SECRET_PATTERN.test(published)).toBe(false);
  });
});
